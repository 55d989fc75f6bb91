//! Packing copies blocks of A and B into the panel layout the microkernels read
//! contiguously. Transposes are absorbed here: an operand is read through its strides,
//! so a transposed matrix is never copied as a whole.

use super::microkernel::Microkernel;

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
    pub fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.row_stride + j * self.col_stride]
    }

    /// The `len` elements `(i, j0) .. (i, j0 + len)` when a row is contiguous.
    #[inline(always)]
    pub fn row(&self, i: usize, j0: usize, len: usize) -> Option<&'a [f32]> {
        (self.col_stride == 1).then(|| &self.data[i * self.row_stride + j0..][..len])
    }

    /// The `len` elements `(i0, j) .. (i0 + len, j)` when a column is contiguous.
    #[inline(always)]
    pub fn column(&self, i0: usize, j: usize, len: usize) -> Option<&'a [f32]> {
        (self.row_stride == 1).then(|| &self.data[j * self.col_stride + i0..][..len])
    }
}

/// Packs the `height x depth` block of `op(A)` at `(row0, col0)` into one panel of `MR`
/// rows: column `p` is `out[p * MR ..][..MR]`. Rows past `height` are zero, so the
/// microkernel never branches on edges (and never multiplies stale NaN).
pub(crate) fn pack_a_panel<K: Microkernel>(
    out: &mut [f32],
    a: Operand,
    row0: usize,
    height: usize,
    col0: usize,
    depth: usize,
) {
    let out = &mut out[..depth * K::MR];
    if a.row_stride == 1 {
        // op(A) is stored column-major (A transposed): each panel column is one copy.
        for (p, dst) in out.chunks_exact_mut(K::MR).enumerate() {
            if let Some(src) = a.column(row0, col0 + p, height) {
                copy_padded(dst, src);
            }
        }
    } else {
        // Rows of op(A) are contiguous: transpose 8 rows x 8 depth steps at a time.
        if height < K::MR {
            out.fill(0.0);
        }
        let whole = depth - depth % 8;
        // The last group of rows first: its blocks write all 8 lanes of a column (zeros past
        // `height`), and when that runs past MR into the next column, the next column's own
        // rows are written afterwards, by the first group or the next block of depth.
        for i0 in (0..height).step_by(8).rev() {
            let rows = 8.min(height - i0);
            let spills = i0 + 8 > K::MR;
            for p0 in (0..whole).step_by(8) {
                let last_column_spills = spills && p0 + 8 == depth;
                let start = (row0 + i0) * a.row_stride + col0 + p0;
                let src = &a.data[start..start + (rows - 1) * a.row_stride + 8];
                if last_column_spills {
                    // The last column's spill would leave the panel: copy it element by element.
                    for (i, run) in src.chunks(a.row_stride).enumerate() {
                        for (d, &x) in run[..8].iter().enumerate() {
                            out[(p0 + d) * K::MR + i0 + i] = x;
                        }
                    }
                    continue;
                }
                let dst = &mut out[p0 * K::MR + i0..][..7 * K::MR + 8];
                // SAFETY: the `rows` runs read are rows row0+i0.. of op(A) from depth p0, 8
                // floats each, inside `src` (checked by slicing); the 8 runs written start at
                // panel columns p0.., lane i0, inside `dst` (checked by slicing).
                unsafe { K::transpose_8x8(src.as_ptr(), a.row_stride, rows, dst.as_mut_ptr(), K::MR) };
            }
        }
        for i in 0..height {
            if let Some(src) = a.row(row0 + i, col0 + whole, depth - whole) {
                for (dst, &x) in out[whole * K::MR..].chunks_exact_mut(K::MR).zip(src) {
                    dst[i] = x;
                }
            }
        }
    }
}

/// Packs the `depth x cols` block of `op(B)` at `(row0, col0)` into panels of `NR`
/// columns: panel `q`, row `p` is `out[(q * depth + p) * NR ..][..NR]`. Columns past
/// `cols` are zero.
pub(crate) fn pack_b_panels<K: Microkernel>(
    out: &mut [f32],
    b: Operand,
    row0: usize,
    depth: usize,
    col0: usize,
    cols: usize,
) {
    let panel_len = depth * K::NR;
    let out = &mut out[..cols.div_ceil(K::NR) * panel_len];
    if b.col_stride == 1 {
        // Rows of op(B) are contiguous: stream each row once, dealing NR-wide pieces out to
        // the panels (reading a panel's rows one by one would jump a page per row).
        for p in 0..depth {
            if let Some(src) = b.row(row0 + p, col0, cols) {
                for (piece, panel) in src.chunks(K::NR).zip(out.chunks_exact_mut(panel_len)) {
                    copy_padded(&mut panel[p * K::NR..][..K::NR], piece);
                }
            }
        }
    } else {
        // op(B) is stored column-major (B transposed): transpose 8 columns x 8 depth steps
        // at a time when NR is a multiple of 8, so that a block never leaves its panel row;
        // otherwise (and for the last depth steps) scatter each column by NR.
        let whole = if K::NR % 8 == 0 { depth - depth % 8 } else { 0 };
        for (q, panel) in out.chunks_exact_mut(panel_len).enumerate() {
            let width = K::NR.min(cols - q * K::NR);
            if width < K::NR {
                panel.fill(0.0);
            }
            for j0 in (0..width).step_by(8) {
                let rows = 8.min(width - j0);
                let start = (col0 + q * K::NR + j0) * b.col_stride + row0;
                for p0 in (0..whole).step_by(8) {
                    let src = &b.data[start + p0..start + p0 + (rows - 1) * b.col_stride + 8];
                    let dst = &mut panel[p0 * K::NR + j0..][..7 * K::NR + 8];
                    // SAFETY: the `rows` runs read are columns col0+q*NR+j0.. of op(B) from
                    // depth p0, 8 floats each, inside `src`; the 8 runs written are panel rows
                    // p0..p0+8, lanes j0..j0+8 <= NR, inside `dst` (both checked by slicing).
                    unsafe { K::transpose_8x8(src.as_ptr(), b.col_stride, rows, dst.as_mut_ptr(), K::NR) };
                }
            }
            for j in 0..width {
                if let Some(src) = b.column(row0 + whole, col0 + q * K::NR + j, depth - whole) {
                    for (dst, &x) in panel[whole * K::NR..].chunks_exact_mut(K::NR).zip(src) {
                        dst[j] = x;
                    }
                }
            }
        }
    }
}

/// `dst = src` followed by zeros. `dst` is MR or NR long, known at compile time, so a full
/// copy becomes a few vector moves, and a partial one (a panel on the matrix's edge, where
/// `src` is a few floats) a select per element: calls to `memcpy` and `memset` there, once
/// per depth step, cost more than the arithmetic of a thin product (9 x 32 x 14112: 35 ->
/// 40 GFLOP/s in `examples/gemm_gflops.rs`).
#[inline(always)]
fn copy_padded(dst: &mut [f32], src: &[f32]) {
    if src.len() == dst.len() {
        dst.copy_from_slice(src);
    } else {
        for (i, d) in dst.iter_mut().enumerate() {
            *d = src.get(i).copied().unwrap_or(0.0);
        }
    }
}
