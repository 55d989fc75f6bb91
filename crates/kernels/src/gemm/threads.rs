//! Where the kernels may use more than one thread (cargo feature `threads`).
//!
//! The native addon and the threaded wasm module enable rayon; the single-threaded wasm
//! module and a plain build run every task on the calling thread. Work is divided so that
//! no result depends on the thread count: a large product over its output tiles (see
//! `driver.rs`), a layer over fixed chunks of samples (see `for_each_part`), each chunk
//! computed the same way whichever thread takes it.
//!
//! Training runs inside [`with_team`]: for the length of one call, the pool's other threads
//! spin waiting for the next product instead of going to sleep between products, as OpenMP
//! runtimes do (MKL's and PyTorch's threads spin for 200 ms by default). A training step is
//! a dozen products with short serial work between them; waking a sleeping thread for each
//! (a futex and, in a VM, an inter-processor interrupt) cost more than the second thread
//! saved, and the 784-256-128-10 MLP gained 1.1x from two threads.

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
    if threads <= 1 {
        items.for_each(f);
    } else if let Some(team) = team::current() {
        let done: Result<(), std::convert::Infallible> = team.run_items(items.collect(), |item| {
            f(item);
            Ok(())
        });
        let Ok(()) = done;
    } else {
        // At most a few items per thread: collecting them lets rayon split the list evenly
        // up front (a bridged iterator let one thread take every item before another woke).
        let items: Vec<T> = items.collect();
        items.into_par_iter().with_max_len(1).for_each(f);
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
    // One part (a small buffer, a small batch) runs here, before any question to the pool
    // and without collecting a list: small networks meet it several times a step.
    let Some(first) = items.next() else {
        return Ok(());
    };
    let Some(second) = items.next() else {
        return f(first);
    };
    let mut items = [first, second].into_iter().chain(items);
    if rayon::current_num_threads() <= 1 {
        return items.try_for_each(f);
    }
    let items: Vec<T> = items.collect();
    if let Some(team) = team::current() {
        return team.run_items(items, f);
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

/// Runs `f` with a team of the current rayon pool's threads ready for the products and parts
/// inside it (see the module comment); inside a team or a part already, just runs `f`.
#[cfg(feature = "threads")]
pub(crate) fn with_team<R>(f: impl FnOnce() -> R) -> R {
    team::with_team(f)
}

#[cfg(not(feature = "threads"))]
pub(crate) fn with_team<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(feature = "threads")]
mod team {
    use std::any::Any;
    use std::cell::{Cell, UnsafeCell};
    use std::hint::spin_loop;
    use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
    use std::ptr;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, PoisonError};

    use super::IN_PART;

    /// How many rounds a helper spins without work before it sleeps until the next job:
    /// about a millisecond, longer than the serial stretches of a training step (the
    /// optimizer update and the next batch's gather, tens of microseconds) and short enough
    /// to hand the core back soon after. Rounds, not a clock, because wasm32-unknown-unknown
    /// has none: an x86 `pause` takes 40-140 cycles; wasm has no such hint, and a round
    /// there is one atomic load, a few nanoseconds.
    #[cfg(not(target_family = "wasm"))]
    const SPIN_ROUNDS: u32 = 1 << 14;
    #[cfg(target_family = "wasm")]
    const SPIN_ROUNDS: u32 = 1 << 18;

    /// The job being shared: item `i` of it is `run(i)`.
    type Task<'a> = dyn Fn(usize) + Sync + 'a;

    thread_local! {
        /// The team whose caller this thread is, while [`with_team`] runs.
        static CURRENT: Cell<*const Team> = const { Cell::new(ptr::null()) };
    }

    /// The team this thread leads, if any.
    pub(super) fn current() -> Option<&'static Team> {
        let team = CURRENT.with(Cell::get);
        // SAFETY: CURRENT points at the team of the enclosing `with_team` on this thread and
        // is cleared before that team is dropped; callers use the reference only within the
        // product or layer pass that asked for it, which `with_team` encloses.
        unsafe { team.as_ref() }
    }

    /// The caller and its helpers. The caller publishes one job at a time; everyone claims
    /// items of it until none are left, and the caller returns once all are finished.
    pub(super) struct Team {
        /// The job's generation (high 32 bits), item count and next unclaimed item (16 bits
        /// each), in one word so that a claim can never land on a newer job.
        state: AtomicU64,
        /// Items of the current job not yet finished.
        remaining: AtomicUsize,
        /// The current job; written by the caller only while no item is in flight.
        task: UnsafeCell<Option<*const Task<'static>>>,
        /// The first panic of the current job, re-raised by the caller.
        panic: Mutex<Option<Box<dyn Any + Send>>>,
        /// Cleared when the caller leaves `with_team`: the helpers return.
        active: AtomicBool,
        /// Helpers asleep (or about to be) on `wake`.
        sleepers: AtomicUsize,
        sleep: Mutex<()>,
        wake: Condvar,
    }

    // SAFETY: `task` is written only by the caller between jobs, when no item is in flight
    // (see `run_items`), and read by helpers only while they hold a claimed, unfinished item;
    // every other field is thread-safe.
    unsafe impl Sync for Team {}

    const ITEM_BITS: u32 = 16;
    const ITEM_MASK: u64 = (1 << ITEM_BITS) - 1;

    pub(super) fn with_team<R>(f: impl FnOnce() -> R) -> R {
        let helpers = rayon::current_num_threads().saturating_sub(1);
        if helpers == 0 || current().is_some() || IN_PART.with(Cell::get) {
            return f();
        }
        let team = Team {
            state: AtomicU64::new(0),
            remaining: AtomicUsize::new(0),
            task: UnsafeCell::new(None),
            panic: Mutex::new(None),
            active: AtomicBool::new(true),
            sleepers: AtomicUsize::new(0),
            sleep: Mutex::new(()),
            wake: Condvar::new(),
        };
        let outcome = rayon::in_place_scope(|scope| {
            for _ in 0..helpers {
                scope.spawn(|_| team.help());
            }
            CURRENT.with(|current| current.set(&team));
            let outcome = catch_unwind(AssertUnwindSafe(f));
            CURRENT.with(|current| current.set(ptr::null()));
            team.active.store(false, Ordering::SeqCst);
            team.wake_sleepers();
            outcome
        });
        outcome.unwrap_or_else(|payload| resume_unwind(payload))
    }

    impl Team {
        /// Runs `f` on every item, the caller taking items too, and returns the first error.
        pub(super) fn run_items<T: Send, E: Send>(
            &self,
            items: Vec<T>,
            f: impl Fn(T) -> Result<(), E> + Sync,
        ) -> Result<(), E> {
            let count = items.len();
            if count as u64 > ITEM_MASK {
                // More than a claim can count: never so for products and layer parts (a
                // few per thread), so rather than fail, run them here.
                return items.into_iter().try_for_each(f);
            }
            let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|item| Mutex::new(Some(item))).collect();
            let error: Mutex<Option<E>> = Mutex::new(None);
            let run = |i: usize| {
                let item = slots[i].lock().unwrap_or_else(PoisonError::into_inner).take();
                if let Some(item) = item {
                    let outer = IN_PART.with(|flag| flag.replace(true));
                    let result = f(item);
                    IN_PART.with(|flag| flag.set(outer));
                    if let Err(e) = result {
                        error
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .get_or_insert(e);
                    }
                }
            };
            let task: &Task<'_> = &run;
            // SAFETY: no item of an earlier job is in flight (its caller waited for them all),
            // so no helper reads `task` now. It is cleared below, after every item of this
            // job has finished and before `run`, which it points at, goes out of scope.
            unsafe {
                *self.task.get() = Some(std::mem::transmute::<*const Task<'_>, *const Task<'static>>(task));
            }
            self.remaining.store(count, Ordering::Relaxed);
            let generation = (self.state.load(Ordering::Relaxed) >> 32).wrapping_add(1) & u64::from(u32::MAX);
            self.state
                .store(generation << 32 | (count as u64) << ITEM_BITS, Ordering::SeqCst);
            self.wake_sleepers();
            while let Some(i) = self.claim() {
                self.finish_item(i);
            }
            while self.remaining.load(Ordering::Acquire) != 0 {
                spin_loop();
            }
            // SAFETY: every item has finished, so no helper holds a claim or reads `task`.
            unsafe { *self.task.get() = None };
            if let Some(payload) = self.panic.lock().unwrap_or_else(PoisonError::into_inner).take() {
                resume_unwind(payload);
            }
            error
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .map_or(Ok(()), Err)
        }

        /// Claims the next item of the current job, if one is left.
        fn claim(&self) -> Option<usize> {
            let mut state = self.state.load(Ordering::Acquire);
            loop {
                let (next, count) = (state & ITEM_MASK, (state >> ITEM_BITS) & ITEM_MASK);
                if next >= count {
                    return None;
                }
                match self
                    .state
                    .compare_exchange_weak(state, state + 1, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return Some(next as usize),
                    Err(now) => state = now,
                }
            }
        }

        /// Runs claimed item `i` and counts it finished, keeping a panic for the caller.
        fn finish_item(&self, i: usize) {
            // SAFETY: item `i` is claimed and unfinished, so the caller is still waiting in
            // `run_items`, and `task` is set and points at its live closure.
            if let Some(task) = unsafe { *self.task.get() }.map(|task| unsafe { &*task }) {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| task(i))) {
                    self.panic
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(payload);
                }
            }
            self.remaining.fetch_sub(1, Ordering::Release);
        }

        /// A helper's loop: claims and runs items while the team is active, spinning for up
        /// to [`SPIN_ROUNDS`] between jobs and then sleeping until the next one.
        fn help(&self) {
            let mut idle_rounds = 0;
            while self.active.load(Ordering::Acquire) {
                if let Some(i) = self.claim() {
                    self.finish_item(i);
                    idle_rounds = 0;
                } else if idle_rounds < SPIN_ROUNDS {
                    spin_loop();
                    idle_rounds += 1;
                } else {
                    self.sleep_until_next_job();
                    idle_rounds = 0;
                }
            }
        }

        /// Sleeps until the caller publishes a job or leaves. The caller stores the new state
        /// and then reads `sleepers`; a helper counts itself in `sleepers` and then reads the
        /// state (all SeqCst), so one of the two sees the other: a job is never missed, and a
        /// caller that sees a sleeper notifies under the lock the helper waits with.
        fn sleep_until_next_job(&self) {
            let guard = self.sleep.lock().unwrap_or_else(PoisonError::into_inner);
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            let state = self.state.load(Ordering::SeqCst);
            let has_work = (state & ITEM_MASK) < ((state >> ITEM_BITS) & ITEM_MASK);
            if self.active.load(Ordering::SeqCst) && !has_work {
                drop(self.wake.wait(guard).unwrap_or_else(PoisonError::into_inner));
            }
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }

        fn wake_sleepers(&self) {
            if self.sleepers.load(Ordering::SeqCst) > 0 {
                let _guard = self.sleep.lock().unwrap_or_else(PoisonError::into_inner);
                self.wake.notify_all();
            }
        }
    }
}

#[cfg(all(test, feature = "threads"))]
mod tests {
    use super::{for_each_part, for_each_task, with_team};
    use std::collections::HashSet;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::Mutex;
    use std::thread::{self, ThreadId};
    use std::time::Duration;

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    /// Runs 32 slow items of one job and returns which thread ran each.
    fn job_threads() -> Vec<ThreadId> {
        let ran = Mutex::new(Vec::new());
        for_each_task(3, 0..32, |i| {
            thread::sleep(Duration::from_micros(500));
            ran.lock().unwrap().push((i, thread::current().id()));
        });
        let mut ran = ran.into_inner().unwrap();
        ran.sort_by_key(|&(i, _)| i);
        assert_eq!(
            ran.iter().map(|&(i, _)| i).collect::<Vec<_>>(),
            (0..32).collect::<Vec<_>>()
        );
        ran.into_iter().map(|(_, thread)| thread).collect()
    }

    #[test]
    fn a_team_runs_each_item_once_on_several_threads_and_wakes_after_sleeping() {
        pool(3).install(|| {
            with_team(|| {
                assert!(super::team::current().is_some(), "with_team made no team");
                let first = job_threads();
                assert!(
                    first.iter().collect::<HashSet<_>>().len() > 1,
                    "only the caller ran items"
                );
                // Long enough for the helpers to stop spinning and sleep.
                thread::sleep(Duration::from_millis(100));
                let after_sleep = job_threads();
                assert!(
                    after_sleep.iter().collect::<HashSet<_>>().len() > 1,
                    "the helpers did not wake"
                );
            });
        });
    }

    #[test]
    fn a_team_returns_a_parts_error_and_re_raises_a_panic() {
        pool(2).install(|| {
            with_team(|| {
                let result = for_each_part(0..8, |i| {
                    thread::sleep(Duration::from_micros(200));
                    if i == 5 {
                        Err(i)
                    } else {
                        Ok(())
                    }
                });
                assert_eq!(result, Err(5));
                let panicked = catch_unwind(AssertUnwindSafe(|| {
                    for_each_task(2, 0..8, |i| {
                        thread::sleep(Duration::from_micros(200));
                        assert_ne!(i, 6, "item 6 panics");
                    });
                }));
                assert!(panicked.is_err());
                // The team still works after both.
                assert_eq!(for_each_part(0..8, |_| Ok::<(), ()>(())), Ok(()));
            });
        });
    }
}
