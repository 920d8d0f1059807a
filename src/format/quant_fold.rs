//! Folded 5-bit quants (`fields` layouts with a fold, `FORMAT.md` §6).
//!
//! ggml's Q5_0 and Q5_1 blocks keep each 5-bit quant `q` (0..32, centred on 16)
//! in two places: its low four bits in a nibble of `qs[16]` (quant `j` low,
//! quant `j + 16` high) and its top bit in bit `j` of the little-endian `u32
//! qh`. Coded as bytes, both look close to uniform, though the quants peak
//! around 16: below 16 the low nibble is mostly high (15, 14, …), from 16 on
//! mostly low (0, 1, …), and the two halves cancel out in the nibbles' mixture.
//! The fold flips the nibbles of the quants whose top bit is clear (`lo ^ 15`),
//! so that every nibble counts its distance from the middle and the 16 bytes of
//! `qs` turn skewed; `qh` stays as it is (about a bit a quant).
//!
//! Measured on the real gemma-3-270m Q5_0 tensors (order-0 entropy, 1 MiB
//! chunks): 4.98 bits a quant as the block stores them, 4.71 folded, 4.69 for
//! the 5-bit quants themselves. The fold is its own inverse.

/// Bytes the fold reads or rewrites: `qh[4]` then `qs[16]`.
pub const FOLDED_BYTES: usize = 20;

/// The XOR mask of `qs[j]` in a block whose `qh` is `qh`: the low nibble
/// `0xf` where quant `j`'s top bit is clear, the high one where quant
/// `j + 16`'s is.
#[inline(always)]
fn fold_mask(qh: u32, j: usize) -> u8 {
    let lo = if qh >> j & 1 == 0 { 0x0f } else { 0 };
    let hi = if qh >> (j + 16) & 1 == 0 { 0xf0 } else { 0 };
    lo | hi
}

/// Folds (or unfolds: the same operation) the 20 bytes `qh qs` of one block.
pub fn fold(g: &mut [u8; FOLDED_BYTES]) {
    let qh = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    for j in 0..16 {
        g[4 + j] ^= fold_mask(qh, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_twice_gives_the_block_back() {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..if cfg!(miri) { 200 } else { 10_000 } {
            let orig: [u8; FOLDED_BYTES] = core::array::from_fn(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s as u8
            });
            let mut g = orig;
            fold(&mut g);
            assert_eq!(g[..4], orig[..4], "qh stays");
            fold(&mut g);
            assert_eq!(g, orig);
        }
    }

    #[test]
    fn folded_nibbles_count_the_distance_from_the_middle() {
        // Quant j = j (0..32): qs nibbles and qh bits as ggml packs them.
        let mut g = [0u8; FOLDED_BYTES];
        let qh: u32 = 0xffff_0000;
        g[..4].copy_from_slice(&qh.to_le_bytes());
        for j in 0..16u8 {
            g[4 + usize::from(j)] = j | ((j + 16) & 15) << 4;
        }
        fold(&mut g);
        for j in 0..16u8 {
            // Quant j < 16 sits 15 - j below the middle; quant j + 16 sits j above it.
            assert_eq!(g[4 + usize::from(j)], (15 - j) | j << 4);
        }
    }
}
