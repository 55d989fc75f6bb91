//! Where the blocked driver may use more than one thread (cargo feature `threads`).
//!
//! The native addon enables rayon; the wasm module and a plain build run every task on the
//! calling thread. Work is divided over output tiles only (see `driver.rs`), so the result
//! is bit-identical whatever the thread count.

/// Below this many multiply-adds (`m * n * k`) a product stays on the calling thread: waking
/// a pool thread and packing the shared operand twice cost more than they save. Measured
/// with `examples/gemm_gflops.rs` on this 2-core VM (AVX-512 kernel, GFLOP/s 1 -> 2 threads,
/// several runs): 2^18 (64^3) loses, 88 -> 60..72; 2^20 (32x128x256) breaks even at best,
/// 62..68 -> 57..61; 2^21 (128^3) is a coin toss, 113..131 -> 103..198, as the second
/// thread is awake or asleep; 2^22 (128x128x256) wins, 111 -> 167.
#[cfg(feature = "threads")]
const PARALLEL_MIN_MNK: usize = 1 << 22;

/// How many tasks to divide an `m x n x k` product into: the current rayon pool's size
/// (so `ThreadPool::install` and `RAYON_NUM_THREADS` decide), or 1 for small products.
#[cfg(feature = "threads")]
pub(crate) fn threads_for(m: usize, n: usize, k: usize) -> usize {
    if m.saturating_mul(n).saturating_mul(k) < PARALLEL_MIN_MNK {
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
