//! AVX2 + FMA microkernel (x86_64): a 6 x 16 tile in 12 of the 16 ymm registers.

use std::arch::x86_64::{
    _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps,
};

use super::microkernel::Microkernel;

/// Uses AVX2 and FMA; selected only when both are detected.
pub(crate) struct Avx2;

const LANES: usize = 8;
const MR: usize = 6;
const NR: usize = 2 * LANES;

impl Microkernel for Avx2 {
    const MR: usize = MR;
    const NR: usize = NR;
    const MC: usize = 32 * MR;
    const KC: usize = 256;
    const NC: usize = 64 * NR;

    unsafe fn kernel(k: usize, alpha: f32, a: *const f32, b: *const f32, beta: f32, c: *mut f32, rsc: usize) {
        // SAFETY: the caller upholds the trait's contract, including that this CPU has
        // AVX2 and FMA (the kernel is only selected, or tested, after detecting it).
        unsafe { kernel_avx2_fma(k, alpha, a, b, beta, c, rsc) }
    }
}

#[target_feature(enable = "avx2,fma")]
unsafe fn kernel_avx2_fma(
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    let mut acc = [[_mm256_setzero_ps(); NR / LANES]; MR];
    for p in 0..k {
        // SAFETY: the packed panels hold k*MR floats at `a` and k*NR at `b` (trait contract).
        let (a_col, b_row) = unsafe { (a.add(p * MR), b.add(p * NR)) };
        let mut b_vec = [_mm256_setzero_ps(); NR / LANES];
        for (v, b_v) in b_vec.iter_mut().enumerate() {
            // SAFETY: b_row .. b_row + NR is inside the B panel.
            *b_v = unsafe { _mm256_loadu_ps(b_row.add(v * LANES)) };
        }
        for (i, acc_row) in acc.iter_mut().enumerate() {
            // SAFETY: a_col .. a_col + MR is inside the A panel.
            let a_i = _mm256_set1_ps(unsafe { *a_col.add(i) });
            for (acc_v, &b_v) in acc_row.iter_mut().zip(&b_vec) {
                *acc_v = _mm256_fmadd_ps(a_i, b_v, *acc_v);
            }
        }
    }
    let alpha = _mm256_set1_ps(alpha);
    for (i, acc_row) in acc.iter().enumerate() {
        for (v, &acc_v) in acc_row.iter().enumerate() {
            // SAFETY: row i < MR, columns v*LANES .. +LANES < NR: inside the C tile.
            unsafe {
                let c_v = c.add(i * rsc + v * LANES);
                let scaled = _mm256_mul_ps(alpha, acc_v);
                let result = if beta == 0.0 {
                    scaled
                } else {
                    _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c_v), scaled)
                };
                _mm256_storeu_ps(c_v, result);
            }
        }
    }
}
