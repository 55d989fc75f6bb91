//! WebAssembly simd128 microkernel: a 4 x 8 tile in 8 v128 accumulators.
//!
//! simd128 has no fused multiply-add (relaxed-simd does, but Node 20 runs it only behind a
//! flag), so each step is a multiply and an add, rounded like the scalar kernel. The tile is
//! small because engines map v128 locals onto 16 xmm registers on x86_64: a larger one spills.

use std::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128, v128_load, v128_store};

use super::microkernel::Microkernel;

/// Uses simd128; compiled only into modules built with `-C target-feature=+simd128`.
pub(crate) struct WasmSimd;

const LANES: usize = 4;
const MR: usize = 4;
const NR: usize = 2 * LANES;

impl Microkernel for WasmSimd {
    const MR: usize = MR;
    const NR: usize = NR;
    const MC: usize = 32 * MR;
    const KC: usize = 256;
    const NC: usize = 128 * NR;

    unsafe fn kernel(k: usize, alpha: f32, a: *const f32, b: *const f32, beta: f32, c: *mut f32, rsc: usize) {
        // SAFETY: the caller upholds the trait's contract; simd128 is enabled for the whole
        // module (this file is compiled only then).
        unsafe { kernel_simd128(k, alpha, a, b, beta, c, rsc) }
    }
}

#[target_feature(enable = "simd128")]
unsafe fn kernel_simd128(
    k: usize,
    alpha: f32,
    a: *const f32,
    b: *const f32,
    beta: f32,
    c: *mut f32,
    rsc: usize,
) {
    let zero: v128 = f32x4_splat(0.0);
    let mut acc = [[zero; NR / LANES]; MR];
    for p in 0..k {
        // SAFETY: the packed panels hold k*MR floats at `a` and k*NR at `b` (trait contract).
        let (a_col, b_row) = unsafe { (a.add(p * MR), b.add(p * NR)) };
        let mut b_vec = [zero; NR / LANES];
        for (v, b_v) in b_vec.iter_mut().enumerate() {
            // SAFETY: b_row .. b_row + NR is inside the B panel; v128_load needs no alignment.
            *b_v = unsafe { v128_load(b_row.add(v * LANES).cast::<v128>()) };
        }
        for (i, acc_row) in acc.iter_mut().enumerate() {
            // SAFETY: a_col .. a_col + MR is inside the A panel.
            let a_i = f32x4_splat(unsafe { *a_col.add(i) });
            for (acc_v, &b_v) in acc_row.iter_mut().zip(&b_vec) {
                *acc_v = f32x4_add(*acc_v, f32x4_mul(a_i, b_v));
            }
        }
    }
    let alpha = f32x4_splat(alpha);
    for (i, acc_row) in acc.iter().enumerate() {
        for (v, &acc_v) in acc_row.iter().enumerate() {
            // SAFETY: row i < MR, columns v*LANES .. +LANES < NR: inside the C tile.
            unsafe {
                let c_v = c.add(i * rsc + v * LANES).cast::<v128>();
                let scaled = f32x4_mul(alpha, acc_v);
                let result = if beta == 0.0 {
                    scaled
                } else {
                    f32x4_add(scaled, f32x4_mul(f32x4_splat(beta), v128_load(c_v)))
                };
                v128_store(c_v, result);
            }
        }
    }
}
