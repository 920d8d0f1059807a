//! AVX-512 (F/BW/VL/VBMI) encode kernels; each produces exactly the bytes of its
//! scalar specification in `kernels/encode.rs`.
//!
//! * bf16 scan: per 64 words, the raw fields are packed with two multiply-adds
//!   and one byte permute (48 bytes out), while the value histogram is counted
//!   in scalar registers from the same cache lines.
//! * bf16 pack: the same raw fields, and each 32-word block's value sum (one
//!   multiply-add and one reduction), for chunks whose rows are ranked first.
//! * bf16 value encoder: `rans::encode::encode_bf16_full_steps` with 16 lanes per
//!   vector: the values come straight from the words (no symbol pass), one gather
//!   from the value-indexed table, the division in f32 with one correction.
//! * Q4_K split: per 64 nibbles, the flags are one unsigned compare and each index
//!   plane one bit test, both straight into 64-bit masks (the byte layout of the
//!   flag and plane bytes).

use crate::format::bf16_split::{raw_len, NUM_VALUES};
use crate::format::q4k_block::{f16_to_f32, scale_min, BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES};
use crate::kernels::encode::{block_sums_from, count_values, merge_counts, pack_raw_from, q4k_header, ValueWindow, NO_COUNTS, SUM_BLOCK};
use super::shared::{rans_encode_update16, widen_bytes};
use crate::rans::encode::{EncTable, BF16_VALUES};
use core::arch::x86_64::*;

/// # Safety
/// The CPU supports `Isa::Avx512`'s features; `src.len()` is even and
/// `raw.len() >= raw_len(src.len() / 2) + RAW_SLACK`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn bf16_scan(src: &[u8], hist: &mut [u32; NUM_VALUES], raw: &mut [u8]) {
    let n = src.len() / 2;
    debug_assert!(raw.len() >= raw_len(n));
    let mut part = NO_COUNTS;
    let blocks = pack_blocks(src, raw, |_, words, _, _| count_values(words, &mut part));
    count_values(&src[128 * blocks..], &mut part);
    merge_counts(&part, hist);
}

/// # Safety
/// The CPU supports `Isa::Avx512`'s features; `src.len()` is even,
/// `raw.len() >= raw_len(src.len() / 2) + RAW_SLACK` and
/// `sums.len() >= (src.len() / 2).div_ceil(SUM_BLOCK)`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn bf16_pack_sums(src: &[u8], raw: &mut [u8], sums: &mut [u32]) {
    let n = src.len() / 2;
    debug_assert!(raw.len() >= raw_len(n) && sums.len() >= n.div_ceil(SUM_BLOCK));
    let values = _mm512_set1_epi16(0x3ff);
    let ones = _mm512_set1_epi16(1);
    // The value sums of a 32-word vector, as 16 partial sums.
    let partial = |w: __m512i| _mm512_madd_epi16(_mm512_and_si512(_mm512_srli_epi16::<5>(w), values), ones);
    let blocks = pack_blocks(src, raw, |b, _, w0, w1| {
        // Each 32-word half's value sum (32 values below 1024 fit any lane).
        sums[2 * b] = _mm512_reduce_add_epi32(partial(w0)) as u32;
        sums[2 * b + 1] = _mm512_reduce_add_epi32(partial(w1)) as u32;
    });
    block_sums_from(src, 2 * blocks, sums);
}

/// Packs the raw fields of `src` into `raw` (all of them: whole blocks of 64
/// words here, the rest by the scalar code) and hands each whole block's index,
/// bytes and two vectors to `per_block`, the scans' other work on the same
/// lines. Returns the number of whole blocks.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi")]
fn pack_blocks(src: &[u8], raw: &mut [u8], mut per_block: impl FnMut(usize, &[u8], __m512i, __m512i)) -> usize {
    let blocks = src.len() / 128;
    assert!(raw.len() >= raw_len(src.len() / 2), "raw fields do not fit");
    let (low5, sign) = (_mm512_set1_epi16(0x1f), _mm512_set1_epi16(0x20));
    let (pairs, quads) = (_mm512_set1_epi16(0x4001), _mm512_set1_epi32(0x1000_0001));
    // Bytes 0, 1, 2 of each 32-bit group of 24 bits, in order.
    let mut idx = [0u8; 64];
    for (j, b) in idx.iter_mut().enumerate().take(48) {
        *b = (j / 3 * 4 + j % 3) as u8;
    }
    // SAFETY: 64 bytes from a 64-byte array (`loadu` has no alignment need).
    let compact = unsafe { _mm512_loadu_si512(idx.as_ptr().cast()) };
    for b in 0..blocks {
        let words = &src[128 * b..128 * b + 128];
        // The chunk's first touch: ask for its lines 2 KiB ahead (a prefetch never
        // faults, so the address may run past the end).
        _mm_prefetch::<_MM_HINT_T0>(words.as_ptr().wrapping_add(2048).cast());
        _mm_prefetch::<_MM_HINT_T0>(words.as_ptr().wrapping_add(2048 + 64).cast());
        // SAFETY: two 64-byte loads from the 128 bytes of `words`.
        let (w0, w1) = unsafe { (_mm512_loadu_si512(words.as_ptr().cast()), _mm512_loadu_si512(words.as_ptr().add(64).cast())) };
        // field = w & 0x1f | (w >> 15) << 5, one per 16-bit lane, then bytes.
        let f0 = _mm512_ternarylogic_epi32::<0xf8>(_mm512_and_si512(w0, low5), _mm512_srli_epi16::<10>(w0), sign);
        let f1 = _mm512_ternarylogic_epi32::<0xf8>(_mm512_and_si512(w1, low5), _mm512_srli_epi16::<10>(w1), sign);
        let bytes = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(_mm512_cvtepi16_epi8(f0)), _mm512_cvtepi16_epi8(f1));
        // f0 | f1 << 6 per byte pair, then p0 | p1 << 12 per pair of pairs: 24 bits.
        let packed = _mm512_madd_epi16(_mm512_maddubs_epi16(bytes, pairs), quads);
        // SAFETY: bytes 48b .. 48b + 48 of the packed string, inside `raw` (asserted:
        // 48 · blocks <= raw_len(n)).
        unsafe { _mm512_mask_storeu_epi8(raw.as_mut_ptr().add(48 * b).cast(), (1u64 << 48) - 1, _mm512_permutexvar_epi8(compact, packed)) };
        per_block(b, words, w0, w1);
    }
    pack_raw_from(src, 8 * blocks, raw);
    blocks
}

/// # Safety
/// The CPU supports `Isa::Avx512`'s features; `lanes` is 32, 64 or 128;
/// `src.len() / 2` is a multiple of `lanes`, `states.len() >= lanes`,
/// `src.len() / 2 <= pos <= buf.len()`, `window.start + 128 <= 1024`, and
/// `window` made from `t` (else the bytes are wrong, nothing worse).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn bf16_values_encode(src: &[u8], lanes: usize, t: &EncTable<BF16_VALUES>, window: &ValueWindow, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    // SAFETY: the caller's contract, and `lanes == 16 * V` for the arm taken.
    unsafe {
        match lanes {
            32 => values_encode_lanes::<2>(src, t, states, buf, pos),
            64 => values_encode_window::<4>(src, t, window, states, buf, pos),
            128 => values_encode_window::<8>(src, t, window, states, buf, pos),
            _ => unreachable!("the contract allows 32, 64 or 128 lanes"),
        }
    }
}

/// [`bf16_values_encode`] for `16 * V` lanes (`V` a multiple of 4) with the table
/// entries of the values `window.start ..` (128 of them) looked up by byte permutes (as
/// frequency and start bytes), 64 lanes at a time, and gathered only for lanes
/// whose value lies outside. The packs and unpacks are the decoder's
/// (`x86/avx512.rs`): packed bytes come back to their lanes when widened.
///
/// # Safety
/// As [`bf16_values_encode`], with `lanes == 16 * V`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2,popcnt")]
unsafe fn values_encode_window<const V: usize>(src: &[u8], t: &EncTable<BF16_VALUES>, window: &ValueWindow, states: &mut [u32], buf: &mut [u16], mut pos: usize) -> usize {
    let packed = t.packed.as_ptr().cast::<i32>();
    let bytes = &window.bytes;
    // SAFETY: 64-byte loads from 128-byte arrays.
    let tab = |k: usize, h: usize| unsafe { _mm512_loadu_si512(bytes[k].as_ptr().add(64 * h).cast()) };
    let (fl0, fl1, fh0, fh1) = (tab(0, 0), tab(0, 1), tab(1, 0), tab(1, 1));
    let (cl0, cl1, ch0, ch1) = (tab(2, 0), tab(2, 1), tab(3, 0), tab(3, 1));
    let values = _mm512_set1_epi32(0x3ff);
    let base = _mm512_set1_epi32(i32::from(window.start));
    let width = _mm512_set1_epi32(128);
    let zero = _mm512_setzero_si512();
    let mut x = [_mm512_setzero_si512(); V];
    for (v, xv) in x.iter_mut().enumerate() {
        // SAFETY: states.len() >= lanes = 16 * V.
        *xv = unsafe { _mm512_loadu_si512(states.as_ptr().add(16 * v).cast()) };
    }
    for group in src.chunks_exact(32 * V).rev() {
        let mut freq = [zero; V];
        let mut cum = [zero; V];
        for g in 0..V / 4 {
            let mut value = [zero; 4];
            let mut index = [zero; 4];
            let mut outside = [0u16; 4];
            for v in 0..4 {
                // SAFETY: the 16 words at 16 * (4g + v) lie inside the group.
                let w = _mm512_cvtepu16_epi32(unsafe { _mm256_loadu_si256(group.as_ptr().add(32 * (4 * g + v)).cast()) });
                value[v] = _mm512_and_si512(_mm512_srli_epi32::<5>(w), values);
                index[v] = _mm512_sub_epi32(value[v], base);
                outside[v] = _mm512_cmpge_epu32_mask(index[v], width);
            }
            // Indices outside saturate to 0 or 255 and read some entry; the
            // gathers below replace them.
            let idx = _mm512_packus_epi16(_mm512_packus_epi32(index[0], index[1]), _mm512_packus_epi32(index[2], index[3]));
            let fl = _mm512_permutex2var_epi8(fl0, idx, fl1);
            let fh = _mm512_permutex2var_epi8(fh0, idx, fh1);
            let cl = _mm512_permutex2var_epi8(cl0, idx, cl1);
            let ch = _mm512_permutex2var_epi8(ch0, idx, ch1);
            let (f, c) = (widen_bytes([fl, fh, zero]), widen_bytes([cl, ch, zero]));
            for v in 0..4 {
                let (mut fv, mut cv) = (f[v], c[v]);
                if outside[v] != 0 {
                    // SAFETY: values are < 1024, the table's length.
                    let e = unsafe { _mm512_mask_i32gather_epi32::<4>(zero, outside[v], value[v], packed) };
                    fv = _mm512_mask_and_epi32(fv, outside[v], e, _mm512_set1_epi32(0xfff));
                    cv = _mm512_mask_srli_epi32(cv, outside[v], e, 12);
                }
                (freq[4 * g + v], cum[4 * g + v]) = (fv, cv);
            }
        }
        for v in (0..V).rev() {
            // SAFETY: each symbol emits at most one word and pos >= the symbols
            // still to encode.
            (x[v], pos) = unsafe { rans_encode_update16(freq[v], cum[v], x[v], buf.as_mut_ptr(), pos) };
        }
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: as for the loads.
        unsafe { _mm512_storeu_si512(states.as_mut_ptr().add(16 * v).cast(), *xv) };
    }
    pos
}

/// [`bf16_values_encode`] for `16 * V` lanes, the states in registers. Per step,
/// every vector's entries are gathered before any state is updated: the
/// gathers do not depend on the states, and issued together they overlap the
/// updates' long dependency chains (the f32 division among them).
///
/// # Safety
/// As [`bf16_values_encode`], with `lanes == 16 * V`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")]
unsafe fn values_encode_lanes<const V: usize>(src: &[u8], t: &EncTable<BF16_VALUES>, states: &mut [u32], buf: &mut [u16], mut pos: usize) -> usize {
    let packed = t.packed.as_ptr().cast::<i32>();
    let values = _mm512_set1_epi32(0x3ff);
    let mut x = [_mm512_setzero_si512(); V];
    for (v, xv) in x.iter_mut().enumerate() {
        // SAFETY: states.len() >= lanes = 16 * V.
        *xv = unsafe { _mm512_loadu_si512(states.as_ptr().add(16 * v).cast()) };
    }
    for group in src.chunks_exact(32 * V).rev() {
        let mut e = [_mm512_setzero_si512(); V];
        for (v, ev) in e.iter_mut().enumerate() {
            // SAFETY: the 16 words at 16 * v lie inside the group.
            let w = _mm512_cvtepu16_epi32(unsafe { _mm256_loadu_si256(group.as_ptr().add(32 * v).cast()) });
            // SAFETY: values are < 1024, the table's length.
            *ev = unsafe { _mm512_i32gather_epi32::<4>(_mm512_and_si512(_mm512_srli_epi32::<5>(w), values), packed) };
        }
        for v in (0..V).rev() {
            // SAFETY: each symbol emits at most one word and pos >= the symbols
            // still to encode.
            let (freq, cum) = (_mm512_and_si512(e[v], _mm512_set1_epi32(0xfff)), _mm512_srli_epi32::<12>(e[v]));
            (x[v], pos) = unsafe { rans_encode_update16(freq, cum, x[v], buf.as_mut_ptr(), pos) };
        }
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: as for the loads.
        unsafe { _mm512_storeu_si512(states.as_mut_ptr().add(16 * v).cast(), *xv) };
    }
    pos
}

/// # Safety
/// The CPU supports `Isa::Avx512`'s features; `src.len()` is a multiple of
/// `BLOCK` and, for its `n` blocks, `headers.len() == HEADER * n`,
/// `flags.len() == FLAG_BYTES * n`, `planes.len() == PLANE_BYTES * n`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn q4k_split(src: &[u8], headers: &mut [u8], flags: &mut [u8], planes: &mut [u8]) {
    let n = src.len() / BLOCK;
    let nibble = _mm512_set1_epi8(0x0f);
    let eight = _mm512_set1_epi8(8);
    let bits = [_mm512_set1_epi8(1), _mm512_set1_epi8(2), _mm512_set1_epi8(4)];
    for (k, block) in src.chunks_exact(BLOCK).enumerate() {
        q4k_header(block, k, n, headers);
        // SAFETY: the caller guarantees the CPU features.
        let lo = unsafe { windows(&block[..HEADER]) };
        let f = &mut flags[FLAG_BYTES * k..][..FLAG_BYTES];
        let pl = &mut planes[PLANE_BYTES * k..][..PLANE_BYTES];
        for m in 0..2 {
            // SAFETY: qs bytes 64m .. 64m + 64 lie inside the 144-byte block.
            let qs = unsafe { _mm512_loadu_si512(block.as_ptr().add(HEADER + 64 * m).cast()) };
            for h in 0..2 {
                let q = if h == 0 { _mm512_and_si512(qs, nibble) } else { _mm512_and_si512(_mm512_srli_epi16::<4>(qs), nibble) };
                // qs bytes 64m .. 64m + 32 are in sub-block 4m + h, the next 32 in 4m + 2 + h.
                let window = _mm512_mask_blend_epi8(!0u64 << 32, _mm512_set1_epi8(lo[4 * m + h] as i8), _mm512_set1_epi8(lo[4 * m + 2 + h] as i8));
                let d = _mm512_sub_epi8(q, window);
                let inside = _mm512_cmplt_epu8_mask(d, eight);
                let below = _mm512_cmplt_epu8_mask(q, window);
                // Index: q - 8 above the window, q below it, q - lo inside.
                let index = _mm512_mask_mov_epi8(_mm512_mask_mov_epi8(_mm512_sub_epi8(q, eight), below, q), inside, d);
                let at = 16 * h + 8 * m;
                f[at..at + 8].copy_from_slice(&inside.to_le_bytes());
                for (p, bit) in bits.iter().enumerate() {
                    pl[32 * p + at..32 * p + at + 8].copy_from_slice(&_mm512_test_epi8_mask(index, *bit).to_le_bytes());
                }
            }
        }
    }
}

/// `q4k_block::windows`, the eight sub-blocks at once: the same f32 products
/// (exact, see there) and ordered comparisons (NaN compares false).
///
/// # Safety
/// The CPU supports `Isa::Avx512`'s features.
#[target_feature(enable = "avx512f,avx512vl")]
unsafe fn windows(header: &[u8]) -> [u8; 8] {
    let d = f16_to_f32(u16::from_le_bytes([header[0], header[1]]));
    let dmin = f16_to_f32(u16::from_le_bytes([header[2], header[3]]));
    let (mut sc, mut m) = ([0f32; 8], [0f32; 8]);
    for j in 0..8 {
        let (a, b) = scale_min(j, &header[4..16]);
        sc[j] = f32::from(a);
        m[j] = f32::from(b);
    }
    // SAFETY: 8 floats from 8-float arrays.
    let (sc, m) = unsafe { (_mm256_loadu_ps(sc.as_ptr()), _mm256_loadu_ps(m.as_ptr())) };
    let zero = _mm256_mul_ps(_mm256_set1_ps(dmin), m);
    let unit = _mm256_mul_ps(_mm256_set1_ps(d), sc);
    let mut count = _mm256_setzero_si256();
    for t in 4..=11u8 {
        let ge = _mm256_cmp_ps_mask::<_CMP_GE_OQ>(zero, _mm256_mul_ps(_mm256_set1_ps(f32::from(t)), unit));
        count = _mm256_mask_sub_epi32(count, ge, count, _mm256_set1_epi32(-1));
    }
    let mut lo = [0u8; 8];
    // SAFETY: 8 bytes into an 8-byte array (counts are at most 8).
    unsafe { _mm_storel_epi64(lo.as_mut_ptr().cast(), _mm256_cvtepi32_epi8(count)) };
    lo
}
