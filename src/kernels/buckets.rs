//! Slot buckets: the slot → symbol map of a rANS alphabet in tables small enough
//! to live in vector registers, for kernels that look symbols up with byte
//! permutes instead of gathers (gathers are slow on AMD Zen 4: one 16-lane gather
//! costs about as much as the rest of a decode step).
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
const WIDTH: usize = 16;
const BUCKETS: usize = PROB_SCALE as usize / WIDTH;
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
            // Buckets whose first slot lies in [c, c + f) start in `s`.
            for b in c.div_ceil(WIDTH)..(c + f).div_ceil(WIDTH) {
                self.start[b] = s as u8;
            }
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

/// Slot buckets for byte alphabets (up to 256 symbols, any shape): a bucket's
/// symbol changes may be many (rare symbols), so instead of a split each bucket
/// has a 16-bit mask of the offsets where a symbol starts (`starts_lo`: offsets
/// 0–7, `starts_hi`: 8–15; offset 0 is never set, `start` covers it). The
/// symbol at offset `lo` is `start[b]` plus the set bits at offsets `1..=lo`:
/// two masked byte popcounts. Every validated alphabet fits, so there is no
/// `usable` flag. `value` maps a symbol to the byte it stands for.
pub(crate) struct ByteBuckets {
    pub start: [u8; BUCKETS],
    pub starts_lo: [u8; BUCKETS],
    pub starts_hi: [u8; BUCKETS],
    /// Bytes 0, 1 and 2 of `freq | cum << 12` per symbol (both below 4096).
    pub packed: [[u8; 256]; 3],
    pub value: [u8; 256],
    /// How `value` maps symbols, where the kernels can skip its lookup.
    pub values: ValueMap,
}

/// A symbol-to-byte map the kernels compute instead of looking it up. Most
/// quant streams use every byte value, or every value but one (Q8_0 never
/// stores −128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueMap {
    /// Each symbol stands for its index.
    Identity,
    /// Symbols below the gap stand for their index, the others for their index plus one.
    Gap(u8),
    /// Look `value` up.
    Table,
}

/// `PREFIX_LO[lo]`, `PREFIX_HI[lo]`: the bits of offsets `0..=lo` in the low and
/// high mask bytes (`lo` < 16).
pub(crate) const PREFIX_LO: [u8; WIDTH] = {
    let mut t = [0xffu8; WIDTH];
    let mut lo = 0;
    while lo < 8 {
        t[lo] = ((2u16 << lo) - 1) as u8;
        lo += 1;
    }
    t
};
pub(crate) const PREFIX_HI: [u8; WIDTH] = {
    let mut t = [0u8; WIDTH];
    let mut lo = 8;
    while lo < WIDTH {
        t[lo] = ((2u16 << (lo - 8)) - 1) as u8;
        lo += 1;
    }
    t
};

impl ByteBuckets {
    pub const fn new() -> ByteBuckets {
        ByteBuckets {
            start: [0; BUCKETS],
            starts_lo: [0; BUCKETS],
            starts_hi: [0; BUCKETS],
            packed: [[0; 256]; 3],
            value: [0; 256],
            values: ValueMap::Table,
        }
    }

    /// Builds the tables for `freqs` (a validated alphabet of at most 256
    /// symbols: each in `[1, 4095]`, summing to 4096), symbol `s` standing for
    /// byte `value(s)`.
    pub fn load(&mut self, freqs: &[u32], value: impl Fn(usize) -> u8) {
        debug_assert!(freqs.len() <= 256 && freqs.iter().sum::<u32>() == PROB_SCALE);
        self.starts_lo = [0; BUCKETS];
        self.starts_hi = [0; BUCKETS];
        let mut cum = 0usize;
        for (s, &f) in freqs.iter().enumerate().take(256) {
            let (c, f) = (cum, f as usize);
            let packed = f | c << 12;
            for (k, t) in self.packed.iter_mut().enumerate() {
                t[s] = (packed >> (8 * k)) as u8;
            }
            self.value[s] = value(s);
            // Buckets whose first slot lies in [c, c + f) start in `s`.
            for b in c.div_ceil(WIDTH)..(c + f).div_ceil(WIDTH) {
                self.start[b] = s as u8;
            }
            let (b, lo) = (c / WIDTH, c % WIDTH);
            if lo != 0 {
                if lo < 8 {
                    self.starts_lo[b] |= 1 << lo;
                } else {
                    self.starts_hi[b] |= 1 << (lo - 8);
                }
            }
            cum += f;
        }
        let n = freqs.len().min(256);
        let value = |s: usize| usize::from(self.value[s]);
        self.values = match (0..n).find(|&s| value(s) != s) {
            None => ValueMap::Identity,
            Some(g) if (g..n).all(|s| value(s) == s + 1) => ValueMap::Gap(g as u8),
            Some(_) => ValueMap::Table,
        };
    }

    /// The symbol at `slot` (what the kernels compute), for tests.
    #[cfg(test)]
    fn symbol(&self, slot: usize) -> usize {
        let (b, lo) = (slot / WIDTH, slot % WIDTH);
        let before = (self.starts_lo[b] & PREFIX_LO[lo]).count_ones() + (self.starts_hi[b] & PREFIX_HI[lo]).count_ones();
        usize::from(self.start[b]) + before as usize
    }
}

/// The sum of the first `n` frequencies.
fn cumulative(freqs: &[u32], n: usize) -> usize {
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

    fn check_bytes(freqs: &[u32]) {
        let mut b = Box::new(ByteBuckets::new());
        b.load(freqs, |s| (s as u8).wrapping_mul(7));
        let mut slot = 0;
        for (s, &f) in freqs.iter().enumerate() {
            for _ in 0..f {
                assert_eq!(b.symbol(slot), s, "slot {slot} of {freqs:?}");
                slot += 1;
            }
            let c = cumulative(freqs, s) as u32;
            let packed = b.packed.iter().enumerate().map(|(k, t)| u32::from(t[s]) << (8 * k)).sum::<u32>();
            assert_eq!((packed & 0xfff, packed >> 12), (f, c));
            assert_eq!(b.value[s], (s as u8).wrapping_mul(7));
        }
        assert_eq!(slot, PROB_SCALE as usize);
    }

    #[test]
    fn value_maps_are_recognised() {
        let mut b = Box::new(ByteBuckets::new());
        let map = |b: &mut ByteBuckets, n: usize, value: &dyn Fn(usize) -> u8| {
            let mut freqs = vec![1u32; n];
            freqs[0] = 4096 - (n as u32 - 1);
            b.load(&freqs, value);
            b.values
        };
        assert_eq!(map(&mut b, 256, &|s| s as u8), ValueMap::Identity);
        assert_eq!(map(&mut b, 3, &|s| s as u8), ValueMap::Identity);
        assert_eq!(map(&mut b, 255, &|s| if s < 128 { s as u8 } else { s as u8 + 1 }), ValueMap::Gap(128));
        assert_eq!(map(&mut b, 255, &|s| s as u8 + 1), ValueMap::Gap(0));
        assert_eq!(map(&mut b, 200, &|s| if s < 100 { s as u8 } else { s as u8 + 2 }), ValueMap::Table);
        assert_eq!(map(&mut b, 4, &|s| [0, 1, 3, 2][s]), ValueMap::Table);
    }

    #[test]
    fn every_slot_of_a_byte_alphabet_maps_to_its_symbol() {
        // Two symbols; 256 of frequency 16 (no bucket changes inside); 256 with
        // a tail of rare ones (up to 16 starts per bucket, at every offset).
        check_bytes(&[1, 4095]);
        check_bytes(&[4095, 1]);
        check_bytes(&[16; 256]);
        let mut tail = vec![1u32; 200];
        tail.extend([5, 3, 2, 7, 11, 13, 17, 19, 23, 29]);
        tail.extend(vec![2u32; 45]);
        let rest = 4096 - tail.iter().sum::<u32>();
        tail.push(rest);
        assert_eq!(tail.len(), 256);
        check_bytes(&tail);
        let mut odd = vec![15u32; 255];
        odd.push(4096 - 15 * 255);
        check_bytes(&odd);
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
