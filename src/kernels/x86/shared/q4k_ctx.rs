//! The context computation and scale-byte packing of the Q4_K field kernels
//! (`kernels/q4k_ctx.rs`), in AVX2, shared by the AVX2 and AVX-512 kernels.

use crate::kernels::CtxModel;
use core::arch::x86_64::*;

/// The segment kinds (the kernels' const parameter `KIND`).
pub(in crate::kernels::x86) const CONST: u8 = 0;
pub(in crate::kernels::x86) const DMIN: u8 = 1;
pub(in crate::kernels::x86) const SCALE: u8 = 2;
pub(in crate::kernels::x86) const MIN: u8 = 3;

/// The rows a segment's contexts read and write, as pointers (`CtxModel`).
pub(in crate::kernels::x86) struct Rows {
    prev: *const u8,
    sc: *const u8,
    factor: *const u16,
    seen: *mut u8,
    fresh: bool,
    last: bool,
    konst: u8,
}

impl Rows {
    pub(in crate::kernels::x86) fn new(m: &mut CtxModel<'_>) -> Rows {
        Rows { prev: m.prev.as_ptr(), sc: m.sc.as_ptr(), factor: m.factor.as_ptr(), seen: m.seen.as_mut_ptr(), fresh: m.fresh, last: m.last, konst: m.konst }
    }
}

/// Where the `m_4..m_7` segments write the packed scale bytes (`CtxModel::pack`).
pub(in crate::kernels::x86) struct PackRows {
    sc_lo: *const u8,
    m_lo: *const u8,
    out: [*mut u8; 3],
}

impl PackRows {
    pub(in crate::kernels::x86) fn new(m: &mut CtxModel<'_>) -> Option<PackRows> {
        m.pack.as_mut().map(|p| PackRows { sc_lo: p.sc_lo.as_ptr(), m_lo: p.m_lo.as_ptr(), out: [p.out[0].as_mut_ptr(), p.out[1].as_mut_ptr(), p.out[2].as_mut_ptr()] })
    }
}

/// 32 bytes at `p`.
///
/// # Safety
/// 32 readable bytes at `p`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn ld(p: *const u8) -> __m256i {
    // SAFETY: per the contract.
    unsafe { _mm256_loadu_si256(p.cast()) }
}

/// The contexts of symbols `k .. k + 32` as bytes (all below 32), computed from
/// the rows as `CtxModel::context` does (updating `seen`), and (mins) their `sc_j`.
///
/// # Safety
/// AVX2; the rows the kind reads and writes cover symbols `k .. k + 32`.
#[inline]
#[target_feature(enable = "avx2")]
pub(in crate::kernels::x86) unsafe fn ctx32<const KIND: u8>(r: &Rows, k: usize) -> (__m256i, __m256i) {
    let b = |v: u8| _mm256_set1_epi8(v as i8);
    let zero = _mm256_setzero_si256();
    let last_ctx = b(if KIND == SCALE { crate::format::q4k_block::fields::SC_LAST } else { crate::format::q4k_block::fields::M_LAST });
    // SAFETY (the block): the rows cover the symbols, per the contract.
    unsafe {
        match KIND {
            DMIN => (_mm256_min_epu8(ld(r.prev.add(k)), b(31)), zero),
            SCALE => {
                let p = ld(r.prev.add(k));
                let sin = if r.fresh { zero } else { ld(r.seen.add(k)) };
                let sn = _mm256_or_si256(sin, _mm256_and_si256(_mm256_cmpeq_epi8(p, b(63)), b(1)));
                _mm256_storeu_si256(r.seen.add(k).cast(), sn);
                // (p >> 3) with a 16-bit shift, masked so no bit crosses a byte.
                let t = _mm256_and_si256(_mm256_srli_epi16::<3>(p), b(7));
                let plain = _mm256_add_epi8(_mm256_add_epi8(t, t), sn);
                (if r.last { _mm256_blendv_epi8(plain, last_ctx, _mm256_cmpeq_epi8(sn, zero)) } else { plain }, zero)
            }
            MIN => {
                let sn = if r.fresh { zero } else { _mm256_or_si256(ld(r.seen.add(k)), _mm256_and_si256(_mm256_cmpeq_epi8(ld(r.prev.add(k)), b(63)), b(1))) };
                _mm256_storeu_si256(r.seen.add(k).cast(), sn);
                let scv = ld(r.sc.add(k));
                // (32·sc · F) >> 16 in 16-bit lanes (32·sc < 2^11, F < 2^15).
                let s0 = _mm256_slli_epi16::<5>(_mm256_cvtepu8_epi16(_mm_loadu_si128(r.sc.add(k).cast())));
                let s1 = _mm256_slli_epi16::<5>(_mm256_cvtepu8_epi16(_mm_loadu_si128(r.sc.add(k + 16).cast())));
                let (f0, f1) = (_mm256_loadu_si256(r.factor.add(k).cast()), _mm256_loadu_si256(r.factor.add(k + 16).cast()));
                let bk = _mm256_packus_epi16(_mm256_mulhi_epu16(s0, f0), _mm256_mulhi_epu16(s1, f1));
                let bk = _mm256_min_epu8(_mm256_permute4x64_epi64::<0xd8>(bk), b(14));
                let plain = _mm256_add_epi8(_mm256_add_epi8(bk, bk), sn);
                (if r.last { _mm256_blendv_epi8(plain, last_ctx, _mm256_cmpeq_epi8(sn, zero)) } else { plain }, scv)
            }
            _ => (b(r.konst), zero),
        }
    }
}

/// Writes the packed scale bytes of blocks `k .. k + 32` from their `sc_{4+j}`
/// (`scv`) and decoded `m_{4+j}` (`sym`).
///
/// # Safety
/// AVX2; the packing rows cover symbols `k .. k + 32`.
#[inline]
#[target_feature(enable = "avx2")]
pub(in crate::kernels::x86) unsafe fn pack32(p: &PackRows, k: usize, scv: __m256i, sym: __m256i) {
    let (low2, low4) = (_mm256_set1_epi8(3), _mm256_set1_epi8(15));
    // (x >> 4) & 3, then << 6: 16-bit shifts, masked so no bit crosses a byte.
    let top = |x: __m256i| _mm256_slli_epi16::<6>(_mm256_and_si256(_mm256_srli_epi16::<4>(x), low2));
    // SAFETY: per the contract.
    unsafe {
        _mm256_storeu_si256(p.out[0].add(k).cast(), _mm256_or_si256(ld(p.sc_lo.add(k)), top(scv)));
        _mm256_storeu_si256(p.out[1].add(k).cast(), _mm256_or_si256(ld(p.m_lo.add(k)), top(sym)));
        _mm256_storeu_si256(p.out[2].add(k).cast(), _mm256_or_si256(_mm256_and_si256(scv, low4), _mm256_slli_epi16::<4>(_mm256_and_si256(sym, low4))));
    }
}
