//! General matrix multiply, `C = alpha * op(A) * op(B) + beta * C`, row-major f32.
//!
//! The structure follows BLIS and bluss/matrixmultiply: the driver cuts the product into
//! cache-sized blocks, packs each block of A and B into contiguous panels (absorbing any
//! transpose), and hands every `MR x NR` tile of C to a register-blocked microkernel chosen
//! once for this CPU.

mod microkernel;
mod pack;
mod scalar;

use crate::error::{check_len, checked_area, ShapeError};
use microkernel::Microkernel;
use pack::{pack_a, pack_b, Operand};

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
    gemm_blocked::<scalar::Scalar>(m, n, k, alpha, a, b, beta, c);
    Ok(())
}

/// Scales C by `beta`, without reading it when `beta == 0`.
fn scale(c: &mut [f32], beta: f32) {
    if beta == 0.0 {
        c.fill(0.0);
    } else if beta != 1.0 {
        c.iter_mut().for_each(|x| *x *= beta);
    }
}

/// The blocked driver: loops over NC columns of B, KC of depth and MC rows of A, packing
/// each block once and sweeping the microkernel over its tiles.
#[allow(clippy::too_many_arguments)]
fn gemm_blocked<K: Microkernel>(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: Operand,
    b: Operand,
    beta: f32,
    c: &mut [f32],
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale(c, beta);
        return;
    }
    let mut a_packed = Vec::with_capacity(K::MC.min(m).next_multiple_of(K::MR) * K::KC.min(k));
    let mut b_packed = Vec::with_capacity(K::NC.min(n).next_multiple_of(K::NR) * K::KC.min(k));
    let mut edge_tile = vec![0.0f32; K::MR * K::NR];
    let ldc = n;
    for col0 in (0..n).step_by(K::NC) {
        let cols = K::NC.min(n - col0);
        for depth0 in (0..k).step_by(K::KC) {
            let depth = K::KC.min(k - depth0);
            pack_b(&mut b_packed, b, K::NR, depth0, depth, col0, cols);
            // Only the first block of depth applies the caller's beta; later ones accumulate.
            let beta_block = if depth0 == 0 { beta } else { 1.0 };
            for row0 in (0..m).step_by(K::MC) {
                let rows = K::MC.min(m - row0);
                pack_a(&mut a_packed, a, K::MR, row0, rows, depth0, depth);
                for (q, b_panel) in b_packed.chunks_exact(depth * K::NR).enumerate() {
                    let j0 = col0 + q * K::NR;
                    let width = K::NR.min(n - j0);
                    for (r, a_panel) in a_packed.chunks_exact(depth * K::MR).enumerate() {
                        let i0 = row0 + r * K::MR;
                        let height = K::MR.min(m - i0);
                        let tile = &mut c[i0 * ldc + j0..];
                        if height == K::MR && width == K::NR {
                            debug_assert!(tile.len() > (K::MR - 1) * ldc + K::NR - 1);
                            // SAFETY: the panels hold depth*MR and depth*NR floats, and the
                            // tile spans MR full rows of NR columns inside C (checked above
                            // in debug builds; implied by the loop bounds).
                            unsafe {
                                K::kernel(
                                    depth,
                                    alpha,
                                    a_panel.as_ptr(),
                                    b_panel.as_ptr(),
                                    beta_block,
                                    tile.as_mut_ptr(),
                                    ldc,
                                )
                            };
                        } else {
                            // SAFETY: as above, into a private MR x NR tile with row stride NR.
                            unsafe {
                                K::kernel(
                                    depth,
                                    alpha,
                                    a_panel.as_ptr(),
                                    b_panel.as_ptr(),
                                    0.0,
                                    edge_tile.as_mut_ptr(),
                                    K::NR,
                                )
                            };
                            merge_edge(tile, ldc, &edge_tile, K::NR, height, width, beta_block);
                        }
                    }
                }
            }
        }
    }
}

/// Adds the valid `height x width` corner of a partial tile into C.
fn merge_edge(c: &mut [f32], ldc: usize, tile: &[f32], nr: usize, height: usize, width: usize, beta: f32) {
    for i in 0..height {
        let c_row = &mut c[i * ldc..i * ldc + width];
        let t_row = &tile[i * nr..i * nr + width];
        for (cij, &tij) in c_row.iter_mut().zip(t_row) {
            *cij = if beta == 0.0 { tij } else { tij + beta * *cij };
        }
    }
}

#[cfg(test)]
mod tests;
