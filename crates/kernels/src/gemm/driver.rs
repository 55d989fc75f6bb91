//! The blocked driver: BLIS's five loops around a microkernel.
//!
//! Loops, outer to inner: NC columns of B (jc), KC of depth (pc, packing a block of B),
//! MC rows of A (ic, packing a block of A), NR-wide panels of B (jr), MR-high panels of A
//! (ir). Threads take rectangles of C; the depth loop is never split: every element of C
//! sums its KC blocks in the same order, and every tile (full or partial) goes through the
//! same microkernel arithmetic, so the result does not depend on how C is divided.

use std::ops::Range;

use super::microkernel::{Microkernel, MAX_TILE};
use super::pack::{pack_a_panel, pack_b_panels, Operand};
use super::scale;
use super::scratch::{with_scratch, A_BLOCK, B_BLOCK};
use super::threads::{for_each_task, threads_for};

/// C as the tasks see it: a base pointer and a row stride. Each task writes only the tiles
/// of its own rectangle, so sharing the pointer never makes two writers meet.
#[derive(Clone, Copy)]
pub(crate) struct OutPtr {
    ptr: *mut f32,
    ldc: usize,
}

// SAFETY: `OutPtr` is only handed to tasks that write pairwise disjoint tiles of C (see
// `Grid`), while the `&mut [f32]` it came from is held, unused, by `gemm_blocked`.
unsafe impl Send for OutPtr {}
// SAFETY: as above; a shared `OutPtr` is only used to reach disjoint tiles.
unsafe impl Sync for OutPtr {}

/// What every task of one product shares.
struct Problem<'a> {
    k: usize,
    alpha: f32,
    beta: f32,
    a: Operand<'a>,
    b: Operand<'a>,
}

/// One KC-deep block of A panels against packed B panels.
struct Block<'a> {
    depth0: usize,
    depth: usize,
    alpha: f32,
    beta: f32,
    a: Operand<'a>,
}

/// `C = alpha * op(A) * op(B) + beta * C` through packed panels and the microkernel `K`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_blocked<K: Microkernel>(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: Operand,
    b: Operand,
    beta: f32,
    c: &mut [f32],
) {
    let () = K::SIZES_OK;
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale(c, beta);
        return;
    }
    debug_assert!(c.len() >= m * n);
    let out = OutPtr {
        ptr: c.as_mut_ptr(),
        ldc: n,
    };
    let problem = Problem { k, alpha, beta, a, b };
    let threads = threads_for(m, n, k);
    // One parallel region per call: each task runs the whole blocked algorithm on its own
    // rectangle of C. Waking a pool thread costs tens of microseconds on a busy machine, so
    // one wake-up per call beats one per packed block on the mid-sized training shapes.
    let grid = Grid::new::<K>(m, n, threads);
    for_each_task(threads, grid.tasks(), |(row_panels, col_panels)| {
        let rows = row_panels.start * K::MR..(row_panels.end * K::MR).min(m);
        let cols = col_panels.start * K::NR..(col_panels.end * K::NR).min(n);
        compute_rectangle::<K>(&problem, out, rows, cols);
    });
}

/// The blocked loops over the part of C in `rows x cols`, with this thread's buffers.
fn compute_rectangle<K: Microkernel>(problem: &Problem, out: OutPtr, rows: Range<usize>, cols: Range<usize>) {
    let k = problem.k;
    let b_len = K::NC.min(cols.len()).next_multiple_of(K::NR) * K::KC.min(k);
    with_scratch(&B_BLOCK, b_len, |b_buffer| {
        for col0 in cols.clone().step_by(K::NC) {
            let width = K::NC.min(cols.end - col0);
            for depth0 in (0..k).step_by(K::KC) {
                let depth = K::KC.min(k - depth0);
                let b_packed = &mut b_buffer[..width.div_ceil(K::NR) * depth * K::NR];
                pack_b_panels::<K>(b_packed, problem.b, depth0, depth, col0, width);
                let block = Block {
                    depth0,
                    depth,
                    alpha: problem.alpha,
                    // Only the first block of depth applies the caller's beta; later ones accumulate.
                    beta: if depth0 == 0 { problem.beta } else { 1.0 },
                    a: problem.a,
                };
                compute_block::<K>(&block, b_packed, out, rows.clone(), col0..col0 + width);
            }
        }
    });
}

/// One KC-deep block over `rows x cols` of C, packing A in MC-row chunks.
fn compute_block<K: Microkernel>(
    block: &Block,
    b_packed: &[f32],
    out: OutPtr,
    rows: Range<usize>,
    cols: Range<usize>,
) {
    let depth = block.depth;
    let a_len = K::MC.min(rows.len().next_multiple_of(K::MR)) * depth;
    with_scratch(&A_BLOCK, a_len, |a_buffer| {
        for row0 in rows.clone().step_by(K::MC) {
            let height = K::MC.min(rows.end - row0);
            let a_packed = &mut a_buffer[..height.div_ceil(K::MR) * K::MR * depth];
            for (r, panel) in a_packed.chunks_exact_mut(K::MR * depth).enumerate() {
                let i0 = row0 + r * K::MR;
                pack_a_panel::<K>(
                    panel,
                    block.a,
                    i0,
                    K::MR.min(row0 + height - i0),
                    block.depth0,
                    depth,
                );
            }
            for (q, b_panel) in b_packed.chunks_exact(K::NR * depth).enumerate() {
                let j0 = cols.start + q * K::NR;
                let width = K::NR.min(cols.end - j0);
                for (r, a_panel) in a_packed.chunks_exact(K::MR * depth).enumerate() {
                    let i0 = row0 + r * K::MR;
                    let height = K::MR.min(row0 + height - i0);
                    tile::<K>(block, a_panel, b_panel, out, i0, j0, height, width);
                }
            }
        }
    });
}

/// One `MR x NR` tile of C at `(i0, j0)`, of which `height x width` lies inside C.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn tile<K: Microkernel>(
    block: &Block,
    a_panel: &[f32],
    b_panel: &[f32],
    out: OutPtr,
    i0: usize,
    j0: usize,
    height: usize,
    width: usize,
) {
    debug_assert!(a_panel.len() >= block.depth * K::MR && b_panel.len() >= block.depth * K::NR);
    let (depth, alpha, beta, ldc) = (block.depth, block.alpha, block.beta, out.ldc);
    if width == K::NR {
        // SAFETY: the panels hold depth*MR and depth*NR floats (checked above in debug
        // builds, implied by the packing); the tile's `height` rows of NR columns lie inside
        // the m x n matrix C, and no other task touches them (see `Grid`).
        unsafe {
            K::kernel(
                height,
                depth,
                alpha,
                a_panel.as_ptr(),
                b_panel.as_ptr(),
                beta,
                out.ptr.add(i0 * ldc + j0),
                ldc,
            )
        };
        return;
    }
    // A tile cut short by C's right edge goes through the same kernel on a private copy, so
    // its arithmetic is exactly that of a full tile (results never depend on where a tile
    // falls).
    let mut private = [0.0f32; MAX_TILE];
    let private = &mut private[..K::MR * K::NR];
    for i in 0..height {
        // SAFETY: row i0 + i, columns j0 .. j0 + width lie inside C and belong to this task.
        let c_row = unsafe { std::slice::from_raw_parts_mut(out.ptr.add((i0 + i) * ldc + j0), width) };
        if beta != 0.0 {
            private[i * K::NR..][..width].copy_from_slice(c_row);
        }
    }
    // SAFETY: the panels are as above; `private` is a full MR x NR tile with row stride NR.
    unsafe {
        K::kernel(
            height,
            depth,
            alpha,
            a_panel.as_ptr(),
            b_panel.as_ptr(),
            beta,
            private.as_mut_ptr(),
            K::NR,
        )
    };
    for i in 0..height {
        // SAFETY: as for the copy in, above.
        let c_row = unsafe { std::slice::from_raw_parts_mut(out.ptr.add((i0 + i) * ldc + j0), width) };
        c_row.copy_from_slice(&private[i * K::NR..][..width]);
    }
}

/// How C is divided among `threads` tasks: a `row_parts x col_parts` grid of rectangles,
/// counted in MR-high and NR-wide panels. Every task packs the A rows and B columns it
/// needs, so splitting rows repeats B's packing in each task and splitting columns repeats
/// A's: the grid minimises each task's multiply-adds plus its packing.
pub(crate) struct Grid {
    row_units: usize,
    col_units: usize,
    row_parts: usize,
    col_parts: usize,
}

/// Roughly how many multiply-adds packing one float costs (a strided copy against a
/// vector FMA), per unit of depth: it weighs packing against arithmetic in `Grid::new`.
const PACK_COST: usize = 16;

impl Grid {
    pub(crate) fn new<K: Microkernel>(m: usize, n: usize, threads: usize) -> Self {
        let (row_units, col_units) = (m.div_ceil(K::MR), n.div_ceil(K::NR));
        let mut best = (usize::MAX, 1, 1);
        for row_parts in 1..=threads.min(row_units) {
            let col_parts = (threads / row_parts).min(col_units);
            let rows = row_units.div_ceil(row_parts) * K::MR;
            let cols = col_units.div_ceil(col_parts) * K::NR;
            let cost = rows * cols + PACK_COST * (rows + cols);
            if cost < best.0 {
                best = (cost, row_parts, col_parts);
            }
        }
        Grid {
            row_units,
            col_units,
            row_parts: best.1,
            col_parts: best.2,
        }
    }

    /// The rectangles, as (row panels, column panels); together they cover every tile once.
    pub(crate) fn tasks(&self) -> impl ExactSizeIterator<Item = (Range<usize>, Range<usize>)> + Send + '_ {
        let parts = self.row_parts * self.col_parts;
        (0..parts).map(move |t| {
            let (r, q) = (t / self.col_parts, t % self.col_parts);
            (
                share(self.row_units, self.row_parts, r),
                share(self.col_units, self.col_parts, q),
            )
        })
    }
}

/// The `index`-th of `parts` nearly equal consecutive ranges covering `0..units`.
fn share(units: usize, parts: usize, index: usize) -> Range<usize> {
    let (base, extra) = (units / parts, units % parts);
    let start = index * base + index.min(extra);
    start..start + base + usize::from(index < extra)
}
