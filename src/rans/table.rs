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

/// [`fill`], for callers compiled for a wide vector ISA: fills each symbol's run
/// of slots with `base(symbol) | offset in the run`.
/// `freqs` must sum to `PROB_SCALE` (validated by the caller).
///
/// Runs are written in whole blocks of 16 entries (the last block of a run spills
/// into the next run's slots, which the next symbol then overwrites), so a run
/// costs `ceil(f / 16)` block stores however short it is; a block that would pass
/// the table's end is written entry by entry.
#[inline(always)]
pub fn fill_blocks(freqs: &[u32], table: &mut DecodeTable, base: impl Fn(usize, u32) -> u32) {
    const BLOCK: usize = 16;
    const IOTA: [u32; BLOCK] = {
        let mut a = [0u32; BLOCK];
        let mut i = 0;
        while i < BLOCK {
            a[i] = i as u32;
            i += 1;
        }
        a
    };
    // Opaque to the optimiser: folded constants make LLVM write the block entry
    // by entry instead of with one vector add and store.
    let iota: [u32; BLOCK] = core::hint::black_box(IOTA);
    let mut cum = 0usize;
    for (sym, &f) in freqs.iter().enumerate() {
        let b = base(sym, f);
        let f = f as usize;
        let mut off = 0;
        while off < f {
            let at = cum + off;
            if at + BLOCK <= table.len() {
                // `off` is a multiple of 16 and `b` has no offset bits: `b | (off + i)`
                // is `(b | off) + i`, one vector add over the block.
                let start = b | off as u32;
                let dst: &mut [u32; BLOCK] = (&mut table[at..at + BLOCK]).try_into().expect("16 entries");
                for (e, &i) in dst.iter_mut().zip(&iota) {
                    *e = start + i;
                }
            } else {
                for (k, e) in table[at..cum + f].iter_mut().enumerate() {
                    *e = b | (off + k) as u32;
                }
            }
            off += BLOCK;
        }
        cum += f;
    }
    debug_assert_eq!(cum, PROB_SCALE as usize);
}

/// Canonical entry base for a symbol of frequency `f` standing for `id`.
#[inline(always)]
pub fn canonical_base(f: u32, id: u8) -> u32 {
    f << PROB_BITS | u32::from(id) << 24
}

/// AVX2-layout entry base (see [`build_avx2`]).
#[inline(always)]
pub fn avx2_base(f: u32, id: u8) -> u32 {
    u32::from(id) << 12 | f << 20
}

/// Canonical table; `id(symbol)` is what the entry's top byte carries (the symbol
/// index itself, or e.g. the byte value the symbol stands for).
pub fn build(freqs: &[u32], id: impl Fn(usize) -> u8, table: &mut DecodeTable) {
    fill(freqs, table, |sym, f| canonical_base(f, id(sym)));
}

/// The AVX2 kernels' layout: `off | id << 12 | freq << 20` — the frequency comes
/// out with one shift, and `id` sits where AVX2 can turn it into output cheaply.
pub fn build_avx2(freqs: &[u32], id: impl Fn(usize) -> u8, table: &mut DecodeTable) {
    fill(freqs, table, |sym, f| avx2_base(f, id(sym)));
}

/// One scalar decode step on the canonical table: `(symbol id, new state before
/// renormalisation)`.
#[inline(always)]
pub fn step(table: &DecodeTable, x: u32) -> (u8, u32) {
    let e = table[(x & OFF_MASK) as usize];
    let freq = (e >> PROB_BITS) & OFF_MASK;
    ((e >> 24) as u8, freq * (x >> PROB_BITS) + (e & OFF_MASK))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The block fill against a slot-by-slot reference: runs of 1, 15, 16, 17
    /// and long ones, short runs at the table's end, one symbol per slot.
    #[test]
    fn block_fill_matches_slot_by_slot() {
        let mut cases: Vec<Vec<u32>> = vec![
            vec![4095, 1],
            vec![1, 4095],
            vec![1; 4096],
            vec![16; 256],
            [vec![17; 240], vec![1; 16]].concat(),
            [vec![15, 1, 16, 17], vec![1; 4096 - 49]].concat(),
        ];
        // Pseudo-random partitions of 4096 into up to 256 parts.
        let mut seed = 0x9e37_79b9u32;
        for _ in 0..50 {
            let mut f = Vec::new();
            let mut left = PROB_SCALE;
            while left > 0 && f.len() < 255 {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let v = (seed >> 20) % 64 + 1;
                let v = v.min(left);
                f.push(v);
                left -= v;
            }
            if left > 0 {
                f.push(left);
            }
            cases.push(f);
        }
        for freqs in &cases {
            assert_eq!(freqs.iter().sum::<u32>(), PROB_SCALE);
            let mut got = [0u32; PROB_SCALE as usize];
            fill_blocks(freqs, &mut got, |s, f| canonical_base(f, (s * 7) as u8));
            let mut plain = [0u32; PROB_SCALE as usize];
            build(freqs, |s| (s * 7) as u8, &mut plain);
            assert_eq!(got, plain);
            let mut want = [0u32; PROB_SCALE as usize];
            let mut cum = 0usize;
            for (s, &f) in freqs.iter().enumerate() {
                for off in 0..f {
                    want[cum + off as usize] = f << PROB_BITS | u32::from((s * 7) as u8) << 24 | off;
                }
                cum += f as usize;
            }
            assert_eq!(got, want, "freqs {freqs:?}");
        }
    }
}
