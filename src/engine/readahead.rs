//! Sequential-access detection: decides when reads form a stream worth
//! decoding ahead of. A few streams are tracked at once (several readers of one
//! file, or one reader walking several tensors); a read continues a stream when
//! it starts a little behind or a little beyond where the stream stopped, which
//! tolerates the kernel's read-ahead requests arriving out of order on several
//! FUSE threads. Random reads rarely continue a stream twice in a row, so they
//! trigger no decoding ahead.

use std::sync::Mutex;

/// Streams tracked per file.
const STREAMS: usize = 8;
/// A read may start this far beyond a stream's end and still continue it.
const GAP_AHEAD: u64 = 256 << 10;
/// ... or this far before it (requests reordered between threads).
const GAP_BEHIND: u64 = 1 << 20;
/// Reads that must continue a stream before it counts as sequential.
const HITS_NEEDED: u32 = 2;

#[derive(Clone, Copy, Default)]
struct Stream {
    next: u64,
    hits: u32,
    last_use: u64,
}

#[derive(Default)]
pub struct SequentialDetector {
    state: Mutex<([Stream; STREAMS], u64)>,
}

impl SequentialDetector {
    pub fn new() -> SequentialDetector {
        SequentialDetector::default()
    }

    /// Records a read of `len` bytes at `offset`; true when it continues a
    /// stream that has been sequential for a while.
    pub fn observe(&self, offset: u64, len: u64) -> bool {
        let end = offset.saturating_add(len);
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (streams, clock) = &mut *guard;
        *clock += 1;
        let continues = |s: &Stream| s.last_use > 0 && offset <= s.next.saturating_add(GAP_AHEAD) && offset.saturating_add(GAP_BEHIND) >= s.next;
        if let Some(s) = streams.iter_mut().find(|s| continues(s)) {
            s.next = s.next.max(end);
            s.hits = s.hits.saturating_add(1);
            s.last_use = *clock;
            return s.hits >= HITS_NEEDED;
        }
        let oldest = streams.iter_mut().min_by_key(|s| s.last_use).expect("STREAMS > 0");
        *oldest = Stream { next: end, hits: 0, last_use: *clock };
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_reads_are_detected_after_a_few_requests() {
        let d = SequentialDetector::new();
        let hits: Vec<bool> = (0..5).map(|i| d.observe(i * 131072, 131072)).collect();
        assert_eq!(hits, [false, false, true, true, true]);
    }

    #[test]
    fn reordered_requests_still_count_as_one_stream() {
        let d = SequentialDetector::new();
        let k = 131072;
        for &i in &[0u64, 2, 1, 4, 3] {
            d.observe(i * k, k);
        }
        assert!(d.observe(5 * k, k));
    }

    #[test]
    fn random_reads_are_not_sequential() {
        let d = SequentialDetector::new();
        let mut x = 12345u64;
        let mut any = false;
        for _ in 0..1000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            any |= d.observe(((x >> 20) % (1 << 34)) & !4095, 4096);
        }
        assert!(!any);
    }

    #[test]
    fn two_interleaved_streams_are_both_tracked() {
        let d = SequentialDetector::new();
        let k = 65536;
        let mut last = (false, false);
        for i in 0..4 {
            last = (d.observe(i * k, k), d.observe((1 << 30) + i * k, k));
        }
        assert_eq!(last, (true, true));
    }
}
