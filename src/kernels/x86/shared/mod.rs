//! Pieces several kernel files use, so no kernel file imports another: the
//! Q4_K window-merge lookup tables, an SSE2 16×16 byte transpose, the byte
//! kernels' prefetch distances, the AVX-512 symbol-byte permute, AVX2
//! renormalisation (`renorm8`), the Q4_K field kernels' contexts (`q4k_ctx`)
//! and the byte-stream steps of the permute family (`bytes_permute`), which
//! `avx512.rs` runs inside its own stream driver.

pub(in crate::kernels::x86) mod bytes_permute;
pub(in crate::kernels::x86) mod q4k_ctx;
mod renorm8;

pub(in crate::kernels::x86) use renorm8::renorm8;

use crate::format::q4k_block::merge;
use crate::rans::PROB_SCALE;
use core::arch::x86_64::*;

const fn idx_sym() -> [u8; 64] {
    // Byte 3 of each of the 32 dword entries in two vectors: the symbol.
    let mut a = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        a[i] = (4 * (i % 32) + 3) as u8;
        i += 1;
    }
    a
}

/// For `vpermi2b` over two vectors of 16 table entries: the symbol byte of each.
pub(in crate::kernels::x86) static IDX_SYM: [u8; 64] = idx_sym();

/// How far ahead of the renormalisation loads the byte kernels prefetch the word
/// stream, in words (2 KiB, a dozen steps at 128 lanes). Those loads sit on the
/// states' dependency chain, and large payloads stream from L3 or memory, where
/// the hardware prefetcher alone leaves every lane waiting on a miss now and then
/// (Q8_0 token_embd: about a quarter of the kernel's time).
pub(super) const PREFETCH_WORDS: usize = 1024;

/// How far ahead of its stores a byte kernel prefetches its output (for writing),
/// in symbols: the rows of a block field are 34 or 22 bytes apart, not a stream
/// the hardware prefetcher always follows.
pub(super) const PREFETCH_SYMBOLS: usize = 2048;

/// Prefetches the cache line at `p` for reading. Any address is fine: a prefetch
/// never faults, and `p` is only formed with wrapping arithmetic, never read.
#[inline(always)]
pub(super) fn prefetch(p: *const u8) {
    // SAFETY: a prefetch is a hint; it reads nothing the program sees and never
    // faults, whatever the address. SSE is baseline on x86-64.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
}

/// Prefetches the cache line at `p` for writing (`prefetchw` where the CPU has it,
/// a plain prefetch otherwise); as [`prefetch`], any address is fine.
#[inline(always)]
pub(super) fn prefetch_write(p: *const u8) {
    // SAFETY: as for `prefetch`.
    unsafe { _mm_prefetch::<_MM_HINT_ET0>(p.cast()) }
}

/// Row `lo` (0..=8): byte `key = flag << 3 | index` → the quant, shifted left by `shift`.
const fn merge_table(shift: u32) -> [[u8; 16]; 9] {
    let mut t = [[0u8; 16]; 9];
    let mut lo = 0;
    while lo < 9 {
        let mut key = 0;
        while key < 16 {
            t[lo][key] = merge(key >= 8, (key & 7) as u8, lo as u8) << shift;
            key += 1;
        }
        lo += 1;
    }
    t
}

/// The window merge for low nibbles, and for high nibbles (already in place).
pub(super) static MERGE: [[u8; 16]; 9] = merge_table(0);
pub(super) static MERGE_HIGH: [[u8; 16]; 9] = merge_table(4);

/// 16×16 byte transpose: `rows[p]` byte `u` → result `[u]` byte `p` (SSE2 only).
#[inline]
#[target_feature(enable = "sse2")]
pub(super) fn transpose16_sse(rows: &[__m128i; 16]) -> [__m128i; 16] {
    // Four rounds of interleaving: bytes, words, dwords, qwords.
    let mut a = *rows;
    let mut b = [_mm_setzero_si128(); 16];
    for i in 0..8 {
        b[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
        b[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
    }
    for i in 0..4 {
        for k in 0..2 {
            a[4 * i + k] = _mm_unpacklo_epi16(b[4 * i + k], b[4 * i + k + 2]);
            a[4 * i + k + 2] = _mm_unpackhi_epi16(b[4 * i + k], b[4 * i + k + 2]);
        }
    }
    for i in 0..2 {
        for k in 0..4 {
            b[8 * i + k] = _mm_unpacklo_epi32(a[8 * i + k], a[8 * i + k + 4]);
            b[8 * i + k + 4] = _mm_unpackhi_epi32(a[8 * i + k], a[8 * i + k + 4]);
        }
    }
    for k in 0..8 {
        a[k] = _mm_unpacklo_epi64(b[k], b[k + 8]);
        a[k + 8] = _mm_unpackhi_epi64(b[k], b[k + 8]);
    }
    // After the four rounds the rows come out in bit-reversed-ish order; map back.
    let mut out = [_mm_setzero_si128(); 16];
    for (u, o) in out.iter_mut().enumerate() {
        *o = a[TRANSPOSE_ORDER[u]];
    }
    out
}

/// Which register holds block `u` after the interleave rounds (derived in the test).
const TRANSPOSE_ORDER: [usize; 16] = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];

/// The slots of four state vectors (64 lanes, each below 4096) as the permute
/// kernels look them up: the slots as words (`w01`: vectors 0–1, `w23`: 2–3, in
/// the packs' in-lane order), and each slot's bucket (`slot >> 4`) and offset
/// (`slot & 15`) as bytes, byte `16l + 4v + j` for lane `4l + j` of vector `v`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
pub(in crate::kernels::x86) fn pack_slots(slot: [__m512i; 4]) -> [__m512i; 4] {
    let nibble = _mm512_set1_epi16(0x0f);
    let w01 = _mm512_packus_epi32(slot[0], slot[1]);
    let w23 = _mm512_packus_epi32(slot[2], slot[3]);
    let bucket = _mm512_packus_epi16(_mm512_srli_epi16::<4>(w01), _mm512_srli_epi16::<4>(w23));
    let offset = _mm512_packus_epi16(_mm512_and_si512(w01, nibble), _mm512_and_si512(w23, nibble));
    [w01, w23, bucket, offset]
}

/// Bytes looked up for 64 lanes packed as [`pack_slots`] packs them, widened to
/// the dwords `b[0] | b[1] << 8 | b[2] << 16`, one register per state vector in
/// lane order (the unpacks undo the packs).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
pub(in crate::kernels::x86) fn widen_bytes(b: [__m512i; 3]) -> [__m512i; 4] {
    let zero = _mm512_setzero_si512();
    let (w0, w1) = (_mm512_unpacklo_epi8(b[0], b[1]), _mm512_unpackhi_epi8(b[0], b[1]));
    let (h0, h1) = (_mm512_unpacklo_epi8(b[2], zero), _mm512_unpackhi_epi8(b[2], zero));
    [_mm512_unpacklo_epi16(w0, h0), _mm512_unpackhi_epi16(w0, h0), _mm512_unpacklo_epi16(w1, h1), _mm512_unpackhi_epi16(w1, h1)]
}

/// `vpexpandw` from a register, for every AVX-512 renormalisation. Written out
/// because the compiler folds the separate word load into the expand; the
/// register form decoded the whole gemma GGUF 2 % faster on AMD Zen 4 (bf16 and
/// Q4_K alike) and is no slower on Intel.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi2")]
pub(in crate::kernels::x86) fn expand_words(k: __mmask16, w: __m256i) -> __m256i {
    let r: __m256i;
    // SAFETY: a register-only instruction the enabled features provide.
    unsafe { core::arch::asm!("vpexpandw {r}{{{k}}}{{z}}, {w}", r = lateout(ymm_reg) r, k = in(kreg) k, w = in(ymm_reg) w, options(pure, nomem, nostack)) };
    r
}

/// One 16-lane rANS encode step, the core of every AVX-512 encoder: `sv` holds
/// the lanes' symbols (indices into the packed freq/cum table), `xp` their 16
/// states; the words they emit are compressed into lane order and stored just
/// below `pos`, which moves down by their count. The division is
/// `rans::encode::div_f32`'s: one f32 division and a correction, where a table of
/// reciprocals would take two more gathers (slow on AMD Zen 4).
///
/// # Safety
/// The CPU has the features enabled here; every lane of `sv` indexes inside
/// `packed`; `xp` points at 16 writable states; `buf` has at least `pos`
/// writable words and `pos` >= the words this step emits (at most 16).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")]
pub(super) unsafe fn rans_encode_step16(sv: __m512i, packed: *const i32, xp: *mut u32, buf: *mut u16, pos: usize) -> usize {
    // SAFETY: the caller guarantees every index is inside `packed`.
    let e = unsafe { _mm512_i32gather_epi32::<4>(sv, packed) };
    // SAFETY: `xp` points at 16 states (caller).
    let x = unsafe { _mm512_loadu_si512(xp.cast()) };
    let (freq, cum) = (_mm512_and_si512(e, _mm512_set1_epi32(0xfff)), _mm512_srli_epi32::<12>(e));
    // SAFETY: the caller's `buf` and `pos` guarantee.
    let (xn, pos) = unsafe { rans_encode_update16(freq, cum, x, buf, pos) };
    // SAFETY: as for the load.
    unsafe { _mm512_storeu_si512(xp.cast(), xn) };
    pos
}

/// The state update of [`rans_encode_step16`] for the lanes' frequencies and
/// starts (already looked up) and states `x`: returns the new states and `pos`.
///
/// # Safety
/// The CPU has the features enabled here; `buf` has at least `pos` writable
/// words and `pos` >= the words this step emits (at most 16).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")]
pub(super) unsafe fn rans_encode_update16(freq: __m512i, cum: __m512i, x: __m512i, buf: *mut u16, pos: usize) -> (__m512i, usize) {
    let scale = _mm512_set1_epi32(PROB_SCALE as i32);
    let one = _mm512_set1_epi32(1);
    let emit = _mm512_cmpge_epu32_mask(x, _mm512_slli_epi32::<20>(freq));
    let k = emit.count_ones() as usize;
    let pos = pos - k;
    let words = _mm256_maskz_compress_epi16(emit, _mm512_cvtepi32_epi16(x));
    // SAFETY: writes words pos..pos + k, below the caller's pos, inside `buf`.
    unsafe { _mm256_mask_storeu_epi16(buf.add(pos).cast(), ((1u32 << k) - 1) as u16, words) };
    let x = _mm512_mask_srli_epi32(x, emit, x, 16);
    // q = x / freq: the f32 quotient truncated, then one step on the remainder.
    let q = _mm512_cvttps_epu32(_mm512_div_ps(_mm512_cvtepu32_ps(x), _mm512_cvtepi32_ps(freq)));
    let r = _mm512_sub_epi32(x, _mm512_mullo_epi32(q, freq));
    let q = _mm512_mask_sub_epi32(q, _mm512_cmplt_epi32_mask(r, _mm512_setzero_si512()), q, one);
    let q = _mm512_mask_add_epi32(q, _mm512_cmpge_epi32_mask(r, freq), q, one);
    (_mm512_add_epi32(_mm512_add_epi32(x, cum), _mm512_mullo_epi32(q, _mm512_sub_epi32(scale, freq))), pos)
}

/// `table[i]` for the 8 indices in `idx`: one gather, or with `LOADS` eight
/// scalar loads put together with inserts. AMD Zen 3 takes about 10 cycles for an
/// 8-lane gather (3.5 ns measured on a 2-core EPYC VM) and decodes bf16 15 %
/// faster with the loads; Intel's gathers are the faster choice there
/// (`isa::slow_gathers` picks, in `Kernels::get`).
///
/// # Safety
/// AVX2; `table` is readable at every index in `idx` (non-negative).
#[inline]
#[target_feature(enable = "avx2")]
pub(in crate::kernels::x86) unsafe fn lookup8<const LOADS: bool>(table: *const i32, idx: __m256i) -> __m256i {
    if !LOADS {
        // SAFETY: per the contract.
        return unsafe { _mm256_i32gather_epi32::<4>(table, idx) };
    }
    let (lo, hi) = (_mm256_castsi256_si128(idx), _mm256_extracti128_si256::<1>(idx));
    let (a, b) = (_mm_cvtsi128_si64(lo) as u64, _mm_extract_epi64::<1>(lo) as u64);
    let (c, d) = (_mm_cvtsi128_si64(hi) as u64, _mm_extract_epi64::<1>(hi) as u64);
    // SAFETY: each is one of the indices, readable per the contract.
    let at = |i: u64| unsafe { *table.add(i as u32 as usize) };
    let four = |p: u64, q: u64| _mm_insert_epi32::<3>(_mm_insert_epi32::<2>(_mm_insert_epi32::<1>(_mm_cvtsi32_si128(at(p)), at(p >> 32)), at(q)), at(q >> 32));
    _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(four(a, b)), four(c, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose16_sse_is_a_transpose() {
        if !crate::isa::Isa::Avx2.is_supported() {
            return;
        }
        // SAFETY: SSE2 is baseline on x86-64.
        let mut rows = [unsafe { _mm_setzero_si128() }; 16];
        let mut src = [[0u8; 16]; 16];
        for (p, r) in src.iter_mut().enumerate() {
            for (u, b) in r.iter_mut().enumerate() {
                *b = (16 * p + u) as u8;
            }
        }
        for p in 0..16 {
            // SAFETY: 16 readable bytes.
            rows[p] = unsafe { _mm_loadu_si128(src[p].as_ptr().cast()) };
        }
        // SAFETY: AVX2 checked above.
        let t = unsafe { transpose16_sse(&rows) };
        for (u, reg) in t.iter().enumerate() {
            let mut got = [0u8; 16];
            // SAFETY: 16 writable bytes.
            unsafe { _mm_storeu_si128(got.as_mut_ptr().cast(), *reg) };
            let expect: Vec<u8> = (0..16).map(|p| (16 * p + u) as u8).collect();
            assert_eq!(got.to_vec(), expect, "block {u}; register holding it: {:?}", got.first().map(|b| b % 16));
        }
    }
}
