//! AVX2 + FMA microkernel (x86_64): a 6 x 16 tile in 12 of the 16 ymm registers.

use std::arch::x86_64::{
    __m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_permute2f128_ps, _mm256_set1_ps,
    _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_storeu_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps,
    _mm_prefetch, _MM_HINT_T0,
};

use super::microkernel::{tile_rows, Lanes, Microkernel};

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
        // AVX2 and FMA (the kernel is only selected, or tested, after detecting it).
        unsafe { kernel_avx2_fma(rows, k, alpha, a, b, beta, c, rsc) }
    }

    unsafe fn transpose_8x8(
        src: *const f32,
        src_stride: usize,
        rows: usize,
        dst: *mut f32,
        dst_stride: usize,
    ) {
        // SAFETY: the caller upholds the trait's contract; AVX2 implies AVX.
        unsafe { transpose_8x8_avx(src, src_stride, rows, dst, dst_stride) }
    }
}

/// [`Microkernel::transpose_8x8`] in ymm registers: three rounds of shuffles (pairs of floats,
/// then of pairs, then 128-bit halves) instead of 64 scalar loads and stores, which made
/// packing a quarter of a training step. Shared by the AVX2 and AVX-512 kernels.
///
/// # Safety
/// As [`Microkernel::transpose_8x8`]; the CPU has AVX.
#[target_feature(enable = "avx")]
pub(super) unsafe fn transpose_8x8_avx(
    src: *const f32,
    src_stride: usize,
    rows: usize,
    dst: *mut f32,
    dst_stride: usize,
) {
    // SAFETY: reads only the `rows` runs the caller vouches for, writes the 8 runs at `dst`.
    unsafe {
        let mut row = [_mm256_setzero_ps(); 8];
        for (r, v) in row.iter_mut().enumerate().take(rows) {
            *v = _mm256_loadu_ps(src.add(r * src_stride));
        }
        // Interleave pairs of rows: lo(0,1) = a0 b0 a1 b1 | a4 b4 a5 b5, and so on.
        let t = [
            _mm256_unpacklo_ps(row[0], row[1]),
            _mm256_unpackhi_ps(row[0], row[1]),
            _mm256_unpacklo_ps(row[2], row[3]),
            _mm256_unpackhi_ps(row[2], row[3]),
            _mm256_unpacklo_ps(row[4], row[5]),
            _mm256_unpackhi_ps(row[4], row[5]),
            _mm256_unpacklo_ps(row[6], row[7]),
            _mm256_unpackhi_ps(row[6], row[7]),
        ];
        // Then pairs of pairs: each 128-bit half now holds one column of four rows.
        let u = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        // Then join the halves of rows 0-3 and 4-7: columns 0-3 from the low halves, 4-7
        // from the high ones, stored in column order (see the trait on overlapping runs).
        for c in 0..4 {
            _mm256_storeu_ps(
                dst.add(c * dst_stride),
                _mm256_permute2f128_ps::<0x20>(u[c], u[c + 4]),
            );
        }
        for c in 0..4 {
            _mm256_storeu_ps(
                dst.add((c + 4) * dst_stride),
                _mm256_permute2f128_ps::<0x31>(u[c], u[c + 4]),
            );
        }
    }
}

#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_avx2_fma(
    rows: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    // SAFETY: forwarded from `kernel`; this function is compiled for AVX2 and FMA.
    unsafe { tile_rows::<Ymm, MR, VECS, 4>(rows, k, alpha, a, b, beta, c, rsc) }
}
