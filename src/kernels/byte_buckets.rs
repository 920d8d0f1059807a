//! Slot buckets for byte alphabets, for the permute family's byte-stream
//! kernel: the same 256 buckets of 16 slots as `buckets.rs`, but every alphabet
//! of up to 256 symbols fits, however many rare symbols crowd a bucket.

use super::buckets::{starting_in, BUCKETS, WIDTH};
use crate::rans::{PROB_BITS, PROB_SCALE};

/// Slot buckets for byte alphabets (up to 256 symbols, any shape): a bucket's
/// symbol changes may be many (rare symbols), so each bucket has a 16-bit mask
/// of the offsets where a symbol starts (`starts_lo`: offsets 0–7, `starts_hi`:
/// 8–15; offset 0 is never set, `start` covers it). The symbol at offset `lo`
/// is `start[b]` plus the set bits at offsets `1..=lo`: two masked byte
/// popcounts. Every validated alphabet fits, so there is no `usable` flag.
/// `value` maps a symbol to the byte it stands for.
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

/// A symbol-to-byte map the kernels compute instead of looking it up: the
/// alphabet's bytes are consecutive from 0, but for at most one gap. Most
/// quant streams qualify: every byte value, or all but one (Q8_0 never stores
/// −128).
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
pub(crate) static PREFIX_LO: [u8; WIDTH] = {
    let mut t = [0xffu8; WIDTH];
    let mut lo = 0;
    while lo < 8 {
        t[lo] = ((2u16 << lo) - 1) as u8;
        lo += 1;
    }
    t
};
pub(crate) static PREFIX_HI: [u8; WIDTH] = {
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
            self.start[starting_in(c, f)].fill(s as u8);
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

    /// The symbol at `slot` (what the kernels compute; byte arithmetic, as theirs).
    fn symbol(&self, slot: usize) -> usize {
        let (b, lo) = (slot / WIDTH, slot % WIDTH);
        let before = (self.starts_lo[b] & PREFIX_LO[lo]).count_ones() + (self.starts_hi[b] & PREFIX_HI[lo]).count_ones();
        usize::from(self.start[b].wrapping_add(before as u8))
    }

    /// One rANS decode step of state `x` on these buckets, as
    /// `rans::table::step` takes it on the canonical table: the byte the symbol
    /// stands for and the state before renormalisation. The scalar oracle uses
    /// it where only the buckets were built (`ByteTables::load`).
    pub fn step(&self, x: u32) -> (u8, u32) {
        let slot = x & (PROB_SCALE - 1);
        let sym = self.symbol(slot as usize);
        let packed = u32::from(self.packed[0][sym]) | u32::from(self.packed[1][sym]) << 8 | u32::from(self.packed[2][sym]) << 16;
        let (freq, cum) = (packed & 0xfff, packed >> 12);
        (self.value[sym], freq * (x >> PROB_BITS) + slot.wrapping_sub(cum))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::buckets::cumulative;

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
        // The scalar step on the buckets is the canonical table's, at every
        // slot and across the state range.
        let mut dec = Box::new([0u32; PROB_SCALE as usize]);
        crate::rans::table::build(freqs, |s| (s as u8).wrapping_mul(7), &mut dec);
        for slot in 0..PROB_SCALE {
            for high in [1u32 << 4, 0x1234, 0xf_ffff] {
                let x = high << PROB_BITS | slot;
                assert_eq!(b.step(x), crate::rans::table::step(&dec, x), "state {x:#x} of {freqs:?}");
            }
        }
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
}
