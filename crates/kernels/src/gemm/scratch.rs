//! Per-thread packing buffers, reused across calls.
//!
//! A packed block of B reaches KC x NC floats (2 MiB for the AVX-512 kernel). Allocating it
//! per call would fault in and zero fresh pages every time, on shapes that training repeats
//! thousands of times, so each thread keeps its buffers. They are caches, not state: a call
//! takes a buffer out, uses it, and puts it back, so a nested call on the same thread (rayon
//! work stealing) simply gets a fresh one.

use std::cell::Cell;
use std::thread::LocalKey;

type Buffer = Cell<Vec<f32>>;

thread_local! {
    /// Packed block of A (MC x KC), one per thread that computes tiles.
    pub(crate) static A_BLOCK: Buffer = const { Cell::new(Vec::new()) };
    /// Packed block of B (KC x NC), one per thread that calls `gemm`.
    pub(crate) static B_BLOCK: Buffer = const { Cell::new(Vec::new()) };
}

/// Floats of slack so the slice handed out can start on a 64-byte boundary, which keeps
/// every 512-bit load of a packed panel inside one cache line.
const ALIGN_FLOATS: usize = 16;

/// Runs `f` on a slice of `len` floats from this thread's buffer `key`, 64-byte aligned.
/// The contents are unspecified: callers overwrite what they read.
pub(crate) fn with_scratch<R>(
    key: &'static LocalKey<Buffer>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    // During thread teardown the key may be gone: fall back to a private buffer.
    let mut buffer = key.try_with(Cell::take).unwrap_or_default();
    let needed = len + ALIGN_FLOATS;
    if buffer.len() < needed {
        // A fresh vector rather than `resize`, which would copy the stale contents over.
        buffer = vec![0.0; needed];
    }
    let offset = buffer.as_ptr().align_offset(ALIGN_FLOATS * 4).min(ALIGN_FLOATS);
    let result = f(&mut buffer[offset..offset + len]);
    // If a nested call already put a buffer back, keep the larger of the two.
    let _ = key.try_with(|cell| {
        let other = cell.take();
        cell.set(if other.len() > buffer.len() {
            other
        } else {
            std::mem::take(&mut buffer)
        });
    });
    result
}
