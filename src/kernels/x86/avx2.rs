//! AVX2 decode kernels.
//!
//! bf16: 8 lanes per ymm, `lanes / 8` state vectors. Renormalisation loads eight
//! words into both 128-bit halves and one byte shuffle, chosen by the lane mask
//! from a 256-entry table, zero-extends them into the lanes that need them (and
//! zeroes the rest). The decoder-private slot table keeps the frequency in the top
//! bits; when the chunk's values span at most 256 (nearly always) it also carries
//! `value - base`, so one gather per vector yields everything; otherwise a second
//! gather, by slot, fetches the value bits. The 6-bit raw fields are split with byte shuffles and 16-bit multiplies.

use crate::format::bf16_split::VALUE_SHIFT;
use crate::kernels::{Bf16Model, Bf16Stream, Bf16Tables, ByteStream, BytesModel};
use super::shared::{lookup8, prefetch, prefetch_write, renorm8, PREFETCH_SYMBOLS, PREFETCH_WORDS};
use core::arch::x86_64::*;

/// # Safety
/// The `Bf16Decode` contract (`kernels/mod.rs`) on a CPU with AVX2, BMI2 and POPCNT.
pub(in crate::kernels) unsafe fn bf16_decode(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
    // SAFETY: the caller's contract, passed on.
    unsafe { bf16_decode_with::<false>(m, s) }
}

/// [`bf16_decode`] with its table lookups as scalar loads instead of gathers
/// (see [`lookup8`]).
///
/// # Safety
/// As [`bf16_decode`].
pub(in crate::kernels) unsafe fn bf16_decode_loads(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
    // SAFETY: the caller's contract, passed on.
    unsafe { bf16_decode_with::<true>(m, s) }
}

/// # Safety
/// As [`bf16_decode`].
unsafe fn bf16_decode_with<const LOADS: bool>(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
    // SAFETY: the caller guarantees the CPU features, the stream's bounds (lanes,
    // output and raw lengths, word position) and a class per step, which the
    // loops rely on.
    unsafe {
        match s.lanes {
            32 => bf16_lanes::<4, LOADS>(m, s),
            64 => bf16_lanes::<8, LOADS>(m, s),
            128 => bf16_lanes::<16, LOADS>(m, s),
            _ => {}
        }
    }
}

/// One bf16 table's pointers and value base, as the AVX2 loop reads them.
#[derive(Clone, Copy)]
struct TableRegs {
    tab: *const i32,
    vtab: *const i32,
    value_base: __m256i,
}

#[inline]
#[target_feature(enable = "avx2")]
fn table_regs(t: &Bf16Tables) -> TableRegs {
    TableRegs {
        tab: t.dec_by_value.as_ptr().cast::<i32>(),
        vtab: t.value_by_slot.as_ptr().cast::<i32>(),
        value_base: _mm256_set1_epi32(i32::from(t.value_base) << VALUE_SHIFT),
    }
}

/// The rANS update for 8 lanes from their AVX2-layout entries (before renormalisation).
#[inline]
#[target_feature(enable = "avx2")]
fn update8(x: __m256i, e: __m256i) -> __m256i {
    let freq = _mm256_srli_epi32::<20>(e);
    _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32::<12>(x), freq), _mm256_and_si256(e, _mm256_set1_epi32(0xfff)))
}

/// # Safety
/// The CPU must support AVX2, BMI2 and POPCNT; `s.lanes == 8 * V`, V a multiple of 4;
/// `m` covers the stream's steps (`Bf16Model::covers`).
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn bf16_lanes<const V: usize, const LOADS: bool>(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
    let lanes = 8 * V;
    debug_assert_eq!(lanes, s.lanes);
    let full = s.full_steps();
    let n_words = s.n_words();
    let raw_per_step = s.raw_per_step();
    let mut q = s.word_pos;
    let mut step = s.step;

    let mut x = [_mm256_setzero_si256(); V];
    for (v, xv) in x.iter_mut().enumerate() {
        // SAFETY: states has MAX_LANES >= 8 * V entries.
        *xv = unsafe { _mm256_loadu_si256(s.states.as_ptr().add(8 * v).cast()) };
    }
    let value_mask = _mm256_set1_epi32(0xff << VALUE_SHIFT);
    let low12 = _mm256_set1_epi32(0xfff);
    let zero = _mm256_setzero_si256();
    // Raw fields of 16 values: bytes 0..6 serve values 0..8 (low 128-bit lane),
    // bytes 6..12 values 8..16 (high lane). Word i takes the two bytes holding its field.
    let pick = _mm256_setr_epi8(
        0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6, //
        6, 7, 6, 7, 7, 8, 8, 9, 9, 10, 9, 10, 10, 11, 11, 12,
    );
    // The field starts at bit o = 6i mod 8 = 0, 6, 4, 2 of word i. Low 16-bit
    // multiplies act as per-word left shifts: w << (11 - o) puts the five mantissa
    // bits at 11..16 (then a uniform shift right by 11), w << (10 - o) puts the
    // sign (field bit 5) at bit 15. (mulhi would need one op less but LLVM lowers
    // stdarch's `_mm256_mulhi_epu16` to widening multiplies here.)
    let mant_mul = _mm256_setr_epi16(1 << 11, 1 << 5, 1 << 7, 1 << 9, 1 << 11, 1 << 5, 1 << 7, 1 << 9, 1 << 11, 1 << 5, 1 << 7, 1 << 9, 1 << 11, 1 << 5, 1 << 7, 1 << 9);
    let sign_mul = _mm256_setr_epi16(1 << 10, 1 << 4, 1 << 6, 1 << 8, 1 << 10, 1 << 4, 1 << 6, 1 << 8, 1 << 10, 1 << 4, 1 << 6, 1 << 8, 1 << 10, 1 << 4, 1 << 6, 1 << 8);
    let sign_mask = _mm256_set1_epi16(0x8000_u16 as i16);
    let words = s.words.as_ptr();
    let raw = s.raw.as_ptr();
    let out = s.out.as_mut_ptr();

    // Each vector loads 8 words at its cursor and each 16-value group 16 raw bytes
    // (12 used), hence the slack in the guard.
    // Steps `step..end` with table `t` while words and raw bytes remain. A macro,
    // not a function, so that the states stay in registers between runs.
    macro_rules! run {
        ($t:expr, $end:expr, $dense:expr) => {{
            let t = table_regs($t);
            let dense = $dense;
            while step < $end && n_words - q >= lanes + 8 && (step + 1) * raw_per_step + 4 <= s.raw.len() {
                // Groups of four vectors (32 values): all gathers first, then the updates and
                // renormalisations, then the output of two 16-value halves.
                for g in 0..V / 4 {
                    let mut ent = [zero; 4];
                    let mut vals = [zero; 4];
                    for k in 0..4 {
                        let slot = _mm256_and_si256(x[4 * g + k], low12);
                        // SAFETY: slots are < 4096, the length of both tables.
                        ent[k] = unsafe { lookup8::<LOADS>(t.tab, slot) };
                        if !dense {
                            // SAFETY: as above.
                            vals[k] = unsafe { lookup8::<LOADS>(t.vtab, slot) };
                        }
                    }
                    for k in 0..4 {
                        let e = ent[k];
                        if dense {
                            // Bits 12..20 = value - base: shifted into place (value << 5), plus the base.
                            vals[k] = _mm256_add_epi32(_mm256_and_si256(_mm256_srli_epi32::<7>(e), value_mask), t.value_base);
                        }
                        x[4 * g + k] = update8(x[4 * g + k], e);
                    }
                    for xk in &mut x[4 * g..4 * g + 4] {
                        // SAFETY: the guard keeps q + 8 <= n_words throughout the step.
                        *xk = unsafe { renorm8(*xk, words, &mut q) };
                    }
                    for half in 0..2 {
                        let values = _mm256_permute4x64_epi64::<0xD8>(_mm256_packus_epi32(vals[2 * half], vals[2 * half + 1]));
                        let first = step * lanes + 32 * g + 16 * half;
                        // SAFETY: 16 bytes from first * 6 / 8 end at most 4 bytes past this step's
                        // raw fields, which the guard keeps within `raw`.
                        let r = unsafe { _mm_loadu_si128(raw.add(first * 6 / 8).cast()) };
                        let w = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(r), pick);
                        let mant = _mm256_srli_epi16::<11>(_mm256_mullo_epi16(w, mant_mul));
                        let sign = _mm256_and_si256(_mm256_mullo_epi16(w, sign_mul), sign_mask);
                        let fields = _mm256_or_si256(mant, sign);
                        // SAFETY: values first..first + 16 belong to a full step, within `out`.
                        unsafe { _mm256_storeu_si256(out.add(2 * first).cast(), _mm256_or_si256(values, fields)) };
                    }
                }
                step += 1;
            }
        }};
    }

    // Runs of steps that share a table: with row classes, the steps of
    // consecutive rows of one class; otherwise all of them.
    while step < full {
        let (t, end) = m.run(step, full);
        if t.dense {
            run!(t, end, true);
        } else {
            run!(t, end, false);
        }
        if step < end {
            break; // too few words or raw bytes left for a whole step: the oracle finishes
        }
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: states has MAX_LANES >= 8 * V entries.
        unsafe { _mm256_storeu_si256(s.states.as_mut_ptr().add(8 * v).cast(), *xv) };
    }
    s.word_pos = q;
    s.step = step;
}

/// # Safety
/// The `BytesDecode` contract (`kernels/mod.rs`) on a CPU with AVX2, BMI2 and POPCNT.
pub(in crate::kernels) unsafe fn bytes_decode(m: &BytesModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller's contract, passed on.
    unsafe { bytes_decode_with::<false>(m, s) }
}

/// [`bytes_decode`] with its table lookups as scalar loads (see [`lookup8`]).
///
/// # Safety
/// As [`bytes_decode`].
pub(in crate::kernels) unsafe fn bytes_decode_loads(m: &BytesModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller's contract, passed on.
    unsafe { bytes_decode_with::<true>(m, s) }
}

/// # Safety
/// As [`bytes_decode`].
unsafe fn bytes_decode_with<const LOADS: bool>(m: &BytesModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller guarantees the CPU features, that every symbol's
    // destination lies in `dest` (rows at least 16 wide), as the loop's stores
    // need, and a class per full step.
    unsafe {
        match (s.lanes, m.class.is_empty()) {
            (32, true) => bytes_lanes::<4, false, LOADS>(m, s),
            (64, true) => bytes_lanes::<8, false, LOADS>(m, s),
            (128, true) => bytes_lanes::<16, false, LOADS>(m, s),
            (32, false) => bytes_lanes::<4, true, LOADS>(m, s),
            (64, false) => bytes_lanes::<8, true, LOADS>(m, s),
            (128, false) => bytes_lanes::<16, true, LOADS>(m, s),
            _ => {}
        }
    }
}

/// Byte streams on the AVX2-layout table: the byte value sits in bits 12..20 of
/// each entry; four vectors' worth (32 values) are packed to bytes together.
///
/// # Safety
/// AVX2, BMI2, POPCNT; `s.lanes == 8 * V`, V a multiple of 4; with `CTX`,
/// `m.class` holds a class below `m.tables.len()` for every full step.
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn bytes_lanes<const V: usize, const CTX: bool, const LOADS: bool>(m: &BytesModel<'_>, s: &mut ByteStream<'_>) {
    let lanes = 8 * V;
    let full = s.full_steps();
    let n_words = s.n_words();
    let mut q = s.word_pos;
    let mut step = s.step;
    let mut x = [_mm256_setzero_si256(); V];
    for (v, xv) in x.iter_mut().enumerate() {
        // SAFETY: states has MAX_LANES >= 8 * V entries.
        *xv = unsafe { _mm256_loadu_si256(s.states.as_ptr().add(8 * v).cast()) };
    }
    let mut tab = m.tables[0].dec_avx2.as_ptr().cast::<i32>();
    let low12 = _mm256_set1_epi32(0xfff);
    let byte = _mm256_set1_epi32(0xff);
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let words = s.words.as_ptr();
    let (out, row_log2, stride, offset) = (s.dest.out.as_mut_ptr(), s.dest.row_log2, s.dest.stride, s.dest.offset);
    let at = |i: usize| (i >> row_log2) * stride + offset + (i & ((1usize << row_log2) - 1));
    while step < full && n_words - q >= lanes + 8 {
        if CTX {
            // SAFETY: with CTX every full step has a class below `m.tables.len()`.
            tab = unsafe { m.tables.get_unchecked(usize::from(*m.class.get_unchecked(step))) }.dec_avx2.as_ptr().cast::<i32>();
        }
        for g in 0..V / 4 {
            // Four vectors read at most 32 words (64 bytes) and store 32 symbols:
            // one prefetch of each per group touches every line ahead of use.
            prefetch(words.wrapping_add(2 * (q + PREFETCH_WORDS)));
            prefetch_write(out.wrapping_add(at(step * lanes + 32 * g + PREFETCH_SYMBOLS)));
            let mut syms = [_mm256_setzero_si256(); 4];
            for (k, sym) in syms.iter_mut().enumerate() {
                let v = 4 * g + k;
                // SAFETY: slots are < 4096, the table length.
                let e = unsafe { lookup8::<LOADS>(tab, _mm256_and_si256(x[v], low12)) };
                *sym = _mm256_and_si256(_mm256_srli_epi32::<12>(e), byte);
                x[v] = update8(x[v], e);
            }
            for xk in &mut x[4 * g..4 * g + 4] {
                // SAFETY: the guard keeps q + 8 <= n_words throughout the step.
                *xk = unsafe { renorm8(*xk, words, &mut q) };
            }
            let bytes = _mm256_packus_epi16(_mm256_packus_epi32(syms[0], syms[1]), _mm256_packus_epi32(syms[2], syms[3]));
            let bytes = _mm256_permutevar8x32_epi32(bytes, order);
            let i = step * lanes + 32 * g;
            if row_log2 >= 5 {
                // SAFETY: 32 symbols of a full step in one row: 32 consecutive bytes of
                // `dest`, which the caller sized for all n symbols.
                unsafe { _mm256_storeu_si256(out.add(at(i)).cast(), bytes) };
            } else {
                // SAFETY: 16-wide rows: two rows of 16 consecutive bytes, as above.
                unsafe {
                    _mm_storeu_si128(out.add(at(i)).cast(), _mm256_castsi256_si128(bytes));
                    _mm_storeu_si128(out.add(at(i + 16)).cast(), _mm256_extracti128_si256::<1>(bytes));
                }
            }
        }
        step += 1;
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: states has MAX_LANES >= 8 * V entries.
        unsafe { _mm256_storeu_si256(s.states.as_mut_ptr().add(8 * v).cast(), *xv) };
    }
    s.word_pos = q;
    s.step = step;
}
