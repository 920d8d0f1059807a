//! Folding 5-bit quants, and unfolding them (the same operation;
//! `format::quant_fold::fold` is the oracle): AVX2 two blocks at a time,
//! AVX-512 four. Each block gets its `qh` from a dense array (four bytes a
//! block: a decoded stream, or the blocks' own) and its `qs` folded by it: in a
//! 128-bit lane per block, bit `j` and bit `j + 16` of `qh` are spread to byte
//! `j` with a byte shuffle and tested against that byte's bit, and the nibbles
//! of the quants whose top bit is clear are flipped.

use crate::kernels::scalar::fold_quants5_from;
use core::arch::x86_64::*;

/// Byte `j` of lane `k` takes byte `j / 8` of block `k`'s `qh` (bits 0..16)
/// and, for the high nibbles, byte `2 + j / 8` (bits 16..32), from 16 bytes of
/// `qh` (four blocks); `BIT` selects bit `j % 8`.
static SPREAD_LO: [u8; 64] = spread(0);
static SPREAD_HI: [u8; 64] = spread(2);
const BIT: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];

const fn spread(half: usize) -> [u8; 64] {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = (4 * (i / 16) + half + (i % 16) / 8) as u8;
        i += 1;
    }
    t
}

/// # Safety
/// The `FoldQuants5` contract (`kernels/mod.rs`) on a CPU with AVX2.
#[target_feature(enable = "avx2")]
pub(in crate::kernels) unsafe fn fold_quants5_avx2(blocks: &mut [u8], block: usize, at: usize, qh: &[u8]) {
    let n = blocks.len() / block;
    let p = blocks.as_mut_ptr();
    let pairs = n / 2;
    // SAFETY: 32 and 16 readable bytes.
    let (spread_lo, spread_hi, bit) = unsafe {
        (
            _mm256_loadu_si256(SPREAD_LO.as_ptr().cast()),
            _mm256_loadu_si256(SPREAD_HI.as_ptr().cast()),
            _mm256_broadcastsi128_si256(_mm_loadu_si128(BIT.as_ptr().cast())),
        )
    };
    for i in 0..pairs {
        // SAFETY: blocks 2i and 2i + 1 are whole (2i + 1 < n) and their 20
        // bytes at `at` lie inside them; `qh` holds 4 bytes per block, so its
        // 8 bytes at 8i end at 8i + 8 <= 4n.
        unsafe {
            let (g0, g1) = (p.add(2 * i * block + at), p.add((2 * i + 1) * block + at));
            let h = qh.as_ptr().add(8 * i);
            let hv = _mm256_broadcastsi128_si256(_mm_loadl_epi64(h.cast()));
            let qs = _mm256_loadu2_m128i(g1.add(4).cast(), g0.add(4).cast());
            let set_lo = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(hv, spread_lo), bit), bit);
            let set_hi = _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(hv, spread_hi), bit), bit);
            let flip = _mm256_or_si256(_mm256_andnot_si256(set_lo, _mm256_set1_epi8(0x0f)), _mm256_andnot_si256(set_hi, _mm256_set1_epi8(0xf0u8 as i8)));
            _mm256_storeu2_m128i(g1.add(4).cast(), g0.add(4).cast(), _mm256_xor_si256(qs, flip));
            g0.cast::<u32>().write_unaligned(h.cast::<u32>().read_unaligned());
            g1.cast::<u32>().write_unaligned(h.add(4).cast::<u32>().read_unaligned());
        }
    }
    let done = 2 * pairs;
    fold_quants5_from(&mut blocks[done * block..], block, at, &qh[4 * done..]);
}

/// # Safety
/// The `FoldQuants5` contract (`kernels/mod.rs`) on a CPU with the AVX-512
/// features enabled here.
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
pub(in crate::kernels) unsafe fn fold_quants5_avx512(blocks: &mut [u8], block: usize, at: usize, qh: &[u8]) {
    let n = blocks.len() / block;
    // SAFETY: 64 and 16 readable bytes.
    let (spread_lo, spread_hi, bit) = unsafe {
        (
            _mm512_loadu_si512(SPREAD_LO.as_ptr().cast()),
            _mm512_loadu_si512(SPREAD_HI.as_ptr().cast()),
            _mm512_broadcast_i32x4(_mm_loadu_si128(BIT.as_ptr().cast())),
        )
    };
    let p = blocks.as_mut_ptr();
    let quads = n / 4;
    for i in 0..quads {
        // SAFETY: blocks 4i..4i + 4 are whole (4i + 3 < n) and their 20 bytes
        // at `at` lie inside them; `qh` holds 4 bytes per block, so its 16
        // bytes at 16i end at 16i + 16 <= 4n.
        unsafe {
            let g = p.add(4 * i * block + at);
            let h = _mm_loadu_si128(qh.as_ptr().add(16 * i).cast());
            let hv = _mm512_broadcast_i32x4(h);
            let qs = _mm512_castsi128_si512(_mm_loadu_si128(g.add(4).cast()));
            let qs = _mm512_inserti32x4::<1>(qs, _mm_loadu_si128(g.add(block + 4).cast()));
            let qs = _mm512_inserti32x4::<2>(qs, _mm_loadu_si128(g.add(2 * block + 4).cast()));
            let qs = _mm512_inserti32x4::<3>(qs, _mm_loadu_si128(g.add(3 * block + 4).cast()));
            let clear_lo = _mm512_testn_epi8_mask(_mm512_shuffle_epi8(hv, spread_lo), bit);
            let clear_hi = _mm512_testn_epi8_mask(_mm512_shuffle_epi8(hv, spread_hi), bit);
            let flip = _mm512_or_si512(_mm512_maskz_mov_epi8(clear_lo, _mm512_set1_epi8(0x0f)), _mm512_maskz_mov_epi8(clear_hi, _mm512_set1_epi8(0xf0u8 as i8)));
            let qs = _mm512_xor_si512(qs, flip);
            _mm_storeu_si128(g.add(4).cast(), _mm512_castsi512_si128(qs));
            _mm_storeu_si128(g.add(block + 4).cast(), _mm512_extracti32x4_epi32::<1>(qs));
            _mm_storeu_si128(g.add(2 * block + 4).cast(), _mm512_extracti32x4_epi32::<2>(qs));
            _mm_storeu_si128(g.add(3 * block + 4).cast(), _mm512_extracti32x4_epi32::<3>(qs));
            g.cast::<i32>().write_unaligned(_mm_cvtsi128_si32(h));
            g.add(block).cast::<i32>().write_unaligned(_mm_extract_epi32::<1>(h));
            g.add(2 * block).cast::<i32>().write_unaligned(_mm_extract_epi32::<2>(h));
            g.add(3 * block).cast::<i32>().write_unaligned(_mm_extract_epi32::<3>(h));
        }
    }
    let done = 4 * quads;
    fold_quants5_from(&mut blocks[done * block..], block, at, &qh[4 * done..]);
}
