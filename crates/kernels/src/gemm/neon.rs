//! NEON microkernel (aarch64): an 8 x 12 tile in 24 of the 32 q registers.

use std::arch::aarch64::{float32x4_t, vdupq_n_f32, vfmaq_f32, vld1q_f32, vmulq_f32, vst1q_f32};

use super::microkernel::Microkernel;

/// Uses NEON, which every aarch64 target has: chosen at compile time.
pub(crate) struct Neon;

const LANES: usize = 4;
const MR: usize = 8;
const NR: usize = 3 * LANES;

impl Microkernel for Neon {
    const MR: usize = MR;
    const NR: usize = NR;
    const MC: usize = 16 * MR;
    const KC: usize = 256;
    const NC: usize = 64 * NR;

    unsafe fn kernel(k: usize, alpha: f32, a: *const f32, b: *const f32, beta: f32, c: *mut f32, rsc: usize) {
        // SAFETY: the caller upholds the trait's contract; NEON is part of the aarch64 target.
        unsafe { kernel_neon(k, alpha, a, b, beta, c, rsc) }
    }
}

#[target_feature(enable = "neon")]
unsafe fn kernel_neon(
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    let zero: float32x4_t = vdupq_n_f32(0.0);
    let mut acc = [[zero; NR / LANES]; MR];
    for p in 0..k {
        // SAFETY: the packed panels hold k*MR floats at `a` and k*NR at `b` (trait contract).
        let (a_col, b_row) = unsafe { (a.add(p * MR), b.add(p * NR)) };
        let mut b_vec = [zero; NR / LANES];
        for (v, b_v) in b_vec.iter_mut().enumerate() {
            // SAFETY: b_row .. b_row + NR is inside the B panel.
            *b_v = unsafe { vld1q_f32(b_row.add(v * LANES)) };
        }
        for (i, acc_row) in acc.iter_mut().enumerate() {
            // SAFETY: a_col .. a_col + MR is inside the A panel.
            let a_i = vdupq_n_f32(unsafe { *a_col.add(i) });
            for (acc_v, &b_v) in acc_row.iter_mut().zip(&b_vec) {
                *acc_v = vfmaq_f32(*acc_v, a_i, b_v);
            }
        }
    }
    let alpha = vdupq_n_f32(alpha);
    for (i, acc_row) in acc.iter().enumerate() {
        for (v, &acc_v) in acc_row.iter().enumerate() {
            // SAFETY: row i < MR, columns v*LANES .. +LANES < NR: inside the C tile.
            unsafe {
                let c_v = c.add(i * rsc + v * LANES);
                let scaled = vmulq_f32(alpha, acc_v);
                let result = if beta == 0.0 {
                    scaled
                } else {
                    vfmaq_f32(scaled, vdupq_n_f32(beta), vld1q_f32(c_v))
                };
                vst1q_f32(c_v, result);
            }
        }
    }
}
