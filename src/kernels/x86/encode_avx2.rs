//! AVX2 encode kernels; each produces exactly the bytes of its scalar
//! specification in `kernels/encode.rs`.
//!
//! * bf16 scan and pack: per 32 words, the raw fields are packed with two
//!   multiply-adds and one byte shuffle (24 bytes out), while the value
//!   histogram is counted in scalar registers from the same cache lines (the
//!   pack adds each 32-word block's value sum, for ranking rows).
//! * rANS encoders of byte symbols (one table, or an entry index per symbol):
//!   8 lanes a vector, the same step as the bf16 value encoder.
//! * Q4_K split: per 32 nibbles, the flags are two signed compares (quants and
//!   windows are below 16) and each index plane one shift and `movemask`.
//! * bf16 value encoder: `rans::encode::encode_bf16_full_steps` with 8 lanes per
//!   vector, for CPUs without AVX-512 (AMD Zen 2 and 3, Intel client cores),
//!   where the scalar loop encoded bf16 at 0.46 GB/s. The values come straight
//!   from the words, one gather from the value-indexed table, the division in
//!   f32 with one correction, and the emitted words compressed with a byte
//!   shuffle from a table of the 256 emit masks (AVX2 has no compress).

use crate::format::bf16_split::{raw_len, NUM_VALUES};
use crate::format::q4k_block::{f16_to_f32, scale_min, BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES};
use crate::kernels::encode::{block_sums_from, count_values, merge_counts, pack_raw_from, q4k_header, NO_COUNTS};
use crate::rans::encode::{EncTable, BF16_VALUES};
use crate::rans::PROB_SCALE;
use super::shared::lookup8;
use core::arch::x86_64::*;

/// `COMPRESS_RIGHT[m]`: the byte shuffle that moves the words of the lanes set
/// in `m` (of eight 16-bit words) to the top of the vector, lowest lane
/// lowest, so that storing the vector to end at `pos` puts the emitted words
/// at `pos - k .. pos`, where the scalar encoder puts them.
static COMPRESS_RIGHT: [[u8; 16]; 256] = {
    let mut t = [[0x80u8; 16]; 256];
    let mut m = 0;
    while m < 256 {
        let k = (m as u32).count_ones() as usize;
        let (mut lane, mut slot) = (0, 8 - k);
        while lane < 8 {
            if m & (1 << lane) != 0 {
                t[m][2 * slot] = (2 * lane) as u8;
                t[m][2 * slot + 1] = (2 * lane + 1) as u8;
                slot += 1;
            }
            lane += 1;
        }
        m += 1;
    }
    t
};

/// # Safety
/// The CPU supports `Isa::Avx2`'s features; `src.len() / 2` is a multiple of
/// `lanes`, which is 32, 64 or 128; `states.len() >= lanes`; `buf` has at least
/// `pos` writable words and `pos >= src.len() / 2`. `loads`: look the table up
/// with scalar loads instead of gathers (`shared::lookup8`; same bytes).
#[target_feature(enable = "avx2,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn bf16_values_encode(src: &[u8], lanes: usize, t: &EncTable<BF16_VALUES>, states: &mut [u32], buf: &mut [u16], pos: usize, loads: bool) -> usize {
    // SAFETY: the caller's contract, and `lanes == 8 * V` for the arm taken.
    unsafe {
        match (lanes, loads) {
            (32, false) => values_encode_lanes::<4, false>(src, t, states, buf, pos),
            (64, false) => values_encode_lanes::<8, false>(src, t, states, buf, pos),
            (128, false) => values_encode_lanes::<16, false>(src, t, states, buf, pos),
            (32, true) => values_encode_lanes::<4, true>(src, t, states, buf, pos),
            (64, true) => values_encode_lanes::<8, true>(src, t, states, buf, pos),
            (128, true) => values_encode_lanes::<16, true>(src, t, states, buf, pos),
            _ => unreachable!("the contract allows 32, 64 or 128 lanes"),
        }
    }
}

/// [`bf16_values_encode`] for `8 * V` lanes. Per step, every vector's entries
/// are gathered before any state is updated: the gathers do not depend on the
/// states and overlap the updates' dependency chains.
///
/// # Safety
/// As [`bf16_values_encode`], with `lanes == 8 * V`.
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn values_encode_lanes<const V: usize, const LOADS: bool>(src: &[u8], t: &EncTable<BF16_VALUES>, states: &mut [u32], buf: &mut [u16], mut pos: usize) -> usize {
    let packed = t.packed.as_ptr().cast::<i32>();
    let values = _mm256_set1_epi32(0x3ff);
    let mut x = [_mm256_setzero_si256(); V];
    for (v, xv) in x.iter_mut().enumerate() {
        // SAFETY: states.len() >= lanes = 8 * V.
        *xv = unsafe { _mm256_loadu_si256(states.as_ptr().add(8 * v).cast()) };
    }
    for group in src.chunks_exact(16 * V).rev() {
        let mut e = [_mm256_setzero_si256(); V];
        for (v, ev) in e.iter_mut().enumerate() {
            // SAFETY: the 8 words at 8 * v lie inside the group.
            let w = _mm256_cvtepu16_epi32(unsafe { _mm_loadu_si128(group.as_ptr().add(16 * v).cast()) });
            // SAFETY: values are < 1024, the table's length.
            *ev = unsafe { lookup8::<LOADS>(packed, _mm256_and_si256(_mm256_srli_epi32::<5>(w), values)) };
        }
        for v in (0..V).rev() {
            let (freq, cum) = (_mm256_and_si256(e[v], _mm256_set1_epi32(0xfff)), _mm256_srli_epi32::<12>(e[v]));
            // SAFETY: each symbol emits at most one word, and pos >= the
            // symbols still to encode (at least this vector's 8).
            (x[v], pos) = unsafe { encode_update8(freq, cum, x[v], buf.as_mut_ptr(), pos) };
        }
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: as for the loads.
        unsafe { _mm256_storeu_si256(states.as_mut_ptr().add(8 * v).cast(), *xv) };
    }
    pos
}

/// One rANS encode step on 8 lanes (`rans::encode::encode_steps_by` on each,
/// highest lane first): the words of the lanes that renormalise are written
/// below `pos` (lowest lane lowest); returns the new states and `pos`.
///
/// # Safety
/// AVX2; `buf` has at least `pos` writable words and `pos >= 8`.
#[inline]
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn encode_update8(freq: __m256i, cum: __m256i, x: __m256i, buf: *mut u16, pos: usize) -> (__m256i, usize) {
    // Emit while x >= freq << 20 (unsigned): max(x, bound) == x.
    let emit = _mm256_cmpeq_epi32(_mm256_max_epu32(x, _mm256_slli_epi32::<20>(freq)), x);
    let mask = _mm256_movemask_ps(_mm256_castsi256_ps(emit)) as usize;
    let k = mask.count_ones() as usize;
    // The low words of the eight states, in lane order, in one 128-bit vector.
    let low = _mm256_shuffle_epi8(x, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1));
    let low = _mm256_castsi256_si128(_mm256_permute4x64_epi64::<0b1000>(low));
    // SAFETY: a 16-byte table row.
    let order = unsafe { _mm_loadu_si128(COMPRESS_RIGHT[mask].as_ptr().cast()) };
    // SAFETY: writes words pos - 8 .. pos (pos >= 8), inside `buf`; the words
    // below pos - k are scratch, overwritten by the steps still to come (as
    // the scalar encoder's unkept stores are).
    unsafe { _mm_storeu_si128(buf.add(pos - 8).cast(), _mm_shuffle_epi8(low, order)) };
    let x = _mm256_blendv_epi8(x, _mm256_srli_epi32::<16>(x), emit);
    // q = x / freq: the f32 quotient truncated, then one step on the remainder.
    // x < 2^32 is converted exactly in two halves (AVX2 converts only signed
    // dwords), rounded once in their sum; q < 2^20, so the quotient is off by
    // at most one.
    let xf = _mm256_add_ps(
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32::<16>(x)), _mm256_set1_ps(65536.0)),
        _mm256_cvtepi32_ps(_mm256_and_si256(x, _mm256_set1_epi32(0xffff))),
    );
    let q = _mm256_cvttps_epi32(_mm256_div_ps(xf, _mm256_cvtepi32_ps(freq)));
    let r = _mm256_sub_epi32(x, _mm256_mullo_epi32(q, freq));
    // The compares give −1 where true: add the first (q − 1 where r < 0),
    // subtract the second (q + 1 where r >= freq).
    let q = _mm256_add_epi32(q, _mm256_cmpgt_epi32(_mm256_setzero_si256(), r));
    let q = _mm256_sub_epi32(q, _mm256_cmpgt_epi32(r, _mm256_sub_epi32(freq, _mm256_set1_epi32(1))));
    let cmpl = _mm256_sub_epi32(_mm256_set1_epi32(PROB_SCALE as i32), freq);
    (_mm256_add_epi32(_mm256_add_epi32(x, cum), _mm256_mullo_epi32(q, cmpl)), pos - k)
}

/// # Safety
/// The CPU supports `Isa::Avx2`'s features; `src.len()` is even and
/// `raw.len() >= raw_len(src.len() / 2) + RAW_SLACK`.
#[target_feature(enable = "avx2,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn bf16_scan(src: &[u8], hist: &mut [u32; NUM_VALUES], raw: &mut [u8]) {
    let mut part = NO_COUNTS;
    let blocks = pack_blocks(src, raw, |_, words, _, _| count_values(words, &mut part));
    count_values(&src[64 * blocks..], &mut part);
    merge_counts(&part, hist);
}

/// # Safety
/// The CPU supports `Isa::Avx2`'s features; `src.len()` is even,
/// `raw.len() >= raw_len(src.len() / 2) + RAW_SLACK` and
/// `sums.len() >= (src.len() / 2).div_ceil(SUM_BLOCK)`.
#[target_feature(enable = "avx2,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn bf16_pack_sums(src: &[u8], raw: &mut [u8], sums: &mut [u32]) {
    let (values, ones) = (_mm256_set1_epi16(0x3ff), _mm256_set1_epi16(1));
    let blocks = pack_blocks(src, raw, |b, _, w0, w1| {
        // The block's 32 values (each below 1024) as 8 partial sums, then one.
        let partial = |w: __m256i| _mm256_madd_epi16(_mm256_and_si256(_mm256_srli_epi16::<5>(w), values), ones);
        let s = _mm256_add_epi32(partial(w0), partial(w1));
        let s = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b0100_1110>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b1011_0001>(s));
        sums[b] = _mm_cvtsi128_si32(s) as u32;
    });
    block_sums_from(src, blocks, sums);
}

/// Packs the raw fields of `src` into `raw` (whole blocks of 32 words here
/// but the last, the rest by the scalar code) and hands each block's index,
/// bytes and two vectors to `per_block`, the scans' other work on the same
/// lines. Returns the number of blocks it handed over.
#[inline]
#[target_feature(enable = "avx2,bmi2,popcnt")]
fn pack_blocks(src: &[u8], raw: &mut [u8], mut per_block: impl FnMut(usize, &[u8], __m256i, __m256i)) -> usize {
    // Each block stores 16 bytes at 24b and at 24b + 12, 4 past its own 24:
    // the last whole block is left to the scalar code, so no store leaves `raw`.
    let blocks = (src.len() / 64).saturating_sub(1);
    assert!(raw.len() >= raw_len(src.len() / 2), "raw fields do not fit");
    let (low5, sign) = (_mm256_set1_epi16(0x1f), _mm256_set1_epi16(0x20));
    let (pairs, quads) = (_mm256_set1_epi16(0x4001), _mm256_set1_epi32(0x1000_0001));
    // Bytes 0, 1, 2 of each 32-bit group of 24 bits, per 128-bit half.
    let compact = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1, 0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    for b in 0..blocks {
        let words = &src[64 * b..64 * b + 64];
        // SAFETY: two 32-byte loads from the 64 bytes of `words`.
        let (w0, w1) = unsafe { (_mm256_loadu_si256(words.as_ptr().cast()), _mm256_loadu_si256(words.as_ptr().add(32).cast())) };
        // field = w & 0x1f | (w >> 15) << 5, one per 16-bit lane.
        let field = |w: __m256i| _mm256_or_si256(_mm256_and_si256(w, low5), _mm256_and_si256(_mm256_srli_epi16::<10>(w), sign));
        // Bytes in word order (the in-lane pack interleaves the halves' quarters).
        let bytes = _mm256_permute4x64_epi64::<0b1101_1000>(_mm256_packus_epi16(field(w0), field(w1)));
        // f0 | f1 << 6 per byte pair, then p0 | p1 << 12 per pair of pairs: 24 bits.
        let packed = _mm256_shuffle_epi8(_mm256_madd_epi16(_mm256_maddubs_epi16(bytes, pairs), quads), compact);
        // SAFETY: bytes 24b .. 24b + 28 of the packed string: b + 1 < src.len() / 64,
        // so they end within raw_len(n) (24 bytes per block).
        unsafe {
            _mm_storeu_si128(raw.as_mut_ptr().add(24 * b).cast(), _mm256_castsi256_si128(packed));
            _mm_storeu_si128(raw.as_mut_ptr().add(24 * b + 12).cast(), _mm256_extracti128_si256::<1>(packed));
        }
        per_block(b, words, w0, w1);
    }
    pack_raw_from(src, 4 * blocks, raw);
    blocks
}

/// # Safety
/// The CPU supports `Isa::Avx2`'s features; `src.len()` is a multiple of
/// `BLOCK` and, for its `n` blocks, `headers.len() == HEADER * n`,
/// `flags.len() == FLAG_BYTES * n`, `planes.len() == PLANE_BYTES * n`.
#[target_feature(enable = "avx2,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn q4k_split(src: &[u8], headers: &mut [u8], flags: &mut [u8], planes: &mut [u8]) {
    let n = src.len() / BLOCK;
    let nibble = _mm256_set1_epi8(0x0f);
    let eight = _mm256_set1_epi8(8);
    for (k, block) in src.chunks_exact(BLOCK).enumerate() {
        q4k_header(block, k, n, headers);
        let lo = windows(&block[..HEADER]);
        let f = &mut flags[FLAG_BYTES * k..][..FLAG_BYTES];
        let pl = &mut planes[PLANE_BYTES * k..][..PLANE_BYTES];
        for j in 0..4 {
            // SAFETY: qs bytes 32j .. 32j + 32 lie inside the 144-byte block.
            let qs = unsafe { _mm256_loadu_si256(block.as_ptr().add(HEADER + 32 * j).cast()) };
            for h in 0..2 {
                let q = if h == 0 { _mm256_and_si256(qs, nibble) } else { _mm256_and_si256(_mm256_srli_epi16::<4>(qs), nibble) };
                // qs bytes 32j .. 32j + 32 are in sub-block 2j + h.
                let window = _mm256_set1_epi8(lo[2 * j + h] as i8);
                // Quants and windows are below 16: signed byte compares serve.
                let d = _mm256_sub_epi8(q, window);
                let below = _mm256_cmpgt_epi8(window, q);
                let inside = _mm256_andnot_si256(below, _mm256_cmpgt_epi8(eight, d));
                // Index: q - 8 above the window, q below it, q - lo inside.
                let index = _mm256_blendv_epi8(_mm256_blendv_epi8(_mm256_sub_epi8(q, eight), q, below), d, inside);
                // Bytes 16h + 8m .. (m = j / 2) of the flags and each plane, the
                // first or second four as j is even or odd.
                let at = 16 * h + 4 * j;
                f[at..at + 4].copy_from_slice(&_mm256_movemask_epi8(inside).to_le_bytes());
                // Bit p of each index byte moved to its top bit, then gathered.
                let plane = |shifted: __m256i| _mm256_movemask_epi8(shifted).to_le_bytes();
                pl[at..at + 4].copy_from_slice(&plane(_mm256_slli_epi16::<7>(index)));
                pl[32 + at..32 + at + 4].copy_from_slice(&plane(_mm256_slli_epi16::<6>(index)));
                pl[64 + at..64 + at + 4].copy_from_slice(&plane(_mm256_slli_epi16::<5>(index)));
            }
        }
    }
}

/// `q4k_block::windows` with the 8 sub-blocks' comparisons in one vector (the
/// same single-precision products and compares, so the same windows).
#[inline]
#[target_feature(enable = "avx2")]
fn windows(header: &[u8]) -> [u8; 8] {
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
        // −1 where zero >= t · unit: subtracting it counts.
        let ge = _mm256_cmp_ps::<_CMP_GE_OQ>(zero, _mm256_mul_ps(_mm256_set1_ps(f32::from(t)), unit));
        count = _mm256_sub_epi32(count, _mm256_castps_si256(ge));
    }
    let mut c = [0u32; 8];
    // SAFETY: 32 bytes into an 8-dword array.
    unsafe { _mm256_storeu_si256(c.as_mut_ptr().cast(), count) };
    c.map(|v| v as u8)
}

/// The `RansEncode` kernel (`kernels/mod.rs`): byte symbols, one table, 8
/// lanes a vector, the states kept in `states` between steps.
///
/// # Safety
/// The `RansEncode` contract on a CPU with AVX2, BMI2 and POPCNT.
pub(in crate::kernels) unsafe fn rans_encode(syms: &[u8], lanes: usize, t: &EncTable, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    // SAFETY: the caller's contract, passed on.
    unsafe { symbols_encode::<false>(syms, lanes, t, states, buf, pos) }
}

/// [`rans_encode`] with the table looked up by scalar loads (`shared::lookup8`).
///
/// # Safety
/// As [`rans_encode`].
pub(in crate::kernels) unsafe fn rans_encode_loads(syms: &[u8], lanes: usize, t: &EncTable, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    // SAFETY: the caller's contract, passed on.
    unsafe { symbols_encode::<true>(syms, lanes, t, states, buf, pos) }
}

/// # Safety
/// As [`rans_encode`].
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn symbols_encode<const LOADS: bool>(syms: &[u8], lanes: usize, t: &EncTable, states: &mut [u32], buf: &mut [u16], mut pos: usize) -> usize {
    let packed = t.packed.as_ptr().cast::<i32>();
    for group in syms.chunks_exact(lanes).rev() {
        for v in (0..lanes / 8).rev() {
            // SAFETY: 8 symbol bytes at 8 * v lie inside the group.
            let sv = _mm256_cvtepu8_epi32(unsafe { _mm_loadl_epi64(group.as_ptr().add(8 * v).cast()) });
            // SAFETY: symbols are < 256, the table's length; lanes 8 * v .. 8 * v + 8
            // are < lanes <= states.len(); each symbol emits at most one word and
            // pos >= the symbols still to encode.
            pos = unsafe { encode_entries8(lookup8::<LOADS>(packed, sv), states.as_mut_ptr().add(8 * v), buf.as_mut_ptr(), pos) };
        }
    }
    pos
}

/// The `RansEncodeIndexed` kernel (`kernels/mod.rs`): each symbol given as its
/// entry's index in `packed` (a table per symbol).
///
/// # Safety
/// The `RansEncodeIndexed` contract on a CPU with AVX2, BMI2 and POPCNT.
pub(in crate::kernels) unsafe fn rans_encode_indexed(idx: &[u32], lanes: usize, packed: &[u32], states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    // SAFETY: the caller's contract, passed on.
    unsafe { indexed_encode::<false>(idx, lanes, packed, states, buf, pos) }
}

/// [`rans_encode_indexed`] with the entries looked up by scalar loads.
///
/// # Safety
/// As [`rans_encode_indexed`].
pub(in crate::kernels) unsafe fn rans_encode_indexed_loads(idx: &[u32], lanes: usize, packed: &[u32], states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    // SAFETY: the caller's contract, passed on.
    unsafe { indexed_encode::<true>(idx, lanes, packed, states, buf, pos) }
}

/// # Safety
/// As [`rans_encode_indexed`].
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn indexed_encode<const LOADS: bool>(idx: &[u32], lanes: usize, packed: &[u32], states: &mut [u32], buf: &mut [u16], mut pos: usize) -> usize {
    let packed = packed.as_ptr().cast::<i32>();
    for group in idx.chunks_exact(lanes).rev() {
        for v in (0..lanes / 8).rev() {
            // SAFETY: 8 indices at 8 * v lie inside the group.
            let sv = unsafe { _mm256_loadu_si256(group.as_ptr().add(8 * v).cast()) };
            // SAFETY: every index is inside the table (contract); lanes 8 * v ..
            // 8 * v + 8 are < lanes <= states.len(); each symbol emits at most one
            // word and pos >= the symbols still to encode.
            pos = unsafe { encode_entries8(lookup8::<LOADS>(packed, sv), states.as_mut_ptr().add(8 * v), buf.as_mut_ptr(), pos) };
        }
    }
    pos
}

/// One encode step on the 8 states at `x` from their entries
/// (`freq | cum << 12`); returns the new `pos`.
///
/// # Safety
/// AVX2; `x` readable and writable for 8 states; `buf` has at least `pos`
/// writable words and `pos >= 8`.
#[inline]
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn encode_entries8(e: __m256i, x: *mut u32, buf: *mut u16, pos: usize) -> usize {
    let (freq, cum) = (_mm256_and_si256(e, _mm256_set1_epi32(0xfff)), _mm256_srli_epi32::<12>(e));
    // SAFETY: per the contract.
    unsafe {
        let (xn, pos) = encode_update8(freq, cum, _mm256_loadu_si256(x.cast()), buf, pos);
        _mm256_storeu_si256(x.cast(), xn);
        pos
    }
}
