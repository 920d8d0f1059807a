//! The AVX-512 byte-stream decoder without gathers (kernel family
//! `avx512-permute`): symbols are found in slot buckets (`ByteBuckets`,
//! `kernels/byte_buckets.rs`) with byte permutes and BITALG byte popcounts, 64 lanes
//! (four state vectors) at a time.
//!
//! Per group of four vectors: the 64 slots are packed to bytes with in-lane
//! packs (byte `16l + 4v + j` is lane `4l + j` of vector `v`), split into bucket
//! and offset; the symbol is the bucket's start plus the symbol starts at or
//! before the offset. Frequencies and starts come from 256-entry byte tables
//! (two two-register permutes and a blend each) and are widened back to dwords
//! with unpacks, which undo the pack order; one permute puts the output bytes in
//! lane order. Every group's lookups come before any state update, so the
//! groups' long lookup chains overlap.

use super::{expand_words, pack_slots, prefetch, prefetch_write, widen_bytes, PREFETCH_SYMBOLS, PREFETCH_WORDS};
use crate::kernels::byte_buckets::{ByteBuckets, ValueMap, PREFIX_HI, PREFIX_LO};
use crate::rans::RANS_L;
use core::arch::x86_64::*;

/// Output byte `16v + 4l + j` (lane `4l + j` of vector `v`) comes from packed
/// byte `16l + 4v + j`.
static IDX_IN_ORDER: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        let (v, l, j) = (i / 16, (i % 16) / 4, i % 4);
        t[i] = (16 * l + 4 * v + j) as u8;
        i += 1;
    }
    t
};

/// A 256-byte table in four registers.
type Table = [__m512i; 4];

#[inline]
#[target_feature(enable = "avx512f")]
fn load_table(t: &[u8; 256]) -> Table {
    // SAFETY: each load reads 64 of the table's 256 bytes; unaligned loads are allowed.
    core::array::from_fn(|k| unsafe { _mm512_loadu_si512(t.as_ptr().add(64 * k).cast()) })
}

/// `t[idx]` for 64 byte indices; `upper` holds their top bits.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
fn lookup(t: &Table, idx: __m512i, upper: __mmask64) -> __m512i {
    _mm512_mask_blend_epi8(upper, _mm512_permutex2var_epi8(t[0], idx, t[1]), _mm512_permutex2var_epi8(t[2], idx, t[3]))
}

/// A run of steps on one table: what the steps read and where they write.
pub(in crate::kernels::x86) struct Run<'a> {
    pub buckets: &'a ByteBuckets,
    /// Readable for `avail` words.
    pub words: *const i16,
    pub avail: usize,
    /// The run's end (a step index).
    pub end: usize,
    /// Receives symbol `i` at `dest`'s place for `i` (`(row_log2, stride,
    /// offset)` of `Dest`, rows at least 16 wide).
    pub out: *mut u8,
    pub dest: (u32, usize, usize),
}

/// Runs whole steps `*step..run.end` of a byte stream on one table's buckets
/// while a whole step's words (`16 * V`) are readable at `*q` (below
/// `run.avail`).
///
/// # Safety
/// CPU features as enabled; `V` is 4 or 8; `run.words` readable for
/// `run.avail` words; every symbol of steps below `run.end` lands in `run.out`
/// at `run.dest`.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,avx512bitalg,bmi2,popcnt")]
pub(in crate::kernels::x86) unsafe fn steps<const V: usize>(x: &mut [__m512i; V], run: &Run<'_>, q: &mut usize, step: &mut usize) {
    // One loop per value map, so that the choice is made once per run.
    // SAFETY: the caller's contract, passed on.
    unsafe {
        match run.buckets.values {
            ValueMap::Identity => steps_mapped::<V, IDENTITY>(x, run, q, step),
            ValueMap::Gap(_) => steps_mapped::<V, GAP>(x, run, q, step),
            ValueMap::Table => steps_mapped::<V, TABLE>(x, run, q, step),
        }
    }
}

const IDENTITY: u8 = 0;
const GAP: u8 = 1;
const TABLE: u8 = 2;

/// [`steps`] for one kind of value map (`MAP`, which must be the buckets' kind).
///
/// # Safety
/// As [`steps`].
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,avx512bitalg,bmi2,popcnt")]
unsafe fn steps_mapped<const V: usize, const MAP: u8>(x: &mut [__m512i; V], run: &Run<'_>, q: &mut usize, step: &mut usize) {
    if V != 4 && V != 8 {
        // A step is one group of four vectors or two (`looked` holds two);
        // callers send no other lane count, and taking no step is safe.
        return;
    }
    let lanes = 16 * V;
    let &Run { buckets: b, words, avail, end, out, dest: (row_log2, stride, offset) } = run;
    let at = |i: usize| (i >> row_log2) * stride + offset + (i & ((1usize << row_log2) - 1));
    let (start, starts_lo, starts_hi) = (load_table(&b.start), load_table(&b.starts_lo), load_table(&b.starts_hi));
    let packed = [load_table(&b.packed[0]), load_table(&b.packed[1]), load_table(&b.packed[2])];
    let values = load_table(&b.value);
    let gap = _mm512_set1_epi8(match b.values {
        ValueMap::Gap(g) => g as i8,
        _ => 0,
    });
    // SAFETY: 16 readable bytes each.
    let (prefix_lo, prefix_hi) = unsafe {
        (
            _mm512_broadcast_i32x4(_mm_loadu_si128(PREFIX_LO.as_ptr().cast())),
            _mm512_broadcast_i32x4(_mm_loadu_si128(PREFIX_HI.as_ptr().cast())),
        )
    };
    // SAFETY: 64 readable bytes.
    let in_order = unsafe { _mm512_loadu_si512(IDX_IN_ORDER.as_ptr().cast()) };
    let low12 = _mm512_set1_epi32(0xfff);
    let zero = _mm512_setzero_si512();
    // Locals, not the callers' places, so that states and positions stay in registers.
    let (mut xs, mut qq, mut st) = (*x, *q, *step);
    while st < end && avail >= lanes && qq <= avail - lanes {
        let base = st * lanes;
        prefetch(words.wrapping_add(qq + PREFETCH_WORDS).cast());
        prefetch(words.wrapping_add(qq + PREFETCH_WORDS + 32).cast());
        // Per group: per vector its slots and `freq | start << 12`, as dwords.
        let mut looked = [([zero; 4], [zero; 4]); 2];
        for (g, l) in looked.iter_mut().enumerate().take(V / 4) {
            let slot = [0, 1, 2, 3].map(|v| _mm512_and_si512(xs[4 * g + v], low12));
            let [_, _, bucket, lo] = pack_slots(slot);
            let upper = _mm512_movepi8_mask(bucket);
            let before_lo = _mm512_popcnt_epi8(_mm512_and_si512(lookup(&starts_lo, bucket, upper), _mm512_shuffle_epi8(prefix_lo, lo)));
            let before_hi = _mm512_popcnt_epi8(_mm512_and_si512(lookup(&starts_hi, bucket, upper), _mm512_shuffle_epi8(prefix_hi, lo)));
            let sym = _mm512_add_epi8(lookup(&start, bucket, upper), _mm512_add_epi8(before_lo, before_hi));
            let upper = _mm512_movepi8_mask(sym);
            *l = (slot, widen_bytes(packed.each_ref().map(|t| lookup(t, sym, upper))));

            let value = match MAP {
                IDENTITY => sym,
                GAP => _mm512_mask_add_epi8(sym, _mm512_cmpge_epu8_mask(sym, gap), sym, _mm512_set1_epi8(1)),
                _ => lookup(&values, sym, upper),
            };
            let bytes = _mm512_permutexvar_epi8(in_order, value);
            let i = base + 64 * g;
            prefetch_write(out.wrapping_add(at(i + PREFETCH_SYMBOLS)));
            prefetch_write(out.wrapping_add(at(i + PREFETCH_SYMBOLS + 32)));
            // SAFETY: symbols i..i + 64 belong to a step below `end`, so each lies
            // in `out` at `at`; a run of 2^row_log2 >= 16 of them (i is a multiple
            // of 64, so runs do not cross rows) is consecutive there.
            unsafe {
                if row_log2 >= 6 {
                    _mm512_storeu_si512(out.add(at(i)).cast(), bytes);
                } else if row_log2 == 5 {
                    _mm256_storeu_si256(out.add(at(i)).cast(), _mm512_castsi512_si256(bytes));
                    _mm256_storeu_si256(out.add(at(i + 32)).cast(), _mm512_extracti64x4_epi64::<1>(bytes));
                } else {
                    _mm_storeu_si128(out.add(at(i)).cast(), _mm512_castsi512_si128(bytes));
                    _mm_storeu_si128(out.add(at(i + 16)).cast(), _mm512_extracti32x4_epi32::<1>(bytes));
                    _mm_storeu_si128(out.add(at(i + 32)).cast(), _mm512_extracti32x4_epi32::<2>(bytes));
                    _mm_storeu_si128(out.add(at(i + 48)).cast(), _mm512_extracti32x4_epi32::<3>(bytes));
                }
            }
        }
        for (g, l) in looked.iter().enumerate().take(V / 4) {
            for v in 0..4 {
                let xv = xs[4 * g + v];
                let (slot, p) = (l.0[v], l.1[v]);
                let freq = _mm512_and_si512(p, low12);
                let bias = _mm512_sub_epi32(slot, _mm512_srli_epi32::<12>(p));
                let xn = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_srli_epi32::<12>(xv), freq), bias);
                let k = _mm512_cmplt_epu32_mask(xn, _mm512_set1_epi32(RANS_L as i32));
                // SAFETY: at the step's start qq + lanes <= avail (the loop guard),
                // and each earlier vector of the step took at most 16 words, so
                // here qq + 16 <= that start + lanes <= avail.
                let w = expand_words(k, unsafe { _mm256_loadu_si256(words.add(qq).cast()) });
                qq += k.count_ones() as usize;
                xs[4 * g + v] = _mm512_mask_or_epi32(xn, k, _mm512_slli_epi32::<16>(xn), _mm512_cvtepu16_epi32(w));
            }
        }
        st += 1;
    }
    (*x, *q, *step) = (xs, qq, st);
}
