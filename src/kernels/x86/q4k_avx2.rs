//! AVX2 assembly of Q4_K blocks, 16 blocks per tile (the layout of
//! `q4k_avx512`). Flag and index bits expand to bytes with shuffle / and / compare;
//! the window merge is one byte shuffle per 32 nibbles from a table of
//! `merge(flag, index, lo)` indexed by `flag << 3 | index`.

use super::shared::{transpose16_sse, MERGE, MERGE_HIGH};
use crate::kernels::scalar::q4k_assemble_from;
use crate::kernels::Q4kParts;
use crate::format::q4k_block::{BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES};
use core::arch::x86_64::*;

/// # Safety
/// The `Q4kAssemble` contract (`kernels/mod.rs`) on a CPU with the AVX2 features `tiles16` enables.
pub(in crate::kernels) unsafe fn q4k_assemble(parts: &Q4kParts<'_>, n: usize, out: &mut [u8]) {
    let tiles = n / 16;
    // SAFETY: the caller guarantees the CPU features, that every part holds n
    // blocks and `out` is n blocks; the tiles cover blocks < 16 * tiles <= n.
    unsafe { tiles16(parts, tiles, out) };
    q4k_assemble_from(parts, 16 * tiles, &mut out[16 * tiles * BLOCK..]);
}


/// fp16 → f32 for 8 lanes, exactly, with integer ops (see `q4k_avx512`).
#[inline]
#[target_feature(enable = "avx2")]
fn f16_to_f32(h: __m256i) -> __m256 {
    let sign = _mm256_slli_epi32::<16>(_mm256_and_si256(h, _mm256_set1_epi32(0x8000)));
    let exp = _mm256_and_si256(_mm256_srli_epi32::<10>(h), _mm256_set1_epi32(31));
    let mant = _mm256_and_si256(h, _mm256_set1_epi32(0x3ff));
    let normal = _mm256_or_si256(_mm256_slli_epi32::<23>(_mm256_add_epi32(exp, _mm256_set1_epi32(112))), _mm256_slli_epi32::<13>(mant));
    let special = _mm256_or_si256(_mm256_set1_epi32(0x7f80_0000), _mm256_slli_epi32::<13>(mant));
    let sub = _mm256_castps_si256(_mm256_mul_ps(_mm256_cvtepi32_ps(mant), _mm256_set1_ps(1.0 / 16_777_216.0)));
    let zero_exp = _mm256_cmpeq_epi32(exp, _mm256_setzero_si256());
    let max_exp = _mm256_cmpeq_epi32(exp, _mm256_set1_epi32(31));
    let bits = _mm256_blendv_epi8(_mm256_blendv_epi8(normal, sub, zero_exp), special, max_exp);
    _mm256_castsi256_ps(_mm256_or_si256(bits, sign))
}

#[inline]
#[target_feature(enable = "avx2")]
fn window(zero: __m256, unit: __m256) -> __m256i {
    let mut lo = _mm256_setzero_si256();
    for t in 4..=11 {
        let ge = _mm256_cmp_ps::<_CMP_GE_OQ>(zero, _mm256_mul_ps(_mm256_set1_ps(t as f32), unit));
        lo = _mm256_sub_epi32(lo, _mm256_castps_si256(ge));
    }
    lo
}

/// 32 bits → 32 bytes, each `weight` where its bit is set and 0 elsewhere.
#[inline]
#[target_feature(enable = "avx2")]
fn expand(bits: u32, weight: i8) -> __m256i {
    let spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32(bits as i32),
        _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3),
    );
    let select = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
    _mm256_and_si256(set, _mm256_set1_epi8(weight))
}

/// Sub-block `j`'s 6-bit scale and min for 8 blocks (lanes), from header rows.
#[inline]
#[target_feature(enable = "avx2")]
fn scale_min(j: usize, s: &dyn Fn(usize) -> __m256i) -> (__m256i, __m256i) {
    let c = |v: i32| _mm256_set1_epi32(v);
    if j < 4 {
        (_mm256_and_si256(s(j), c(63)), _mm256_and_si256(s(j + 4), c(63)))
    } else {
        (
            _mm256_or_si256(_mm256_and_si256(s(j + 4), c(15)), _mm256_slli_epi32::<4>(_mm256_srli_epi32::<6>(s(j - 4)))),
            _mm256_or_si256(_mm256_srli_epi32::<4>(s(j + 4)), _mm256_slli_epi32::<4>(_mm256_srli_epi32::<6>(s(j)))),
        )
    }
}

/// # Safety
/// AVX2; `parts.fit(16 * tiles, ..)` holds (header rows `stride` apart, each with
/// `16 * tiles` blocks: `headers.len() >= 15 * stride + 16 * tiles`); `out` holds at
/// least `16 * tiles` blocks.
#[target_feature(enable = "avx2,bmi2")]
unsafe fn tiles16(parts: &Q4kParts<'_>, tiles: usize, out: &mut [u8]) {
    for tile in 0..tiles {
        let k0 = 16 * tile;
        let mut rows = [_mm_setzero_si128(); HEADER];
        for (p, row) in rows.iter_mut().enumerate() {
            // SAFETY: header row p holds the parts' blocks from p * stride on
            // (`Q4kParts::fit`); k0 + 16 <= 16 * tiles.
            *row = unsafe { _mm_loadu_si128(parts.headers.as_ptr().add(p * parts.stride + k0).cast()) };
        }
        let mut lo = [[0u8; 16]; 8];
        for half in 0..2 {
            // Lanes = blocks k0 + 8 * half .. + 8.
            let lane = |p: usize| _mm256_cvtepu8_epi32(if half == 0 { rows[p] } else { _mm_srli_si128::<8>(rows[p]) });
            let d = f16_to_f32(_mm256_or_si256(lane(0), _mm256_slli_epi32::<8>(lane(1))));
            let dmin = f16_to_f32(_mm256_or_si256(lane(2), _mm256_slli_epi32::<8>(lane(3))));
            let s = |i: usize| lane(4 + i);
            for (j, lo_j) in lo.iter_mut().enumerate() {
                let (sc, m) = scale_min(j, &s);
                let w = window(_mm256_mul_ps(dmin, _mm256_cvtepi32_ps(m)), _mm256_mul_ps(d, _mm256_cvtepi32_ps(sc)));
                let mut lanes = [0i32; 8];
                // SAFETY: 8 i32 of writable memory.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), w) };
                for (i, &v) in lanes.iter().enumerate() {
                    lo_j[8 * half + i] = v as u8;
                }
            }
        }
        let headers = transpose16_sse(&rows);
        for (u, header) in headers.iter().enumerate() {
            let k = k0 + u;
            // SAFETY: block k < 16 * tiles lies inside `out`.
            let dst = unsafe { out.as_mut_ptr().add(k * BLOCK) };
            // SAFETY: as above, 16 header bytes.
            unsafe { _mm_storeu_si128(dst.cast(), *header) };
            let f = parts.flags[FLAG_BYTES * k..].as_ptr();
            let pl = parts.planes[PLANE_BYTES * k..].as_ptr();
            for g in 0..4 {
                // qs bytes 32g..32g+32: low nibbles in sub-block 2g, high in 2g+1.
                let mut qs = _mm256_setzero_si256();
                for h in 0..2 {
                    let at = 16 * h + 4 * g;
                    // SAFETY: flags and planes hold FLAG_BYTES and PLANE_BYTES per block.
                    let (flag, p0, p1, p2) = unsafe {
                        (
                            f.add(at).cast::<u32>().read_unaligned(),
                            pl.add(at).cast::<u32>().read_unaligned(),
                            pl.add(32 + at).cast::<u32>().read_unaligned(),
                            pl.add(64 + at).cast::<u32>().read_unaligned(),
                        )
                    };
                    let key = _mm256_or_si256(_mm256_or_si256(expand(flag, 8), expand(p0, 1)), _mm256_or_si256(expand(p1, 2), expand(p2, 4)));
                    // SAFETY: lo values are <= 8, rows of the 9-row table are 16 bytes.
                    let rows = if h == 0 { &MERGE } else { &MERGE_HIGH };
                    // SAFETY: lo values are <= 8, rows of the 9-row table are 16 bytes.
                    let table = unsafe { _mm256_broadcastsi128_si256(_mm_loadu_si128(rows[usize::from(lo[2 * g + h][u])].as_ptr().cast())) };
                    qs = _mm256_or_si256(qs, _mm256_shuffle_epi8(table, key));
                }
                // SAFETY: bytes 16 + 32g .. 16 + 32g + 32 of block k.
                unsafe { _mm256_storeu_si256(dst.add(HEADER + 32 * g).cast(), qs) };
            }
        }
    }
}
