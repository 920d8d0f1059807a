//! The decoder's slot table: one 32-bit entry per probability slot.

use super::{PROB_BITS, PROB_SCALE};

/// Entry layout: bits 0-11 `slot - cum[sym]`, bits 12-23 `freq[sym]`, bits 24-31 `sym`.
/// One gather fetches everything a decode step needs.
pub type DecodeTable = [u32; PROB_SCALE as usize];

pub const OFF_MASK: u32 = (1 << PROB_BITS) - 1;

/// Fills `table` from frequencies that sum to `PROB_SCALE` (validated by the caller).
pub fn build(freqs: &[u32], table: &mut DecodeTable) {
    let mut cum = 0usize;
    for (sym, &f) in freqs.iter().enumerate() {
        let base = (f << PROB_BITS) | ((sym as u32) << 24);
        for (off, e) in table[cum..cum + f as usize].iter_mut().enumerate() {
            *e = base | off as u32;
        }
        cum += f as usize;
    }
    debug_assert_eq!(cum, PROB_SCALE as usize);
}

/// One scalar decode step: returns `(symbol, new state before renormalisation)`.
#[inline(always)]
pub fn step(table: &DecodeTable, x: u32) -> (u8, u32) {
    let e = table[(x & OFF_MASK) as usize];
    let freq = (e >> PROB_BITS) & OFF_MASK;
    ((e >> 24) as u8, freq * (x >> PROB_BITS) + (e & OFF_MASK))
}
