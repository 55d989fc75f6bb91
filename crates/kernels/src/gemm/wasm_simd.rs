//! WebAssembly simd128 microkernel: a 4 x 8 tile in 8 v128 accumulators.
//!
//! simd128 has no fused multiply-add, so `mul_add` is a multiply and an add, rounded like the
//! scalar kernel. A module built with relaxed-simd (`-C target-feature=+relaxed-simd`, loaded
//! only where the engine validates it: Chromium, not Node 20 without a flag) uses
//! `f32x4.relaxed_madd` instead, which engines lower to an FMA where the CPU has one. The tile
//! is small because engines map v128 locals onto 16 xmm registers on x86_64: a larger one spills.

#[cfg(not(target_feature = "relaxed-simd"))]
use std::arch::wasm32::f32x4_add;
use std::arch::wasm32::{f32x4_mul, f32x4_splat, v128, v128_load, v128_store};

use super::microkernel::{tile_rows, Lanes, Microkernel};

/// Uses simd128; compiled only into modules built with `-C target-feature=+simd128`.
pub(crate) struct WasmSimd;

/// One v128 of 4 floats.
#[derive(Clone, Copy)]
struct V128(v128);

impl Lanes for V128 {
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn splat(value: f32) -> Self {
        V128(f32x4_splat(value))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 4 readable floats; v128_load needs no alignment.
        V128(unsafe { v128_load(p.cast::<v128>()) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 4 writable floats.
        unsafe { v128_store(p.cast::<v128>(), self.0) }
    }
    #[cfg(not(target_feature = "relaxed-simd"))]
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        V128(f32x4_add(f32x4_mul(self.0, b.0), c.0))
    }
    #[cfg(target_feature = "relaxed-simd")]
    #[inline(always)]
    unsafe fn mul_add(self, b: Self, c: Self) -> Self {
        V128(std::arch::wasm32::f32x4_relaxed_madd(self.0, b.0, c.0))
    }
    #[inline(always)]
    unsafe fn mul(self, b: Self) -> Self {
        V128(f32x4_mul(self.0, b.0))
    }
}

const MR: usize = 4;
const VECS: usize = 2;

impl Microkernel for WasmSimd {
    const MR: usize = MR;
    const NR: usize = VECS * V128::LANES;
    const MC: usize = 32 * MR;
    const KC: usize = 256;
    const NC: usize = 128 * Self::NR;

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
        // SAFETY: the caller upholds the trait's contract; simd128 is enabled for the whole
        // module (this file is compiled only then).
        unsafe { tile_rows::<V128, MR, VECS, 1>(rows, k, alpha, a, b, beta, c, rsc) }
    }
}
