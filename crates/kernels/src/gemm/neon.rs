//! NEON microkernel (aarch64): an 8 x 12 tile in 24 of the 32 q registers.

use std::arch::aarch64::{float32x4_t, vdupq_n_f32, vfmaq_f32, vld1q_f32, vmulq_f32, vst1q_f32};

use super::microkernel::{tile_rows, Lanes, Microkernel};

/// Uses NEON, which every aarch64 target has: chosen at compile time.
pub(crate) struct Neon;

/// One q register of 4 floats.
#[derive(Clone, Copy)]
struct Q(float32x4_t);

impl Lanes for Q {
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn splat(value: f32) -> Self {
        Q(unsafe { vdupq_n_f32(value) })
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Q(unsafe { vld1q_f32(p) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe { vst1q_f32(p, self.0) }
    }
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        Q(unsafe { vfmaq_f32(c.0, self.0, b.0) })
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        Q(unsafe { vmulq_f32(self.0, b.0) })
    }
}

const MR: usize = 8;
const VECS: usize = 3;

impl Microkernel for Neon {
    const MR: usize = MR;
    const NR: usize = VECS * Q::LANES;
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
        // SAFETY: the caller upholds the trait's contract; NEON is part of the aarch64 target.
        unsafe { kernel_neon(rows, k, alpha, a, b, beta, c, rsc) }
    }
}

#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments)]
unsafe fn kernel_neon(
    rows: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    // SAFETY: forwarded from `kernel`; this function is compiled for NEON.
    unsafe { tile_rows::<Q, MR, VECS, 1>(rows, k, alpha, a, b, beta, c, rsc) }
}
