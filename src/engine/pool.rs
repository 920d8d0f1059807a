//! The worker pool: scoped threads that share a queue of jobs, with results
//! and errors reported in job order so nothing depends on scheduling.

use crate::error::{Error, Result};

/// Runs `body` on `threads` scoped threads, re-raising a worker's panic. Each
/// worker is joined explicitly: that waits for the OS thread to end, thread-local
/// destructors (per-thread scratch) included, whereas the implicit join of
/// `thread::scope` returns as soon as the closures have (leak checkers then see
/// the scratch as live).
fn on_threads(threads: usize, body: impl Fn() + Sync) {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(&body)).collect();
        for w in workers {
            if let Err(panic) = w.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// Runs `work(i)` for `i in 0..n` on up to `n_threads` scoped threads (the caller's
/// thread alone when `n_threads <= 1`) and returns results in index order.
pub(crate) fn parallel_map<T: Send>(n: usize, n_threads: u32, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = (n_threads.max(1) as usize).min(n.max(1));
    if threads == 1 {
        return (0..n).map(&work).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    on_threads(threads, || loop {
        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if i >= n {
            break;
        }
        let r = work(i);
        slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
    });
    results.into_iter().map(|r| r.expect("every index was processed")).collect()
}

/// Runs `work` on every job on up to `n_threads` scoped threads (the caller's
/// thread alone when `n_threads <= 1`), handing jobs out as workers free up.
/// Each worker gets its own state from `init`. The error of the lowest-numbered
/// failing job is returned, so the result does not depend on scheduling.
pub(crate) fn parallel_for_each<J: Send, S>(jobs: Vec<J>, n_threads: u32, init: impl Fn() -> S + Sync, work: impl Fn(J, &mut S) -> Result<()> + Sync) -> Result<()> {
    let threads = (n_threads.max(1) as usize).min(jobs.len().max(1));
    if threads == 1 {
        let mut state = init();
        return jobs.into_iter().try_for_each(|j| work(j, &mut state));
    }
    let n = jobs.len();
    let queue = std::sync::Mutex::new(jobs.into_iter().enumerate().rev().collect::<Vec<_>>());
    let first_error = std::sync::Mutex::new(None::<(usize, Error)>);
    on_threads(threads, || {
        let mut state = init();
        loop {
            let job = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some((i, job)) = job else { break };
            if let Err(e) = work(job, &mut state) {
                let mut slot = first_error.lock().unwrap_or_else(|e| e.into_inner());
                if slot.is_none_or(|(j, _)| i < j) {
                    *slot = Some((i, e));
                }
            }
        }
    });
    debug_assert!(n > 0);
    match first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

