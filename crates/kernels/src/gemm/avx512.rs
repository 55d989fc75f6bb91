//! AVX-512F microkernel (x86_64): a 14 x 32 tile in 28 of the 32 zmm registers, leaving
//! two for a row of B and one for a broadcast of A.

use std::arch::x86_64::{
    __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_storeu_ps, _mm_prefetch,
    _MM_HINT_T0,
};

use super::microkernel::{tile_rows, Lanes, Microkernel};

/// Uses AVX-512F; selected only when `crate::isa` detects it.
pub(crate) struct Avx512;

/// One zmm register of 16 floats.
#[derive(Clone, Copy)]
struct Zmm(__m512);

impl Lanes for Zmm {
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn splat(value: f32) -> Self {
        Zmm(unsafe { _mm512_set1_ps(value) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Zmm(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm512_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        Zmm(unsafe { _mm512_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        Zmm(unsafe { _mm512_mul_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn prefetch(p: *const f32) {
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
    }
}

const MR: usize = 14;
const VECS: usize = 2;

impl Microkernel for Avx512 {
    const MR: usize = MR;
    const NR: usize = VECS * Zmm::LANES;
    // Sized for Zen 5 / Sapphire Rapids class cores (48 KiB L1d, 1-2 MiB L2): a KC x NR
    // sliver of B is 32 KiB and stays in L1 while A panels stream past it; an MC x KC block
    // of A is 224 KiB of L2; a KC x NC block of B is 2 MiB, shared through L3. KC = 128, 192,
    // 256 and 320 measured within noise of each other; 256 was ahead on most runs.
    const MC: usize = 16 * MR;
    const KC: usize = 256;
    const NC: usize = 64 * Self::NR;

    #[allow(clippy::too_many_arguments)]
    unsafe fn kernel(
        rows: usize,
        k: usize,
        alpha: f32,
        a: *const f32,
        b: *const f32,
        beta: f32,
        c: *mut f32,
        rsc: usize,
    ) {
        // SAFETY: the caller upholds the trait's contract, including that this CPU has
        // AVX-512F (the kernel is only selected, or tested, after detecting it).
        unsafe { kernel_avx512f(rows, k, alpha, a, b, beta, c, rsc) }
    }

    unsafe fn transpose_8x8(
        src: *const f32,
        src_stride: usize,
        rows: usize,
        dst: *mut f32,
        dst_stride: usize,
    ) {
        // SAFETY: the caller upholds the trait's contract; AVX-512F implies AVX.
        unsafe { super::avx2::transpose_8x8_avx(src, src_stride, rows, dst, dst_stride) }
    }
}

#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_avx512f(
    rows: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    // SAFETY: forwarded from `kernel`; this function is compiled for AVX-512F.
    unsafe { tile_rows::<Zmm, MR, VECS, 4>(rows, k, alpha, a, b, beta, c, rsc) }
}
