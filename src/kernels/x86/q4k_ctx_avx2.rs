//! AVX2 decode of Q4_K field segments (`kernels/q4k_ctx.rs`): the byte-stream
//! step with a table per symbol, on the canonical slot tables. Each lane's
//! context picks its table's offset from the 32 offsets (four in-register
//! permutes and two blends), which joins the slot in the gather index. Steps
//! run while a whole step's words remain; the scalar oracle finishes the segment.

use super::avx2::renorm8;
use crate::kernels::{ByteStream, CtxModel};
use core::arch::x86_64::*;

/// # Safety
/// The `CtxDecode` contract (`kernels/mod.rs`) on a CPU with AVX2, BMI2 and POPCNT.
pub(in crate::kernels) unsafe fn ctx_decode(m: &CtxModel<'_>, s: &mut ByteStream<'_>) {
    // SAFETY: the caller guarantees the CPU features and the contract the loop relies on.
    unsafe {
        match s.lanes {
            32 => lanes::<4>(m, s),
            64 => lanes::<8>(m, s),
            128 => lanes::<16>(m, s),
            _ => {}
        }
    }
}

/// # Safety
/// AVX2, BMI2, POPCNT; `s.lanes == 8 * V`, V a multiple of 4; the `CtxDecode` contract.
#[target_feature(enable = "avx2,bmi2,popcnt")]
unsafe fn lanes<const V: usize>(m: &CtxModel<'_>, s: &mut ByteStream<'_>) {
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
    let five = _mm256_set1_epi32(31);
    let tab = m.tables.as_ptr().cast::<i32>();
    let words = s.words.as_ptr();
    let ctx = m.ctx.as_ptr();
    let out = s.dest.out.as_mut_ptr();
    let low12 = _mm256_set1_epi32(0xfff);
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    while step < full && n_words - q >= lanes + 8 {
        let base = step * lanes;
        for g in 0..V / 4 {
            let mut syms = [_mm256_setzero_si256(); 4];
            for (k, sym) in syms.iter_mut().enumerate() {
                let v = 4 * g + k;
                // SAFETY: symbols base + 8v .. + 8 are < full * lanes <= n <= ctx.len().
                let c = _mm256_cvtepu8_epi32(unsafe { _mm_loadl_epi64(ctx.add(base + 8 * v).cast()) });
                // Offset of context c (its low five bits), gathered from the 32 offsets.
                // SAFETY: indices below 32 address the 32 offsets.
                let off = unsafe { _mm256_i32gather_epi32::<4>(m.offsets.as_ptr().cast(), _mm256_and_si256(c, five)) };
                // SAFETY: every offset + 4096 is within `tables` and slots are < 4096.
                let e = unsafe { _mm256_i32gather_epi32::<4>(tab, _mm256_add_epi32(off, _mm256_and_si256(x[v], low12))) };
                *sym = _mm256_srli_epi32::<24>(e);
                let freq = _mm256_and_si256(_mm256_srli_epi32::<12>(e), low12);
                x[v] = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32::<12>(x[v]), freq), _mm256_and_si256(e, low12));
            }
            for xk in &mut x[4 * g..4 * g + 4] {
                // SAFETY: the guard keeps q + 8 <= n_words throughout the step.
                *xk = unsafe { renorm8(*xk, words, &mut q) };
            }
            let bytes = _mm256_packus_epi16(_mm256_packus_epi32(syms[0], syms[1]), _mm256_packus_epi32(syms[2], syms[3]));
            let bytes = _mm256_permutevar8x32_epi32(bytes, order);
            // SAFETY: symbols base + 32g .. + 32 of a full step lie in `out` (len >= n).
            unsafe { _mm256_storeu_si256(out.add(base + 32 * g).cast(), bytes) };
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
