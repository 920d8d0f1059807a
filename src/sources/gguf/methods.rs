//! Which codec each ggml tensor type gets: field splits follow llama.cpp's block
//! structs (fp16 scales split into low and high bytes — the high bytes carry the
//! exponent and are low-entropy), so rANS sees one distribution per stream.

use crate::codec::fields::{Fold, Layout};
use crate::codec::Method;

/// zstd level for tensor types no model covers (fast: tensors are large).
pub use crate::sources::plan::TENSOR_ZSTD_LEVEL;

fn runs(block: u16, streams: &[&[(u16, u16)]]) -> Method {
    Method::Fields(Layout::from_runs(block, streams))
}

/// [`runs`] over blocks whose 5-bit quants at `at` are folded first.
fn folded(block: u16, at: u16, streams: &[&[(u16, u16)]]) -> Method {
    Method::Fields(Layout::from_runs(block, streams).folded(Fold::Quants5 { at }))
}

/// `count` runs of `len` bytes at `start + k * stride + at` (one field of each
/// of `count` repeated groups).
fn every(start: u16, stride: u16, count: u16, at: u16, len: u16) -> Vec<(u16, u16)> {
    (0..count).map(|k| (start + k * stride + at, len)).collect()
}

/// Candidate methods for a tensor of ggml type `t` (the first is tried first;
/// the smallest result wins).
pub fn for_type(t: u32) -> Vec<Method> {
    let zstd = Method::Zstd { level: TENSOR_ZSTD_LEVEL };
    match t {
        // F32: byte planes (sign/exponent bytes are skewed) or zstd, whichever is smaller.
        0 => vec![Method::Fields(Layout::planes(4)), zstd],
        1 => vec![Method::Fields(Layout::planes(2))],
        // Q4_0 {d; qs[16]}
        2 => vec![runs(18, &[&[(0, 1)], &[(1, 1)], &[(2, 16)]])],
        // Q4_1 {d; m; qs[16]}
        3 => vec![runs(20, &[&[(0, 1)], &[(1, 1)], &[(2, 1)], &[(3, 1)], &[(4, 16)]])],
        // Q5_0 {d; qh[4]; qs[16]}: the qs nibbles folded by their top bits in qh
        // (`Fold::Quants5`), so that they count each quant's distance from 16.
        6 => vec![folded(22, 2, &[&[(0, 1)], &[(1, 1)], &[(2, 4)], &[(6, 16)]])],
        // Q5_1 {d; m; qh[4]; qs[16]}, folded likewise.
        7 => vec![folded(24, 4, &[&[(0, 1)], &[(1, 1)], &[(2, 1)], &[(3, 1)], &[(4, 4)], &[(8, 16)]])],
        // Q8_0 {d; qs[32]}: d = amax / 127 takes a few hundred fp16 values a
        // chunk, coded as their ranks where smaller (`codec::ranks`).
        8 => vec![Method::Fields(Layout::from_runs(34, &[&[(0, 1)], &[(1, 1)], &[(2, 32)]]).ranked(0))],
        // Q8_1 {d; s; qs[32]}
        9 => vec![runs(36, &[&[(0, 1)], &[(1, 1)], &[(2, 1)], &[(3, 1)], &[(4, 32)]])],
        // Q2_K {scales[16]; qs[64]; d; dmin}
        10 => vec![runs(84, &[&[(0, 16)], &[(16, 64)], &[(80, 1)], &[(81, 1)], &[(82, 1)], &[(83, 1)]])],
        // Q3_K {hmask[32]; qs[64]; scales[12]; d}
        11 => vec![runs(110, &[&[(0, 32)], &[(32, 64)], &[(96, 12)], &[(108, 1)], &[(109, 1)]])],
        // Q4_K {d; dmin; scales[12]; qs[128]}: header bytes by position, then the quants.
        12 => vec![Method::Q4k],
        // Q5_K {d; dmin; scales[12]; qh[32]; qs[128]}
        13 => vec![runs(176, &[&[(0, 1)], &[(1, 1)], &[(2, 1)], &[(3, 1)], &[(4, 12)], &[(16, 32)], &[(48, 128)]])],
        // Q6_K {ql[128]; qh[64]; scales[16]; d}
        14 => vec![runs(210, &[&[(0, 128)], &[(128, 64)], &[(192, 16)], &[(208, 1)], &[(209, 1)]])],
        // Q8_K {f32 d; qs[256]; bsums[16] i16}
        15 => vec![runs(292, &[&[(0, 1)], &[(1, 1)], &[(2, 1)], &[(3, 1)], &[(4, 256)], &[(260, 32)]])],
        // I8, I16, I32, I64, F64: byte planes.
        24 => vec![Method::Fields(Layout::planes(1)), zstd],
        25 => vec![Method::Fields(Layout::planes(2)), zstd],
        26 => vec![Method::Fields(Layout::planes(4)), zstd],
        27 | 28 => vec![Method::Fields(Layout::planes(8)), zstd],
        // IQ2_XXS {d; qs[64]}: qs is 8 groups of a u32 of four grid indices and a
        // u32 of sign bits with the 4-bit scale on top. (Splitting the scale byte
        // off too gains 0.5 % but decodes at half the speed: runs of 1–3 bytes.)
        16 => vec![runs(66, &[&[(0, 1)], &[(1, 1)], &every(2, 8, 8, 0, 4), &every(2, 8, 8, 4, 4)])],
        // IQ2_XS {d; qs[32] u16 (9-bit grid index, 7-bit signs); scales[8]}. (The
        // u16s' low and high bytes apart gain 0.4 % but halve the decode speed.)
        17 => vec![runs(74, &[&[(0, 1)], &[(1, 1)], &[(2, 64)], &[(66, 8)]])],
        // IQ3_XXS {d; qs[64]; scales_and_signs[32]}
        18 => vec![runs(98, &[&[(0, 1)], &[(1, 1)], &[(2, 64)], &[(66, 32)]])],
        // IQ1_S {d; qs[32]; qh[8] u16}
        19 => vec![runs(50, &[&[(0, 1)], &[(1, 1)], &[(2, 32)], &[(34, 16)]])],
        // IQ4_NL {d; qs[16]}
        20 => vec![runs(18, &[&[(0, 1)], &[(1, 1)], &[(2, 16)]])],
        // IQ3_S {d; qs[64]; qh[8]; signs[32]; scales[4]}
        21 => vec![runs(110, &[&[(0, 1)], &[(1, 1)], &[(2, 64)], &[(66, 8)], &[(74, 32)], &[(106, 4)]])],
        // IQ2_S {d; qs[32]; signs[32]; qh[8]; scales[8]}
        22 => vec![runs(82, &[&[(0, 1)], &[(1, 1)], &[(2, 32)], &[(34, 32)], &[(66, 8)], &[(74, 8)]])],
        // IQ4_XS {d; scales_h u16; scales_l[4]; qs[128]}
        23 => vec![runs(136, &[&[(0, 1)], &[(1, 1)], &[(2, 2)], &[(4, 4)], &[(8, 128)]])],
        // IQ1_M {qs[32]; qh[16]; scales[8] (u16s, the f16 scale in their top nibbles)}
        29 => vec![runs(56, &[&[(0, 32)], &[(32, 16)], &[(48, 8)]])],
        30 => vec![Method::Bf16],
        // TQ1_0 {qs[48]; qh[4]; d}
        34 => vec![runs(54, &[&[(0, 48)], &[(48, 4)], &[(52, 1)], &[(53, 1)]])],
        // TQ2_0 {qs[64]; d}
        35 => vec![runs(66, &[&[(0, 64)], &[(64, 1)], &[(65, 1)]])],
        // MXFP4 {e (E8M0 scale); qs[16]}
        39 => vec![runs(17, &[&[(0, 1)], &[(1, 16)]])],
        // NVFP4 {d[4] (UE4M3 scales); qs[32]}
        40 => vec![runs(36, &[&[(0, 4)], &[(4, 32)]])],
        // Q1_0 {d; qs[16]}
        41 => vec![runs(18, &[&[(0, 1)], &[(1, 1)], &[(2, 16)]])],
        // Anything newer: zstd.
        _ => vec![zstd],
    }
}
