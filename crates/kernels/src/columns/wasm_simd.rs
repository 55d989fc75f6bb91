//! simd128 transposes of 2- and 4-wide matrices, written out as i32x4 shuffles.
//!
//! LLVM vectorizes the plain transposes of `columns.rs` for wasm too, but with byte shuffles
//! whose masks engines do not recognize: V8 lowers them to generic byte permutes, and the
//! transposes became a third of a planar step in wasm. The interleaves here are the unpack
//! and 64-bit moves that engines map to one x86 or ARM instruction each. Rows beyond the last
//! multiple of 4 go through a scalar loop.

use std::arch::wasm32::{i32x4_shuffle, v128, v128_load, v128_store};

#[inline(always)]
fn load(values: &[f32; 4]) -> v128 {
    // SAFETY: a reference to 4 floats is valid for reading 16 bytes; v128_load needs no
    // alignment.
    unsafe { v128_load(values.as_ptr().cast::<v128>()) }
}

#[inline(always)]
fn store(values: &mut [f32; 4], vector: v128) {
    // SAFETY: as in `load`, for writing.
    unsafe { v128_store(values.as_mut_ptr().cast::<v128>(), vector) }
}

/// `[a0 a1 a2 a3], [b0 b1 b2 b3]` -> `[a0 b0 a1 b1], [a2 b2 a3 b3]`.
#[inline(always)]
fn interleave(a: v128, b: v128) -> (v128, v128) {
    (
        i32x4_shuffle::<0, 4, 1, 5>(a, b),
        i32x4_shuffle::<2, 6, 3, 7>(a, b),
    )
}

/// The inverse of [`interleave`].
#[inline(always)]
fn deinterleave(low: v128, high: v128) -> (v128, v128) {
    (
        i32x4_shuffle::<0, 2, 4, 6>(low, high),
        i32x4_shuffle::<1, 3, 5, 7>(low, high),
    )
}

/// A 4 x 4 block transposed, rows to columns or back (the transpose is its own inverse).
#[inline(always)]
fn transpose(a: v128, b: v128, c: v128, d: v128) -> [v128; 4] {
    let (ab_low, ab_high) = interleave(a, b);
    let (cd_low, cd_high) = interleave(c, d);
    [
        i32x4_shuffle::<0, 1, 4, 5>(ab_low, cd_low),
        i32x4_shuffle::<2, 3, 6, 7>(ab_low, cd_low),
        i32x4_shuffle::<0, 1, 4, 5>(ab_high, cd_high),
        i32x4_shuffle::<2, 3, 6, 7>(ab_high, cd_high),
    ]
}

/// `columns[c][r] = matrix[r][c]` for width 2 or 4 (`columns` split, each of the matrix's
/// rows); returns whether the width was one of those.
pub(super) fn to_columns(width: usize, matrix: &[f32], columns: &mut [&mut [f32]]) -> bool {
    match columns {
        [c0, c1] if width == 2 => {
            let (blocks, _) = matrix.as_chunks::<8>();
            let pairs = c0
                .as_chunks_mut::<4>()
                .0
                .iter_mut()
                .zip(c1.as_chunks_mut::<4>().0);
            for (block, (a, b)) in blocks.iter().zip(pairs) {
                let (low, high) = block.split_at(4);
                let (Ok(low), Ok(high)) = (<&[f32; 4]>::try_from(low), <&[f32; 4]>::try_from(high)) else {
                    return true;
                };
                let (va, vb) = deinterleave(load(low), load(high));
                store(a, va);
                store(b, vb);
            }
            tail(2, matrix, columns, blocks.len() * 4);
            true
        }
        [c0, c1, c2, c3] if width == 4 => {
            let (blocks, _) = matrix.as_chunks::<16>();
            let quads = (c0
                .as_chunks_mut::<4>()
                .0
                .iter_mut()
                .zip(c1.as_chunks_mut::<4>().0))
            .zip(
                c2.as_chunks_mut::<4>()
                    .0
                    .iter_mut()
                    .zip(c3.as_chunks_mut::<4>().0),
            );
            for (block, ((a, b), (c, d))) in blocks.iter().zip(quads) {
                let rows = block.as_chunks::<4>().0;
                let [ra, rb, rc, rd] = rows else {
                    return true;
                };
                let [va, vb, vc, vd] = transpose(load(ra), load(rb), load(rc), load(rd));
                store(a, va);
                store(b, vb);
                store(c, vc);
                store(d, vd);
            }
            tail(4, matrix, columns, blocks.len() * 4);
            true
        }
        _ => false,
    }
}

/// The rows from `start` on, one float at a time.
fn tail(width: usize, matrix: &[f32], columns: &mut [&mut [f32]], start: usize) {
    for (r, row) in matrix.chunks_exact(width).enumerate().skip(start) {
        for (column, &value) in columns.iter_mut().zip(row) {
            if let Some(slot) = column.get_mut(r) {
                *slot = value;
            }
        }
    }
}

/// `matrix[r][c] = columns[c][r]` for width 2 or 4; returns whether the width was one of those.
pub(super) fn from_columns(width: usize, columns: &[&[f32]], matrix: &mut [f32]) -> bool {
    let rows = matrix.len() / width.max(1);
    match *columns {
        [c0, c1] if width == 2 => {
            let (blocks, _) = matrix.as_chunks_mut::<8>();
            let pairs = c0.as_chunks::<4>().0.iter().zip(c1.as_chunks::<4>().0);
            let done = blocks.len() * 4;
            for (block, (a, b)) in blocks.iter_mut().zip(pairs) {
                let (low, high) = interleave(load(a), load(b));
                let (first, second) = block.split_at_mut(4);
                let (Ok(first), Ok(second)) = (
                    <&mut [f32; 4]>::try_from(first),
                    <&mut [f32; 4]>::try_from(second),
                ) else {
                    return true;
                };
                store(first, low);
                store(second, high);
            }
            from_tail(2, columns, matrix, done, rows);
            true
        }
        [c0, c1, c2, c3] if width == 4 => {
            let (blocks, _) = matrix.as_chunks_mut::<16>();
            let quads = (c0.as_chunks::<4>().0.iter().zip(c1.as_chunks::<4>().0))
                .zip(c2.as_chunks::<4>().0.iter().zip(c3.as_chunks::<4>().0));
            let done = blocks.len() * 4;
            for (block, ((a, b), (c, d))) in blocks.iter_mut().zip(quads) {
                let rows = block.as_chunks_mut::<4>().0;
                let [ra, rb, rc, rd] = rows else {
                    return true;
                };
                let [va, vb, vc, vd] = transpose(load(a), load(b), load(c), load(d));
                store(ra, va);
                store(rb, vb);
                store(rc, vc);
                store(rd, vd);
            }
            from_tail(4, columns, matrix, done, rows);
            true
        }
        _ => false,
    }
}

/// The rows from `start` to `rows`, one float at a time.
fn from_tail(width: usize, columns: &[&[f32]], matrix: &mut [f32], start: usize, rows: usize) {
    for (r, row) in matrix.chunks_exact_mut(width).enumerate().take(rows).skip(start) {
        for (value, column) in row.iter_mut().zip(columns) {
            if let Some(&v) = column.get(r) {
                *value = v;
            }
        }
    }
}
