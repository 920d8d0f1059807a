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

/// The header model of payload mode 2 ("fields", FORMAT.md §7): the 16 header
/// bytes of a block become `d` and `dmin` split into bytes (the low bytes stored
/// raw, the high bytes coded) and the sixteen 6-bit `sc_j`, `m_j`, coded with a
/// context each that the decoder knows from the block's earlier fields.
pub mod fields {
    /// Coded fields (segments) per block: `d` hi, `dmin` hi, `sc_0..8`, `m_0..8`.
    pub const SEGMENTS: usize = 18;
    /// Context families: `d` hi (one context), `dmin` hi, the scales, the mins.
    pub const FAMILIES: usize = 4;
    /// Contexts per family (all below 32: one table index per context).
    pub const CONTEXTS: [usize; FAMILIES] = [1, 32, 19, 31];
    /// Tables a family may have (the maps hold 4-bit table indices).
    pub const MAX_TABLES: usize = 16;
    /// Scale context of `sc_7` in a block where no earlier scale is 63 (the
    /// largest scale of a block is 63 by construction, so it nearly always is).
    pub const SC_LAST: u8 = 18;
    /// Scale context of `sc_0`.
    pub const SC_FIRST: u8 = 16;
    /// Min context of `m_7` in a block where no earlier min is 63.
    pub const M_LAST: u8 = 30;
    /// Buckets of the predicted min.
    pub const M_BUCKETS: u32 = 15;

    /// The family of segment `s`.
    pub const fn family(s: usize) -> usize {
        match s {
            0 => 0,
            1 => 1,
            2..=9 => 2,
            _ => 3,
        }
    }

    /// Most tables a chunk of `n` blocks may carry (all families together):
    /// bounds the decoder's table memory by the chunk's size.
    pub fn max_tables(n: usize) -> usize {
        4 + n / 128
    }

    /// Context of `dmin`'s high byte: `d`'s high byte, capped.
    #[inline(always)]
    pub fn dmin_context(d_hi: u8) -> u8 {
        d_hi.min(31)
    }

    /// A block's factor from `sc_j` to the bucket of its predicted min
    /// (`m ≈ 7.5·d·sc/dmin`, buckets of 5): `f32(15·d) / f32(10·dmin)` (both
    /// products exact, the division rounded as IEEE 754 says: the same on
    /// every CPU), clamped to `[0, 15]` (NaN: 0), in 11-bit fixed point
    /// (truncated; the scaling by 2^11 is exact).
    #[inline(always)]
    pub fn m_factor(d: f32, dmin: f32) -> u16 {
        let r = (15.0 * d) / (10.0 * dmin);
        let r = if r > 0.0 { r } else { 0.0 };
        let r = if r < 15.0 { r } else { 15.0 };
        // SAFETY: r · 2^11 is in [0, 30720]: truncation to i32 is defined.
        unsafe { (r * 2048.0).to_int_unchecked::<i32>() as u16 }
    }

    /// The bucket of a min from its block's [`m_factor`] and its sub-block's
    /// scale: `min((32·sc · factor) >> 16, M_BUCKETS − 1)` (`sc` below 64).
    #[inline(always)]
    pub fn m_bucket(factor: u16, sc: u8) -> u8 {
        let q = (u32::from(u16::from(sc) << 5) * u32::from(factor)) >> 16;
        q.min(M_BUCKETS - 1) as u8
    }

    /// Packs eight scales and mins (each below 64) into llama.cpp's 12 bytes
    /// (the decoders pack a row of blocks at a time, `kernels/q4k_ctx.rs`).
    #[cfg(test)]
    pub fn pack_scales(sc: &[u8; 8], m: &[u8; 8]) -> [u8; 12] {
        let mut s = [0u8; 12];
        for j in 0..4 {
            s[j] = sc[j] | (sc[j + 4] >> 4) << 6;
            s[j + 4] = m[j] | (m[j + 4] >> 4) << 6;
            s[j + 8] = (sc[j + 4] & 15) | (m[j + 4] & 15) << 4;
        }
        s
    }

    /// fp16 → f32 without branches (vectorises); equal to [`super::f16_to_f32`].
    #[inline(always)]
    pub fn f16_to_f32_branchless(h: u16) -> f32 {
        let h = u32::from(h);
        let sign = (h >> 15) << 31;
        let exp = (h >> 10) & 0x1f;
        let mant = h & 0x3ff;
        let normal = ((exp + 112) << 23) | (mant << 13);
        // mant · 2^-24 is exact in f32.
        let sub = (mant as f32 * (1.0 / 16_777_216.0)).to_bits();
        let special = 0x7f80_0000 | (mant << 13);
        let bits = if exp == 0 { sub } else if exp == 31 { special } else { normal };
        f32::from_bits(bits | sign)
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

    #[test]
    fn branchless_f16_matches() {
        for h in 0..=u16::MAX {
            assert_eq!(fields::f16_to_f32_branchless(h).to_bits(), f16_to_f32(h).to_bits(), "{h:#06x}");
        }
    }

    #[test]
    fn scales_pack_as_llama_cpp_unpacks() {
        let mut seed = 1u32;
        for _ in 0..1000 {
            let mut r = || {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (seed >> 16) as u8 & 63
            };
            let sc: [u8; 8] = core::array::from_fn(|_| r());
            let m: [u8; 8] = core::array::from_fn(|_| r());
            let packed = fields::pack_scales(&sc, &m);
            for j in 0..8 {
                assert_eq!(scale_min(j, &packed), (sc[j], m[j]));
            }
        }
    }
}
