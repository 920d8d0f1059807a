//! AVX-512 assembly of Q4_K blocks from decoded streams, 16 blocks per tile.
//!
//! Header bytes arrive stream-major (byte `p` of 16 consecutive blocks in one
//! 16-byte row), which is exactly the layout for computing the windows of 16
//! blocks at once in f32 lanes; the rows are then transposed into headers. Flags
//! and index planes load straight into mask registers and make the key of the
//! window's merge table (shared with the AVX2 kernel), one byte shuffle per 64 nibbles.

use super::shared::{transpose16_sse, MERGE, MERGE_HIGH};
use crate::kernels::scalar::q4k_assemble_from;
use crate::kernels::Q4kParts;
use crate::format::q4k_block::{BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES};
use core::arch::x86_64::*;

/// # Safety
/// The `Q4kAssemble` contract (`kernels/mod.rs`) on a CPU with the AVX-512 features `tiles16` enables.
pub(in crate::kernels) unsafe fn q4k_assemble(parts: &Q4kParts<'_>, n: usize, out: &mut [u8]) {
    let tiles = n / 16;
    // SAFETY: the caller guarantees the CPU features, that every part holds n
    // blocks and `out` is n blocks; the tiles cover blocks < 16 * tiles <= n.
    unsafe { tiles16(parts, tiles, out) };
    q4k_assemble_from(parts, 16 * tiles, &mut out[16 * tiles * BLOCK..]);
}

/// Window starts of sub-block `j` for 16 blocks: `#{t ∈ 4..=11 : zero ≥ t·unit}`.
#[inline]
#[target_feature(enable = "avx512f")]
fn window(zero: __m512, unit: __m512) -> __m512i {
    let mut lo = _mm512_setzero_si512();
    for t in 4..=11 {
        let ge = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(zero, _mm512_mul_ps(_mm512_set1_ps(t as f32), unit));
        lo = _mm512_mask_add_epi32(lo, ge, lo, _mm512_set1_epi32(1));
    }
    lo
}

/// # Safety
/// AVX-512 F/BW/VL; `parts.fit(16 * tiles, ..)` holds (header rows `stride` apart, each with
/// `16 * tiles` blocks: `headers.len() >= 15 * stride + 16 * tiles`); `out` holds at
/// least `16 * tiles` blocks.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,bmi2")]
unsafe fn tiles16(parts: &Q4kParts<'_>, tiles: usize, out: &mut [u8]) {
    let byte = |v: u32| _mm512_set1_epi32(v as i32);
    for tile in 0..tiles {
        let k0 = 16 * tile;
        // Header rows: row p = byte p of blocks k0..k0+16.
        let mut rows = [_mm_setzero_si128(); HEADER];
        for (p, row) in rows.iter_mut().enumerate() {
            // SAFETY: header row p holds the parts' blocks from p * stride on
            // (`Q4kParts::fit`); k0 + 16 <= 16 * tiles.
            *row = unsafe { _mm_loadu_si128(parts.headers.as_ptr().add(p * parts.stride + k0).cast()) };
        }
        let lane = |p: usize| _mm512_cvtepu8_epi32(rows[p]);
        // fp16 → f32 conversion is exact (subnormals included; MXCSR.DAZ is ignored).
        let halves = |lo: __m128i, hi: __m128i| _mm256_set_m128i(_mm_unpackhi_epi8(lo, hi), _mm_unpacklo_epi8(lo, hi));
        let d = _mm512_cvtph_ps(halves(rows[0], rows[1]));
        let dmin = _mm512_cvtph_ps(halves(rows[2], rows[3]));
        // Scales and mins of the eight sub-blocks (llama.cpp get_scale_min_k4), 16 blocks per vector.
        let s = |i: usize| lane(4 + i);
        let mut lo = [[0u8; 16]; 8];
        for (j, lo_j) in lo.iter_mut().enumerate() {
            let (sc, m) = if j < 4 {
                (_mm512_and_si512(s(j), byte(63)), _mm512_and_si512(s(j + 4), byte(63)))
            } else {
                (
                    _mm512_or_si512(_mm512_and_si512(s(j + 4), byte(15)), _mm512_slli_epi32::<4>(_mm512_srli_epi32::<6>(s(j - 4)))),
                    _mm512_or_si512(_mm512_srli_epi32::<4>(s(j + 4)), _mm512_slli_epi32::<4>(_mm512_srli_epi32::<6>(s(j)))),
                )
            };
            let w = window(_mm512_mul_ps(dmin, _mm512_cvtepi32_ps(m)), _mm512_mul_ps(d, _mm512_cvtepi32_ps(sc)));
            // SAFETY: lo_j has 16 bytes.
            unsafe { _mm_storeu_si128(lo_j.as_mut_ptr().cast(), _mm512_cvtepi32_epi8(w)) };
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
            for v in 0..2 {
                // Bytes 64v..64v+64 of qs: groups 2v (lanes 0-1) and 2v+1 (lanes 2-3);
                // low nibbles from sub-blocks 4v and 4v+2, high from 4v+1 and 4v+3.
                let mut qs = _mm512_setzero_si512();
                for h in 0..2 {
                    let (a, b) = (usize::from(lo[4 * v + h][u]), usize::from(lo[4 * v + 2 + h][u]));
                    // SAFETY: window starts are at most 8, the table has 9 rows.
                    let lut = unsafe {
                        let t = if h == 0 { MERGE.as_ptr() } else { MERGE_HIGH.as_ptr() };
                        _mm512_shuffle_i64x2::<0xE4>(_mm512_broadcast_i32x4(_mm_loadu_si128(t.add(a).cast())), _mm512_broadcast_i32x4(_mm_loadu_si128(t.add(b).cast())))
                    };
                    let at = 16 * h + 8 * v;
                    // SAFETY: flags and planes hold FLAG_BYTES and PLANE_BYTES per block.
                    let (flag, p0, p1, p2) = unsafe {
                        (
                            f.add(at).cast::<u64>().read_unaligned(),
                            pl.add(at).cast::<u64>().read_unaligned(),
                            pl.add(32 + at).cast::<u64>().read_unaligned(),
                            pl.add(64 + at).cast::<u64>().read_unaligned(),
                        )
                    };
                    // code = flag << 3 | index, then the window's merge table.
                    let code = _mm512_maskz_mov_epi8(p0, _mm512_set1_epi8(1));
                    let code = _mm512_mask_add_epi8(code, p1, code, _mm512_set1_epi8(2));
                    let code = _mm512_mask_add_epi8(code, p2, code, _mm512_set1_epi8(4));
                    let code = _mm512_mask_add_epi8(code, flag, code, _mm512_set1_epi8(8));
                    qs = _mm512_or_si512(qs, _mm512_shuffle_epi8(lut, code));
                }
                // SAFETY: bytes 16 + 64v .. 16 + 64v + 64 of block k.
                unsafe { _mm512_storeu_si512(dst.add(HEADER + 64 * v).cast(), qs) };
            }
        }
    }
}
