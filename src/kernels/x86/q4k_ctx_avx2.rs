//! AVX2 decode of Q4_K field segments (`kernels/q4k_ctx.rs`): the byte-stream
//! step with a table per symbol, on the canonical slot tables. Each lane's
//! context is computed in registers from the block's earlier fields (the kind
//! of the segment is a const parameter); its table's number comes from two
//! byte shuffles and a blend, and its offset joins the slot in the gather
//! index. The `m_4..m_7` segments also pack the scale bytes. Steps run while a
//! whole step's words remain; the scalar oracle finishes the segment.

use super::shared::q4k_ctx::{ctx32, pack32, PackRows, Rows, CONST, DMIN, MIN, SCALE};
use super::shared::{lookup8, renorm8};
use crate::kernels::{ByteStream, CtxKind, CtxModel};
use crate::rans::PROB_BITS;
use core::arch::x86_64::*;

/// Words of the zero-padded tail copy: what remains (under a step's words
/// and a load) plus a step's words and a load.
const TAIL: usize = 2 * 128 + 32;

/// # Safety
/// The `CtxDecode` contract (`kernels/mod.rs`) on a CPU with AVX2, BMI2 and POPCNT.
pub(in crate::kernels) unsafe fn ctx_decode(m: &mut CtxModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ctx_decode_with::<false>(m, s) }
}

/// [`ctx_decode`] with its table lookups as scalar loads (`shared::lookup8`).
///
/// # Safety
/// As [`ctx_decode`].
pub(in crate::kernels) unsafe fn ctx_decode_loads(m: &mut CtxModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller's contract, passed on.
    unsafe { ctx_decode_with::<true>(m, s) }
}

/// # Safety
/// As [`ctx_decode`].
unsafe fn ctx_decode_with<const LOADS: bool>(m: &mut CtxModel<'_>, s: &mut ByteStream<'_>) {
    macro_rules! kinds {
        ($v:literal) => {
            match m.kind {
                CtxKind::Const => lanes::<$v, CONST, LOADS>(m, s),
                CtxKind::Dmin => lanes::<$v, DMIN, LOADS>(m, s),
                CtxKind::Scale => lanes::<$v, SCALE, LOADS>(m, s),
                CtxKind::Min => lanes::<$v, MIN, LOADS>(m, s),
            }
        };
    }
    // SAFETY: the caller guarantees the CPU features and the contract the loop relies on.
    unsafe {
        match s.lanes {
            32 => kinds!(4),
            64 => kinds!(8),
            128 => kinds!(16),
            _ => {}
        }
    }
}

/// # Safety
/// AVX2, BMI2, POPCNT; `s.lanes == 8 * V`, V a multiple of 4; `m.kind` is `KIND`;
/// the `CtxDecode` contract.
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn lanes<const V: usize, const KIND: u8, const LOADS: bool>(m: &mut CtxModel<'_>, s: &mut ByteStream<'_>) {
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
    // Table number of each context (`covers`: below 256), contexts 0..16 and 16..32.
    let nums: [u8; 32] = core::array::from_fn(|c| (m.offsets[c] >> PROB_BITS) as u8);
    // SAFETY: 32 readable bytes; each half broadcast to both 128-bit lanes.
    let (num_lo, num_hi) = unsafe { (_mm256_broadcastsi128_si256(_mm_loadu_si128(nums.as_ptr().cast())), _mm256_broadcastsi128_si256(_mm_loadu_si128(nums.as_ptr().add(16).cast()))) };
    let tab = m.tables.as_ptr().cast::<i32>();
    let words = s.words.as_ptr();
    let out = s.dest.out.as_mut_ptr();
    let rows = Rows::new(m);
    let pack = PackRows::new(m);
    let low12 = _mm256_set1_epi32(0xfff);
    let zero = _mm256_setzero_si256();
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    // Four vectors (32 symbols from `k`, < full * lanes <= n: every row the kind
    // reads or writes covers them, `CtxModel::covers`): their contexts and table
    // numbers as bytes, then the four decodes, the renormalisations in lane order,
    // the symbols (and the packed scale bytes) stored 32 at once.
    macro_rules! group {
        ($base:ident, $words:expr, $q:ident, $g:literal, $a:literal, $b:literal, $c:literal, $d:literal) => {
            if $d < V {
                let k = $base + 32 * $g;
                // SAFETY: the rows the kind reads and writes cover symbols k .. k + 32 (above).
                let (c, scv) = unsafe { ctx32::<KIND>(&rows, k) };
                // Table numbers: each context byte (below 32) looks up c & 15 in both
                // halves; bit 4 (bit 7 of the byte after a shift by 3) picks the half.
                let num = _mm256_blendv_epi8(_mm256_shuffle_epi8(num_lo, c), _mm256_shuffle_epi8(num_hi, c), _mm256_slli_epi16::<3>(c));
                let (nlo, nhi) = (_mm256_castsi256_si128(num), _mm256_extracti128_si256::<1>(num));
                let offs = [nlo, _mm_srli_si128::<8>(nlo), nhi, _mm_srli_si128::<8>(nhi)];
                let mut syms = [zero; 4];
                for (i, v) in [$a, $b, $c, $d].into_iter().enumerate() {
                    let off = _mm256_slli_epi32::<12>(_mm256_cvtepu8_epi32(offs[i]));
                    // SAFETY: every offset + 4096 is within `tables` and slots are < 4096.
                    let e = unsafe { lookup8::<LOADS>(tab, _mm256_add_epi32(off, _mm256_and_si256(x[v], low12))) };
                    syms[i] = _mm256_srli_epi32::<24>(e);
                    let freq = _mm256_and_si256(_mm256_srli_epi32::<12>(e), low12);
                    x[v] = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32::<12>(x[v]), freq), _mm256_and_si256(e, low12));
                }
                // SAFETY: the step's words are readable (q + 8 words at every renormalisation).
                unsafe {
                    x[$a] = renorm8(x[$a], $words, &mut $q);
                    x[$b] = renorm8(x[$b], $words, &mut $q);
                    x[$c] = renorm8(x[$c], $words, &mut $q);
                    x[$d] = renorm8(x[$d], $words, &mut $q);
                }
                let sym = _mm256_packus_epi16(_mm256_packus_epi32(syms[0], syms[1]), _mm256_packus_epi32(syms[2], syms[3]));
                let sym = _mm256_permutevar8x32_epi32(sym, order);
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
            group!(base, $words, $q, 0, 0, 1, 2, 3);
            group!(base, $words, $q, 1, 4, 5, 6, 7);
            group!(base, $words, $q, 2, 8, 9, 10, 11);
            group!(base, $words, $q, 3, 12, 13, 14, 15);
            step += 1;
        }};
    }
    while step < full && n_words - q >= lanes + 8 {
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
        let tail_words = tail.as_ptr().cast::<u8>();
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
        // SAFETY: states has MAX_LANES >= 8 * V entries.
        unsafe { _mm256_storeu_si256(s.states.as_mut_ptr().add(8 * v).cast(), *xv) };
    }
    s.word_pos = q;
    s.step = step;
}
