//! Packing copies blocks of A and B into the panel layout the microkernels read
//! contiguously. Transposes are absorbed here: an operand is read through its strides,
//! so a transposed matrix is never copied as a whole.

/// A read-only view of `op(X)`: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Operand<'a> {
    /// `op(X)` for a row-major `X` of `rows x cols` when not transposed, or of `cols x rows`
    /// when transposed.
    pub fn new(data: &'a [f32], transposed: bool, rows: usize, cols: usize) -> Self {
        if transposed {
            Operand {
                data,
                row_stride: 1,
                col_stride: rows,
            }
        } else {
            Operand {
                data,
                row_stride: cols,
                col_stride: 1,
            }
        }
    }

    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }
}

/// Packs rows `row0 .. row0 + rows` and columns `col0 .. col0 + depth` of `op(A)` into
/// panels of `mr` rows: panel `r`, column `p` is `out[(r * depth + p) * mr ..][..mr]`.
/// Rows past the end of the block are zero so the microkernel never branches on edges.
pub(crate) fn pack_a(
    out: &mut Vec<f32>,
    a: Operand,
    mr: usize,
    row0: usize,
    rows: usize,
    col0: usize,
    depth: usize,
) {
    out.clear();
    for panel in (0..rows).step_by(mr) {
        let height = mr.min(rows - panel);
        for p in 0..depth {
            for i in 0..height {
                out.push(a.at(row0 + panel + i, col0 + p));
            }
            out.resize(out.len() + (mr - height), 0.0);
        }
    }
}

/// Packs rows `row0 .. row0 + depth` and columns `col0 .. col0 + cols` of `op(B)` into
/// panels of `nr` columns: panel `q`, row `p` is `out[(q * depth + p) * nr ..][..nr]`.
/// Columns past the end of the block are zero.
pub(crate) fn pack_b(
    out: &mut Vec<f32>,
    b: Operand,
    nr: usize,
    row0: usize,
    depth: usize,
    col0: usize,
    cols: usize,
) {
    out.clear();
    for panel in (0..cols).step_by(nr) {
        let width = nr.min(cols - panel);
        for p in 0..depth {
            for j in 0..width {
                out.push(b.at(row0 + p, col0 + panel + j));
            }
            out.resize(out.len() + (nr - width), 0.0);
        }
    }
}
