//! AVX-512 decode of Q4_K field segments (`kernels/q4k_ctx.rs`): the byte-stream
//! step with a table per symbol. Each lane's context picks its table's offset
//! (one two-source permute of the 32 offsets), which joins the slot in the
//! gather index; 32 symbols per pair of vectors are picked out of the entries
//! with one byte permute and stored. Steps run while a whole step's words
//! remain; the scalar oracle finishes the segment.

use crate::kernels::{ByteStream, CtxModel};
use crate::rans::RANS_L;
use core::arch::x86_64::*;

/// # Safety
/// The `CtxDecode` contract (`kernels/mod.rs`) on a CPU with `Isa::Avx512`'s features.
pub(in crate::kernels) unsafe fn ctx_decode(m: &CtxModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller guarantees the CPU features and the contract the loop relies on.
    unsafe {
        match s.lanes {
            32 => lanes::<2>(m, s),
            64 => lanes::<4>(m, s),
            128 => lanes::<8>(m, s),
            _ => {}
        }
    }
}

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

static IDX_SYM: [u8; 64] = idx_sym();

/// # Safety
/// CPU features as enabled; `s.lanes == 16 * V`; the `CtxDecode` contract.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2,popcnt")]
unsafe fn lanes<const V: usize>(m: &CtxModel<'_>, s: &mut ByteStream<'_>) {
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
    // SAFETY: 64 readable bytes.
    let idx_sym = unsafe { _mm512_loadu_si512(IDX_SYM.as_ptr().cast()) };
    let tab = m.tables.as_ptr().cast::<i32>();
    let words = s.words.as_ptr().cast::<i16>();
    let ctx = m.ctx.as_ptr();
    let out = s.dest.out.as_mut_ptr();
    let low12 = _mm512_set1_epi32(0xfff);
    while step < full && q + lanes <= n_words {
        let base = step * lanes;
        macro_rules! pair {
            ($p:expr) => {
                if $p < V / 2 {
                    let mut e = [_mm512_setzero_si512(); 2];
                    for h in 0..2 {
                        let v = 2 * $p + h;
                        // SAFETY: symbols base + 16v .. + 16 are < full * lanes <= n <= ctx.len().
                        // The permute reads the low five bits of each context.
                        let c = _mm512_cvtepu8_epi32(unsafe { _mm_loadu_si128(ctx.add(base + 16 * v).cast()) });
                        let off = _mm512_permutex2var_epi32(off_lo, c, off_hi);
                        // SAFETY: every offset + 4096 is within `tables` and slots are < 4096.
                        let ent = unsafe { _mm512_i32gather_epi32::<4>(_mm512_add_epi32(off, _mm512_and_si512(x[v], low12)), tab) };
                        let freq = _mm512_and_si512(_mm512_srli_epi32::<12>(ent), low12);
                        let xn = _mm512_add_epi32(_mm512_mullo_epi32(_mm512_srli_epi32::<12>(x[v]), freq), _mm512_and_si512(ent, low12));
                        let k = _mm512_cmplt_epu32_mask(xn, _mm512_set1_epi32(RANS_L as i32));
                        // SAFETY: the loop guard keeps q + lanes <= n_words for the whole step,
                        // so 16 words at q are readable.
                        let w = _mm256_maskz_expand_epi16(k, unsafe { _mm256_loadu_si256(words.add(q).cast()) });
                        q += k.count_ones() as usize;
                        x[v] = _mm512_mask_or_epi32(xn, k, _mm512_slli_epi32::<16>(xn), _mm512_cvtepu16_epi32(w));
                        e[h] = ent;
                    }
                    let syms = _mm512_permutex2var_epi8(e[0], idx_sym, e[1]);
                    // SAFETY: symbols base + 32p .. + 32 of a full step lie in `out` (len >= n).
                    unsafe { _mm256_storeu_si256(out.add(base + 32 * $p).cast(), _mm512_castsi512_si256(syms)) };
                }
            };
        }
        pair!(0);
        pair!(1);
        pair!(2);
        pair!(3);
        step += 1;
    }
    for (v, xv) in x.iter().enumerate() {
        // SAFETY: states has MAX_LANES >= 16 * V entries.
        unsafe { _mm512_storeu_si512(s.states.as_mut_ptr().add(16 * v).cast(), *xv) };
    }
    s.word_pos = q;
    s.step = step;
}
