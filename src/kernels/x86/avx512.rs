//! AVX-512 (F/BW/VL/VBMI/VBMI2) decode kernels.
//!
//! bf16: 16 lanes per zmm, `lanes / 16` state vectors. Per vector and step: one
//! gather from the slot table, the rANS update, and renormalisation with one
//! expand of 16-bit words (loaded whole, expanded in registers). Per pair of vectors (32 values): the symbol
//! bytes are picked out of the table entries, mapped to value bits with VBMI byte
//! permutes, and merged with the 6-bit raw fields, which one multishift turns
//! into 16-bit words in place.
//!
//! Byte streams: the same step; 32 symbols per pair of vectors are picked out of
//! the table entries with one byte permute and stored in place (rows of the
//! blocks, or contiguous). The last steps, for which fewer than a step's worth of
//! words remain, run on a zero-padded copy of those words, so only the partial
//! last step is left to the scalar oracle.

use crate::kernels::{Bf16Model, Bf16Stream, Bf16Tables, ByteStream, BytesModel};
use super::shared::{expand_words, pack_slots, prefetch, prefetch_write, rans_encode_step16, IDX_SYM, PREFETCH_SYMBOLS, PREFETCH_WORDS};
use crate::rans::encode::EncTable;
use crate::rans::RANS_L;
use core::arch::x86_64::*;

/// # Safety
/// The `Bf16Decode` contract (`kernels/mod.rs`) on a CPU with `Isa::Avx512`'s features.
pub(in crate::kernels) unsafe fn bf16_decode(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
    // SAFETY: the caller's contract.
    unsafe { bf16_by_lanes::<false>(m, s) }
}

/// Like [`bf16_decode`], but symbols are looked up in slot buckets with byte
/// permutes (`kernels/buckets.rs`) wherever a run's table has them and the
/// stream has 64 or 128 lanes; the gather path does the rest.
///
/// # Safety
/// As [`bf16_decode`].
pub(in crate::kernels) unsafe fn bf16_decode_permute(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
    // SAFETY: the caller's contract.
    unsafe { bf16_by_lanes::<true>(m, s) }
}

/// # Safety
/// As [`bf16_decode`].
unsafe fn bf16_by_lanes<const PERMUTE: bool>(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
    // SAFETY: the caller guarantees the CPU features, the stream's bounds (lanes,
    // output and raw lengths, word position) and a class per step, which the
    // loops rely on; permute lookups take groups of four vectors.
    unsafe {
        match s.lanes {
            32 => bf16_lanes::<2, false>(m, s),
            64 => bf16_lanes::<4, PERMUTE>(m, s),
            128 => bf16_lanes::<8, PERMUTE>(m, s),
            _ => {}
        }
    }
}

const fn idx_interleave() -> [u8; 64] {
    // Word i = (lo[i], hi[i]).
    let mut a = [0u8; 64];
    let mut i = 0;
    while i < 32 {
        a[2 * i] = i as u8;
        a[2 * i + 1] = 64 + i as u8;
        i += 1;
    }
    a
}

const fn idx_spread() -> [u8; 64] {
    // Qword j gets raw bytes 3j..3j+3 (four 6-bit fields).
    let mut a = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        let b = if i % 8 < 2 { i % 8 } else { 2 };
        a[i] = (3 * (i / 8) + b) as u8;
        i += 1;
    }
    a
}

const fn ctl_words() -> [u8; 64] {
    // Word v of a qword: low byte from bit 6v (mantissa bits in 0..5), high byte
    // from bit 6v-2 (mod 64) so that the field's sign lands in bit 7.
    let mut a = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        let v = (i % 8) / 2;
        a[i] = if i % 2 == 0 { (6 * v) as u8 } else { ((6 * v + 62) % 64) as u8 };
        i += 1;
    }
    a
}

const fn idx_unpack_values(half: usize) -> [u8; 64] {
    // Word w = (lo[p], hi[p]) for value u = 32·half + w of a group, which the
    // packs put at byte p = 16l + 4v + j (v = u / 16, lane i = u % 16 = 4l + j).
    let mut a = [0u8; 64];
    let mut w = 0;
    while w < 32 {
        let u = 32 * half + w;
        let (v, i) = (u / 16, u % 16);
        let p = 16 * (i / 4) + 4 * v + i % 4;
        a[2 * w] = p as u8;
        a[2 * w + 1] = 64 + p as u8;
        w += 1;
    }
    a
}

static IDX_INTERLEAVE: [u8; 64] = idx_interleave();
static IDX_UNPACK_VALUES: [[u8; 64]; 2] = [idx_unpack_values(0), idx_unpack_values(1)];
static IDX_SPREAD: [u8; 64] = idx_spread();
static CTL_WORDS: [u8; 64] = ctl_words();

#[inline]
#[target_feature(enable = "avx512f")]
fn load64(bytes: &[u8; 64]) -> __m512i {
    // SAFETY: `bytes` is 64 readable bytes; unaligned loads are allowed.
    unsafe { _mm512_loadu_si512(bytes.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load_table(bytes: &[u8; 256], quarter: usize) -> __m512i {
    let q: &[u8; 64] = bytes[64 * quarter..64 * quarter + 64].try_into().expect("64 bytes");
    load64(q)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load_half(bytes: &[u8], half: usize) -> __m512i {
    load64(bytes[64 * half..64 * half + 64].try_into().expect("64 bytes"))
}

/// A bf16 table as the gather steps use it: the canonical slot table and the
/// value bytes.
struct GatherTables {
    dec: *const i32,
    value_lo: [__m512i; 4],
    value_hi: [__m512i; 4],
}

impl GatherTables {
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load(t: &Bf16Tables) -> GatherTables {
        GatherTables {
            dec: t.dec.as_ptr().cast::<i32>(),
            value_lo: core::array::from_fn(|k| load_table(&t.value_lo, k)),
            value_hi: core::array::from_fn(|k| load_table(&t.value_hi, k)),
        }
    }
}

/// A bf16 table's slot buckets and value bytes, as the permute steps use them.
struct PermuteTables {
    start: [__m512i; 4],
    split: [__m512i; 4],
    delta: [__m512i; 2],
    freq_lo: [__m512i; 2],
    freq_hi: [__m512i; 2],
    cum_lo: [__m512i; 2],
    cum_hi: [__m512i; 2],
    value_lo: [__m512i; 2],
    value_hi: [__m512i; 2],
}

impl PermuteTables {
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load(t: &Bf16Tables) -> PermuteTables {
        let b = &t.buckets;
        PermuteTables {
            start: core::array::from_fn(|k| load_half(&b.start, k)),
            split: core::array::from_fn(|k| load_half(&b.split, k)),
            delta: core::array::from_fn(|k| load_half(&b.delta, k)),
            freq_lo: core::array::from_fn(|k| load_half(&b.freq_lo, k)),
            freq_hi: core::array::from_fn(|k| load_half(&b.freq_hi, k)),
            cum_lo: core::array::from_fn(|k| load_half(&b.cum_lo, k)),
            cum_hi: core::array::from_fn(|k| load_half(&b.cum_hi, k)),
            value_lo: core::array::from_fn(|k| load_table(&t.value_lo, k)),
            value_hi: core::array::from_fn(|k| load_table(&t.value_hi, k)),
        }
    }
}

/// # Safety
/// The CPU must support the enabled features; `s.lanes == 16 * V`; `m` covers
/// the stream's steps (`Bf16Model::covers`); with `PERMUTE`, `V` is a multiple of 4.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2,popcnt")]
unsafe fn bf16_lanes<const V: usize, const PERMUTE: bool>(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
    let lanes = 16 * V;
    debug_assert_eq!(lanes, s.lanes);
    let full = s.full_steps();
    let n_words = s.n_words();
    let raw_per_step = s.raw_per_step();
    let mut q = s.word_pos;
    let mut step = s.step;

    let mut x = [_mm512_setzero_si512(); V];
    for (v, xv) in x.iter_mut().enumerate() {
        // SAFETY: states has MAX_LANES >= 16 * V entries.
        *xv = unsafe { _mm512_loadu_si512(s.states.as_ptr().add(16 * v).cast()) };
    }
    let idx_sym = load64(&IDX_SYM);
    let idx_il = load64(&IDX_INTERLEAVE);
    let spread = load64(&IDX_SPREAD);
    let ctl = load64(&CTL_WORDS);
    let keep = _mm512_set1_epi16(0x801f_u16 as i16);
    let words = s.words.as_ptr().cast::<i16>();
    let raw = s.raw.as_ptr();
    let out = s.out.as_mut_ptr();

    // Steps `step..end` with table `t`, while a whole step's words and raw bytes
    // remain (each step reads at most `lanes` words and exactly `raw_per_step`
    // raw bytes). A macro, not a function, so that the states stay in registers
    // from one run of steps to the next.
    macro_rules! run {
        ($t:expr, $end:expr, $big:expr) => {{
            let gt = GatherTables::load($t);
            while step < $end && n_words - q >= lanes && (step + 1) * raw_per_step <= s.raw.len() {
                gather_step!(gt, $big);
            }
        }};
    }

    // Row classes: every step loads its own class's tables (see `run_permute_each!`).
    macro_rules! run_each {
        ($big:expr) => {{
            while step < full && n_words - q >= lanes && (step + 1) * raw_per_step <= s.raw.len() {
                let gt = GatherTables::load(m.at(step));
                gather_step!(gt, $big);
            }
        }};
    }

    // One step on the canonical slot table (gathers); `$big`: some symbol ids
    // are 128 or more. Run only under the loops' guard (a whole step's words
    // and raw bytes left), which the step's SAFETY comments rely on.
    macro_rules! gather_step {
        ($gt:expr, $big:expr) => {{
            let gt: &GatherTables = &$gt;
            for p in 0..V / 2 {
                let mut e = [_mm512_setzero_si512(); 2];
                for (h, eh) in e.iter_mut().enumerate() {
                    // SAFETY: the loop guard keeps q + lanes <= n_words for the whole step.
                    (x[2 * p + h], *eh) = unsafe { step16(x[2 * p + h], gt.dec, words, &mut q) };
                }
                let syms = _mm512_permutex2var_epi8(e[0], idx_sym, e[1]);
                let mut lo = _mm512_permutex2var_epi8(gt.value_lo[0], syms, gt.value_lo[1]);
                let mut hi = _mm512_permutex2var_epi8(gt.value_hi[0], syms, gt.value_hi[1]);
                if $big {
                    let upper = _mm512_movepi8_mask(syms);
                    lo = _mm512_mask_blend_epi8(upper, lo, _mm512_permutex2var_epi8(gt.value_lo[2], syms, gt.value_lo[3]));
                    hi = _mm512_mask_blend_epi8(upper, hi, _mm512_permutex2var_epi8(gt.value_hi[2], syms, gt.value_hi[3]));
                }
                let values = _mm512_permutex2var_epi8(lo, idx_il, hi);
                let first = step * lanes + 32 * p;
                // SAFETY: the 24 masked bytes end at (step + 1) * raw_per_step at
                // most, which the loop guard keeps within `raw`; masked-off bytes
                // are not read.
                let r = unsafe { _mm512_maskz_loadu_epi8(0x00ff_ffff, raw.add(first * 6 / 8).cast()) };
                let fields = _mm512_multishift_epi64_epi8(ctl, _mm512_permutexvar_epi8(spread, r));
                let o = _mm512_ternarylogic_epi64::<0xF8>(values, fields, keep);
                // SAFETY: values first..first + 32 belong to a full step (< full),
                // so the 64 bytes lie within `out` (2 * n bytes).
                unsafe { _mm512_storeu_si512(out.add(2 * first).cast(), o) };
            }
            step += 1;
        }};
    }

    // `run!` with the symbols looked up in the table's slot buckets (`permute_step!`).
    macro_rules! run_permute {
        ($t:expr, $end:expr) => {{
            let pt = PermuteTables::load($t);
            while step < $end && n_words - q >= lanes && (step + 1) * raw_per_step <= s.raw.len() {
                permute_step!(pt);
            }
        }};
    }

    // Row classes: every step loads its own class's tables (`m.at`), so that
    // the steps of all classes run in one loop. A loop per run of steps cost
    // every run a mispredicted loop exit, the table loads and the states'
    // spills, and runs are short (rows of 384 values are three 128-lane steps,
    // and two classes alternate at random): rows decoded at 0.89-0.97x of one
    // table's speed on Zen 4, and at 0.95-0.99x in one loop (README, Peers).
    macro_rules! run_permute_each {
        () => {{
            while step < full && n_words - q >= lanes && (step + 1) * raw_per_step <= s.raw.len() {
                let pt = PermuteTables::load(m.at(step));
                permute_step!(pt);
            }
        }};
    }

    // One step with the symbols looked up in the table's slot buckets
    // (`kernels/buckets.rs`), four state vectors (64 lanes) at a time. The 64
    // slots are packed to bytes with in-lane packs, so byte `16l + 4v + j` is
    // lane `4l + j` of vector `v`; the unpacks that widen the frequencies and
    // starts back to dwords undo exactly that order, and the value permutes put
    // values back in lane order. Every group's lookups come first and its state
    // updates last: a group's lookups form a long dependency chain, and the
    // other groups' work (and the values) fill it. Run only under the loops'
    // guard, as `gather_step!`.
    macro_rules! permute_step {
        ($pt:expr) => {{
            let pt: &PermuteTables = &$pt;
            let unpack_values = [load64(&IDX_UNPACK_VALUES[0]), load64(&IDX_UNPACK_VALUES[1])];
            let low12 = _mm512_set1_epi32(0xfff);
            let zero = _mm512_setzero_si512();
            // Per group: its symbols, and per vector its frequencies and slot − start.
            let mut looked = [(zero, [zero; 4], [zero; 4]); 2];
            for (g, l) in looked.iter_mut().enumerate().take(V / 4) {
                let [w01, w23, bucket, lo] = pack_slots([0, 1, 2, 3].map(|v| _mm512_and_si512(x[4 * g + v], low12)));
                let upper = _mm512_movepi8_mask(bucket);
                let start = _mm512_mask_blend_epi8(upper, _mm512_permutex2var_epi8(pt.start[0], bucket, pt.start[1]), _mm512_permutex2var_epi8(pt.start[2], bucket, pt.start[3]));
                let split = _mm512_mask_blend_epi8(upper, _mm512_permutex2var_epi8(pt.split[0], bucket, pt.split[1]), _mm512_permutex2var_epi8(pt.split[2], bucket, pt.split[3]));
                let ranked = _mm512_movepi8_mask(split);
                let delta = _mm512_maskz_permutex2var_epi8(ranked, pt.delta[0], _mm512_or_si512(split, lo), pt.delta[1]);
                // `split` is the offset less one: lo − split saturates to a
                // positive byte exactly where lo is at or past the offset
                // (never in a ranked bucket).
                let after = _mm512_min_epu8(_mm512_subs_epu8(lo, split), _mm512_set1_epi8(1));
                let sym = _mm512_add_epi8(_mm512_add_epi8(start, delta), after);
                let fl = _mm512_permutex2var_epi8(pt.freq_lo[0], sym, pt.freq_lo[1]);
                let fh = _mm512_permutex2var_epi8(pt.freq_hi[0], sym, pt.freq_hi[1]);
                let cl = _mm512_permutex2var_epi8(pt.cum_lo[0], sym, pt.cum_lo[1]);
                let ch = _mm512_permutex2var_epi8(pt.cum_hi[0], sym, pt.cum_hi[1]);
                let freq = [_mm512_unpacklo_epi8(fl, fh), _mm512_unpackhi_epi8(fl, fh)];
                let bias = [_mm512_sub_epi16(w01, _mm512_unpacklo_epi8(cl, ch)), _mm512_sub_epi16(w23, _mm512_unpackhi_epi8(cl, ch))];
                let widen = |w: [__m512i; 2]| [
                    _mm512_unpacklo_epi16(w[0], zero),
                    _mm512_unpackhi_epi16(w[0], zero),
                    _mm512_unpacklo_epi16(w[1], zero),
                    _mm512_unpackhi_epi16(w[1], zero),
                ];
                *l = (sym, widen(freq), widen(bias));
            }
            for (g, l) in looked.iter().enumerate().take(V / 4) {
                let vlo = _mm512_permutex2var_epi8(pt.value_lo[0], l.0, pt.value_lo[1]);
                let vhi = _mm512_permutex2var_epi8(pt.value_hi[0], l.0, pt.value_hi[1]);
                for (h, order) in unpack_values.into_iter().enumerate() {
                    let values = _mm512_permutex2var_epi8(vlo, order, vhi);
                    let first = step * lanes + 64 * g + 32 * h;
                    // SAFETY: as in `gather_step!`.
                    let r = unsafe { _mm512_maskz_loadu_epi8(0x00ff_ffff, raw.add(first * 6 / 8).cast()) };
                    let fields = _mm512_multishift_epi64_epi8(ctl, _mm512_permutexvar_epi8(spread, r));
                    let o = _mm512_ternarylogic_epi64::<0xF8>(values, fields, keep);
                    // SAFETY: as in `gather_step!`.
                    unsafe { _mm512_storeu_si512(out.add(2 * first).cast(), o) };
                }
            }
            for (g, l) in looked.iter().enumerate().take(V / 4) {
                for v in 0..4 {
                    let xv = x[4 * g + v];
                    let xn = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_srli_epi32::<12>(xv), l.1[v]), l.2[v]);
                    let k = _mm512_cmplt_epu32_mask(xn, _mm512_set1_epi32(RANS_L as i32));
                    // SAFETY: the loop guard keeps q + lanes <= n_words for the whole step.
                    let w = expand_words(k, unsafe { _mm256_loadu_si256(words.add(q).cast()) });
                    q += k.count_ones() as usize;
                    x[4 * g + v] = _mm512_mask_or_epi32(xn, k, _mm512_slli_epi32::<16>(xn), _mm512_cvtepu16_epi32(w));
                }
            }
            step += 1;
        }};
    }

    // Row classes: one loop over the steps of every class (the runs of steps
    // that share a table are short). With the permute kernels, only when every
    // class has slot buckets; otherwise the runs below permute where they can.
    if !m.class.is_empty() {
        if PERMUTE {
            if m.tables.iter().all(|t| t.buckets.usable) {
                run_permute_each!();
            }
        } else if m.tables.iter().any(|t| t.n_symbols > 128) {
            run_each!(true);
        } else {
            run_each!(false);
        }
    }
    // Runs of steps that share a table: without row classes, all of them; with
    // them, what the loop above did not run (it stops where the words or raw
    // bytes left are too few for a step, and so does this loop at once).
    while step < full {
        let (t, end) = m.run(step, full);
        if PERMUTE && t.buckets.usable {
            run_permute!(t, end);
        } else if t.n_symbols > 128 {
            run!(t, end, true);
        } else {
            run!(t, end, false);
        }
        if step < end {
            break; // too few words or raw bytes left for a whole step: the oracle finishes
        }
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: states has MAX_LANES >= 16 * V entries.
        unsafe { _mm512_storeu_si512(s.states.as_mut_ptr().add(16 * v).cast(), *xv) };
    }
    s.word_pos = q;
    s.step = step;
}

/// # Safety
/// The `BytesDecode` contract (`kernels/mod.rs`) on a CPU with `Isa::Avx512`'s features.
pub(in crate::kernels) unsafe fn bytes_decode(m: &BytesModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller's contract.
    unsafe { bytes_by_lanes::<false>(m, s) }
}

/// Like [`bytes_decode`], but 64- and 128-lane streams find their symbols in
/// slot buckets with byte permutes (`bytes_permute.rs`); 32-lane streams gather.
///
/// # Safety
/// As [`bytes_decode`], on a CPU with `Isa::Avx512Permute`'s features (BITALG too).
pub(in crate::kernels) unsafe fn bytes_decode_permute(m: &BytesModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller's contract.
    unsafe { bytes_by_lanes::<true>(m, s) }
}

/// # Safety
/// As [`bytes_decode`]; with `PERMUTE`, BITALG too.
unsafe fn bytes_by_lanes<const PERMUTE: bool>(m: &BytesModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller guarantees the CPU features, that every symbol's
    // destination lies in `dest` (rows at least 16 wide), as the loop's stores
    // need, and a class per full step; permute steps take groups of four vectors.
    unsafe {
        match (s.lanes, m.class.is_empty()) {
            (32, true) => bytes_lanes::<2, false, false>(m, s),
            (64, true) => bytes_lanes::<4, false, PERMUTE>(m, s),
            (128, true) => bytes_lanes::<8, false, PERMUTE>(m, s),
            (32, false) => bytes_lanes::<2, true, false>(m, s),
            (64, false) => bytes_lanes::<4, true, PERMUTE>(m, s),
            (128, false) => bytes_lanes::<8, true, PERMUTE>(m, s),
            _ => {}
        }
    }
}

/// Byte streams: the symbol ids are the byte values; 32 of them per pair of vectors
/// are picked out of the table entries with one byte permute.
///
/// The main loop runs while a whole step's worth of words (`lanes`) is left in the
/// stream. The last steps, whose words are fewer, run on a copy of the remaining
/// words followed by zeros, so no step is left to the scalar oracle but the
/// partial one; a stream that reads into the zeros is corrupt, and is marked so
/// (lane 0 set to 0 and every word consumed) for the oracle's final check.
///
/// # Safety
/// CPU features as enabled; `s.lanes == 16 * V`; with `CTX`, `m.class` holds a
/// class below `m.tables.len()` for every full step; with `PERMUTE`, BITALG.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2,popcnt")]
unsafe fn bytes_lanes<const V: usize, const CTX: bool, const PERMUTE: bool>(m: &BytesModel<'_>, s: &mut ByteStream<'_>) {
    let full = s.full_steps();
    let n_words = s.n_words();
    let mut q = s.word_pos;
    let mut step = s.step;
    let mut x = [_mm512_setzero_si512(); V];
    for (v, xv) in x.iter_mut().enumerate() {
        // SAFETY: states has MAX_LANES >= 16 * V entries.
        *xv = unsafe { _mm512_loadu_si512(s.states.as_ptr().add(16 * v).cast()) };
    }
    let out = s.dest.out.as_mut_ptr();
    let dest = (s.dest.row_log2, s.dest.stride, s.dest.offset);
    // SAFETY: the stream's words are readable up to `n_words`; the caller's
    // contract puts every full step's symbols inside `dest` and, with CTX, gives
    // each full step a class.
    unsafe { bytes_steps::<V, CTX, PERMUTE>(&mut x, m, s.words.as_ptr().cast(), n_words, &mut q, &mut step, full, out, dest) };
    if step < full {
        // Fewer than `lanes` words are left (q <= n_words holds: the main loop
        // only runs steps with `lanes` words available).
        let rem = n_words - q;
        let mut tail = [0u16; 2 * crate::rans::MAX_LANES];
        for (k, w) in tail[..rem].iter_mut().enumerate() {
            *w = u16::from_le_bytes([s.words[2 * (q + k)], s.words[2 * (q + k) + 1]]);
        }
        let mut qt = 0;
        // SAFETY: `tail` is readable up to `rem + MAX_LANES >= rem + lanes` words,
        // the bound the loop keeps; the steps' symbols lie in `dest` as above.
        unsafe { bytes_steps::<V, CTX, PERMUTE>(&mut x, m, tail.as_ptr().cast(), rem + crate::rans::MAX_LANES, &mut qt, &mut step, full, out, dest) };
        if qt <= rem {
            q += qt;
        } else {
            // Read past the stream's words: corrupt. The oracle's final check fails.
            x[0] = _mm512_setzero_si512();
            q = n_words;
        }
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: states has MAX_LANES >= 16 * V entries.
        unsafe { _mm512_storeu_si512(s.states.as_mut_ptr().add(16 * v).cast(), *xv) };
    }
    s.word_pos = q;
    s.step = step;
}

/// Runs whole steps of a byte stream while `step < full` and a whole step's
/// words (`16 * V`) are readable at `q` (below `avail`).
///
/// # Safety
/// CPU features as enabled; `words` readable for `avail` words; every symbol of
/// the full steps lands in `out` at `dest` (rows at least 16 wide); with `CTX`,
/// `m.class` holds a class below `m.tables.len()` for every full step; with
/// `PERMUTE`, BITALG.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2,popcnt")]
#[allow(clippy::too_many_arguments)]
unsafe fn bytes_steps<const V: usize, const CTX: bool, const PERMUTE: bool>(
    x: &mut [__m512i; V],
    m: &BytesModel<'_>,
    words: *const i16,
    avail: usize,
    q: &mut usize,
    step: &mut usize,
    full: usize,
    out: *mut u8,
    dest: (u32, usize, usize),
) {
    let lanes = 16 * V;
    if PERMUTE && (V == 4 || V == 8) {
        // Runs of steps that share a table (all of them without classes).
        while *step < full && avail >= lanes && *q <= avail - lanes {
            let (t, end) = m.run(*step, full);
            let run = super::shared::bytes_permute::Run { buckets: t.buckets, words, avail, end, out, dest };
            // SAFETY: the caller's contract, for the steps of this run; V is 4 or 8.
            unsafe { super::shared::bytes_permute::steps::<V>(x, &run, q, step) };
        }
        return;
    }
    let idx_sym = load64(&IDX_SYM);
    let mut qq = *q;
    let mut st = *step;
    let mut tab = m.tables[0].dec.as_ptr().cast::<i32>();
    while st < full && avail >= lanes && qq <= avail - lanes {
        if CTX {
            // SAFETY: with CTX every full step has a class below `m.tables.len()`.
            tab = unsafe { m.tables.get_unchecked(usize::from(*m.class.get_unchecked(st))) }.dec.as_ptr().cast::<i32>();
        }
        // Unrolled with constant indices so the states stay in registers (a loop over
        // `p` leaves LLVM indexing `x` at run time, through the stack).
        macro_rules! pair {
            ($p:expr) => {
                if $p < V / 2 {
                    // SAFETY: the loop guard bounds the words; full steps lie in `dest`.
                    unsafe { pair_bytes::<V>(x, $p, st * lanes, tab, words, &mut qq, idx_sym, out, dest) };
                }
            };
        }
        pair!(0);
        pair!(1);
        pair!(2);
        pair!(3);
        st += 1;
    }
    *q = qq;
    *step = st;
}

/// One decode step for 16 lanes on the canonical slot table: the new states and
/// the table entries (whose top bytes are the symbol ids). The renormalisation
/// words are loaded whole (16 words) and expanded in registers: an expand with a
/// memory operand is much slower on some CPUs (AMD Zen 4) and no faster on Intel.
///
/// # Safety
/// CPU features as enabled; `words` readable for `*q + 16` words.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")]
unsafe fn step16(x: __m512i, tab: *const i32, words: *const i16, q: &mut usize) -> (__m512i, __m512i) {
    let low12 = _mm512_set1_epi32(0xfff);
    // SAFETY: slots are < 4096 = table length; scale 4 addresses u32 entries.
    let ent = unsafe { _mm512_i32gather_epi32::<4>(_mm512_and_si512(x, low12), tab) };
    let freq = _mm512_and_si512(_mm512_srli_epi32::<12>(ent), low12);
    let xn = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_srli_epi32::<12>(x), freq), _mm512_and_si512(ent, low12));
    let k = _mm512_cmplt_epu32_mask(xn, _mm512_set1_epi32(RANS_L as i32));
    // SAFETY: 16 words at q are readable per the contract.
    let w = expand_words(k, unsafe { _mm256_loadu_si256(words.add(*q).cast()) });
    *q += k.count_ones() as usize;
    (_mm512_mask_or_epi32(xn, k, _mm512_slli_epi32::<16>(xn), _mm512_cvtepu16_epi32(w)), ent)
}

/// Decodes vectors `2p` and `2p + 1` of the step starting at symbol `base` and
/// stores their 32 symbols; `dest` is `(row_log2, stride, offset)` of `Dest`.
///
/// # Safety
/// As `bytes_steps`: `*q + 16 * V` words readable at `words` for the step, the step's symbols lie in `out`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2,popcnt")]
#[allow(clippy::too_many_arguments)]
unsafe fn pair_bytes<const V: usize>(
    x: &mut [__m512i; V],
    p: usize,
    base: usize,
    tab: *const i32,
    words: *const i16,
    q: &mut usize,
    idx_sym: __m512i,
    out: *mut u8,
    dest: (u32, usize, usize),
) {
    let (row_log2, stride, offset) = dest;
    let at = |i: usize| (i >> row_log2) * stride + offset + (i & ((1usize << row_log2) - 1));
    // A pair reads at most 32 words (64 bytes) and stores 32 symbols, so one
    // prefetch of each per pair touches every line of both streams ahead of use.
    prefetch(words.wrapping_add(*q + PREFETCH_WORDS).cast());
    prefetch_write(out.wrapping_add(at(base + 32 * p + PREFETCH_SYMBOLS)));
    // SAFETY: the caller's guard keeps `*q + lanes` words readable for the whole step.
    let (x0, e0) = unsafe { step16(x[2 * p], tab, words, q) };
    // SAFETY: as above.
    let (x1, e1) = unsafe { step16(x[2 * p + 1], tab, words, q) };
    x[2 * p] = x0;
    x[2 * p + 1] = x1;
    {
        let e = [e0, e1];
        {
            let syms = _mm512_permutex2var_epi8(e[0], idx_sym, e[1]);
            let i = base + 32 * p;
            let lo = _mm512_castsi512_si256(syms);
            if row_log2 >= 5 {
                // SAFETY: 32 symbols of a full step in one row: 32 consecutive bytes of
                // `dest`, which the caller sized for all n symbols.
                unsafe { _mm256_storeu_si256(out.add(at(i)).cast(), lo) };
            } else {
                // SAFETY: 16-wide rows: two rows of 16 consecutive bytes, as above.
                unsafe {
                    _mm_storeu_si128(out.add(at(i)).cast(), _mm256_castsi256_si128(lo));
                    _mm_storeu_si128(out.add(at(i + 16)).cast(), _mm256_extracti128_si256::<1>(lo));
                }
            }
        }
    }
}

/// # Safety
/// The `RansEncode` contract (`kernels/mod.rs`) on a CPU with `Isa::Avx512`'s features.
pub(in crate::kernels) unsafe fn rans_encode(syms: &[u8], lanes: usize, t: &EncTable, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    // SAFETY: the caller guarantees the CPU features and the bounds `encode_steps` needs.
    unsafe { encode_steps(syms, lanes, t, states, buf, pos) }
}

/// Vector form of `rans::encode::encode_steps`: 16 lanes per vector, high lanes
/// first. Emitted words are compressed into lane order and stored just below `pos`.
///
/// # Safety
/// CPU features as enabled; `syms.len() % lanes == 0`, `lanes % 16 == 0`,
/// `states.len() >= lanes`, `syms.len() <= pos <= buf.len()`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")]
unsafe fn encode_steps(syms: &[u8], lanes: usize, t: &EncTable, states: &mut [u32], buf: &mut [u16], mut pos: usize) -> usize {
    let packed = t.packed.as_ptr().cast::<i32>();
    for group in syms.chunks_exact(lanes).rev() {
        for v in (0..lanes / 16).rev() {
            // SAFETY: 16 symbol bytes at 16 * v lie inside the group.
            let sv = _mm512_cvtepu8_epi32(unsafe { _mm_loadu_si128(group.as_ptr().add(16 * v).cast()) });
            // SAFETY: symbols are < 256, the tables' length; lanes 16 * v .. 16 * v + 16 are < lanes <= states.len(); each
            // symbol emits at most one word and pos >= the symbols still to encode.
            pos = unsafe { rans_encode_step16(sv, packed, states.as_mut_ptr().add(16 * v), buf.as_mut_ptr(), pos) };
        }
    }
    pos
}

/// # Safety
/// The `RansEncodeIndexed` contract (`kernels/mod.rs`) on a CPU with `Isa::Avx512`'s features.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi2,bmi2,popcnt")]
pub(in crate::kernels) unsafe fn rans_encode_indexed(idx: &[u32], lanes: usize, packed: &[u32], states: &mut [u32], buf: &mut [u16], mut pos: usize) -> usize {
    let packed = packed.as_ptr().cast::<i32>();
    for group in idx.chunks_exact(lanes).rev() {
        for v in (0..lanes / 16).rev() {
            // SAFETY: 16 indices at 16 * v lie inside the group.
            let sv = unsafe { _mm512_loadu_si512(group.as_ptr().add(16 * v).cast()) };
            // SAFETY: every index is inside the table (contract); lanes 16 * v ..
            // 16 * v + 16 are < lanes <= states.len(); each symbol emits at most one
            // word and pos >= the symbols still to encode.
            pos = unsafe { rans_encode_step16(sv, packed, states.as_mut_ptr().add(16 * v), buf.as_mut_ptr(), pos) };
        }
    }
    pos
}
