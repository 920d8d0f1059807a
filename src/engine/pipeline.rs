//! The ordered pipeline: the caller's thread reads jobs in order, workers code
//! them in parallel, and the caller's thread hands the results on in the same
//! order (the ordered writer). A [`Window`] bounds what is in flight at any
//! time (jobs, and their bytes), so memory is bounded by the window, never by
//! the size of the stream.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver};
use std::sync::Mutex;

/// How many jobs a pipeline keeps in flight for `workers` worker threads: two
/// per worker (one being coded, one waiting) plus one being written.
pub fn window_for(workers: usize) -> usize {
    2 * workers.max(1) + 1
}

/// A limit on what a pipeline keeps in flight: at most `jobs` jobs, and
/// beyond the first job at most `bytes` of their weight (a job's weight is the
/// memory it will hold, e.g. its chunk's size).
///
/// Jobs lighter than `small` do not count toward `jobs` (only toward
/// [`SMALL_JOBS`] times as many of any kind): a run of tiny jobs (tiny tensors,
/// each its own frame) then keeps the workers going without a thread wake-up
/// per job, while large ones stay as few as `jobs` says.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub jobs: usize,
    pub bytes: u64,
    pub small: u64,
}

/// See [`Window`].
pub const SMALL_JOBS: usize = 16;

/// The `small` of the coding pipelines' windows: the weight of a job of a
/// 32 KiB chunk (its bytes and its result), a tiny tensor's.
pub const SMALL_WEIGHT: u64 = 64 << 10;

impl Window {
    /// The most jobs in flight at once.
    fn most(&self) -> usize {
        if self.small == 0 {
            self.jobs
        } else {
            self.jobs.saturating_mul(SMALL_JOBS)
        }
    }
}

impl From<usize> for Window {
    fn from(jobs: usize) -> Window {
        Window { jobs, bytes: u64::MAX, small: 0 }
    }
}

/// Something with a memory weight for [`Window`].
pub trait Weighed {
    fn weight(&self) -> u64 {
        0
    }
}

impl Weighed for usize {}
impl<T> Weighed for Vec<T> {
    fn weight(&self) -> u64 {
        (self.len() * std::mem::size_of::<T>()) as u64
    }
}

/// Runs `produce` (on the caller's thread, in order) until it returns `None`;
/// each job goes through `work` on one of `workers` threads, with per-thread
/// state from `init`; `consume` (on the caller's thread) receives the results in
/// job order. With `workers == 0` everything runs on the caller's thread, one
/// job at a time. The first error in job order stops the pipeline: no later
/// result is consumed, and the workers are joined before it is returned.
pub fn run<I: Send + Weighed, O: Send, S>(
    workers: usize,
    window: impl Into<Window>,
    mut produce: impl FnMut() -> Result<Option<I>>,
    init: impl Fn() -> S + Sync,
    work: impl Fn(I, &mut S) -> Result<O> + Sync,
    mut consume: impl FnMut(O) -> Result<()>,
) -> Result<()> {
    let window: Window = window.into();
    if workers == 0 {
        let mut state = init();
        while let Some(job) = produce()? {
            consume(work(job, &mut state)?)?;
        }
        return Ok(());
    }
    let window = Window { jobs: window.jobs.max(1), ..window };
    let workers = workers.min(crate::format::limits::MAX_THREADS as usize);
    // Room for every job the window lets out, so the caller never waits to send one.
    let (job_tx, job_rx) = sync_channel::<(usize, I)>(window.most());
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = channel::<(usize, Result<O>)>();
    std::thread::scope(|scope| {
        let mut refused = None;
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
                let done_tx = done_tx.clone();
                let (job_rx, init, work) = (&job_rx, &init, &work);
                let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                    let mut state = init();
                    loop {
                        let job = job_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((i, job)) = job else { break };
                        // A panicking job becomes an error in its place, so the
                        // ordered writer never waits for a result that cannot come.
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(job, &mut state)))
                            .unwrap_or(Err(Error::Panic));
                        if done_tx.send((i, r)).is_err() {
                            break;
                        }
                    }
                });
                match spawned {
                    Ok(h) => handles.push(h),
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
        }
        drop(done_tx);
        // A thread the system refused fails the call (its errno kept), after
        // the workers already started are stopped and joined: never a panic.
        let result = match &refused {
            // One worker only overlaps work with the caller's reading and
            // writing: without it, the caller's thread does everything.
            Some(_) if workers == 1 => {
                let mut state = init();
                (|| {
                    while let Some(job) = produce()? {
                        consume(work(job, &mut state)?)?;
                    }
                    Ok(())
                })()
            }
            Some(e) => {
                crate::error::record_os_error(e);
                Err(Error::Allocation)
            }
            None => drive(window, &mut produce, &job_tx, &done_rx, &mut consume),
        };
        drop(job_tx);
        // Results still arriving are dropped with the receiver.
        drop(done_rx);
        for h in handles {
            if let Err(panic) = h.join() {
                std::panic::resume_unwind(panic);
            }
        }
        result
    })
}

/// The caller's side of [`run`]: keeps the window full and writes in order.
fn drive<I: Weighed, O>(
    window: Window,
    produce: &mut impl FnMut() -> Result<Option<I>>,
    jobs: &std::sync::mpsc::SyncSender<(usize, I)>,
    done: &Receiver<(usize, Result<O>)>,
    consume: &mut impl FnMut(O) -> Result<()>,
) -> Result<()> {
    let (mut sent, mut written, mut exhausted) = (0usize, 0usize, false);
    let mut pending: BTreeMap<usize, Result<O>> = BTreeMap::new();
    let mut weights = std::collections::VecDeque::new();
    let (mut in_flight, mut large) = (0u64, 0usize);
    let is_large = |w: u64| w >= window.small;
    loop {
        while !exhausted && large < window.jobs && sent - written < window.most() && (sent == written || in_flight < window.bytes) {
            match produce()? {
                Some(job) => {
                    let w = job.weight();
                    in_flight += w;
                    large += usize::from(is_large(w));
                    weights.push_back(w);
                    jobs.send((sent, job)).map_err(|_| Error::Panic)?;
                    sent += 1;
                }
                None => exhausted = true,
            }
        }
        if written == sent {
            return Ok(());
        }
        let (i, r) = done.recv().map_err(|_| Error::Panic)?;
        pending.insert(i, r);
        while let Some(r) = pending.remove(&written) {
            consume(r?)?;
            written += 1;
            let w = weights.pop_front().unwrap_or(0);
            in_flight -= w;
            large -= usize::from(is_large(w));
        }
    }
}

/// A stack of reusable buffers, so a long stream allocates (and page-faults)
/// only a window's worth of them.
#[derive(Default)]
pub struct Buffers(Mutex<Vec<Vec<u8>>>);

impl Buffers {
    /// A buffer of exactly `len` bytes (contents unspecified: callers
    /// overwrite). A reused buffer is only zeroed where it grows.
    pub fn take(&self, len: usize) -> Vec<u8> {
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_default();
        if b.len() >= len {
            b.truncate(len);
        } else {
            b.resize(len, 0);
        }
        b
    }

    /// An empty buffer (capacity kept), for callers that append.
    pub fn take_empty(&self) -> Vec<u8> {
        let mut b = self.take(0);
        b.clear();
        b
    }

    pub fn give(&self, b: Vec<u8>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(b);
    }
}

/// A buffer of a given length ([`Slabs`], the chunk cache): a view of the first
/// `len` bytes of an allocation that stays whole (and initialised), so that
/// reuse at another length never zero-fills or page-faults again.
pub struct Slab {
    pub(super) buf: Vec<u8>,
    pub(super) len: usize,
}

impl Weighed for Slab {
    /// The whole allocation: that is what a slab holds while in flight.
    fn weight(&self) -> u64 {
        self.buf.len() as u64
    }
}

impl std::ops::Deref for Slab {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::ops::DerefMut for Slab {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }
}

/// Buffers for chunks of at least this size are allocated in multiples of it,
/// so that one fits the next chunk of about the same size: chunk sizes are
/// multiples of the element size, which differs between tensor types (1048560
/// bytes for Q8_0, 1048564 for Q5_0), and a buffer a few bytes too short would
/// be freed and a fresh one faulted in for every chunk of a model.
const BUFFER_GRANULE: usize = 64 << 10;

/// The allocation for a buffer of `len` bytes (see [`BUFFER_GRANULE`]).
pub(super) fn buffer_size(len: usize) -> Result<usize> {
    if len < BUFFER_GRANULE {
        Ok(len)
    } else {
        len.checked_next_multiple_of(BUFFER_GRANULE).ok_or(Error::SizeOverflow)
    }
}

/// Reusable exact-length buffers (decoded chunks).
/// Unlike [`Buffers`], a buffer handed out shorter than its allocation keeps
/// the rest: a stream that mixes tiny chunks (norm vectors) with 1 MiB ones
/// zero-filled a megabyte each time a tiny chunk's buffer came back to a large
/// chunk (4 % of `llmc decompress -T 2`'s CPU on gemma, with the page faults).
#[derive(Default)]
pub struct Slabs(Mutex<Vec<Vec<u8>>>);

impl Slabs {
    /// A slab of exactly `len` bytes (contents unspecified: callers overwrite).
    /// The best fit among the free ones: the smallest that holds `len`.
    pub fn take(&self, len: usize) -> Result<Slab> {
        // None fits: the largest free one is replaced by a new allocation, so
        // there are never more slabs than were ever taken at once.
        let buf = match self.pick(len).filter(|b| b.len() >= len) {
            Some(b) => b,
            None => super::frames::zeroed_output(buffer_size(len)?)?,
        };
        Ok(Slab { buf, len })
    }

    /// A slab for `len` bytes still to be read, with length 0 and nothing
    /// allocated yet: the free one [`Slabs::take`] would pick (the reader grows
    /// it, [`crate::engine::input::Input::read_slab`]).
    pub fn take_unfilled(&self, len: usize) -> Slab {
        Slab { buf: self.pick(len).unwrap_or_default(), len: 0 }
    }

    /// Removes and returns the best fit for `len` among the free slabs (the
    /// smallest that holds it), else the largest.
    fn pick(&self, len: usize) -> Option<Vec<u8>> {
        let mut free = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let fit = free.iter().enumerate().filter(|(_, b)| b.len() >= len).min_by_key(|(_, b)| b.len()).map(|(i, _)| i);
        let i = fit.or_else(|| free.iter().enumerate().max_by_key(|(_, b)| b.len()).map(|(i, _)| i))?;
        Some(free.swap_remove(i))
    }

    pub fn give(&self, s: Slab) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(s.buf);
    }
}

impl Slab {
    /// Grows the allocation to hold at least `len` bytes (in [`buffer_size`]
    /// steps; only the new bytes are zeroed), keeping its contents.
    pub(super) fn grow(&mut self, len: usize) -> Result<()> {
        if self.buf.len() >= len {
            return Ok(());
        }
        let size = buffer_size(len)?;
        self.buf.try_reserve_exact(size - self.buf.len()).map_err(|_| Error::Allocation)?;
        self.buf.resize(size, 0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(workers: usize, n: usize, fail_at: Option<usize>) -> Result<Vec<usize>> {
        let mut next = 0;
        let mut out = Vec::new();
        run(
            workers,
            window_for(workers),
            || {
                next += 1;
                Ok((next <= n).then_some(next - 1))
            },
            || (),
            |i, _| if Some(i) == fail_at { Err(Error::Corrupt) } else { Ok(i * 3) },
            |v| {
                out.push(v);
                Ok(())
            },
        )?;
        Ok(out)
    }

    #[test]
    fn results_come_in_order_for_any_worker_count() {
        for workers in [0, 1, 2, 5] {
            let want: Vec<usize> = (0..1000).map(|i| i * 3).collect();
            assert_eq!(collect(workers, 1000, None).unwrap(), want, "{workers} workers");
        }
    }

    #[test]
    fn small_jobs_do_not_count_toward_the_window() {
        // Jobs of weight 1 (small) among jobs of weight 100 (large): at most
        // `jobs` large ones and `jobs * SMALL_JOBS` in all are out at once,
        // and results still come in order.
        use std::sync::atomic::{AtomicUsize, Ordering};
        let window = Window { jobs: 2, bytes: u64::MAX, small: 10 };
        for workers in [1, 3] {
            let (out_large, out_all, most_large, most_all) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
            let (mut next, mut got) = (0usize, Vec::new());
            let r = run(
                workers,
                window,
                || {
                    if next == 2000 {
                        return Ok(None);
                    }
                    let large = next % 50 == 0;
                    let large_now = out_large.fetch_add(usize::from(large), Ordering::SeqCst) + usize::from(large);
                    let all_now = out_all.fetch_add(1, Ordering::SeqCst) + 1;
                    most_large.fetch_max(large_now, Ordering::SeqCst);
                    most_all.fetch_max(all_now, Ordering::SeqCst);
                    next += 1;
                    Ok(Some(if large { vec![next as u8; 100] } else { vec![next as u8; 1] }))
                },
                || (),
                |job: Vec<u8>, _| Ok(job),
                |job| {
                    out_large.fetch_sub(usize::from(job.len() == 100), Ordering::SeqCst);
                    out_all.fetch_sub(1, Ordering::SeqCst);
                    got.push(job[0]);
                    Ok(())
                },
            );
            assert_eq!(r, Ok(()));
            assert!(got.iter().enumerate().all(|(i, &b)| b == (i + 1) as u8), "in order");
            assert!(most_large.load(Ordering::SeqCst) <= 2 && most_all.load(Ordering::SeqCst) <= 2 * SMALL_JOBS, "workers {workers}");
            assert!(most_all.load(Ordering::SeqCst) > 2, "small jobs went out beyond the large limit");
        }
    }

    #[test]
    fn the_first_error_stops_the_stream() {
        for workers in [0, 1, 3] {
            assert_eq!(collect(workers, 100, Some(40)), Err(Error::Corrupt));
        }
    }

    #[test]
    fn slabs_are_reused_at_any_length_without_losing_their_size() {
        let slabs = Slabs::default();
        let mut big = slabs.take(1000).unwrap();
        big.fill(7);
        let small = slabs.take(10).unwrap();
        slabs.give(big);
        slabs.give(small);
        // The small request takes the small slab; the large one is reused whole.
        let a = slabs.take(8).unwrap();
        assert_eq!((a.len(), a.buf.len()), (8, 10));
        let b = slabs.take(1000).unwrap();
        assert_eq!(b.len(), 1000);
        assert!(b.iter().all(|&x| x == 7), "the same allocation, not a new one");
        // Nothing free fits: a new one, zeroed, in place of the largest free one.
        slabs.give(a);
        let c = slabs.take(2000).unwrap();
        assert!(c.len() == 2000 && c.iter().all(|&x| x == 0));
        assert_eq!(slabs.0.lock().unwrap().len(), 0);
        // Chunk-sized slabs come in 64 KiB steps: a Q8_0 chunk's slab holds a Q5_0 chunk.
        let q8 = slabs.take(1_048_560).unwrap();
        assert_eq!(q8.buf.len(), 1 << 20);
        slabs.give(q8);
        assert_eq!(slabs.take(1_048_564).unwrap().buf.len(), 1 << 20);
    }

    #[test]
    fn a_panicking_job_is_an_error() {
        let mut n = 0;
        let r = run(2, 5usize, || {
            n += 1;
            Ok((n <= 10).then_some(n))
        }, || (), |i, _| if i == 4 { panic!("job") } else { Ok(i) }, |_| Ok(()));
        assert_eq!(r, Err(Error::Panic));
    }
}
