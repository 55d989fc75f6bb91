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

multiversion! {
    fn add_to_rows(cols: usize, bias: &[f32], x: &mut [f32]) {
        for row in x.chunks_exact_mut(cols) {
            for (v, &b) in row.iter_mut().zip(bias) {
                *v += b;
            }
        }
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
    let mut acc = vec![0.0f64; cols];
    for row in x.chunks_exact(cols) {
        for (s, &v) in acc.iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }
    for (s, a) in sums.iter_mut().zip(acc) {
        *s = a as f32;
    }
    Ok(())
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

    #[test]
    fn wrong_lengths_name_the_argument() {
        let mut x = vec![0.0; 6];
        assert_eq!(bias_add(2, 3, &[0.0; 2], &mut x).unwrap_err().argument, "bias");
        assert_eq!(bias_add(3, 3, &[0.0; 3], &mut x).unwrap_err().argument, "x");
        assert_eq!(column_sums(2, 3, &x, &mut [0.0; 4]).unwrap_err().argument, "sums");
    }
}
