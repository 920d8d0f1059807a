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
/// than [`QUEUE`] chunks). The hash runs several times faster than the coding,
/// so the queue only absorbs jitter; it bounds what the hasher keeps alive past
/// the pipeline's window (the chunk it hashes, and these).
const QUEUE_BYTES: u64 = 16 << 20;
const QUEUE: u64 = 4;

pub struct OriginalHash(Hasher);

enum Hasher {
    Inline(Sha256),
    /// The hasher thread's queue and handle; [`OriginalHash::finish`] or, on an
    /// error path, `drop` takes them and joins the thread (no library thread
    /// runs on after the call returns).
    Thread(Option<(SyncSender<Arc<Slab>>, JoinHandle<Sha256>)>),
}

impl OriginalHash {
    /// On a thread of its own if `threaded` (inline if the system refuses one),
    /// which gives each chunk it was the last to hold back to `pool`. Chunks
    /// are at most `largest` bytes.
    pub fn new(threaded: bool, pool: &Arc<Slabs>, largest: u64) -> OriginalHash {
        if threaded {
            // A queue of zero is a hand-over: the reader waits for the hasher.
            let (tx, rx) = sync_channel::<Arc<Slab>>((QUEUE_BYTES / largest.max(1)).min(QUEUE) as usize);
            let pool = Arc::clone(pool);
            let spawned = std::thread::Builder::new().name("llmc-sha256".into()).spawn(move || {
                let mut sha = Sha256::new();
                for chunk in rx {
                    sha.update(&chunk[..]);
                    // A fresh buffer in its place would be zero-filled and faulted in.
                    if let Some(chunk) = Arc::into_inner(chunk) {
                        pool.give(chunk);
                    }
                }
                sha
            });
            if let Ok(handle) = spawned {
                return OriginalHash(Hasher::Thread(Some((tx, handle))));
            }
        }
        OriginalHash(Hasher::Inline(Sha256::new()))
    }

    /// Hashes the next chunk of the original (in order).
    pub fn update(&mut self, chunk: &Arc<Slab>) -> Result<()> {
        match &mut self.0 {
            Hasher::Inline(sha) => sha.update(&chunk[..]),
            // The hasher only stops when the sender is dropped.
            Hasher::Thread(Some((tx, _))) => tx.send(Arc::clone(chunk)).map_err(|_| Error::Panic)?,
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

/// Ends the hasher thread (its queue closed) and returns its hash, `None` if it
/// panicked (or was ended before).
fn join(thread: &mut Option<(SyncSender<Arc<Slab>>, JoinHandle<Sha256>)>) -> Option<Sha256> {
    let (tx, handle) = thread.take()?;
    drop(tx);
    handle.join().ok()
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
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let expected: [u8; 32] = Sha256::digest(&data).into();
        for threaded in [false, true] {
            let mut h = OriginalHash::new(threaded, &slabs, 100_000);
            let mut at = 0;
            for len in [0usize, 1, 4095, 65_536, 100_000] {
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
        // joined, and large chunks get a hand-over instead of a queue.
        let mut h = OriginalHash::new(true, &slabs, 64 << 20);
        for _ in 0..3 {
            h.update(&Arc::new(slabs.take(1000).unwrap())).unwrap();
        }
        drop(h);
    }
}
