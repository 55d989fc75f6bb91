//! Bias broadcast (forward) and its adjoint, column sums (bias gradients).

use crate::error::{check_len, checked_area, ShapeError};
use crate::isa::multiversion;

/// `x[r][c] += bias[c]` for a row-major `rows x cols` matrix, in place.
pub fn bias_add(rows: usize, cols: usize, bias: &[f32], x: &mut [f32]) -> Result<(), ShapeError> {
    check_len("bias", "cols", bias, cols)?;
    check_len("x", "rows*cols", x, checked_area("x", "rows*cols", rows, cols)?)?;
    if cols == 0 {
        return Ok(());
    }
    add_to_rows(cols, bias, x);
    Ok(())
}

/// Floats per group of rows when rows are narrow: a row of 1..32 floats is too short to
/// vectorize alone, so whole rows are taken `BLOCK / cols` at a time against a bias (or an
/// accumulator) repeated as many times.
const BLOCK: usize = 32;

/// The width of one group of whole rows: `cols` repeated up to [`BLOCK`] floats.
fn group_width(cols: usize) -> usize {
    cols * (BLOCK / cols).max(1)
}

/// Calls `f(value, bias of its column)` on every element of a row-major matrix of `cols`
/// columns, a group of whole rows at a time, so that narrow rows vectorize too. Inlined into
/// its callers, which are compiled per instruction set.
#[inline(always)]
pub(crate) fn for_each_with_bias(cols: usize, bias: &[f32], x: &mut [f32], f: impl Fn(&mut f32, f32)) {
    let width = group_width(cols);
    let mut repeated = [0.0f32; BLOCK];
    let pattern = if width == cols {
        bias
    } else {
        for (slot, &b) in repeated.iter_mut().zip(bias.iter().cycle()).take(width) {
            *slot = b;
        }
        &repeated[..width]
    };
    // x holds whole rows and a group is whole rows, so a short last group still lines up.
    for group in x.chunks_mut(width) {
        for (v, &b) in group.iter_mut().zip(pattern) {
            f(v, b);
        }
    }
}

multiversion! {
    fn add_to_rows(cols: usize, bias: &[f32], x: &mut [f32]) {
        for_each_with_bias(cols, bias, x, |v, b| *v += b);
    }
}

/// `sums[c] = x[0][c] + ... + x[rows-1][c]`, accumulated in f64 so every backend agrees
/// on long columns.
pub fn column_sums(rows: usize, cols: usize, x: &[f32], sums: &mut [f32]) -> Result<(), ShapeError> {
    check_len("x", "rows*cols", x, checked_area("x", "rows*cols", rows, cols)?)?;
    check_len("sums", "cols", sums, cols)?;
    if cols == 0 {
        return Ok(());
    }
    sum_columns(cols, x, sums);
    Ok(())
}

multiversion! {
    fn sum_columns(cols: usize, x: &[f32], sums: &mut [f32]) {
        // One f64 accumulator per float of a group of rows: the adds are independent, so
        // they vectorize instead of waiting on each other.
        let width = group_width(cols);
        let mut small = [0.0f64; BLOCK];
        let mut large = Vec::new();
        let acc: &mut [f64] = if width <= BLOCK {
            &mut small[..width]
        } else {
            large.resize(width, 0.0);
            &mut large
        };
        for group in x.chunks(width) {
            for (a, &v) in acc.iter_mut().zip(group) {
                *a += f64::from(v);
            }
        }
        for (c, sum) in sums.iter_mut().enumerate() {
            *sum = acc.iter().skip(c).step_by(cols).sum::<f64>() as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_add_broadcasts_over_rows() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        bias_add(2, 3, &[10.0, 20.0, 30.0], &mut x).unwrap();
        assert_eq!(x, vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
    }

    #[test]
    fn column_sums_add_down_columns() {
        let mut sums = vec![f32::NAN; 3];
        column_sums(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut sums).unwrap();
        assert_eq!(sums, vec![5.0, 7.0, 9.0]);
    }

    /// Narrow rows go through groups of rows; every width up to past the group size must
    /// give the plain per-row result.
    #[test]
    fn narrow_and_wide_rows_agree_with_per_row_loops() {
        for cols in [1, 2, 3, 5, 7, 16, 31, 32, 33, 100] {
            for rows in [1, 2, 7, 33] {
                let x: Vec<f32> = (0..rows * cols).map(|i| (i % 13) as f32 - 6.0).collect();
                let bias: Vec<f32> = (0..cols).map(|c| c as f32 * 0.5).collect();
                let mut added = x.clone();
                bias_add(rows, cols, &bias, &mut added).unwrap();
                let expected: Vec<f32> = x.iter().enumerate().map(|(i, v)| v + bias[i % cols]).collect();
                assert_eq!(added, expected, "bias_add {rows}x{cols}");
                let mut sums = vec![f32::NAN; cols];
                column_sums(rows, cols, &x, &mut sums).unwrap();
                let expected: Vec<f32> = (0..cols)
                    .map(|c| (0..rows).map(|r| x[r * cols + c]).sum())
                    .collect();
                assert_eq!(sums, expected, "column_sums {rows}x{cols}");
            }
        }
    }

    #[test]
    fn wrong_lengths_name_the_argument() {
        let mut x = vec![0.0; 6];
        assert_eq!(bias_add(2, 3, &[0.0; 2], &mut x).unwrap_err().argument, "bias");
        assert_eq!(bias_add(3, 3, &[0.0; 3], &mut x).unwrap_err().argument, "x");
        assert_eq!(column_sums(2, 3, &x, &mut [0.0; 4]).unwrap_err().argument, "sums");
    }
}
