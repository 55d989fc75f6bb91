//! AVX2 + FMA microkernel (x86_64): a 6 x 16 tile in 12 of the 16 ymm registers.

use std::arch::x86_64::{
    __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_storeu_ps, _mm_prefetch,
    _MM_HINT_T0,
};

use super::microkernel::{tile, Lanes, Microkernel};

/// Uses AVX2 and FMA; selected only when `crate::isa` detects both.
pub(crate) struct Avx2;

/// One ymm register of 8 floats.
#[derive(Clone, Copy)]
struct Ymm(__m256);

impl Lanes for Ymm {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn splat(value: f32) -> Self {
        Ymm(unsafe { _mm256_set1_ps(value) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Ymm(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { _mm256_storeu_ps(p, self.0) }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        Ymm(unsafe { _mm256_fmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        Ymm(unsafe { _mm256_mul_ps(self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn prefetch(p: *const f32) {
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
    }
}

const MR: usize = 6;
const VECS: usize = 2;

impl Microkernel for Avx2 {
    const MR: usize = MR;
    const NR: usize = VECS * Ymm::LANES;
    // A KC x NR sliver of B is 16 KiB of L1; an MC x KC block of A is 192 KiB of L2.
    const MC: usize = 32 * MR;
    const KC: usize = 256;
    const NC: usize = 64 * Self::NR;

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
    // SAFETY: forwarded from `kernel`; this function is compiled for AVX2 and FMA.
    unsafe { tile::<Ymm, MR, VECS, 4>(k, alpha, a, b, beta, c, rsc) }
}
