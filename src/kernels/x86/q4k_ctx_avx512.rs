//! AVX-512 decode of Q4_K field segments (`kernels/q4k_ctx.rs`): the byte-stream
//! step with a table per symbol. Each lane's context is computed in registers
//! from the block's earlier fields (the kind of the segment is a const
//! parameter), picks its table's offset (one two-source permute of the 32
//! offsets), which joins the slot in the gather index. The `m_4..m_7` segments
//! also pack the scale bytes. Steps run while a whole step's words remain; the
//! scalar oracle finishes the segment.

use super::shared::q4k_ctx::{ctx32, pack32, PackRows, Rows, CONST, DMIN, MIN, SCALE};
use super::shared::{expand_words, IDX_SYM};
use crate::kernels::{ByteStream, CtxKind, CtxModel};
use crate::rans::RANS_L;
use core::arch::x86_64::*;

/// Words of the zero-padded tail copy: what remains (under a step's words
/// and a load) plus a step's words and a load.
const TAIL: usize = 2 * 128 + 32;

/// # Safety
/// The `CtxDecode` contract (`kernels/mod.rs`) on a CPU with `Isa::Avx512`'s features.
pub(in crate::kernels) unsafe fn ctx_decode(m: &mut CtxModel<'_>, s: &mut ByteStream<'_>) {
    macro_rules! kinds {
        ($v:literal) => {
            match m.kind {
                CtxKind::Const => lanes::<$v, CONST>(m, s),
                CtxKind::Dmin => lanes::<$v, DMIN>(m, s),
                CtxKind::Scale => lanes::<$v, SCALE>(m, s),
                CtxKind::Min => lanes::<$v, MIN>(m, s),
            }
        };
    }
    // SAFETY: the caller guarantees the CPU features and the contract the loop relies on.
    unsafe {
        match s.lanes {
            32 => kinds!(2),
            64 => kinds!(4),
            128 => kinds!(8),
            _ => {}
        }
    }
}

/// # Safety
/// CPU features as enabled; `s.lanes == 16 * V`; `m.kind` is `KIND`; the `CtxDecode` contract.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2,popcnt")]
unsafe fn lanes<const V: usize, const KIND: u8>(m: &mut CtxModel<'_>, s: &mut ByteStream<'_>) {
    let lanes = 16 * V;
    let full = s.full_steps();
    let n_words = s.n_words();
    let mut q = s.word_pos;
    let mut step = s.step;
    let mut x = [_mm512_setzero_si512(); V];
    for (v, xv) in x.iter_mut().enumerate() {
        // SAFETY: states has MAX_LANES >= 16 * V entries.
        *xv = unsafe { _mm512_loadu_si512(s.states.as_ptr().add(16 * v).cast()) };
    }
    // SAFETY: 32 offsets = two vectors of 16.
    let (off_lo, off_hi) = unsafe { (_mm512_loadu_si512(m.offsets.as_ptr().cast()), _mm512_loadu_si512(m.offsets.as_ptr().add(16).cast())) };
    let tab = m.tables.as_ptr().cast::<i32>();
    let words = s.words.as_ptr().cast::<i16>();
    let out = s.dest.out.as_mut_ptr();
    let rows = Rows::new(m);
    let pack = PackRows::new(m);
    let low12 = _mm512_set1_epi32(0xfff);
    // SAFETY: 64 readable bytes.
    let idx_sym = unsafe { _mm512_loadu_si512(IDX_SYM.as_ptr().cast()) };
    // One vector of 16 lanes by a constant index (so the states stay in registers:
    // a loop leaves LLVM indexing `x` at run time, through the stack), its
    // contexts `c` (dwords below 32): returns the table entries.
    macro_rules! lane {
        ($v:literal, $c:expr, $words:expr, $q:ident) => {{
            // The permute reads the low five bits of each context.
            let off = _mm512_permutex2var_epi32(off_lo, $c, off_hi);
            // SAFETY: every offset + 4096 is within `tables` and slots are < 4096.
            let ent = unsafe { _mm512_i32gather_epi32::<4>(_mm512_add_epi32(off, _mm512_and_si512(x[$v], low12)), tab) };
            let freq = _mm512_and_si512(_mm512_srli_epi32::<12>(ent), low12);
            let xn = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_srli_epi32::<12>(x[$v]), freq), _mm512_and_si512(ent, low12));
            let need = _mm512_cmplt_epu32_mask(xn, _mm512_set1_epi32(RANS_L as i32));
            // SAFETY: a step reads below q + lanes + 16 words, readable at `$words`
            // (the main loop's guard, or the zero-padded tail copy).
            let w = expand_words(need, unsafe { _mm256_loadu_si256($words.add($q).cast()) });
            $q += need.count_ones() as usize;
            x[$v] = _mm512_mask_or_epi32(xn, need, _mm512_slli_epi32::<16>(xn), _mm512_cvtepu16_epi32(w));
            ent
        }};
    }
    // Vectors `a`, `b` = symbols k .. k + 32 (< full * lanes <= n: every row the
    // kind reads or writes covers them, `CtxModel::covers`): contexts as bytes,
    // the two decodes, 32 symbols (and packed scale bytes) stored at once.
    macro_rules! pair {
        ($base:ident, $words:expr, $q:ident, $p:literal, $a:literal, $b:literal) => {
            if $b < V {
                let k = $base + 32 * $p;
                // SAFETY: the rows the kind reads and writes cover symbols k .. k + 32 (above).
                let (c, scv) = unsafe { ctx32::<KIND>(&rows, k) };
                let e0 = lane!($a, _mm512_cvtepu8_epi32(_mm256_castsi256_si128(c)), $words, $q);
                let e1 = lane!($b, _mm512_cvtepu8_epi32(_mm256_extracti128_si256::<1>(c)), $words, $q);
                let sym = _mm512_castsi512_si256(_mm512_permutex2var_epi8(e0, idx_sym, e1));
                // SAFETY: symbols k .. k + 32 of a full step lie in `out` (len >= n).
                unsafe { _mm256_storeu_si256(out.add(k).cast(), sym) };
                if KIND == MIN {
                    if let Some(p) = &pack {
                        // SAFETY: the packing rows cover the symbols (`covers`).
                        unsafe { pack32(p, k, scv, sym) };
                    }
                }
            }
        };
    }
    macro_rules! one_step {
        ($words:expr, $q:ident) => {{
            let base = step * lanes;
            pair!(base, $words, $q, 0, 0, 1);
            pair!(base, $words, $q, 1, 2, 3);
            pair!(base, $words, $q, 2, 4, 5);
            pair!(base, $words, $q, 3, 6, 7);
            step += 1;
        }};
    }
    while step < full && q + lanes <= n_words {
        one_step!(words, q);
    }
    // The last steps (the word stream's last words, often whole low-entropy
    // segments) read from a zero-padded copy of the remaining words; a step that
    // would consume more words than remain is rolled back (the scalar oracle
    // reports it), so `q` never passes `n_words`. Redoing a step's contexts
    // writes the same `seen` bytes: a kind's first segment sets them from
    // `prev` alone, every later one ORs into them.
    if step < full {
        let mut tail = [0u16; TAIL];
        let q0 = q;
        // n_words - q0 words remain, fewer than TAIL / 2 (the loop above ended before `full`).
        for (t, w) in tail.iter_mut().zip(s.words[2 * q0..2 * n_words].chunks_exact(2)) {
            *t = u16::from_le_bytes([w[0], w[1]]);
        }
        let tail_words = tail.as_ptr().cast::<i16>();
        // Words read relative to q0: a step starts at qr <= n_words - q0 and
        // reads below qr + lanes + 16 < TAIL.
        let mut qr = 0;
        while step < full {
            let (x0, qs) = (x, qr);
            one_step!(tail_words, qr);
            if q0 + qr > n_words {
                (x, qr) = (x0, qs);
                step -= 1;
                break;
            }
        }
        q = q0 + qr;
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: states has MAX_LANES >= 16 * V entries.
        unsafe { _mm512_storeu_si512(s.states.as_mut_ptr().add(16 * v).cast(), *xv) };
    }
    s.word_pos = q;
    s.step = step;
}
