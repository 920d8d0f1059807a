//! Synthetic edge cases (never used for ratio or speed claims).

mod common;
use common::*;
use llmc::{compress_bf16, decompress, CompressParams, Error};
use proptest::prelude::*;

fn roundtrip_all_isas(data: &[u8]) -> Vec<u8> {
    let frame = compress_bf16(data, &CompressParams::default()).unwrap();
    for isa in isas_under_test() {
        let back = decompress(&frame, &opts(isa)).unwrap_or_else(|e| panic!("{isa:?}: {e}"));
        assert!(back == data, "{isa:?}: {} bytes differ", data.len());
    }
    frame
}

fn words(ws: &[u16]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// xorshift64*: deterministic pseudo-random words without a dependency.
fn pseudo_random(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn empty_input() {
    let frame = roundtrip_all_isas(&[]);
    assert_eq!(llmc::frame_info(&frame).unwrap().content_size, 0);
}

#[test]
fn one_element_and_tiny_inputs() {
    for n in 1..70 {
        let data = words(&(0..n).map(|i| 0x3f80 ^ (i as u16 * 37)).collect::<Vec<_>>());
        roundtrip_all_isas(&data);
    }
}

#[test]
fn special_values() {
    // ±0, ±Inf, NaNs (quiet, signalling, payloads), subnormals, extremes.
    let specials: [u16; 14] =
        [0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc0, 0x7f81, 0x7fff, 0x0001, 0x807f, 0x0080, 0x7f7f, 0xff7f, 0x3f80];
    let mut ws = Vec::new();
    for i in 0..100_000 {
        ws.push(specials[i % specials.len()]);
    }
    roundtrip_all_isas(&words(&ws));
    for &s in &specials {
        roundtrip_all_isas(&words(&vec![s; 50_000]));
    }
}

#[test]
fn all_equal_values_compress_to_the_raw_fields() {
    let data = words(&vec![0x3c00u16; 1 << 20]);
    let frame = roundtrip_all_isas(&data);
    // 6 raw bits of 16 remain; the coded exponent costs almost nothing.
    assert!(frame.len() < data.len() * 6 / 16 + 4096, "{} bytes", frame.len());
}

#[test]
fn random_words_do_not_expand_beyond_a_small_header() {
    for n in [2usize, 1000, 1 << 20, (1 << 20) + 6] {
        let data = pseudo_random(n, n as u64 + 1);
        let frame = roundtrip_all_isas(&data);
        let chunks = n.div_ceil(1 << 20);
        let limit = n + 36 + 9 * chunks;
        assert!(frame.len() <= limit, "{n} bytes -> {} (limit {limit})", frame.len());
        assert!(frame.len() as u64 <= llmc::frame::compress_bound(llmc::CodecId::Bf16, n as u64).unwrap());
    }
}

#[test]
fn wide_alphabets_use_the_escape_symbol() {
    // 250 common values plus rare ones beyond the 256-symbol alphabet: the rare
    // ones are escaped and patched, and coding still pays.
    let mut ws = Vec::new();
    for i in 0..400_000u32 {
        let v = if i % 997 == 0 { i.wrapping_mul(7919) % 1024 } else { 300 + (i.wrapping_mul(i) % 250) };
        ws.push(((v as u16) << 5) | (i as u16 & 0x801f));
    }
    let data = words(&ws);
    let frame = roundtrip_all_isas(&data);
    assert!(frame.len() < data.len(), "escaped chunk fell back to storing");
}

#[test]
fn odd_length_is_rejected() {
    assert_eq!(compress_bf16(&[1, 2, 3], &CompressParams::default()), Err(Error::InvalidArgument));
}

#[test]
fn bad_parameters_are_rejected() {
    let data = words(&[1, 2, 3, 4]);
    for p in [
        CompressParams { chunk_size: 1023, ..Default::default() },
        CompressParams { chunk_size: 4097, ..Default::default() },
        CompressParams { chunk_size: u32::MAX, ..Default::default() },
        CompressParams { flags: 1 << 7, ..Default::default() },
    ] {
        assert_eq!(compress_bf16(&data, &p), Err(Error::InvalidArgument), "{p:?}");
    }
    let p = CompressParams { format_version: 9, ..Default::default() };
    assert_eq!(compress_bf16(&data, &p), Err(Error::VersionUnsupported));
}

#[test]
fn content_checksum_flag_roundtrips_and_detects_changes() {
    let data = fixture("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let p = CompressParams { flags: llmc::PARAM_FLAG_CONTENT_CHECKSUM, ..Default::default() };
    let mut frame = compress_bf16(&data, &p).unwrap();
    assert!(llmc::frame_info(&frame).unwrap().has_checksum);
    assert!(decompress(&frame, &Default::default()).unwrap() == data);
    let last = frame.len() - 1;
    frame[last] ^= 1;
    assert_eq!(decompress(&frame, &Default::default()), Err(Error::ChecksumMismatch));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_words_roundtrip(ws in proptest::collection::vec(any::<u16>(), 0..3000), chunk_k in 1u32..8) {
        let data = words(&ws);
        let p = CompressParams { chunk_size: 1024 * chunk_k, ..Default::default() };
        let frame = compress_bf16(&data, &p).unwrap();
        for isa in isas_under_test() {
            prop_assert_eq!(&decompress(&frame, &opts(isa)).unwrap(), &data);
        }
    }

    #[test]
    fn weight_like_words_roundtrip(exps in proptest::collection::vec(110u16..130, 1..5000), seed in any::<u64>()) {
        let noise = pseudo_random(exps.len() * 2, seed | 1);
        let ws: Vec<u16> = exps.iter().zip(noise.chunks(2)).map(|(&e, r)| (e << 7) | u16::from(r[0] & 0x7f) | (u16::from(r[1] & 1) << 15)).collect();
        let data = words(&ws);
        let frame = compress_bf16(&data, &CompressParams::default()).unwrap();
        for isa in isas_under_test() {
            prop_assert_eq!(&decompress(&frame, &opts(isa)).unwrap(), &data);
        }
    }
}

/// bf16 words whose values (bits 5..14) occur `count` times each, in a
/// pseudo-random order, with pseudo-random sign and low mantissa bits.
fn from_counts(counts: &[(u16, usize)], seed: u64) -> Vec<u8> {
    let mut ws: Vec<u16> = counts.iter().flat_map(|&(v, c)| std::iter::repeat_n(v << 5, c)).collect();
    let noise = pseudo_random(2 * ws.len(), seed);
    // Fisher-Yates with the noise bytes as randomness (two per step).
    for i in (1..ws.len()).rev() {
        let r = ((usize::from(noise[2 * i]) << 8 | usize::from(noise[2 * i + 1])) * (i + 1)) >> 16;
        ws.swap(i, r);
    }
    for (i, w) in ws.iter_mut().enumerate() {
        *w |= u16::from(noise[i] & 0x1f) | u16::from(noise[i] & 0x80) << 8;
    }
    words(&ws)
}

#[test]
fn slot_bucket_shapes_decode_alike_on_every_isa() {
    // The `avx512-permute` family looks symbols up in 16-slot buckets; buckets
    // where the symbol changes twice or more take one of eight delta rows, and
    // alphabets needing more rows, or with more than 128 symbols, go to the
    // gather path. Each case at 64 and at 128 lanes (2^17 and 2^18 values), with
    // 20 common values and `rare` values of about `per` slots each.
    for (rare, per) in [(0usize, 0usize), (40, 2), (60, 1), (100, 2), (108, 1), (109, 1), (200, 1)] {
        for n in [1usize << 17, 1 << 18] {
            let rare_count = per * n / 4096;
            let common = (n - rare * rare_count) / 20;
            let mut counts: Vec<(u16, usize)> = (0..20).map(|i| (0x1e0 + i, common)).collect();
            // Rare values below and above the common ones, as in real tensors.
            counts.extend((0..rare as u16).map(|i| (if i % 2 == 0 { 0x100 + i } else { 0x300 + i }, rare_count.max(1))));
            let data = from_counts(&counts, (rare * 31 + n) as u64);
            roundtrip_all_isas(&data);
        }
    }
}
