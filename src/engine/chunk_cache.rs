//! A bounded cache of decoded chunks, shared by every reader of a process.
//!
//! Entries are decoded chunk contents keyed by `(source, chunk)`; the cache holds
//! at most `budget` bytes of them and evicts the least recently used. A chunk is
//! decoded once even when several threads want it at the same time: the first
//! claims it and the others wait for its result (single flight). Buffers of
//! evicted chunks are kept for the next decode, so a long sequential read does
//! not churn the allocator (glibc keeps freed 1 MiB blocks in per-thread arenas,
//! which would grow the resident set beyond the budget).

use crate::error::Result;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Which chunk: a source id (one per open container) and a chunk number in it.
pub type ChunkKey = (u64, u64);

/// Decoded bytes, shared with readers that are still copying from them.
pub type ChunkData = Arc<Decoded>;

/// A decoded chunk in a buffer that may be longer (buffers are reused whole).
pub type Decoded = super::pipeline::Slab;

/// Bytes of buffers kept for reuse beyond the cached entries (and never more
/// than the cache's budget). A sequential reader's read-ahead takes a dozen
/// buffers at once where a layer's small tensors begin; with 4 kept, a third
/// of the chunks of a read of gemma went to fresh buffers (7 % of `llmc
/// mount -T 2`'s CPU in page faults and unmaps).
const SPARE_BYTES: usize = 32 << 20;
/// Buffers kept for reuse, at most (small chunks' buffers are small).
const SPARE_BUFFERS: usize = 64;

pub struct ChunkCache {
    budget: usize,
    state: Mutex<State>,
    /// Signalled whenever a claimed chunk is finished (decoded or failed).
    finished: Condvar,
}

#[derive(Default)]
struct State {
    entries: HashMap<ChunkKey, (ChunkData, u64)>,
    /// Last-use tick -> key, oldest first.
    by_age: BTreeMap<u64, ChunkKey>,
    tick: u64,
    bytes: usize,
    /// Chunks some thread is decoding right now.
    claimed: HashSet<ChunkKey>,
    spare: Vec<Vec<u8>>,
}

impl State {
    fn touch(&mut self, key: ChunkKey) -> Option<ChunkData> {
        self.tick += 1;
        let tick = self.tick;
        let (data, age) = self.entries.get_mut(&key)?;
        self.by_age.remove(age);
        *age = tick;
        self.by_age.insert(tick, key);
        Some(Arc::clone(data))
    }

    fn insert(&mut self, key: ChunkKey, data: ChunkData, budget: usize) {
        let len = data.buf.len();
        if len > budget || self.entries.contains_key(&key) {
            return;
        }
        while self.bytes + len > budget {
            let Some((_, old)) = self.by_age.pop_first() else { break };
            if let Some((evicted, _)) = self.entries.remove(&old) {
                self.bytes -= evicted.buf.len();
                self.keep_spare(evicted, budget);
            }
        }
        self.tick += 1;
        self.by_age.insert(self.tick, key);
        self.entries.insert(key, (data, self.tick));
        self.bytes += len;
    }

    /// Keeps an evicted buffer for reuse unless a reader still holds it.
    fn keep_spare(&mut self, data: ChunkData, budget: usize) {
        if let Ok(d) = Arc::try_unwrap(data) {
            self.recycle(d.buf, budget);
        }
    }

    fn recycle(&mut self, buf: Vec<u8>, budget: usize) {
        let kept: usize = self.spare.iter().map(Vec::len).sum();
        if self.spare.len() < SPARE_BUFFERS && !buf.is_empty() && kept + buf.len() <= SPARE_BYTES.min(budget) {
            self.spare.push(buf);
        }
    }
}

/// What `claim` found.
pub enum Claim<'a> {
    /// The chunk was cached.
    Hit(ChunkData),
    /// The caller now decodes it (and must finish the claim).
    Mine(Claimed<'a>),
    /// Another thread is decoding it and the caller chose not to wait.
    Busy,
}

/// The right to decode one chunk. Dropping it without `finish` (an error or a
/// panic) releases the chunk, so waiting threads try it themselves.
pub struct Claimed<'a> {
    cache: &'a ChunkCache,
    key: ChunkKey,
    /// A buffer to decode into (recycled when one is spare).
    buffer: Vec<u8>,
}

impl Claimed<'_> {
    /// Decodes the chunk (`len` bytes) with `decode`, then publishes it (cached
    /// if it fits the budget). A recycled buffer is not cleared first: a
    /// successful decode writes every byte, a failed one is discarded. A new
    /// one comes zeroed from the allocator (calloc: fresh pages, no memset).
    pub fn decode(mut self, len: usize, decode: impl FnOnce(&mut [u8]) -> Result<()>) -> Result<ChunkData> {
        if self.buffer.is_empty() {
            self.buffer = super::frames::zeroed_output(super::pipeline::buffer_size(len)?)?;
        } else if self.buffer.len() < len {
            let size = super::pipeline::buffer_size(len)?;
            self.buffer.try_reserve_exact(size - self.buffer.len()).map_err(|_| crate::error::Error::Allocation)?;
            self.buffer.resize(size, 0);
        }
        decode(&mut self.buffer[..len])?;
        let data = Arc::new(Decoded { buf: core::mem::take(&mut self.buffer), len });
        let mut st = self.cache.lock();
        st.insert(self.key, Arc::clone(&data), self.cache.budget);
        Ok(data)
    }
}

impl Drop for Claimed<'_> {
    fn drop(&mut self) {
        let mut st = self.cache.lock();
        st.claimed.remove(&self.key);
        st.recycle(core::mem::take(&mut self.buffer), self.cache.budget);
        drop(st);
        self.cache.finished.notify_all();
    }
}

/// Budget of a container handle's own cache (partial reads, e.g. a parser
/// reading a GGUF header field by field through the reader callback).
pub const HANDLE_CACHE_BYTES: usize = 16 << 20;

impl Default for ChunkCache {
    fn default() -> Self {
        ChunkCache::new(HANDLE_CACHE_BYTES)
    }
}

/// A copy starts empty (a cache is a memo, not state).
impl Clone for ChunkCache {
    fn clone(&self) -> Self {
        ChunkCache::new(self.budget)
    }
}

impl std::fmt::Debug for ChunkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChunkCache {{ budget: {}, cached: {} }}", self.budget, self.cached_bytes())
    }
}

impl ChunkCache {
    /// A cache holding at most `budget` bytes of decoded chunks (0: none are kept).
    pub fn new(budget: usize) -> ChunkCache {
        ChunkCache { budget, state: Mutex::default(), finished: Condvar::new() }
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes of decoded chunks held now.
    pub fn cached_bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (every update is completed
        // before anything that can panic), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the chunk from the cache (a sequential reader is done with it),
    /// keeping its buffer for the next decode.
    pub fn discard(&self, key: ChunkKey) {
        let mut st = self.lock();
        if let Some((data, age)) = st.entries.remove(&key) {
            st.by_age.remove(&age);
            st.bytes -= data.buf.len();
            st.keep_spare(data, self.budget);
        }
    }

    /// Is the chunk cached or being decoded?
    pub fn is_present(&self, key: ChunkKey) -> bool {
        let st = self.lock();
        st.entries.contains_key(&key) || st.claimed.contains(&key)
    }

    /// Looks the chunk up; if it is missing, the caller claims it. If another
    /// thread is decoding it, waits for that result when `wait`, else `Busy`.
    pub fn claim(&self, key: ChunkKey, len: usize, wait: bool) -> Claim<'_> {
        let mut st = self.lock();
        loop {
            if let Some(hit) = st.touch(key) {
                return Claim::Hit(hit);
            }
            if !st.claimed.contains(&key) {
                break;
            }
            if !wait {
                return Claim::Busy;
            }
            st = self.finished.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        st.claimed.insert(key);
        // The smallest spare buffer that fits: a file mixes chunks of about
        // 1 MiB and 4 MiB, and a large buffer spent on a small chunk would leave
        // the next large chunk to a fresh allocation. None fits: the largest,
        // grown, if it holds at least half (its pages stay and only the tail is
        // new; growing a small one would zero-fill more than a fresh calloc
        // costs). Otherwise a new one.
        let fits = (0..st.spare.len()).filter(|&i| st.spare[i].len() >= len).min_by_key(|&i| st.spare[i].len());
        let largest = || (0..st.spare.len()).max_by_key(|&i| st.spare[i].len()).filter(|&i| st.spare[i].len() >= len / 2);
        let best = fits.or_else(largest);
        let buffer = best.map(|i| st.spare.swap_remove(i)).unwrap_or_default();
        Claim::Mine(Claimed { cache: self, key, buffer })
    }

    /// The cached chunk, or the result of `decode` (which fills a buffer of
    /// exactly the chunk's length), decoding each chunk once across threads.
    pub fn get_or_decode(&self, key: ChunkKey, len: usize, decode: impl FnOnce(&mut [u8]) -> Result<()>) -> Result<ChunkData> {
        match self.claim(key, len, true) {
            Claim::Hit(data) => Ok(data),
            Claim::Mine(claimed) => claimed.decode(len, decode),
            Claim::Busy => unreachable!("claim waits when asked to"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn decode_as(v: u8) -> impl FnOnce(&mut [u8]) -> Result<()> {
        move |out| {
            out.fill(v);
            Ok(())
        }
    }

    #[test]
    fn keeps_at_most_the_budget_and_evicts_the_oldest() {
        let cache = ChunkCache::new(3 * 10);
        for i in 0..3 {
            cache.get_or_decode((0, i), 10, decode_as(i as u8)).unwrap();
        }
        // Touch chunk 0 so that chunk 1 is the oldest.
        assert_eq!(cache.get_or_decode((0, 0), 10, |_| panic!("cached")).unwrap()[0], 0);
        cache.get_or_decode((0, 3), 10, decode_as(3)).unwrap();
        assert_eq!(cache.cached_bytes(), 30);
        assert!(cache.is_present((0, 0)) && !cache.is_present((0, 1)) && cache.is_present((0, 3)));
    }

    #[test]
    fn a_chunk_larger_than_the_budget_is_returned_but_not_kept() {
        let cache = ChunkCache::new(5);
        let data = cache.get_or_decode((1, 0), 10, decode_as(7)).unwrap();
        assert_eq!(&data[..], &[7; 10]);
        assert_eq!(cache.cached_bytes(), 0);
        assert!(!cache.is_present((1, 0)));
    }

    #[test]
    fn a_failed_decode_is_not_cached_and_releases_its_claim() {
        let cache = ChunkCache::new(100);
        let r = cache.get_or_decode((0, 0), 10, |_| Err(Error::ChecksumMismatch));
        assert!(matches!(r, Err(Error::ChecksumMismatch)));
        assert!(!cache.is_present((0, 0)));
        assert_eq!(&cache.get_or_decode((0, 0), 10, decode_as(1)).unwrap()[..], &[1; 10]);
    }

    #[test]
    fn concurrent_requests_decode_once() {
        let cache = ChunkCache::new(100);
        let decodes = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let d = cache
                        .get_or_decode((0, 9), 10, |out| {
                            decodes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            out.fill(9);
                            Ok(())
                        })
                        .unwrap();
                    assert_eq!(&d[..], &[9; 10]);
                });
            }
        });
        assert_eq!(decodes.into_inner(), 1);
    }

    #[test]
    fn a_discarded_chunk_is_decoded_again_into_its_old_buffer() {
        let cache = ChunkCache::new(100);
        let first = cache.get_or_decode((0, 0), 10, decode_as(1)).unwrap();
        let ptr = first.as_ptr();
        drop(first);
        cache.discard((0, 0));
        assert!(!cache.is_present((0, 0)) && cache.cached_bytes() == 0);
        let again = cache.get_or_decode((0, 0), 10, decode_as(2)).unwrap();
        assert_eq!((&again[..], again.as_ptr()), (&[2u8; 10][..], ptr));
        // A shorter chunk reuses the longer buffer.
        drop(again);
        cache.discard((0, 0));
        let short = cache.get_or_decode((0, 1), 3, decode_as(3)).unwrap();
        assert_eq!((&short[..], short.as_ptr()), (&[3u8; 3][..], ptr));
    }

    #[test]
    fn a_slightly_longer_chunk_reuses_the_buffer_of_a_shorter_one() {
        let cache = ChunkCache::new(4 << 20);
        let first = cache.get_or_decode((0, 0), 1048560, decode_as(1)).unwrap();
        let ptr = first.as_ptr();
        drop(first);
        cache.discard((0, 0));
        let second = cache.get_or_decode((0, 1), 1048564, decode_as(2)).unwrap();
        assert_eq!((second.len(), second[1048563], second.as_ptr()), (1048564, 2, ptr));
    }

    #[test]
    fn a_longer_chunk_grows_a_spare_buffer_and_a_burst_keeps_its_buffers() {
        let cache = ChunkCache::new(64 << 20);
        // A burst of read-ahead: twelve chunks decoded, then all read and dropped.
        let lens = [2560, 368640, 901120, 1048560];
        for i in 0..12 {
            cache.get_or_decode((0, i), lens[i as usize % 4], decode_as(1)).unwrap();
        }
        for i in 0..12 {
            cache.discard((0, i));
        }
        assert_eq!(cache.lock().spare.len(), 12, "every buffer of the burst is kept");
        // A chunk longer than every spare grows the largest one instead of a new one.
        let largest = |c: &ChunkCache| c.lock().spare.iter().filter(|b| b.len() == 1 << 20).count();
        assert_eq!(largest(&cache), 3);
        let long = cache
            .get_or_decode((1, 0), 2 << 20, |out| {
                // The grown buffer still holds its old chunk (a new one would be zeroed).
                assert_eq!((out[0], out[(1 << 20) - 17]), (1, 1), "the spare was grown, not replaced");
                decode_as(4)(out)
            })
            .unwrap();
        assert_eq!((long.len(), long[(2 << 20) - 1]), (2 << 20, 4));
        let spares = cache.lock().spare.len();
        assert_eq!((spares, largest(&cache)), (11, 2));
        // A spare under half the length is left alone: a new buffer.
        let huge = cache.get_or_decode((1, 1), 3 << 20, |out| {
            assert_eq!(out[0], 0, "a fresh buffer");
            decode_as(5)(out)
        });
        assert_eq!(huge.unwrap()[0], 5);
        assert_eq!(cache.lock().spare.len(), 11);
    }

    #[test]
    fn spare_buffers_stay_under_the_cache_budget() {
        let cache = ChunkCache::new(3 << 20);
        for i in 0..3 {
            cache.get_or_decode((0, i), 1 << 20, decode_as(1)).unwrap();
        }
        // Evicted buffers and discarded ones together never exceed the budget.
        for i in 3..6 {
            cache.get_or_decode((0, i), 1 << 20, decode_as(1)).unwrap();
        }
        for i in 0..6 {
            cache.discard((0, i));
        }
        let kept: usize = cache.lock().spare.iter().map(Vec::len).sum();
        assert_eq!(kept, 3 << 20);
    }

    #[test]
    fn spare_buffers_stay_under_their_byte_bound() {
        let cache = ChunkCache::new(1 << 30);
        let n = SPARE_BYTES / (4 << 20) + 3;
        for i in 0..n as u64 {
            cache.get_or_decode((0, i), 4 << 20, decode_as(1)).unwrap();
        }
        for i in 0..n as u64 {
            cache.discard((0, i));
        }
        let kept: usize = cache.lock().spare.iter().map(Vec::len).sum();
        assert!(kept <= SPARE_BYTES && kept > SPARE_BYTES - (4 << 20), "{kept} bytes kept");
    }

    #[test]
    fn recycled_buffers_are_resized_to_the_chunk() {
        let cache = ChunkCache::new(10);
        cache.get_or_decode((0, 0), 10, decode_as(1)).unwrap();
        // Evicts chunk 0; its buffer is reused for a shorter chunk.
        let d = cache.get_or_decode((0, 1), 4, decode_as(2)).unwrap();
        assert_eq!(&d[..], &[2; 4]);
    }
}
