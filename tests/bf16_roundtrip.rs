//! bf16 codec on the real fixtures: losslessness on every ISA, identical output on
//! every ISA and thread count, and the ratio bar against the 16-bit order-0 bound.

mod common;
use common::*;
use llmc::{compress_bf16, decompress, CompressParams, DecodeOptions, Isa};

/// 16 / H(u16), the order-0 bound (table cost excluded).
fn bound_ratio(data: &[u8]) -> f64 {
    let mut hist = vec![0u64; 1 << 16];
    for c in data.chunks_exact(2) {
        hist[usize::from(u16::from_le_bytes([c[0], c[1]]))] += 1;
    }
    let n = (data.len() / 2) as f64;
    let h: f64 = hist.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / n) * (c as f64 / n).log2()).sum();
    16.0 / h
}

#[test]
fn every_fixture_roundtrips_on_every_isa() {
    let isas = isas_under_test();
    for rel in BF16_FIXTURES {
        let src = fixture(rel);
        let frame = compress_bf16(&src, &CompressParams::default()).unwrap();
        for &isa in &isas {
            let back = decompress(&frame, &opts(isa)).unwrap_or_else(|e| panic!("{rel} {isa:?}: {e}"));
            assert!(back == src, "{rel}: {isa:?} output differs");
        }
    }
}

#[test]
fn ratio_is_within_half_a_percent_of_the_order0_bound() {
    for rel in BF16_FIXTURES {
        let src = fixture(rel);
        let frame = compress_bf16(&src, &CompressParams::default()).unwrap();
        let ratio = src.len() as f64 / frame.len() as f64;
        let bound = bound_ratio(&src);
        eprintln!("{rel}: ratio {ratio:.4}, 16-bit order-0 bound {bound:.4} ({:.2} %)", 100.0 * ratio / bound);
        assert!(ratio >= 0.995 * bound, "{rel}: ratio {ratio:.4} < 99.5 % of bound {bound:.4}");
    }
}

#[test]
fn encoding_is_identical_on_every_isa_thread_count_and_run() {
    let isas = isas_under_test();
    for rel in BF16_FIXTURES {
        let src = fixture(rel);
        let reference = compress_bf16(&src, &CompressParams { isa: Some(Isa::Scalar), ..Default::default() }).unwrap();
        for &isa in &isas {
            for threads in [1, 2, 3] {
                let p = CompressParams { isa: Some(isa), n_threads: threads, ..Default::default() };
                assert!(compress_bf16(&src, &p).unwrap() == reference, "{rel}: {isa:?} x{threads} threads differs");
            }
        }
        assert!(compress_bf16(&src, &CompressParams::default()).unwrap() == reference, "{rel}: second run differs");
    }
}

#[test]
fn small_chunks_and_odd_tails_roundtrip_on_every_isa() {
    // Many chunk shapes: lane counts 32/64/128, partial last steps, stored chunks.
    let src = fixture("bf16/all-minilm-l6-v2.layer.3.output.bf16");
    let isas = isas_under_test();
    for (chunk, len) in [(1024, 1_179_648), (4096 + 2, 100_002), (65_536 * 2, 1_000_000), (1 << 18, 1_179_646), (1 << 20, 524_290)] {
        let data = &src[..len];
        let p = CompressParams { chunk_size: chunk, ..Default::default() };
        let frame = compress_bf16(data, &p).unwrap();
        for &isa in &isas {
            let back = decompress(&frame, &opts(isa)).unwrap();
            assert!(back == data, "chunk {chunk} len {len} {isa:?}");
        }
    }
}

#[test]
fn parallel_decode_matches_serial() {
    let src = fixture("bf16/all-minilm-l6-v2.word_embeddings.bf16");
    let frame = compress_bf16(&src, &CompressParams { n_threads: 2, ..Default::default() }).unwrap();
    for threads in [2, 3, 8] {
        let back = decompress(&frame, &DecodeOptions { n_threads: threads, ..Default::default() }).unwrap();
        assert!(back == src, "{threads} threads");
    }
}
