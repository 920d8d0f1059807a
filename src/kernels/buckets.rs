//! Slot buckets: the slot → symbol map of a rANS alphabet in tables small enough
//! to live in vector registers, for kernels that look symbols up with byte
//! permutes instead of gathers (gathers are slow on AMD Zen 4: one 16-lane gather
//! costs about as much as the rest of a decode step). This file holds the bf16
//! kernel's tables; byte streams have their own (`byte_buckets.rs`).
//!
//! The 4096 slots fall into 256 buckets of 16. A bucket starts inside some symbol
//! (`start`); within it, the symbol changes at most once in most buckets (`split`:
//! the offset where it does). The few buckets where it changes twice or more (rare
//! symbols, frequency below 16) get a rank and a row of 16 deltas (`delta`). Eight
//! such rows fit one 128-byte permute; an alphabet that needs more, or has more than
//! 128 symbols, is left to the gather kernels (`usable` is false).
//!
//! A symbol then is `start[b] + (lo > split[b])` (`split` holds the offset less
//! one), or `start[b] + delta[rank·16 + lo]` for a ranked bucket, with
//! `b = slot >> 4` and `lo = slot & 15`.

use crate::rans::PROB_SCALE;

/// Slots per bucket.
pub(super) const WIDTH: usize = 16;
pub(super) const BUCKETS: usize = PROB_SCALE as usize / WIDTH;
/// Ranked buckets one 128-byte delta table holds.
const RANKED: usize = 128 / WIDTH;
/// Symbols one 128-byte permute table holds.
const SYMBOLS: usize = 128;
/// `split` of a bucket without a symbol change (no `lo` passes it).
const NO_SPLIT: u8 = WIDTH as u8 - 1;
/// `split` flag of a ranked bucket (its low bits are `rank << 4`).
const RANKED_FLAG: u8 = 0x80;

/// Bucket tables and per-symbol frequency and start bytes, each table a multiple
/// of 64 bytes so that kernels load them as whole registers.
pub(crate) struct Buckets {
    pub usable: bool,
    pub start: [u8; BUCKETS],
    pub split: [u8; BUCKETS],
    pub delta: [u8; 128],
    pub freq_lo: [u8; SYMBOLS],
    pub freq_hi: [u8; SYMBOLS],
    pub cum_lo: [u8; SYMBOLS],
    pub cum_hi: [u8; SYMBOLS],
}

impl Buckets {
    pub const fn new() -> Buckets {
        Buckets {
            usable: false,
            start: [0; BUCKETS],
            split: [NO_SPLIT; BUCKETS],
            delta: [0; 128],
            freq_lo: [0; SYMBOLS],
            freq_hi: [0; SYMBOLS],
            cum_lo: [0; SYMBOLS],
            cum_hi: [0; SYMBOLS],
        }
    }

    /// Builds the tables for `freqs` (a validated alphabet: each in `[1, 4095]`,
    /// summing to 4096); `usable` says whether they cover it.
    pub fn load(&mut self, freqs: &[u32]) {
        self.usable = false;
        if freqs.len() > SYMBOLS || freqs.iter().map(|&f| f as usize).sum::<usize>() != PROB_SCALE as usize {
            return;
        }
        self.split = [NO_SPLIT; BUCKETS];
        let mut changes = [0u8; BUCKETS];
        let mut cum = 0usize;
        for (s, &f) in freqs.iter().enumerate() {
            let (c, f) = (cum, f as usize);
            self.freq_lo[s] = f as u8;
            self.freq_hi[s] = (f >> 8) as u8;
            self.cum_lo[s] = c as u8;
            self.cum_hi[s] = (c >> 8) as u8;
            self.start[starting_in(c, f)].fill(s as u8);
            if c % WIDTH != 0 {
                let b = c / WIDTH;
                changes[b] += 1;
                self.split[b] = (c % WIDTH - 1) as u8;
            }
            cum += f;
        }
        for (rank, (b, _)) in changes.iter().enumerate().filter(|(_, &c)| c >= 2).enumerate() {
            if rank == RANKED {
                return;
            }
            self.split[b] = RANKED_FLAG | (rank << 4) as u8;
            let row = &mut self.delta[rank * WIDTH..][..WIDTH];
            // The symbol at each slot of the bucket, counted from `start[b]`.
            let (base, first) = (b * WIDTH, usize::from(self.start[b]));
            let mut s = first;
            let mut end = cumulative(freqs, s + 1);
            for (k, d) in row.iter_mut().enumerate() {
                while base + k >= end {
                    s += 1;
                    end += freqs[s] as usize;
                }
                *d = (s - first) as u8;
            }
        }
        self.usable = true;
    }

    /// The symbol at `slot` (what the kernels compute), for tests.
    #[cfg(test)]
    fn symbol(&self, slot: usize) -> usize {
        let (b, lo) = (slot / WIDTH, (slot % WIDTH) as u8);
        let split = self.split[b];
        let start = usize::from(self.start[b]);
        if split & RANKED_FLAG != 0 {
            start + usize::from(self.delta[usize::from(split & 0x7f) | usize::from(lo)])
        } else {
            start + usize::from(lo > split)
        }
    }
}

/// The buckets whose first slot lies in the symbol's slots `[cum, cum + freq)`:
/// the buckets that start in it.
pub(super) fn starting_in(cum: usize, freq: usize) -> core::ops::Range<usize> {
    cum.div_ceil(WIDTH)..(cum + freq).div_ceil(WIDTH)
}

/// The sum of the first `n` frequencies.
pub(super) fn cumulative(freqs: &[u32], n: usize) -> usize {
    freqs[..n].iter().map(|&f| f as usize).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(freqs: &[u32]) -> bool {
        let mut b = Box::new(Buckets::new());
        b.load(freqs);
        if b.usable {
            let mut slot = 0;
            for (s, &f) in freqs.iter().enumerate() {
                for _ in 0..f {
                    assert_eq!(b.symbol(slot), s, "slot {slot} of {freqs:?}");
                    slot += 1;
                }
                let c = cumulative(freqs, s);
                assert_eq!((b.freq_lo[s], b.freq_hi[s]), (f as u8, (f >> 8) as u8));
                assert_eq!((b.cum_lo[s], b.cum_hi[s]), (c as u8, (c >> 8) as u8));
            }
        }
        b.usable
    }

    #[test]
    fn every_slot_maps_to_its_symbol() {
        // One symbol; two; a skewed alphabet with a tail of rare symbols; rare
        // symbols packed into few buckets.
        assert!(check(&[4096]));
        assert!(check(&[1, 4095]));
        assert!(check(&[4095, 1]));
        let mut skewed = vec![1u32; 40];
        skewed.extend([300, 900, 1200, 900, 300, 100, 60, 30, 20, 10, 5, 3, 2]);
        skewed.extend(vec![1u32; 20]);
        let rest = 4096 - skewed.iter().sum::<u32>();
        skewed.push(rest);
        assert!(check(&skewed));
        // Every symbol of frequency 32: no bucket changes symbol inside.
        assert!(check(&[32; 128]));
    }

    #[test]
    fn alphabets_the_tables_cannot_hold_are_refused() {
        // 129 symbols; and twelve buckets with three changes each (more than
        // eight rows).
        let mut wide = vec![1u32; 128];
        wide.push(4096 - 128);
        assert!(!check(&wide));
        let mut tail = vec![5u32; 40];
        tail.push(4096 - 200);
        assert!(!check(&tail));
        // Eight such buckets still fit.
        let mut eight = vec![4u32; 8 * 4];
        eight.push(4096 - 128);
        assert!(check(&eight));
    }
}
