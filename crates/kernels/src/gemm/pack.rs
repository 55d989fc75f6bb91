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
        // Rows of op(A) are contiguous: read each along the depth and scatter it by MR, so
        // reads stream and the writes stay inside one L1-sized panel.
        if height < K::MR {
            out.fill(0.0);
        }
        // Eight depth steps at a time: each row contributes a short contiguous run, and
        // the eight panel columns they fill are 8 * MR consecutive floats.
        const STEP: usize = 8;
        let whole = depth - depth % STEP;
        for (chunk, dst) in out[..whole * K::MR].chunks_exact_mut(STEP * K::MR).enumerate() {
            for i in 0..height {
                if let Some(src) = a.row(row0 + i, col0 + chunk * STEP, STEP) {
                    for (d, &x) in src.iter().enumerate() {
                        dst[d * K::MR + i] = x;
                    }
                }
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
        // op(B) is stored column-major (B transposed): read each column along the depth and
        // scatter it by NR.
        for (q, panel) in out.chunks_exact_mut(panel_len).enumerate() {
            let width = K::NR.min(cols - q * K::NR);
            if width < K::NR {
                panel.fill(0.0);
            }
            for j in 0..width {
                if let Some(src) = b.column(row0, col0 + q * K::NR + j, depth) {
                    for (dst, &x) in panel.chunks_exact_mut(K::NR).zip(src) {
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
