//! Direct loops for products too small to pay for packing.
//!
//! Training calls GEMM thousands of times a second on shapes such as 400 x 4 x 2 or
//! 32 x 10 x 128, where copying the operands into panels (and padding a 4-wide result to a
//! 32-wide tile) costs more than the arithmetic. These loops read A, B and C in place and
//! allocate nothing. Each picks the loop order whose innermost loop is long and, where the
//! layout allows, contiguous, so the compiler can vectorise it.

use super::pack::Operand;
use super::scale;
use crate::isa::multiversion;

/// Independent partial sums in `dot`: enough to hide the add latency and to fill a vector.
const DOT_LANES: usize = 8;

/// Below this width a row of C is too short for an axpy along it to pay its loop overhead:
/// each element is a dot product along the depth instead.
const NARROW: usize = 8;

multiversion! {
/// `C = alpha * op(A) * op(B) + beta * C` without packing; `c` is `m x n`. Compiled per
/// instruction set: these loops are all the arithmetic of a small product.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_small(
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
    if alpha != 0.0 && k != 0 {
        // Narrow rows of C, a constant width each so the loop over a row unrolls.
        let (rows, columns) = (Rows { m, k, alpha, beta }, (a, b, &mut *c));
        match n {
            1 => return narrow::<1>(rows, columns),
            2 => return narrow::<2>(rows, columns),
            3 => return narrow::<3>(rows, columns),
            4 => return narrow::<4>(rows, columns),
            5 => return narrow::<5>(rows, columns),
            6 => return narrow::<6>(rows, columns),
            7 => return narrow::<7>(rows, columns),
            _ => {}
        }
    }
    for (i, c_row) in c.chunks_exact_mut(n).take(m).enumerate() {
        if alpha == 0.0 || k == 0 {
            scale(c_row, beta);
        } else if b.col_stride == 1 && n >= NARROW {
            scale(c_row, beta);
            // Rows of op(B) are contiguous: C[i, :] += (alpha * A[i, p]) * B[p, :].
            for p in 0..k {
                let a_ip = alpha * a.at(i, p);
                if let Some(b_row) = b.row(p, 0, n) {
                    for (c_ij, &b_pj) in c_row.iter_mut().zip(b_row) {
                        *c_ij += a_ip * b_pj;
                    }
                }
            }
        } else {
            // Columns of op(B) are contiguous (B transposed):
            // C[i, j] += alpha * (A[i, :] . B[:, j]), contiguous too when A is not transposed.
            for (j, c_ij) in c_row.iter_mut().enumerate() {
                let sum = match (a.row(i, 0, k), b.column(0, j, k)) {
                    (Some(a_row), Some(b_col)) => dot(a_row, b_col),
                    _ => dot_strided(&a, i, &b, j, k),
                };
                update(c_ij, alpha * sum, beta);
            }
        }
    }
}
}

/// The scalars of a narrow product: `m` rows of C, depth `k`.
#[derive(Clone, Copy)]
struct Rows {
    m: usize,
    k: usize,
    alpha: f32,
    beta: f32,
}

/// Independent partial sums along the depth in [`narrow`] (their combination below is
/// written for four).
const DEPTH_LANES: usize = 4;

/// Most floats of op(B) copied into a dense `k x N` block on the stack for [`narrow`]: enough
/// for the tiny transposed weights of skinny layers, small enough that clearing it is cheap.
const DENSE_B_MAX: usize = 512;

/// C with `N < NARROW` columns: a row's `N` sums live in registers through one pass along
/// the depth. op(B) is read as dense rows of `N` (in place when its rows are contiguous,
/// else copied once into a stack block), so the inner loop is one `N`-wide multiply-add.
#[inline(always)]
fn narrow<const N: usize>(rows: Rows, (a, b, c): (Operand, Operand, &mut [f32])) {
    let Rows { m, k, alpha, beta } = rows;
    let mut dense = [0.0f32; DENSE_B_MAX];
    // A row of op(B) is dense when its N elements are adjacent (or there is only one).
    let b_rows: &[f32] = if b.row_stride == N && (N == 1 || b.col_stride == 1) {
        &b.data[..k * N]
    } else if k * N <= DENSE_B_MAX {
        for (p, row) in dense.chunks_exact_mut(N).take(k).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = b.at(p, j);
            }
        }
        &dense[..k * N]
    } else {
        return narrow_strided::<N>(rows, (a, b, c));
    };
    for (i, c_row) in c.chunks_exact_mut(N).take(m).enumerate() {
        // DEPTH_LANES independent sets of sums: a long depth would otherwise wait on one
        // add's latency per step.
        let mut sums = [[0.0f32; N]; DEPTH_LANES];
        let quads = b_rows.chunks_exact(N * DEPTH_LANES);
        let tail = quads.remainder();
        for (q, quad) in quads.enumerate() {
            // A fixed trip count: unrolled, so each set of sums stays in registers.
            for (lane, b_row) in quad.chunks_exact(N).enumerate() {
                let a_ip = a.at(i, q * DEPTH_LANES + lane);
                for (sum, &b_pj) in sums[lane].iter_mut().zip(b_row) {
                    *sum += a_ip * b_pj;
                }
            }
        }
        let done = k - tail.len() / N;
        for (lane, b_row) in tail.chunks_exact(N).enumerate() {
            let a_ip = a.at(i, done + lane);
            for (sum, &b_pj) in sums[lane].iter_mut().zip(b_row) {
                *sum += a_ip * b_pj;
            }
        }
        for (j, c_ij) in c_row.iter_mut().enumerate() {
            let sum = (sums[0][j] + sums[1][j]) + (sums[2][j] + sums[3][j]);
            update(c_ij, alpha * sum, beta);
        }
    }
}

/// [`narrow`] for an op(B) too deep to copy: every element read through its strides.
#[inline(always)]
fn narrow_strided<const N: usize>(rows: Rows, (a, b, c): (Operand, Operand, &mut [f32])) {
    let Rows { m, k, alpha, beta } = rows;
    for (i, c_row) in c.chunks_exact_mut(N).take(m).enumerate() {
        let mut sums = [0.0f32; N];
        for p in 0..k {
            let a_ip = a.at(i, p);
            for (j, sum) in sums.iter_mut().enumerate() {
                *sum += a_ip * b.at(p, j);
            }
        }
        for (c_ij, &sum) in c_row.iter_mut().zip(&sums) {
            update(c_ij, alpha * sum, beta);
        }
    }
}

/// `c = product + beta * c`, not reading `c` when `beta == 0`. Writing each element once
/// (rather than zeroing the row and adding to it) also spares a store-forwarding stall per
/// element, which dominated the 400 x 1 x 4 product.
#[inline(always)]
fn update(c: &mut f32, product: f32, beta: f32) {
    *c = if beta == 0.0 { product } else { product + beta * *c };
}

/// A dot product in `DOT_LANES` interleaved partial sums, which vectorises.
#[inline(always)]
fn dot(x: &[f32], y: &[f32]) -> f32 {
    if x.len() < DOT_LANES {
        return x.iter().zip(y).map(|(&p, &q)| p * q).sum();
    }
    let mut lanes = [0.0f32; DOT_LANES];
    let (x_chunks, y_chunks) = (x.chunks_exact(DOT_LANES), y.chunks_exact(DOT_LANES));
    let tail: f32 = x_chunks
        .remainder()
        .iter()
        .zip(y_chunks.remainder())
        .map(|(&p, &q)| p * q)
        .sum();
    for (xs, ys) in x_chunks.zip(y_chunks) {
        for ((lane, &p), &q) in lanes.iter_mut().zip(xs).zip(ys) {
            *lane += p * q;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Row `i` of op(A) times column `j` of op(B), read through their strides, in four partial
/// sums so the adds overlap.
#[inline(always)]
fn dot_strided(a: &Operand, i: usize, b: &Operand, j: usize, k: usize) -> f32 {
    let mut lanes = [0.0f32; 4];
    let mut p = 0;
    while p + 4 <= k {
        for (u, lane) in lanes.iter_mut().enumerate() {
            *lane += a.at(i, p + u) * b.at(p + u, j);
        }
        p += 4;
    }
    let tail: f32 = (p..k).map(|p| a.at(i, p) * b.at(p, j)).sum();
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]) + tail
}
