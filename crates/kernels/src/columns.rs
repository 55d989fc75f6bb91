//! Narrow matrices with the samples along the SIMD lanes.
//!
//! A layer of a few units (the planar network's 2 -> 4 -> 1) keeps its activations as
//! `[rows][width]` with `width` far below a vector's lanes, so any loop along a row leaves
//! most of each register empty and the loops over rows run one sample at a time. Stored as
//! columns, `[width][rows]`, every loop runs along the samples instead: long, contiguous and
//! vectorized at full width. The transposes between the two layouts compile to shuffles
//! (vpermt2ps on AVX-512, i8x16.shuffle on wasm) because each width up to [`MAX_WIDTH`] has its
//! own copy with the width a constant: LLVM vectorizes a strided access only when its stride
//! is known at compile time.
//!
//! These are plain loops that LLVM vectorizes for each instruction set (`multiversion!`).
//! Their shapes were chosen by reading the generated code: blocked variants with fixed-size
//! arrays, fused dot products and pairwise final sums all compiled worse (gathers, spills,
//! scalar code) than the loops here.

use crate::isa::multiversion;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm_simd;

/// The widest matrix these kernels take in columns: the widths with a constant-stride copy of
/// each loop. Wider rows fill a vector on their own and go through the GEMM.
pub(crate) const MAX_WIDTH: usize = 8;

/// Calls `$f::<W>($args)` for a `$width` of 1 to [`MAX_WIDTH`], else `$fallback($args)`.
macro_rules! by_width {
    ($width:expr, $f:ident, $fallback:expr, ($($arg:expr),*)) => {
        match $width {
            1 => $f::<1>($($arg),*),
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            5 => $f::<5>($($arg),*),
            6 => $f::<6>($($arg),*),
            7 => $f::<7>($($arg),*),
            8 => $f::<8>($($arg),*),
            _ => $fallback,
        }
    };
}

/// The `N` columns of `rows` floats at the start of `columns`, or `None` if it is too short.
#[inline(always)]
fn split_columns<const N: usize>(columns: &[f32], rows: usize) -> Option<[&[f32]; N]> {
    let mut chunks = columns.get(..N * rows)?.chunks_exact(rows.max(1));
    Some(std::array::from_fn(|_| chunks.next().unwrap_or_default()))
}

/// [`split_columns`] for writing.
#[inline(always)]
fn split_columns_mut<const N: usize>(columns: &mut [f32], rows: usize) -> Option<[&mut [f32]; N]> {
    let mut chunks = columns.get_mut(..N * rows)?.chunks_exact_mut(rows.max(1));
    Some(std::array::from_fn(|_| chunks.next().unwrap_or_default()))
}

multiversion! {
    /// `columns[c][r] = matrix[r][c]` for a `[rows][width]` matrix, `rows = matrix.len() / width`;
    /// writes nothing if `columns` is shorter than the matrix.
    pub(crate) fn to_columns(width: usize, matrix: &[f32], columns: &mut [f32]) {
        by_width!(width, to_columns_of, to_columns_of_any(width, matrix, columns), (matrix, columns))
    }
}

#[inline(always)]
fn to_columns_of<const N: usize>(matrix: &[f32], columns: &mut [f32]) {
    let Some(mut columns) = split_columns_mut::<N>(columns, matrix.len() / N) else {
        return;
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if wasm_simd::to_columns(N, matrix, &mut columns) {
        return;
    }
    for (r, row) in matrix.chunks_exact(N).enumerate() {
        for (column, &value) in columns.iter_mut().zip(row) {
            column[r] = value;
        }
    }
}

#[inline(always)]
fn to_columns_of_any(width: usize, matrix: &[f32], columns: &mut [f32]) {
    let rows = matrix.len() / width.max(1);
    if width == 0 || columns.len() < matrix.len() {
        return;
    }
    for (r, row) in matrix.chunks_exact(width).enumerate() {
        for (c, &value) in row.iter().enumerate() {
            columns[c * rows + r] = value;
        }
    }
}

multiversion! {
    /// `matrix[r][c] = columns[c][r]` for a `[rows][width]` matrix, `rows = matrix.len() / width`;
    /// writes nothing if `columns` is shorter than the matrix.
    pub(crate) fn from_columns(width: usize, columns: &[f32], matrix: &mut [f32]) {
        by_width!(width, from_columns_of, from_columns_of_any(width, columns, matrix), (columns, matrix))
    }
}

#[inline(always)]
fn from_columns_of<const N: usize>(columns: &[f32], matrix: &mut [f32]) {
    let Some(columns) = split_columns::<N>(columns, matrix.len() / N) else {
        return;
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if wasm_simd::from_columns(N, &columns, matrix) {
        return;
    }
    for (r, row) in matrix.chunks_exact_mut(N).enumerate() {
        for (value, column) in row.iter_mut().zip(&columns) {
            *value = column[r];
        }
    }
}

#[inline(always)]
fn from_columns_of_any(width: usize, columns: &[f32], matrix: &mut [f32]) {
    let rows = matrix.len() / width.max(1);
    if width == 0 || columns.len() < matrix.len() {
        return;
    }
    for (r, row) in matrix.chunks_exact_mut(width).enumerate() {
        for (c, value) in row.iter_mut().enumerate() {
            *value = columns[c * rows + r];
        }
    }
}

multiversion! {
    /// `out[r] = sum_p columns[p][r] * weights[p]` (`+ bias`) for the `weights.len()` columns of
    /// `out.len()` rows at the start of `columns`; writes nothing if `columns` is too short.
    ///
    /// The terms are added in the order of the GEMM's narrow kernel (`gemm/small.rs`): four
    /// partial sums, term `p` into sum `p % 4`, combined pairwise; so a narrow dense layer
    /// computes exactly what the GEMM would.
    pub(crate) fn weighted_sum(columns: &[f32], weights: &[f32], bias: Option<f32>, out: &mut [f32]) {
        let depth = weights.len();
        by_width!(depth, weighted_sum_of, weighted_sum_of_any(columns, weights, bias, out), (columns, weights, bias, out))
    }
}

/// Partial sums in [`weighted_sum`].
const SUM_LANES: usize = 4;

#[inline(always)]
fn combine(sums: [f32; SUM_LANES], bias: Option<f32>) -> f32 {
    let sum = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    match bias {
        Some(bias) => sum + bias,
        None => sum,
    }
}

#[inline(always)]
fn weighted_sum_of<const K: usize>(columns: &[f32], weights: &[f32], bias: Option<f32>, out: &mut [f32]) {
    let (Some(columns), Ok(weights)) = (
        split_columns::<K>(columns, out.len()),
        <[f32; K]>::try_from(weights),
    ) else {
        return;
    };
    for (r, o) in out.iter_mut().enumerate() {
        let mut sums = [0.0f32; SUM_LANES];
        for (p, (column, &w)) in columns.iter().zip(&weights).enumerate() {
            sums[p % SUM_LANES] += column[r] * w;
        }
        *o = combine(sums, bias);
    }
}

#[inline(always)]
fn weighted_sum_of_any(columns: &[f32], weights: &[f32], bias: Option<f32>, out: &mut [f32]) {
    let rows = out.len();
    if columns.len() < weights.len() * rows {
        return;
    }
    for (r, o) in out.iter_mut().enumerate() {
        let mut sums = [0.0f32; SUM_LANES];
        for (p, &w) in weights.iter().enumerate() {
            sums[p % SUM_LANES] += columns[p * rows + r] * w;
        }
        *o = combine(sums, bias);
    }
}

/// Independent partial sums in [`dot`] and [`sum`]: a whole AVX-512 vector of them, so the
/// adds neither wait on each other nor leave lanes empty.
const DOT_LANES: usize = 16;

multiversion! {
    /// `x . y` over their common length, in [`DOT_LANES`] interleaved partial sums.
    pub(crate) fn dot(x: &[f32], y: &[f32]) -> f32 {
        let mut lanes = [0.0f32; DOT_LANES];
        let (x_chunks, y_chunks) = (x.chunks_exact(DOT_LANES), y.chunks_exact(DOT_LANES));
        let tail: f32 = x_chunks.remainder().iter().zip(y_chunks.remainder()).map(|(&p, &q)| p * q).sum();
        for (xs, ys) in x_chunks.zip(y_chunks) {
            for ((lane, &p), &q) in lanes.iter_mut().zip(xs).zip(ys) {
                *lane += p * q;
            }
        }
        lanes.iter().sum::<f32>() + tail
    }
}

multiversion! {
    /// The sum of `x` accumulated in f64 (as `column_sums` does), in [`DOT_LANES`] partial sums.
    pub(crate) fn sum(x: &[f32]) -> f32 {
        let mut lanes = [0.0f64; DOT_LANES];
        let chunks = x.chunks_exact(DOT_LANES);
        let tail: f64 = chunks.remainder().iter().map(|&v| f64::from(v)).sum();
        for chunk in chunks {
            for (lane, &v) in lanes.iter_mut().zip(chunk) {
                *lane += f64::from(v);
            }
        }
        (lanes.iter().sum::<f64>() + tail) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemm;
    use crate::test_util::Rng;

    #[test]
    fn columns_transpose_every_width_and_round_trip() {
        for width in 1..=MAX_WIDTH + 2 {
            for rows in [1, 2, 15, 16, 17, 65, 400] {
                let matrix: Vec<f32> = (0..rows * width).map(|i| i as f32).collect();
                let mut columns = vec![f32::NAN; rows * width];
                to_columns(width, &matrix, &mut columns);
                for (r, row) in matrix.chunks_exact(width).enumerate() {
                    for (c, &value) in row.iter().enumerate() {
                        assert_eq!(columns[c * rows + r], value, "{rows}x{width} at ({r}, {c})");
                    }
                }
                let mut back = vec![f32::NAN; rows * width];
                from_columns(width, &columns, &mut back);
                assert_eq!(back, matrix, "{rows}x{width}");
            }
        }
    }

    /// A narrow dense layer promises the GEMM's results bit for bit: same terms, same order.
    #[test]
    fn weighted_sum_is_the_narrow_gemm_bit_for_bit() {
        let mut rng = Rng::new(14);
        for depth in 1..=MAX_WIDTH + 2 {
            for rows in [1, 7, 16, 33, 400] {
                let matrix = rng.uniform_vec(rows * depth, -2.0, 2.0);
                let weights = rng.uniform_vec(depth, -2.0, 2.0);
                let mut expected = vec![0.0; rows];
                gemm(
                    false,
                    true,
                    rows,
                    1,
                    depth,
                    1.0,
                    &matrix,
                    &weights,
                    0.0,
                    &mut expected,
                )
                .unwrap();
                let mut columns = vec![0.0; rows * depth];
                to_columns(depth, &matrix, &mut columns);
                let mut out = vec![f32::NAN; rows];
                weighted_sum(&columns, &weights, None, &mut out);
                assert_eq!(out, expected, "{rows}x{depth}");
                weighted_sum(&columns, &weights, Some(0.5), &mut out);
                let biased: Vec<f32> = expected.iter().map(|v| v + 0.5).collect();
                assert_eq!(out, biased, "{rows}x{depth} with a bias");
            }
        }
    }

    #[test]
    fn dot_and_sum_match_f64_references() {
        let mut rng = Rng::new(15);
        for len in [0, 1, 15, 16, 17, 400] {
            let x = rng.uniform_vec(len, -1.0, 1.0);
            let y = rng.uniform_vec(len, -1.0, 1.0);
            let want: f64 = x.iter().zip(&y).map(|(&p, &q)| f64::from(p) * f64::from(q)).sum();
            assert!((f64::from(dot(&x, &y)) - want).abs() < 1e-5, "dot of {len}");
            let want: f64 = x.iter().map(|&v| f64::from(v)).sum();
            assert_eq!(sum(&x), want as f32, "sum of {len}");
        }
    }

    #[test]
    fn short_buffers_are_left_alone() {
        let mut columns = vec![f32::NAN; 3];
        to_columns(2, &[1.0; 4], &mut columns);
        assert!(columns.iter().all(|v| v.is_nan()));
        let mut out = vec![f32::NAN; 4];
        weighted_sum(&[1.0; 7], &[1.0, 1.0], None, &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
    }
}
