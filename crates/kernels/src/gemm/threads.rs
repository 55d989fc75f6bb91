//! Where the kernels may use more than one thread (cargo feature `threads`).
//!
//! The native addon enables rayon; the wasm module and a plain build run every task on the
//! calling thread. Work is divided so that no result depends on the thread count: a large
//! product over its output tiles (see `driver.rs`), a layer over fixed chunks of samples
//! (see `for_each_part`), each chunk computed the same way whichever thread takes it.

#[cfg(feature = "threads")]
use std::cell::Cell;

/// Below this many multiply-adds (`m * n * k`) a product stays on the calling thread: waking
/// a pool thread and packing the shared operand twice cost more than they save. Measured
/// with `examples/gemm_gflops.rs` on this 2-core VM (AVX-512 kernel, GFLOP/s 1 -> 2 threads,
/// several runs): 2^18 (64^3) loses, 88 -> 60..72; 2^20 (32x128x256) breaks even at best,
/// 62..68 -> 57..61; 2^21 (128^3) is a coin toss, 113..131 -> 103..198, as the second
/// thread is awake or asleep; 2^22 (128x128x256) wins, 111 -> 167.
#[cfg(feature = "threads")]
const PARALLEL_MIN_MNK: usize = 1 << 22;

#[cfg(feature = "threads")]
thread_local! {
    /// Set while this thread runs one part of a parallel region: the region already uses
    /// every thread, so a product inside it stays on its thread instead of nesting.
    static IN_PART: Cell<bool> = const { Cell::new(false) };
}

/// How many tasks to divide an `m x n x k` product into: the current rayon pool's size
/// (so `ThreadPool::install` and `RAYON_NUM_THREADS` decide), or 1 for small products and
/// inside a part of [`for_each_part`].
#[cfg(feature = "threads")]
pub(crate) fn threads_for(m: usize, n: usize, k: usize) -> usize {
    if m.saturating_mul(n).saturating_mul(k) < PARALLEL_MIN_MNK || IN_PART.with(Cell::get) {
        1
    } else {
        rayon::current_num_threads().max(1)
    }
}

#[cfg(not(feature = "threads"))]
pub(crate) fn threads_for(_m: usize, _n: usize, _k: usize) -> usize {
    1
}

/// Runs `f` on every item, spread over the current rayon pool when `threads > 1`.
#[cfg(feature = "threads")]
pub(crate) fn for_each_task<T: Send>(
    threads: usize,
    items: impl Iterator<Item = T> + Send,
    f: impl Fn(T) + Send + Sync,
) {
    use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, ParallelIterator};
    if threads > 1 {
        // At most a few items per thread: collecting them lets rayon split the list evenly
        // up front (a bridged iterator let one thread take every item before another woke).
        let items: Vec<T> = items.collect();
        items.into_par_iter().with_max_len(1).for_each(f);
    } else {
        items.for_each(f);
    }
}

#[cfg(not(feature = "threads"))]
pub(crate) fn for_each_task<T: Send>(
    _threads: usize,
    items: impl Iterator<Item = T> + Send,
    f: impl Fn(T) + Send + Sync,
) {
    items.for_each(f);
}

/// Runs `f` on every part of a layer's batch (chunks of whole samples, each with its own
/// slices of the layer's buffers), spread over the current rayon pool, and returns the first
/// error. The caller cuts the parts by shape alone, never by the thread count, and each
/// part is computed the same way on any thread, so results are bit-identical for any pool
/// size. Products inside a part stay on its thread (see [`threads_for`]).
#[cfg(feature = "threads")]
pub(crate) fn for_each_part<T: Send, E: Send>(
    mut items: impl Iterator<Item = T> + Send,
    f: impl Fn(T) -> Result<(), E> + Send + Sync,
) -> Result<(), E> {
    use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, ParallelIterator};
    if rayon::current_num_threads() <= 1 {
        return items.try_for_each(f);
    }
    let items: Vec<T> = items.collect();
    if items.len() <= 1 {
        return items.into_iter().try_for_each(f);
    }
    items.into_par_iter().with_max_len(1).try_for_each(|item| {
        let outer = IN_PART.with(|flag| flag.replace(true));
        let result = f(item);
        IN_PART.with(|flag| flag.set(outer));
        result
    })
}

#[cfg(not(feature = "threads"))]
pub(crate) fn for_each_part<T: Send, E: Send>(
    mut items: impl Iterator<Item = T> + Send,
    f: impl Fn(T) -> Result<(), E> + Send + Sync,
) -> Result<(), E> {
    items.try_for_each(f)
}
