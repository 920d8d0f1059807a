//! The SHA-256 of the original that a container's trailer records, computed
//! beside the pipeline. It is one sequential chain (gemma's 253 MB take 0.15 s of
//! one core with the SHA extensions), so on the thread that reads and writes it
//! held every worker back; with workers it runs on a thread of its own, which
//! shares the chunks' buffers (no copy) and hands each back to the pool when it
//! is the last to hold it. Without workers (a library call on one thread) it
//! runs inline.

use crate::engine::pipeline::{Slab, Slabs};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Bytes of chunks handed over and not yet hashed, at most (and never more
/// than [`QUEUE`] hand-overs, never fewer than one: with chunks larger than
/// this, one waiting chunk beside the one being hashed). The hash runs several
/// times faster than the coding, so the queue only absorbs jitter; it bounds
/// what the hasher keeps alive past the pipeline's window (the chunks it
/// hashes, and these).
const QUEUE_BYTES: u64 = 16 << 20;
const QUEUE: u64 = 4;
/// Small chunks (tiny tensors) are handed over together, this many bytes or
/// [`BATCH_CHUNKS`] chunks at a time: one hand-over each cost a thread wake-up
/// per tensor (a file of 200,000 tiny tensors spent more time in the kernel
/// than coding).
const BATCH_BYTES: u64 = 1 << 20;
const BATCH_CHUNKS: usize = 256;

pub struct OriginalHash(Hasher);

type Batch = Vec<Arc<Slab>>;

/// The hasher thread's side: its queue, its handle, and the batch being filled.
struct Thread {
    tx: SyncSender<Batch>,
    handle: JoinHandle<Sha256>,
    batch: Batch,
    batch_bytes: u64,
}

enum Hasher {
    Inline(Sha256),
    /// The hasher thread's queue and handle; [`OriginalHash::finish`] or, on an
    /// error path, `drop` takes them and joins the thread (no library thread
    /// runs on after the call returns).
    Thread(Option<Thread>),
}

impl OriginalHash {
    /// On a thread of its own if `threaded` (inline if the system refuses one),
    /// which gives each chunk it was the last to hold back to `pool`. Chunks
    /// are at most `largest` bytes.
    pub fn new(threaded: bool, pool: &Arc<Slabs>, largest: u64) -> OriginalHash {
        if threaded {
            let (tx, rx) = sync_channel::<Batch>((QUEUE_BYTES / largest.max(BATCH_BYTES)).clamp(1, QUEUE) as usize);
            let pool = Arc::clone(pool);
            let spawned = std::thread::Builder::new().name("llmc-sha256".into()).spawn(move || {
                let mut sha = Sha256::new();
                for batch in rx {
                    for chunk in batch {
                        sha.update(&chunk[..]);
                        // A fresh buffer in its place would be zero-filled and faulted in.
                        if let Some(chunk) = Arc::into_inner(chunk) {
                            pool.give(chunk);
                        }
                    }
                }
                sha
            });
            if let Ok(handle) = spawned {
                return OriginalHash(Hasher::Thread(Some(Thread { tx, handle, batch: Vec::new(), batch_bytes: 0 })));
            }
        }
        OriginalHash(Hasher::Inline(Sha256::new()))
    }

    /// Hashes the next chunk of the original (in order).
    pub fn update(&mut self, chunk: &Arc<Slab>) -> Result<()> {
        match &mut self.0 {
            Hasher::Inline(sha) => sha.update(&chunk[..]),
            Hasher::Thread(Some(t)) => {
                t.batch.push(Arc::clone(chunk));
                t.batch_bytes += chunk.len() as u64;
                if t.batch_bytes >= BATCH_BYTES || t.batch.len() >= BATCH_CHUNKS {
                    t.send()?;
                }
            }
            Hasher::Thread(None) => unreachable!("taken only by finish and drop"),
        }
        Ok(())
    }

    /// The digest of everything hashed, then `rest`.
    pub fn finish(mut self, rest: &[u8]) -> Result<[u8; 32]> {
        // Moved out: `drop` then finds nothing left to join.
        let mut sha = match std::mem::replace(&mut self.0, Hasher::Thread(None)) {
            Hasher::Inline(sha) => sha,
            Hasher::Thread(mut thread) => join(&mut thread).ok_or(Error::Panic)?,
        };
        sha.update(rest);
        Ok(sha.finalize().into())
    }
}

impl Thread {
    /// Hands the batch over (the hasher only stops when the sender is dropped).
    fn send(&mut self) -> Result<()> {
        self.batch_bytes = 0;
        self.tx.send(std::mem::take(&mut self.batch)).map_err(|_| Error::Panic)
    }
}

/// Ends the hasher thread (the last batch handed over, its queue closed) and
/// returns its hash, `None` if it panicked (or was ended before).
fn join(thread: &mut Option<Thread>) -> Option<Sha256> {
    let mut t = thread.take()?;
    let sent = t.batch.is_empty() || t.send().is_ok();
    drop(t.tx);
    let sha = t.handle.join().ok();
    sha.filter(|_| sent)
}

impl Drop for OriginalHash {
    fn drop(&mut self) {
        if let Hasher::Thread(thread) = &mut self.0 {
            join(thread);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threaded_and_inline_hash_alike() {
        let slabs = Arc::new(Slabs::default());
        let data: Vec<u8> = (0..4_000_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let expected: [u8; 32] = Sha256::digest(&data).into();
        // Small chunks, a batch ended by its count (300 tiny ones), one ended
        // by its bytes (a chunk past BATCH_BYTES), and what is left at the end.
        let lens = [0usize, 1, 4095, 65_536, 100_000].into_iter().chain([100; 300]).chain([1_500_000, 7, 900_000]);
        for threaded in [false, true] {
            let mut h = OriginalHash::new(threaded, &slabs, 1_500_000);
            let mut at = 0;
            for len in lens.clone() {
                let mut s = slabs.take(len).unwrap();
                s.copy_from_slice(&data[at..at + len]);
                let s = Arc::new(s);
                h.update(&s).unwrap();
                // The caller may finish with its chunk before the hasher does.
                if let Some(s) = Arc::into_inner(s) {
                    slabs.give(s);
                }
                at += len;
            }
            assert_eq!(h.finish(&data[at..]).unwrap(), expected, "threaded {threaded}");
        }
        // Dropped unfinished (an error path), with chunks queued: the thread is
        // joined (large chunks get a queue of one).
        let mut h = OriginalHash::new(true, &slabs, 64 << 20);
        for _ in 0..3 {
            h.update(&Arc::new(slabs.take(1000).unwrap())).unwrap();
        }
        drop(h);
    }
}
