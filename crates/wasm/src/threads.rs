//! A rayon pool whose threads are JavaScript workers (cargo feature `threads`).
//!
//! WebAssembly has no way to start a thread: the host starts workers (worker_threads in Node,
//! Web Workers in browsers), each instantiates this module over the same shared memory and
//! calls [`run_pool_thread`], which waits for a thread of the pool to run. Then the starting
//! thread calls [`start_thread_pool`]. This is wasm-bindgen-rayon's scheme, kept here because
//! that crate's JavaScript starts only browser workers. The kernels need nothing else: their
//! GEMMs already split over the current rayon pool (`ferronet_kernels`' own `threads`
//! feature), with results that do not depend on the number of threads.

use std::sync::{Condvar, Mutex, PoisonError};

use rayon::ThreadBuilder;
use wasm_bindgen::prelude::*;

/// Threads rayon has created that no worker has taken yet, and the signal that one arrived.
static UNSTARTED: Mutex<Vec<ThreadBuilder>> = Mutex::new(Vec::new());
static ARRIVED: Condvar = Condvar::new();

/// Makes the global rayon pool `threads` threads wide, the calling thread one of them, and
/// returns once every thread runs, so `threads - 1` workers must already be waiting in
/// [`run_pool_thread`]. The calling thread computes its share of each product itself rather
/// than handing all of it to the workers and sleeping: one hand-off fewer per product.
#[wasm_bindgen(js_name = startThreadPool)]
pub fn start_thread_pool(threads: usize) -> Result<(), JsValue> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .use_current_thread()
        .spawn_handler(|thread| {
            // A queue is only poisoned by a panic, which aborts this module (panic = abort).
            UNSTARTED
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(thread);
            ARRIVED.notify_one();
            Ok(())
        })
        .build_global()
        .map_err(|error| js_sys::Error::new(&format!("thread pool: {error}")).into())
}

/// Waits for one of the pool's threads and runs it on the calling worker, for good.
#[wasm_bindgen(js_name = runPoolThread)]
pub fn run_pool_thread() {
    let mut unstarted = UNSTARTED.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if let Some(thread) = unstarted.pop() {
            drop(unstarted);
            thread.run();
            return;
        }
        unstarted = ARRIVED.wait(unstarted).unwrap_or_else(PoisonError::into_inner);
    }
}

/// Threads in the global pool, once [`start_thread_pool`] has returned (before, this would
/// make rayon build a one-thread pool of its own).
#[wasm_bindgen(js_name = poolThreads)]
pub fn pool_threads() -> usize {
    rayon::current_num_threads()
}
