//! The Q4_K codec on the real fixtures, plus synthetic edge cases of the header.

mod common;
use common::hostile::{assert_every_flip_detected, decode_unverified, reseal};
use common::*;
use llmc::frame::Method;
use llmc::{compress_q4k, decompress, CompressParams, DecodeOptions, Error, Isa};

const Q4K: [&str; 3] = [
    "q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k",
    "q4k/qwen2.5-coder-1.5b.blk.0.attn_q.q4k",
    "q4k/qwen2.5-coder-1.5b.blk.0.attn_k.q4k",
];

fn ratio(src: &[u8], frame: &[u8]) -> f64 {
    src.len() as f64 / frame.len() as f64
}

#[test]
fn fixtures_roundtrip_on_every_isa_with_identical_encoding() {
    let isas = isas_under_test();
    for rel in Q4K {
        let src = fixture(rel);
        let reference = compress_q4k(&src, &CompressParams { isa: Some(Isa::Scalar), ..Default::default() }).unwrap();
        for &isa in &isas {
            for threads in [1, 2] {
                let p = CompressParams { isa: Some(isa), n_threads: threads, ..Default::default() };
                assert!(compress_q4k(&src, &p).unwrap() == reference, "{rel}: {isa:?} x{threads} encodes differently");
            }
            assert!(decompress(&reference, &opts(isa)).unwrap() == src, "{rel}: {isa:?} decode differs");
        }
    }
}

#[test]
fn ratio_bars_and_zstd19() {
    let bars = [1.065, 1.065, 1.06];
    for (rel, bar) in Q4K.iter().zip(bars) {
        let src = fixture(rel);
        let ours = ratio(&src, &compress_q4k(&src, &CompressParams::default()).unwrap());
        let zstd = ratio(&src, &llmc::frame::compress(&Method::Zstd { level: 19 }, &src, &CompressParams { chunk_size: 1 << 28, ..Default::default() }).unwrap());
        eprintln!("{rel}: ratio {ours:.4} (bar {bar}), zstd -19 {zstd:.4}");
        assert!(ours >= bar, "{rel}: {ours:.4} < {bar}");
        assert!(ours > zstd, "{rel}: {ours:.4} does not beat zstd -19 {zstd:.4}");
    }
}

#[test]
fn sizes_that_are_not_whole_blocks_are_rejected() {
    let src = fixture(Q4K[2]);
    for len in [1, 143, 145, 1000] {
        assert_eq!(compress_q4k(&src[..len], &CompressParams::default()), Err(Error::InvalidArgument), "{len}");
    }
    assert_eq!(compress_q4k(&src, &CompressParams { chunk_size: 1024, ..Default::default() }), Err(Error::InvalidArgument));
    let frame = compress_q4k(&[], &CompressParams::default()).unwrap();
    assert!(decompress(&frame, &DecodeOptions::default()).unwrap().is_empty());
}

#[test]
fn tails_and_small_chunks_on_every_isa() {
    // Block counts around the 16-block tiles and chunk edges.
    let src = fixture(Q4K[1]);
    for blocks in [1usize, 15, 16, 17, 33, 100, 1000] {
        for chunk in [144 * 8, 144 * 16 * 7, 1 << 20] {
            let data = &src[..blocks * 144];
            let chunk = (chunk as u32 / 144 * 144).max(1152);
            let frame = compress_q4k(data, &CompressParams { chunk_size: chunk, ..Default::default() }).unwrap();
            for isa in isas_under_test() {
                assert!(decompress(&frame, &opts(isa)).unwrap() == data, "{blocks} blocks, chunk {chunk}, {isa:?}");
            }
        }
    }
}

#[test]
fn extreme_headers_roundtrip() {
    // Synthetic headers: zero, subnormal, infinite and NaN scales; all scale/min
    // patterns; quants of every value. Real tensors never look like this.
    let mut blocks = Vec::new();
    let specials: [u16; 10] = [0x0000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8001];
    let mut seed = 7u32;
    for (i, &d) in specials.iter().enumerate() {
        for (j, &dmin) in specials.iter().enumerate() {
            let mut b = [0u8; 144];
            b[..2].copy_from_slice(&d.to_le_bytes());
            b[2..4].copy_from_slice(&dmin.to_le_bytes());
            for (k, x) in b[4..].iter_mut().enumerate() {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *x = if k < 12 { ((seed >> 16) as u8).wrapping_add((i * 16 + j) as u8) } else { (seed >> 13) as u8 };
            }
            blocks.extend_from_slice(&b);
        }
    }
    let frame = compress_q4k(&blocks, &CompressParams::default()).unwrap();
    for isa in isas_under_test() {
        assert!(decompress(&frame, &opts(isa)).unwrap() == blocks, "{isa:?}");
    }
}

/// 56 blocks in chunks of 48: one coded chunk (smaller chunks are stored) and a
/// short stored one, so hostile inputs reach the windowed decoder.
fn small_frame() -> (Vec<u8>, Vec<u8>) {
    let src = fixture(Q4K[1])[..144 * 56].to_vec();
    let frame = compress_q4k(&src, &CompressParams { chunk_size: 144 * 48, ..Default::default() }).unwrap();
    let modes: Vec<u8> = llmc::frame::parse(&frame).unwrap().chunks.iter().map(|c| c.payload[0]).collect();
    assert_eq!(modes, [1, 0], "chunk modes: windowed, then stored");
    (src, frame)
}

/// 104 blocks in chunks of 96: the coded chunk's headers as fields (payload
/// mode 2), then a stored one.
fn small_fields_frame() -> (Vec<u8>, Vec<u8>) {
    let src = fixture(Q4K[1])[..144 * 104].to_vec();
    let frame = compress_q4k(&src, &CompressParams { chunk_size: 144 * 96, ..Default::default() }).unwrap();
    let modes: Vec<u8> = llmc::frame::parse(&frame).unwrap().chunks.iter().map(|c| c.payload[0]).collect();
    assert_eq!(modes, [2, 0], "chunk modes: fields, then stored");
    (src, frame)
}

#[test]
fn every_single_bit_flip_is_detected_on_every_isa() {
    for (src, frame) in [small_frame(), small_fields_frame()] {
        assert_every_flip_detected(&frame, &src, &isas_under_test());
    }
}

#[test]
fn fields_mode_is_chosen_on_ffn_gate_and_clears_the_bar() {
    let src = fixture(Q4K[0]);
    let frame = compress_q4k(&src, &CompressParams::default()).unwrap();
    let f = llmc::frame::parse(&frame).unwrap();
    assert!(f.chunks.iter().all(|c| c.payload[0] == 2), "every chunk in payload mode 2");
    let r = ratio(&src, &frame);
    assert!(r >= 1.065, "{r:.4}");
}

#[test]
fn frames_from_before_the_fields_mode_still_decode() {
    let frame = fixture("q4k/legacy/attn_q.300blocks.mode1.llmf");
    let modes: Vec<u8> = llmc::frame::parse(&frame).unwrap().chunks.iter().map(|c| c.payload[0]).collect();
    assert_eq!(modes, [1, 1], "the legacy frame's payload modes");
    let src = &fixture(Q4K[1])[..144 * 300];
    for isa in isas_under_test() {
        assert!(decompress(&frame, &opts(isa)).unwrap() == src, "{isa:?}");
    }
}

#[test]
fn hostile_frames() {
    for (src, frame) in [small_frame(), small_fields_frame()] {
        hostile(&src, &frame);
    }
}

fn hostile(src: &[u8], frame: &[u8]) {
    let isas = isas_under_test();
    for len in 0..frame.len() {
        assert!(decompress(&frame[..len], &DecodeOptions::default()).is_err(), "prefix {len}");
    }
    for bit in (0..frame.len() * 8).step_by(7) {
        let mut c = frame.to_vec();
        c[bit / 8] ^= 1 << (bit % 8);
        reseal(&mut c);
        for out in decode_unverified(&c, &isas).into_iter().flatten() {
            assert_eq!(out.len(), src.len());
        }
    }
}

#[test]
fn q6k_field_split_earns_its_keep() {
    let src = fixture("q4k/qwen2.5-coder-1.5b.blk.0.attn_v.q6k");
    let method = llmc::model::gguf::methods_for_type(llmc::model::gguf::types::Q6_K).remove(0);
    let frame = llmc::frame::compress(&method, &src, &CompressParams::default()).unwrap();
    let r = ratio(&src, &frame);
    eprintln!("Q6_K field split: {r:.4}");
    assert!(r > 1.02, "{r}");
    for isa in isas_under_test() {
        assert!(decompress(&frame, &opts(isa)).unwrap() == src);
    }
}
