//! AVX-512F microkernel (x86_64): a 14 x 32 tile in 28 of the 32 zmm registers, leaving
//! two for a row of B and one for a broadcast of A.

use std::arch::x86_64::{
    __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps,
    _mm512_storeu_ps, _mm_prefetch, _MM_HINT_T0,
};

use super::microkernel::Microkernel;

/// Uses AVX-512F; selected only when `is_x86_feature_detected!("avx512f")`.
pub(crate) struct Avx512;

const LANES: usize = 16;
const MR: usize = 14;
const NR: usize = 2 * LANES;
/// Depth steps per loop iteration: fewer loop branches between the FMAs.
const UNROLL: usize = 4;

impl Microkernel for Avx512 {
    const MR: usize = MR;
    const NR: usize = NR;
    // Sized for Zen 5 / Sapphire Rapids class cores (48 KiB L1d, 1-2 MiB L2): a KC x NR
    // sliver of B is 32 KiB and stays in L1 while A panels stream past it; an MC x KC block
    // of A is 224 KiB of L2; a KC x NC block of B is 2 MiB, shared through L3. KC = 128, 192,
    // 256 and 320 measured within noise of each other; 256 was ahead on most runs.
    const MC: usize = 16 * MR;
    const KC: usize = 256;
    const NC: usize = 64 * NR;

    unsafe fn kernel(k: usize, alpha: f32, a: *const f32, b: *const f32, beta: f32, c: *mut f32, rsc: usize) {
        // SAFETY: the caller upholds the trait's contract, including that this CPU has
        // AVX-512F (the kernel is only selected, or tested, after detecting it).
        unsafe { kernel_avx512f(k, alpha, a, b, beta, c, rsc) }
    }
}

#[target_feature(enable = "avx512f")]
unsafe fn kernel_avx512f(
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    if beta != 0.0 {
        // C is read only after the whole depth loop: start fetching it now, so the
        // epilogue does not stall on up to 2*MR cache misses.
        for i in 0..MR {
            // SAFETY: prefetching is a hint and never faults; the addresses are in the tile.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(c.add(i * rsc).cast());
                _mm_prefetch::<_MM_HINT_T0>(c.add(i * rsc + NR - 1).cast());
            }
        }
    }
    let mut acc = [[_mm512_setzero_ps(); NR / LANES]; MR];
    let (mut a, mut b) = (a, b);
    for _ in 0..k / UNROLL {
        for u in 0..UNROLL {
            // SAFETY: UNROLL steps of the panels remain (k*MR floats at `a`, k*NR at `b`).
            unsafe { step(&mut acc, a.add(u * MR), b.add(u * NR)) };
        }
        // SAFETY: moves to the next UNROLL steps, at most to the panels' ends.
        (a, b) = unsafe { (a.add(UNROLL * MR), b.add(UNROLL * NR)) };
    }
    for _ in 0..k % UNROLL {
        // SAFETY: one step of the panels remains.
        unsafe { step(&mut acc, a, b) };
        // SAFETY: moves at most to the panels' ends.
        (a, b) = unsafe { (a.add(MR), b.add(NR)) };
    }
    let alpha = _mm512_set1_ps(alpha);
    for (i, acc_row) in acc.iter().enumerate() {
        for (v, &acc_v) in acc_row.iter().enumerate() {
            // SAFETY: row i < MR, columns v*LANES .. +LANES < NR: inside the C tile.
            unsafe {
                let c_v = c.add(i * rsc + v * LANES);
                let scaled = _mm512_mul_ps(alpha, acc_v);
                let result = if beta == 0.0 {
                    scaled
                } else {
                    _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_loadu_ps(c_v), scaled)
                };
                _mm512_storeu_ps(c_v, result);
            }
        }
    }
}

/// One step of depth: `acc += a_col * b_row` (an outer product of MR and NR values).
///
/// # Safety
/// `a_col` points to MR floats and `b_row` to NR floats; the CPU has AVX-512F.
#[inline(always)]
unsafe fn step(acc: &mut [[__m512; NR / LANES]; MR], a_col: *const f32, b_row: *const f32) {
    let mut b_vec = [_mm512_setzero_ps(); NR / LANES];
    for (v, b_v) in b_vec.iter_mut().enumerate() {
        // SAFETY: b_row .. b_row + NR is inside the B panel.
        *b_v = unsafe { _mm512_loadu_ps(b_row.add(v * LANES)) };
    }
    for (i, acc_row) in acc.iter_mut().enumerate() {
        // SAFETY: a_col .. a_col + MR is inside the A panel.
        let a_i = unsafe { _mm512_set1_ps(*a_col.add(i)) };
        for (acc_v, &b_v) in acc_row.iter_mut().zip(&b_vec) {
            *acc_v = unsafe { _mm512_fmadd_ps(a_i, b_v, *acc_v) };
        }
    }
}
