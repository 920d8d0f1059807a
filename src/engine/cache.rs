//! A small cache of decoded chunks, shared by the threads that read one
//! container: small reads (a parser reading a GGUF header field by field)
//! decode each chunk once instead of once per read. Bounded in bytes (at
//! least one chunk is kept whatever its size); least recently used first out.
//! A lookup never holds the lock while decoding: two threads missing the same
//! chunk at once both decode it, and one copy is kept.

use crate::error::Result;
use std::sync::{Arc, Mutex};

/// Default budget of a container handle's cache.
pub const DEFAULT_CACHE_BYTES: u64 = 16 << 20;

/// A chunk's key: region (or frame) number and chunk number.
pub type Key = (u32, u32);

struct Entry {
    key: Key,
    bytes: Arc<Vec<u8>>,
    last_use: u64,
}

#[derive(Default)]
struct Lru {
    entries: Vec<Entry>,
    held: u64,
    clock: u64,
}

pub struct ChunkCache {
    budget: u64,
    lru: Mutex<Lru>,
}

impl ChunkCache {
    pub fn new(budget: u64) -> ChunkCache {
        ChunkCache { budget, lru: Mutex::new(Lru::default()) }
    }

    /// The decoded chunk `key`, decoding it with `decode` (into a buffer of
    /// `len` bytes) when it is not cached. `keep` says whether a fresh result
    /// may be cached (a chunk whose checksum was not verified is not).
    pub fn get(&self, key: Key, len: usize, decode: impl FnOnce(&mut [u8]) -> Result<bool>) -> Result<Arc<Vec<u8>>> {
        {
            let mut lru = self.lru.lock().unwrap_or_else(|e| e.into_inner());
            lru.clock += 1;
            let now = lru.clock;
            if let Some(e) = lru.entries.iter_mut().find(|e| e.key == key) {
                e.last_use = now;
                return Ok(Arc::clone(&e.bytes));
            }
        }
        let mut buf = vec![0u8; len];
        let keep = decode(&mut buf)?;
        let bytes = Arc::new(buf);
        if keep {
            self.insert(key, Arc::clone(&bytes));
        }
        Ok(bytes)
    }

    fn insert(&self, key: Key, bytes: Arc<Vec<u8>>) {
        let mut lru = self.lru.lock().unwrap_or_else(|e| e.into_inner());
        if lru.entries.iter().any(|e| e.key == key) {
            return;
        }
        let size = bytes.len() as u64;
        while !lru.entries.is_empty() && lru.held + size > self.budget {
            let oldest = lru.entries.iter().enumerate().min_by_key(|(_, e)| e.last_use).map(|(i, _)| i).expect("not empty");
            let e = lru.entries.swap_remove(oldest);
            lru.held -= e.bytes.len() as u64;
        }
        lru.clock += 1;
        let last_use = lru.clock;
        lru.held += size;
        lru.entries.push(Entry { key, bytes, last_use });
    }

    /// Bytes held now.
    pub fn held(&self) -> u64 {
        self.lru.lock().unwrap_or_else(|e| e.into_inner()).held
    }
}

impl Default for ChunkCache {
    fn default() -> Self {
        ChunkCache::new(DEFAULT_CACHE_BYTES)
    }
}

/// A copy starts empty (the cache is a per-handle memo, not state).
impl Clone for ChunkCache {
    fn clone(&self) -> Self {
        ChunkCache::new(self.budget)
    }
}

impl std::fmt::Debug for ChunkCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChunkCache {{ budget: {}, held: {} }}", self.budget, self.held())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once_and_stays_within_its_budget() {
        let cache = ChunkCache::new(100);
        let mut decodes = 0;
        for _ in 0..3 {
            let b = cache.get((0, 1), 40, |buf| {
                decodes += 1;
                buf.fill(7);
                Ok(true)
            });
            assert_eq!(*b.unwrap(), vec![7u8; 40]);
        }
        assert_eq!(decodes, 1);
        for k in 2..10 {
            cache.get((0, k), 40, |_| Ok(true)).unwrap();
            assert!(cache.held() <= 100);
        }
        // Larger than the budget: kept alone.
        cache.get((1, 0), 500, |_| Ok(true)).unwrap();
        assert_eq!(cache.held(), 500);
        // Unverified results are not kept; errors are not cached.
        cache.get((2, 0), 10, |_| Ok(false)).unwrap();
        assert!(cache.get((2, 1), 10, |_| Err(crate::Error::Corrupt)).is_err());
        assert_eq!(cache.held(), 500);
    }
}
