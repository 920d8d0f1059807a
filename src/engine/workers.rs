//! Background worker threads for work nobody waits on (read-ahead): a bounded
//! queue of keyed jobs, each key queued at most once. When the queue is full
//! the oldest job is dropped: for read-ahead the newest requests are the ones a
//! reader is about to reach. Threads start in `new` and are joined on drop.
//!
//! The threads run at a lower scheduling priority ([`BACKGROUND_NICE`]): their
//! work is speculative, and the threads serving reads (which decode a chunk
//! themselves when it is not ready) must not wait behind it for a core. Measured
//! on `llmc mount -T 2` (2 cores, `dd bs=1M`): the read-ahead threads at equal
//! priority held both cores while the request path waited its turn. They also
//! run under `SCHED_BATCH`: a batch thread that wakes (a new chunk queued) does
//! not preempt the thread running on its core, which is often the one serving
//! the reader; it still gets its share of the CPU (unlike `SCHED_IDLE`, which
//! starved read-ahead whenever anything else ran). Eight alternated rounds of
//! `dd bs=1M` through `llmc mount -T 2` on a loaded 2-core VM: median 1.05 GB/s
//! batch, 0.92 nice 5 alone, 1.00 equal priority, 1.03 idle (worst 0.31).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send>;

pub struct Workers {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    count: usize,
}

struct Shared {
    state: Mutex<Queue>,
    wake: Condvar,
    capacity: usize,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<(u128, Job)>,
    keys: HashSet<u128>,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn run(&self) {
        lower_priority();
        loop {
            let job = {
                let mut q = self.lock();
                loop {
                    if q.stopping {
                        return;
                    }
                    if let Some((key, job)) = q.jobs.pop_front() {
                        q.keys.remove(&key);
                        break job;
                    }
                    q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            // A job that panics loses only itself; the thread keeps serving.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        }
    }
}

/// Niceness of the worker threads (0 is the default; 19 the lowest priority).
pub const BACKGROUND_NICE: i32 = 5;

/// Lowers the calling thread's priority to [`BACKGROUND_NICE`] under
/// `SCHED_BATCH` (best effort: on failure the thread keeps what it had).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getpriority and setpriority take plain integers; on Linux
        // `who == 0` with PRIO_PROCESS names the calling thread (each thread is
        // its own task). Only ever lowered: a thread started by a caller that
        // runs at a lower priority already (`nice -n 19 llmc ...`) keeps it,
        // where setting BACKGROUND_NICE as root would have raised it.
        unsafe {
            if libc::getpriority(libc::PRIO_PROCESS, 0) < BACKGROUND_NICE {
                let _ = libc::setpriority(libc::PRIO_PROCESS, 0, BACKGROUND_NICE);
            }
        }
        // SAFETY: sched_getscheduler and sched_setscheduler on pid 0 (the
        // calling thread); `param` is a valid sched_param for the call. Only a
        // thread under the normal policy moves to SCHED_BATCH (which needs no
        // privilege and keeps the nice value): SCHED_IDLE would be raised.
        unsafe {
            if libc::sched_getscheduler(0) == libc::SCHED_OTHER {
                let param = libc::sched_param { sched_priority: 0 };
                let _ = libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
            }
        }
    }
}

impl Workers {
    /// Starts `threads` workers (named `llmc-<name>`) over a queue of at most
    /// `capacity` jobs.
    pub fn new(threads: usize, capacity: usize, name: &str) -> std::io::Result<Workers> {
        let shared = Arc::new(Shared { state: Mutex::default(), wake: Condvar::new(), capacity: capacity.max(1) });
        let workers = Workers { shared, threads: Mutex::new(Vec::with_capacity(threads)), count: threads };
        for i in 0..threads {
            let shared = Arc::clone(&workers.shared);
            // On failure, `workers` is dropped, which stops the threads already started.
            let t = std::thread::Builder::new().name(format!("llmc-{name}-{i}")).spawn(move || shared.run())?;
            workers.threads.lock().unwrap_or_else(|e| e.into_inner()).push(t);
        }
        Ok(workers)
    }

    pub fn threads(&self) -> usize {
        self.count
    }

    /// Queues `job` under `key` unless that key is already queued. Returns
    /// whether it was queued.
    pub fn submit(&self, key: u128, job: impl FnOnce() + Send + 'static) -> bool {
        let mut q = self.shared.lock();
        if q.stopping || !q.keys.insert(key) {
            return false;
        }
        if q.jobs.len() >= self.shared.capacity {
            if let Some((old, _)) = q.jobs.pop_front() {
                q.keys.remove(&old);
            }
        }
        q.jobs.push_back((key, Box::new(job)));
        drop(q);
        self.shared.wake.notify_one();
        true
    }
}

impl Workers {
    /// Removes the job queued under `key`, if it has not started; true if it
    /// was queued. For a caller about to do the job's work itself.
    pub fn cancel(&self, key: u128) -> bool {
        let mut q = self.shared.lock();
        if !q.keys.remove(&key) {
            return false;
        }
        q.jobs.retain(|(k, _)| *k != key);
        true
    }
}

impl Workers {
    /// Drops the queued jobs and joins the threads (after the jobs they are
    /// running); later submissions are refused. Idempotent.
    pub fn stop(&self) {
        let dropped = {
            let mut q = self.shared.lock();
            q.stopping = true;
            q.keys.clear();
            core::mem::take(&mut q.jobs)
        };
        drop(dropped);
        self.shared.wake.notify_all();
        let threads = core::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        // A job may hold the last reference to what owns these workers, so a
        // stop can run on a worker thread: that one ends by itself once the
        // job returns (joining it would wait for ourselves).
        let me = std::thread::current().id();
        for t in threads {
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Lets queued jobs reach an object through a [`Weak`] without ever holding
/// its last reference. A job that upgraded its `Weak` while the owner let go
/// would drop the object on a worker thread; when the object owns the
/// [`Workers`] (a reader owning its engine), their `stop` cannot join the
/// thread it runs on, which then exits detached, after its owner may have
/// returned (LeakSanitizer saw its thread-local cleanup as a leak).
///
/// The owner keeps a strong reference and calls [`Gate::close`] before
/// dropping it: `close` refuses new passes and waits for the passes out, and
/// a pass gives its reference back before it counts itself out.
#[derive(Default)]
pub struct Gate {
    state: Mutex<GateState>,
    idle: Condvar,
}

#[derive(Default)]
struct GateState {
    closed: bool,
    passes: usize,
}

/// A job's strong reference, taken through a [`Gate`].
pub struct Pass<T> {
    value: Option<Arc<T>>,
    gate: Arc<Gate>,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The object behind `weak`, unless the gate is closed or it is gone.
    pub fn enter<T>(self: &Arc<Self>, weak: &Weak<T>) -> Option<Pass<T>> {
        let mut s = self.lock();
        // Upgraded under the lock: `close` cannot slip between the check and
        // the count, so it waits for this pass.
        let value = if s.closed { None } else { weak.upgrade() }?;
        s.passes += 1;
        Some(Pass { value: Some(value), gate: Arc::clone(self) })
    }

    /// Refuses new passes and waits until every pass given out was dropped.
    /// Idempotent. Must not be called by a pass holder (it would wait for itself).
    pub fn close(&self) {
        let mut s = self.lock();
        s.closed = true;
        while s.passes > 0 {
            s = self.idle.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl<T> core::ops::Deref for Pass<T> {
    type Target = Arc<T>;
    fn deref(&self) -> &Arc<T> {
        self.value.as_ref().expect("a pass holds its value until dropped")
    }
}

impl<T> Drop for Pass<T> {
    fn drop(&mut self) {
        // Not the last reference: the owner holds one until `close` returns,
        // and that waits for the count below.
        drop(self.value.take());
        let mut s = self.gate.lock();
        s.passes -= 1;
        if s.passes == 0 {
            self.gate.idle.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn runs_jobs_and_joins_on_drop() {
        let done = Arc::new(AtomicUsize::new(0));
        let w = Workers::new(2, 64, "test").unwrap();
        for k in 0..10 {
            let done = Arc::clone(&done);
            w.submit(k, move || {
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        // Wait until the queue drained (no timing assumption: poll the counter).
        while done.load(Ordering::SeqCst) < 10 {
            std::thread::yield_now();
        }
        drop(w);
        assert_eq!(done.load(Ordering::SeqCst), 10);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn workers_run_below_the_caller_s_priority() {
        // SAFETY: getpriority takes plain integers (errno is not needed: nice
        // values here are small and non-negative).
        let nice = || unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let caller = nice();
        let seen = Arc::new(std::sync::Mutex::new(None));
        let w = Workers::new(1, 4, "test").unwrap();
        let s = Arc::clone(&seen);
        // SAFETY: sched_getscheduler takes a pid (0: the calling thread).
        let policy = || unsafe { libc::sched_getscheduler(0) };
        let caller_policy = policy();
        w.submit(1, move || *s.lock().unwrap() = Some((nice(), policy())));
        while seen.lock().unwrap().is_none() {
            std::thread::yield_now();
        }
        let (worker, worker_policy) = seen.lock().unwrap().unwrap();
        // A caller already above BACKGROUND_NICE cannot be outdone without privileges.
        assert!(worker >= BACKGROUND_NICE.max(caller), "worker nice {worker}, caller {caller}");
        // Threads under the normal policy move to SCHED_BATCH; others keep theirs.
        let want = if caller_policy == libc::SCHED_OTHER { libc::SCHED_BATCH } else { caller_policy };
        assert_eq!(worker_policy, want, "workers run under SCHED_BATCH");
        assert_eq!((nice(), policy()), (caller, caller_policy), "the caller's priority must not change");
    }

    #[test]
    fn a_key_is_queued_once_and_the_oldest_job_is_dropped_when_full() {
        // No threads: jobs stay queued, so the queue's rules are visible.
        let w = Workers::new(0, 2, "test").unwrap();
        assert!(w.submit(1, || {}));
        assert!(!w.submit(1, || {}));
        assert!(w.submit(2, || {}));
        assert!(w.submit(3, || {}));
        // 1 was dropped to make room, so it can be queued again.
        assert!(w.submit(1, || {}));
        assert!(!w.submit(3, || {}));
        assert!(w.cancel(3) && !w.cancel(3) && !w.cancel(2));
        assert!(w.submit(3, || {}));
    }

    #[test]
    fn a_closing_owner_waits_for_the_passes_and_drops_its_object_itself() {
        use std::sync::mpsc;
        use std::thread::{self, ThreadId};
        struct Tracked(Arc<Mutex<Option<ThreadId>>>);
        impl Drop for Tracked {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = Some(thread::current().id());
            }
        }
        let dropped_on = Arc::new(Mutex::new(None));
        let owner = Arc::new(Tracked(Arc::clone(&dropped_on)));
        let weak = Arc::downgrade(&owner);
        let gate = Arc::new(Gate::default());
        let pass = gate.enter(&weak).expect("open gate, live object");
        let (tx, rx) = mpsc::channel();
        let g = Arc::clone(&gate);
        let closer = thread::spawn(move || {
            g.close();
            drop(owner);
            tx.send(()).unwrap();
            thread::current().id()
        });
        // The pass still holds the object: `close` must not have returned.
        assert!(rx.recv_timeout(std::time::Duration::from_millis(100)).is_err(), "close returned while a pass was out");
        assert!(dropped_on.lock().unwrap().is_none());
        drop(pass);
        let closer = closer.join().unwrap();
        assert_eq!(*dropped_on.lock().unwrap(), Some(closer), "the object is dropped by its owner, not by the pass");
        assert!(gate.enter(&weak).is_none(), "a closed gate gives no passes");
    }
}
