//! `rans::lanes_within`: row classes on rows that fit fewer lanes
//! than a chunk takes (2880 and 192 take 64 of 128; 160, 96 and 32 fit only 32,
//! which is not taken: those chunks keep one table), chunks that start mid-row,
//! a last chunk of fewer than 32 words, on every ISA and thread count.

mod common;
use common::*;
use llmc::frame::{FieldLayout, Method};
use llmc::{compress_bf16_rows, decompress, CompressParams, Isa};

use common::frame_payloads as chunks;

fn u32_at(p: &[u8], at: usize) -> usize {
    u32::from_le_bytes(p[at..at + 4].try_into().unwrap()) as usize
}

/// bf16 words whose rows (of `row` values) have distinct scales, so ranking
/// them pays.
fn rowed(n: usize, row: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let exp = 112 + ((i / row) * 7 % 13) as u16;
            let w = (seed as u16 & 0x807f) | exp << 7;
            w.to_le_bytes()
        })
        .collect()
}

/// Lanes a chunk of `n` values takes with one table: carrying lanes
/// (`rans::lanes_for_carrying`) where its raw fields hold three bytes a lane,
/// else `rans::lanes_for`.
fn lanes_for(n: usize) -> usize {
    let carrying = if n >= 1 << 16 { 128 } else if n >= 1 << 13 { 64 } else { 32 };
    if (6 * n).div_ceil(8) >= 3 * carrying {
        return carrying;
    }
    if n >= 1 << 18 {
        128
    } else if n >= 1 << 16 {
        64
    } else {
        32
    }
}

#[test]
fn row_classes_take_the_most_lanes_their_rows_fit_on_every_isa() {
    let mut mode2 = 0;
    // (row, chunk bytes, content bytes): 2880 and 192 fit 64 of 128 lanes, 160,
    // 96 and 32 only 32 of 128 (left to one table); chunks start mid-row;
    // contents end 20 words into a chunk.
    for (row, chunk, len) in [
        (2880usize, 1usize << 20, 3 * (1 << 20) + 40),
        (160, 1 << 20, 2 * (1 << 20) + 40),
        (32, 1 << 20, (1 << 20) + 40),
        (96, 1 << 18, 3 * (1 << 18) + 40),
        (192, 131_200, 3 * 131_200 + 40),
        (2880, 140_000, 3 * 140_000 + 40),
    ] {
        let src = rowed(len / 2, row, row as u64 * 31 + chunk as u64);
        let reference = compress_bf16_rows(&src, row as u32, &CompressParams { isa: Some(Isa::Scalar), chunk_size: chunk as u32, n_threads: 1, ..Default::default() }).unwrap();
        for (i, p) in chunks(&reference).iter().enumerate() {
            let n = (len - i * chunk).min(chunk) / 2;
            let first_col = i * chunk / 2 % row;
            let pref = lanes_for(n);
            let want = [128, 64, 32].into_iter().find(|&l| (l == pref || (2 * l == pref && l >= 64)) && row % l == 0 && first_col % l == 0);
            if matches!(p[0], 2 | 4) {
                mode2 += 1;
                assert_eq!(Some(1usize << p[1]), want, "row {row} chunk {i}: lanes");
                assert_eq!((u32_at(p, 4), u32_at(p, 8)), (row, first_col), "row {row} chunk {i}: shape");
            } else {
                // Only chunks whose rows fit no lanes (or too few rows) fall back.
                assert!(want.is_none() || (first_col + n).div_ceil(row) < 16, "row {row} chunk {i}: mode {} where lanes {want:?} fit", p[0]);
            }
        }
        for isa in isas_under_test() {
            for threads in [1, 2, 3] {
                let f = compress_bf16_rows(&src, row as u32, &CompressParams { isa: Some(isa), chunk_size: chunk as u32, n_threads: threads, ..Default::default() }).unwrap();
                assert!(f == reference, "row {row} chunk {chunk}: {isa:?} x{threads} differs");
            }
            assert!(decompress(&reference, &opts(isa)).unwrap() == src, "row {row} chunk {chunk}: {isa:?}");
        }
    }
    eprintln!("{mode2} mode-2 chunks, isas {:?}", isas_under_test());
    assert!(mode2 >= 7, "only {mode2} chunks used row classes");
}

#[test]
fn byte_row_classes_with_fewer_lanes_roundtrip_on_every_isa() {
    // 2880 and 192 take 64 of 128 lanes, 320 fits the 64 of a 16 KiB chunk.
    for (row, chunk, len) in [(2880usize, 1usize << 20, 3 * (1 << 20) + 17), (192, 1 << 15, 5 * (1 << 15) + 3), (320, 1 << 14, 4 * (1 << 14) + 1)] {
        let words = rowed(len, row, row as u64);
        // The high byte of each word: one byte a value, scaled by row.
        let src: Vec<u8> = words.chunks_exact(2).map(|w| w[1] ^ w[0] & 0x03).collect();
        let method = Method::Fields(FieldLayout::planes(1)).with_rows(Some(row as u64));
        let plain = llmc::frame::compress(&Method::Fields(FieldLayout::planes(1)), &src, &CompressParams { chunk_size: chunk as u32, ..Default::default() }).unwrap();
        let reference = llmc::frame::compress(&method, &src, &CompressParams { isa: Some(Isa::Scalar), chunk_size: chunk as u32, ..Default::default() }).unwrap();
        eprintln!("bytes row {row}: rows {} vs plain {}", reference.len(), plain.len());
        assert!(reference.len() < plain.len(), "row {row}: row classes never used");
        for isa in isas_under_test() {
            let f = llmc::frame::compress(&method, &src, &CompressParams { isa: Some(isa), chunk_size: chunk as u32, n_threads: 2, ..Default::default() }).unwrap();
            assert!(f == reference, "row {row}: {isa:?} differs");
            assert!(decompress(&f, &opts(isa)).unwrap() == src, "row {row}: {isa:?}");
        }
    }
}

#[test]
fn rows_that_fit_only_32_of_128_lanes_keep_one_table() {
    // 160 = 5 × 32: 32 lanes would halve a large chunk's decode speed.
    let words = rowed(1 << 20, 160, 5);
    let src: Vec<u8> = words.chunks_exact(2).map(|w| w[1]).collect();
    let p = CompressParams { chunk_size: 1 << 18, ..Default::default() };
    let plain = llmc::frame::compress(&Method::Fields(FieldLayout::planes(1)), &src, &p).unwrap();
    let rows = llmc::frame::compress(&Method::Fields(FieldLayout::planes(1)).with_rows(Some(160)), &src, &p).unwrap();
    assert_eq!(rows.len(), plain.len());
    let bf16 = compress_bf16_rows(&words, 160, &CompressParams { chunk_size: 1 << 20, ..Default::default() }).unwrap();
    assert!(chunks(&bf16).iter().all(|c| c[0] != 2), "a 128-lane chunk took 32 lanes");
}
