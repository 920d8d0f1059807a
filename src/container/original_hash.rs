//! The SHA-256 of the original that a container's trailer records, computed
//! beside the pipeline. Hashing gemma's 253 MB takes 0.15 s of one core (with
//! the SHA extensions), two fifths of what the thread that reads and writes
//! does, and that thread bounds how fast a many-core compress can go; so with
//! workers the hash runs on a thread of its own, which shares the chunks'
//! buffers (no copy) and hands each back to the pool when it is the last to
//! hold it. Without workers (a library call on one thread) it runs inline.

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

pub struct OriginalHash {
    inline: Option<Sha256>,
    /// The hasher thread's queue and handle (taken by [`OriginalHash::finish`]
    /// or, on an error path, by `drop`, which joins it: no library thread runs
    /// on after the call returns).
    thread: Option<(SyncSender<Arc<Slab>>, JoinHandle<Sha256>)>,
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
                return OriginalHash { inline: None, thread: Some((tx, handle)) };
            }
        }
        OriginalHash { inline: Some(Sha256::new()), thread: None }
    }

    /// Hashes the next chunk of the original (in order).
    pub fn update(&mut self, chunk: &Arc<Slab>) -> Result<()> {
        if let Some(sha) = &mut self.inline {
            sha.update(&chunk[..]);
        } else if let Some((tx, _)) = &self.thread {
            // The hasher only stops when the sender is dropped.
            tx.send(Arc::clone(chunk)).map_err(|_| Error::Panic)?;
        }
        Ok(())
    }

    /// The digest of everything hashed, then `rest`.
    pub fn finish(mut self, rest: &[u8]) -> Result<[u8; 32]> {
        let mut sha = match (self.inline.take(), self.thread.take()) {
            (Some(sha), _) => sha,
            (None, Some((tx, handle))) => {
                drop(tx);
                handle.join().map_err(|_| Error::Panic)?
            }
            (None, None) => unreachable!("one of the two until finished"),
        };
        sha.update(rest);
        Ok(sha.finalize().into())
    }
}

impl Drop for OriginalHash {
    fn drop(&mut self) {
        if let Some((tx, handle)) = self.thread.take() {
            drop(tx);
            let _ = handle.join();
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
