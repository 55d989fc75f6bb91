//! General matrix multiply, `C = alpha * op(A) * op(B) + beta * C`, row-major f32.
//!
//! The structure follows BLIS and bluss/matrixmultiply: the driver cuts the product into
//! cache-sized blocks, packs each block of A and B into contiguous panels (absorbing any
//! transpose), and hands every `MR x NR` tile of C to a register-blocked microkernel chosen
//! once for this CPU (`crate::isa`). Small products skip packing (`small.rs`); large ones may
//! be spread over threads (`threads.rs`, cargo feature `threads`).

mod driver;
mod microkernel;
mod pack;
mod scalar;
mod scratch;
mod small;
pub(crate) mod threads;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm_simd;

use crate::error::{check_len, checked_area, ShapeError};
use crate::isa::{self, Isa};
use driver::gemm_blocked;
use pack::Operand;

/// Products with at most this many multiply-adds (`m * n * k`) take the direct loops of
/// `small.rs`. Measured with `examples/gemm_gflops.rs` (one thread, AVX-512 kernel, GFLOP/s
/// direct vs packed): 400x4x2 2.9 vs 2.8, 4x2x400 4.2 vs 1.1, 400x1x4 2.0 vs 1.3; they meet
/// near 2^15..2^16 (32x10x128: 21 vs 20); by 2^18 packing wins by far (64^3: 24 vs 97).
const SMALL_MAX_MNK: usize = 1 << 15;

/// `C = alpha * op(A) * op(B) + beta * C` for row-major matrices.
///
/// `op(A)` is `m x k` (A is stored `m x k`, or `k x m` when `trans_a`), `op(B)` is `k x n`
/// (B is stored `k x n`, or `n x k` when `trans_b`), and C is `m x n`. When `beta == 0`,
/// C is only written, never read, so it may hold anything (NaN included).
///
/// # Errors
/// A [`ShapeError`] naming `a`, `b` or `c` when a length does not match the shape.
#[allow(clippy::too_many_arguments)] // the BLAS contract: shapes, scalars and three operands
pub fn gemm(
    trans_a: bool,
    trans_b: bool,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    b: &[f32],
    beta: f32,
    c: &mut [f32],
) -> Result<(), ShapeError> {
    check_len("a", "m*k", a, checked_area("a", "m*k", m, k)?)?;
    check_len("b", "k*n", b, checked_area("b", "k*n", k, n)?)?;
    check_len("c", "m*n", c, checked_area("c", "m*n", m, n)?)?;
    let a = Operand::new(a, trans_a, m, k);
    let b = Operand::new(b, trans_b, k, n);
    if is_small(m, n, k) {
        small::gemm_small(m, n, k, alpha, a, b, beta, c);
        return Ok(());
    }
    match isa::selected() {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => gemm_blocked::<avx512::Avx512>(m, n, k, alpha, a, b, beta, c),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => gemm_blocked::<avx2::Avx2>(m, n, k, alpha, a, b, beta, c),
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => gemm_blocked::<neon::Neon>(m, n, k, alpha, a, b, beta, c),
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Isa::WasmSimd => gemm_blocked::<wasm_simd::WasmSimd>(m, n, k, alpha, a, b, beta, c),
        // `selected` never returns a kernel this build lacks; the scalar one is the fallback.
        _ => gemm_blocked::<scalar::Scalar>(m, n, k, alpha, a, b, beta, c),
    }
    Ok(())
}

/// Products with at most this many rows of C skip packing whatever their size: packing copies
/// all of op(B) to use each element `m` times, which a matrix-vector product (inference on one
/// sample) cannot repay. Measured with `examples/gemm_gflops.rs` (GFLOP/s, packed vs direct):
/// 1x256x784 NT 3.3 vs 25.5, 2x 5.7 vs 23.4, 4x 11.3 vs 23.2, 8x 22.6 vs 24.8.
const SMALL_MAX_ROWS: usize = 8;

/// Whether a product is cheaper without packing.
fn is_small(m: usize, n: usize, k: usize) -> bool {
    m <= SMALL_MAX_ROWS || m.saturating_mul(n).saturating_mul(k) <= SMALL_MAX_MNK
}

/// Scales C by `beta`, without reading it when `beta == 0`.
#[inline(always)]
fn scale(c: &mut [f32], beta: f32) {
    if beta == 0.0 {
        c.fill(0.0);
    } else if beta != 1.0 {
        c.iter_mut().for_each(|x| *x *= beta);
    }
}

#[cfg(test)]
mod tests;
