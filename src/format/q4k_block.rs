//! The Q4_K model: llama.cpp's `block_q4_K` is `{f16 d; f16 dmin; u8 scales[12];
//! u8 qs[128]}` for 256 weights, `w = d·sc_j·q − dmin·m_j` in sub-block `j`.
//!
//! The quant that encodes weight 0 sits near `q0_j = dmin·m_j / (d·sc_j)`, which the
//! header already gives. Each sub-block gets an 8-value window `[lo_j, lo_j + 8)`
//! placed around `q0_j`; per nibble one *flag* bit (inside the window or not) is
//! entropy-coded and a 3-bit *index* (position inside the window, or among the 8
//! values outside it) is stored. On our fixtures the flag costs ~0.84 bits, so a
//! nibble costs ~3.84 bits against 3.86 for order-0 coding of the whole nibble,
//! with one coded symbol per eight nibbles.
//!
//! `lo_j = #{t ∈ 4..=11 : dmin·m_j ≥ t·d·sc_j}`, computed in f32. Every product is
//! exact (fp16 has 11 significant bits, sc and m 6, t 4: at most 21 of f32's 24) and
//! never subnormal, so the comparison is exact and does not depend on the CPU's
//! rounding, flush-to-zero or denormals-are-zero modes. NaN compares false.

pub const BLOCK: usize = super::abi::LLMC_Q4K_BLOCK_BYTES as usize;
pub const HEADER: usize = 16;
pub const QS: usize = 128;
/// Flag bytes per block: 16 for the low nibbles of `qs`, 16 for the high nibbles.
pub const FLAG_BYTES: usize = 32;
/// Index bit planes per block: 3 planes × (16 low-nibble + 16 high-nibble bytes).
pub const PLANE_BYTES: usize = 96;

/// Exact fp16 → f32 by bit manipulation (no FPU modes involved).
#[inline(always)]
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = match exp {
        0 if mant == 0 => sign,
        0 => {
            // Subnormal fp16: normalise (f32 has the range for it).
            let shift = mant.leading_zeros() - 21;
            let m = (mant << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (m << 13)
        }
        31 => sign | 0x7f80_0000 | (mant << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

/// `(scale, min)` of sub-block `j` from the packed 12 bytes (llama.cpp's
/// `get_scale_min_k4`).
#[inline(always)]
pub fn scale_min(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        ((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4))
    }
}

/// Window starts `lo_j` of the eight sub-blocks of a block header.
pub fn windows(header: &[u8]) -> [u8; 8] {
    let d = f16_to_f32(u16::from_le_bytes([header[0], header[1]]));
    let dmin = f16_to_f32(u16::from_le_bytes([header[2], header[3]]));
    let mut lo = [0u8; 8];
    for (j, l) in lo.iter_mut().enumerate() {
        let (sc, m) = scale_min(j, &header[4..16]);
        let zero = dmin * f32::from(m);
        let unit = d * f32::from(sc);
        *l = (4..=11u8).filter(|&t| zero >= f32::from(t) * unit).count() as u8;
    }
    lo
}

/// Sub-block of nibble half `h` (0 low, 1 high) of `qs` byte `b`.
#[inline(always)]
pub fn sub_block(b: usize, h: usize) -> usize {
    2 * (b / 32) + h
}

/// Splits a quant into (flag, 3-bit index) for a window starting at `lo`.
#[inline(always)]
pub fn split(q: u8, lo: u8) -> (bool, u8) {
    if q >= lo && q < lo + 8 {
        (true, q - lo)
    } else if q < lo {
        (false, q)
    } else {
        (false, q - 8)
    }
}

/// The inverse of [`split`].
#[inline(always)]
pub const fn merge(flag: bool, index: u8, lo: u8) -> u8 {
    if flag {
        index + lo
    } else if index < lo {
        index
    } else {
        index + 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2^k, exactly: `powi` has unspecified precision (Miri perturbs it on purpose).
    fn pow2(k: i32) -> f64 {
        f64::from_bits(((1023 + k) as u64) << 52)
    }

    #[test]
    fn f16_conversion_matches_the_definition() {
        for h in 0..=u16::MAX {
            let f = f16_to_f32(h);
            let exp = (h >> 10) & 0x1f;
            let mant = f64::from(h & 0x3ff);
            let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
            let expect = match exp {
                0 => sign * mant * pow2(-24),
                31 => continue,
                e => sign * (1.0 + mant / 1024.0) * pow2(i32::from(e) - 15),
            };
            assert_eq!(f64::from(f), expect, "{h:#06x}");
        }
        assert!(f16_to_f32(0x7c00).is_infinite() && f16_to_f32(0x7e00).is_nan());
    }

    #[test]
    fn split_merge_roundtrip_for_every_window() {
        for lo in 0..=8 {
            let mut seen = [[false; 8]; 2];
            for q in 0..16 {
                let (f, i) = split(q, lo);
                assert!(i < 8);
                assert!(!std::mem::replace(&mut seen[usize::from(f)][usize::from(i)], true));
                assert_eq!(merge(f, i, lo), q);
            }
        }
    }
}
