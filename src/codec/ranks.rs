//! Value ranks of a 16-bit field of every block (the fp16 scale `d` of Q8_0
//! blocks), for the field-split codec ([`super::fields`]): each block's value
//! is replaced by its index in a list of the chunk's distinct values, most
//! frequent first, and the list travels in the chunk.
//!
//! Why: llama.cpp's Q8_0 scale is `amax / 127` rounded to fp16, and `amax` of
//! bf16 weights has an 8-bit mantissa, so a chunk's scales take a few hundred
//! of the fp16 values, scattered so that the low byte depends on the high byte.
//! Coded as two byte planes (one table each) that dependency is lost: 9.8 bits
//! a block on Gemma 3's `token_embd`, against 8.1 for the planes of the ranks
//! with the list (most blocks' ranks are small, so their high byte is nearly
//! constant and their low byte skewed). The writer keeps whichever codes
//! smaller, chunk by chunk.

use crate::error::{Error, Result};

/// Most values a list may hold: a rank is 16 bits and the count too.
pub const MAX_VALUES: usize = u16::MAX as usize;

/// Counts per 16-bit value, reused across chunks (256 KiB, not zeroed again:
/// only the counted values are cleared).
#[derive(Default)]
pub struct Counter {
    counts: Vec<u32>,
    rank: Vec<u16>,
}

impl Counter {
    /// The values of the 16-bit little-endian field at `at` of each `block`-byte
    /// block of `blocks`, most frequent first (equal counts: smaller value
    /// first), or `None` where they are more than [`MAX_VALUES`].
    pub fn list(&mut self, blocks: &[u8], block: usize, at: usize) -> Option<Vec<u16>> {
        self.counts.resize(1 << 16, 0);
        let mut values = Vec::new();
        for b in blocks.chunks_exact(block) {
            let v = u16::from_le_bytes([b[at], b[at + 1]]);
            let c = &mut self.counts[usize::from(v)];
            if *c == 0 {
                values.push(v);
            }
            *c += 1;
        }
        values.sort_unstable_by_key(|&v| (u32::MAX - self.counts[usize::from(v)], v));
        for &v in &values {
            self.counts[usize::from(v)] = 0;
        }
        (values.len() <= MAX_VALUES).then_some(values)
    }

    /// The rank in `values` (which holds every value the field takes in
    /// `blocks`) of each block's field, as its low and high bytes.
    pub fn ranks_of(&mut self, blocks: &[u8], block: usize, at: usize, values: &[u16], lo: &mut [u8], hi: &mut [u8]) {
        self.rank.resize(1 << 16, 0);
        for (r, &v) in values.iter().enumerate() {
            self.rank[usize::from(v)] = r as u16;
        }
        for ((b, l), h) in blocks.chunks_exact(block).zip(lo).zip(hi) {
            let [r0, r1] = self.rank[usize::from(u16::from_le_bytes([b[at], b[at + 1]]))].to_le_bytes();
            (*l, *h) = (r0, r1);
        }
    }
}

/// A list as it lies in a payload: `n` little-endian u16 values.
#[derive(Clone, Copy)]
pub struct List<'a> {
    bytes: &'a [u8],
}

impl<'a> List<'a> {
    /// `bytes` holds a whole number of values, at least one.
    pub fn new(bytes: &'a [u8]) -> Result<List<'a>> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(2) || bytes.len() > 2 * MAX_VALUES {
            return Err(Error::Corrupt);
        }
        Ok(List { bytes })
    }

    pub fn len(&self) -> usize {
        self.bytes.len() / 2
    }

    /// Writes `values` as a list.
    pub fn write(values: &[u16], out: &mut Vec<u8>) {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// Checks that every rank (`lo[k] | hi[k] << 8`, the low and high bytes
    /// of block `k`'s field) is in the list: `Corrupt` otherwise.
    pub fn check(&self, lo: &[u8], hi: &[u8]) -> Result<()> {
        // One pass for the largest rank (it vectorises), not a branch a block.
        let largest = lo.iter().zip(hi).map(|(&l, &h)| u16::from_le_bytes([l, h])).max().unwrap_or(0);
        if usize::from(largest) >= self.len() {
            return Err(Error::Corrupt);
        }
        Ok(())
    }

    /// Writes the value of each block's rank (`lo[k] | hi[k] << 8`) at `to`
    /// of block `k` of `blocks`. Ranks past the list (which [`List::check`]
    /// refuses first) take its last value rather than fail here.
    #[inline(always)]
    pub fn put_values(&self, blocks: &mut [u8], block: usize, to: usize, lo: &[u8], hi: &[u8]) {
        let (values, _) = self.bytes.as_chunks::<2>();
        let last = values.len() - 1;
        for ((b, &l), &h) in blocks.chunks_exact_mut(block).zip(lo).zip(hi) {
            // Clamped, so the lookup needs no bounds check of its own.
            let r = usize::from(u16::from_le_bytes([l, h])).min(last);
            b[to..to + 2].copy_from_slice(&values[r]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_go_and_come_back() {
        // Blocks of 5 bytes, the field at 1.
        let vals = [0x3c00u16, 0x1234, 0x3c00, 0xffff, 0x1234, 0x3c00, 7];
        let mut blocks: Vec<u8> = vals.iter().flat_map(|v| [9, v.to_le_bytes()[0], v.to_le_bytes()[1], 8, 7]).collect();
        let orig = blocks.clone();
        let mut c = Counter::default();
        let list = c.list(&blocks, 5, 1).unwrap();
        assert_eq!(list, [0x3c00, 0x1234, 7, 0xffff], "by count, then by value");
        let (mut lo, mut hi) = (vec![9u8; 7], vec![9u8; 7]);
        c.ranks_of(&blocks, 5, 1, &list, &mut lo, &mut hi);
        let ranks: Vec<u16> = lo.iter().zip(&hi).map(|(&l, &h)| u16::from_le_bytes([l, h])).collect();
        assert_eq!(ranks, [0, 1, 0, 3, 1, 0, 2]);
        let mut wire = Vec::new();
        List::write(&list, &mut wire);
        let list = List::new(&wire).unwrap();
        list.check(&lo, &hi).unwrap();
        for b in blocks.chunks_exact_mut(5) {
            b[1..3].fill(0);
        }
        list.put_values(&mut blocks, 5, 1, &lo, &hi);
        assert_eq!(blocks, orig);
        // The counter is clean for the next chunk.
        assert_eq!(c.list(&orig[..5], 5, 1).unwrap(), [0x3c00]);
    }

    #[test]
    fn a_rank_past_the_list_and_odd_lists_are_corrupt() {
        let mut wire = Vec::new();
        List::write(&[5, 6], &mut wire);
        let list = List::new(&wire).unwrap();
        assert!(matches!(list.check(&[1, 2], &[0, 0]), Err(Error::Corrupt)));
        assert!(matches!(list.check(&[0], &[1]), Err(Error::Corrupt)));
        list.check(&[1, 0], &[0, 0]).unwrap();
        for bad in [&[][..], &[1][..], &[1, 2, 3][..]] {
            assert!(matches!(List::new(bad), Err(Error::Corrupt)));
        }
    }
}
