//! The decoder's slot tables: one 32-bit entry per probability slot.

use super::{PROB_BITS, PROB_SCALE};

/// One entry per slot. Canonical layout (scalar, AVX-512): bits 0-11
/// `slot - cum[sym]`, bits 12-23 `freq[sym]`, bits 24-31 the symbol id.
/// One gather fetches everything a decode step needs.
pub type DecodeTable = [u32; PROB_SCALE as usize];

pub const OFF_MASK: u32 = (1 << PROB_BITS) - 1;

/// Fills each symbol's run of slots with `base(symbol) | offset in the run`.
/// `freqs` must sum to `PROB_SCALE` (validated by the caller).
#[inline(always)]
fn fill(freqs: &[u32], table: &mut DecodeTable, base: impl Fn(usize, u32) -> u32) {
    let mut cum = 0usize;
    for (sym, &f) in freqs.iter().enumerate() {
        let b = base(sym, f);
        // A plain run fill: vectorised, no per-slot call.
        for (off, e) in (0u32..).zip(&mut table[cum..cum + f as usize]) {
            *e = b | off;
        }
        cum += f as usize;
    }
    debug_assert_eq!(cum, PROB_SCALE as usize);
}

/// Canonical table; `id(symbol)` is what the entry's top byte carries (the symbol
/// index itself, or e.g. the byte value the symbol stands for).
pub fn build(freqs: &[u32], id: impl Fn(usize) -> u8, table: &mut DecodeTable) {
    fill(freqs, table, |sym, f| f << PROB_BITS | u32::from(id(sym)) << 24);
}

/// The AVX2 kernels' layout: `off | id << 12 | freq << 20` — the frequency comes
/// out with one shift, and `id` sits where AVX2 can turn it into output cheaply.
pub fn build_avx2(freqs: &[u32], id: impl Fn(usize) -> u8, table: &mut DecodeTable) {
    fill(freqs, table, |sym, f| u32::from(id(sym)) << 12 | f << 20);
}

/// One scalar decode step on the canonical table: `(symbol id, new state before
/// renormalisation)`.
#[inline(always)]
pub fn step(table: &DecodeTable, x: u32) -> (u8, u32) {
    let e = table[(x & OFF_MASK) as usize];
    let freq = (e >> PROB_BITS) & OFF_MASK;
    ((e >> 24) as u8, freq * (x >> PROB_BITS) + (e & OFF_MASK))
}
