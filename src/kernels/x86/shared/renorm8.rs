//! AVX2 renormalisation of 8 rANS lanes, shared by the bf16, byte-stream and
//! Q4_K field kernels.

use core::arch::x86_64::*;

/// For each 8-bit lane mask: the byte shuffle that zero-extends consecutive
/// loaded words into the lanes whose bit is set (0x80 zeroes the other lanes;
/// the eight words sit in both 128-bit halves), and the per-lane shift (16 or 0)
/// that makes room for them.
const fn renorm_tables() -> ([[u8; 32]; 256], [[u32; 8]; 256]) {
    let mut shuffle = [[0x80u8; 32]; 256];
    let mut shift = [[0u32; 8]; 256];
    let mut m = 0;
    while m < 256 {
        let mut k = 0;
        let mut j = 0;
        while j < 8 {
            if m >> j & 1 == 1 {
                shuffle[m][4 * j] = 2 * k;
                shuffle[m][4 * j + 1] = 2 * k + 1;
                shift[m][j] = 16;
                k += 1;
            }
            j += 1;
        }
        m += 1;
    }
    (shuffle, shift)
}

#[repr(align(32))]
struct Aligned<T>(T);
const RENORM: ([[u8; 32]; 256], [[u32; 8]; 256]) = renorm_tables();
static SHUFFLE: Aligned<[[u8; 32]; 256]> = Aligned(RENORM.0);
static SHIFT: Aligned<[[u32; 8]; 256]> = Aligned(RENORM.1);

/// Renormalisation of 8 lanes: the lanes below 2^16 take the next words, in lane order.
///
/// # Safety
/// AVX2, BMI2, POPCNT; `words` readable for 16 bytes at word `*q`.
#[inline]
#[target_feature(enable = "avx2,bmi2,popcnt")]
pub(in crate::kernels::x86) unsafe fn renorm8(x: __m256i, words: *const u8, q: &mut usize) -> __m256i {
    let need = _mm256_cmpeq_epi32(_mm256_srli_epi32::<16>(x), _mm256_setzero_si256());
    let m = _mm256_movemask_ps(_mm256_castsi256_ps(need)) as usize;
    // SAFETY: 16 bytes at word q, readable per the contract.
    let w = unsafe { _mm256_broadcastsi128_si256(_mm_loadu_si128(words.add(2 * *q).cast())) };
    // SAFETY: m < 256 indexes both 256-row tables; rows are 32 bytes.
    let (shuffle, shift) =
        unsafe { (_mm256_load_si256(SHUFFLE.0[m].as_ptr().cast()), _mm256_load_si256(SHIFT.0[m].as_ptr().cast())) };
    *q += m.count_ones() as usize;
    _mm256_or_si256(_mm256_sllv_epi32(x, shift), _mm256_shuffle_epi8(w, shuffle))
}
