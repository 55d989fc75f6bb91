//! The portable microkernel: plain floats through the same tile body as the SIMD kernels.

use super::microkernel::{tile_rows, Lanes, Microkernel};

/// Portable microkernel: plain Rust, used where no SIMD kernel applies.
pub(crate) struct Scalar;

impl Lanes for f32 {
    const LANES: usize = 1;
    #[inline(always)]
    unsafe fn splat(value: f32) -> Self {
        value
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees one readable float.
        unsafe { *p }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees one writable float.
        unsafe { *p = self }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        // Unfused, as the scalar reference rounds.
        self * b + c
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        self * b
    }
}

const MR: usize = 4;
const VECS: usize = 4;

impl Microkernel for Scalar {
    const MR: usize = MR;
    const NR: usize = VECS;
    const MC: usize = 64;
    const KC: usize = 256;
    const NC: usize = 1024;

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
        // SAFETY: the caller upholds the trait's contract; plain floats need no CPU feature.
        unsafe { tile_rows::<f32, MR, VECS, 1>(rows, k, alpha, a, b, beta, c, rsc) }
    }
}
