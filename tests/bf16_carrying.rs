//! bf16 lanes that carry raw bytes (payload modes 3 and 4, container version 7):
//! which chunks use them, lossless at every boundary between stored and carried
//! raw bytes on every ISA, smaller than the lanes that do not carry, refused
//! when mislabelled, and frames from before them still decode.

mod common;
use common::hostile::{decode_unverified, reseal};
use common::*;
use llmc::{compress_bf16, decompress, CompressParams, Error};

const OUTPUT: &str = "bf16/all-minilm-l6-v2.layer.3.output.bf16";

fn modes(frame: &[u8]) -> Vec<(u8, u8)> {
    frame_payloads(frame).iter().map(|p| (p[0], p[1])).collect()
}

/// The lanes the encoder takes for a chunk of `n` values, and whether they carry.
fn expected_lanes(n: usize) -> (u8, bool) {
    let carrying = if n >= 1 << 16 { 7 } else if n >= 1 << 13 { 6 } else { 5 };
    if (6 * n).div_ceil(8) >= 3 << carrying {
        (carrying, true)
    } else {
        (if n >= 1 << 18 { 7 } else if n >= 1 << 16 { 6 } else { 5 }, false)
    }
}

#[test]
fn every_length_roundtrips_where_stored_and_carried_raw_bytes_meet() {
    // One chunk of n values each: the stored raw fields end at every bit
    // offset of a field (n mod 4), around the smallest carrying chunk (128
    // values for 32 lanes; chunks that small may be stored, as coding them
    // does not pay) and the lane-count thresholds.
    let src = fixture(OUTPUT);
    let isas = isas_under_test();
    let mut carried = 0;
    for n in [1usize, 2, 31, 32, 100, 127, 128, 129, 130, 131, 133, 1000, 1001, 1002, 1003, 8191, 8192, 8195, 65_535, 65_536, 65_538, 262_145] {
        let data = &src[..2 * n];
        let frame = compress_bf16(data, &CompressParams::default()).unwrap();
        let m = modes(&frame);
        assert_eq!(m.len(), 1);
        let (lanes_log2, carrying) = expected_lanes(n);
        match m[0] {
            (3, l) => {
                assert!(carrying && l == lanes_log2, "n={n}: mode 3 with lanes_log2 {l}, want {lanes_log2} carrying={carrying}");
                carried += 1;
            }
            (1, l) => assert!(!carrying && l == lanes_log2, "n={n}: mode 1 with lanes_log2 {l}, want {lanes_log2} carrying={carrying}"),
            (0, _) => assert!(n < 1000, "n={n}: stored"),
            other => panic!("n={n}: mode {other:?}"),
        }
        for &isa in &isas {
            assert!(decompress(&frame, &opts(isa)).unwrap_or_else(|e| panic!("n={n} {isa:?}: {e}")) == data, "n={n} {isa:?}");
        }
    }
    assert!(carried >= 11, "{carried} chunks carried");
}

#[test]
fn carrying_lanes_are_smaller_on_every_fixture_and_the_switch_turns_them_off() {
    let plain_params = CompressParams { flags: llmc::PARAM_FLAG_NO_ROW_CLASSES, ..Default::default() };
    for rel in BF16_FIXTURES {
        let src = fixture(rel);
        let carrying = compress_bf16(&src, &CompressParams::default()).unwrap();
        let plain = compress_bf16(&src, &plain_params).unwrap();
        assert!(modes(&carrying).iter().all(|m| m.0 == 3), "{rel}: {:?}", modes(&carrying));
        assert!(modes(&plain).iter().all(|m| m.0 == 1), "{rel}: {:?}", modes(&plain));
        eprintln!("{rel}: {} bytes carrying, {} without", carrying.len(), plain.len());
        assert!(carrying.len() < plain.len(), "{rel}: {} >= {}", carrying.len(), plain.len());
        assert!(decompress(&plain, &Default::default()).unwrap() == src);
    }
}

#[test]
fn a_mislabelled_payload_is_corrupt() {
    // Mode 3 read as mode 1 lacks raw bytes; mode 1 read as mode 3 has too many.
    let src = &fixture(OUTPUT)[..2 * 5000];
    let isas = isas_under_test();
    let carrying = compress_bf16(src, &CompressParams::default()).unwrap();
    let plain = compress_bf16(src, &CompressParams { flags: llmc::PARAM_FLAG_NO_ROW_CLASSES, ..Default::default() }).unwrap();
    for (frame, from, to) in [(carrying, 3u8, 1u8), (plain, 1, 3)] {
        let at = frame.len() - frame_payloads(&frame)[0].len();
        assert_eq!(frame[at], from);
        let mut f = frame.clone();
        f[at] = to;
        reseal(&mut f);
        for r in decode_unverified(&f, &isas) {
            assert_eq!(r.unwrap_err(), Error::Corrupt, "mode {from} as {to}");
        }
    }
}

#[test]
fn frames_from_before_carrying_lanes_still_decode() {
    // fixtures/bf16/legacy: written by main at 50887d5 (README there).
    let query = fixture("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    for (rel, len, want) in [("bf16/legacy/query.6000.mode1.llmf", 6000, vec![1, 1, 1]), ("bf16/legacy/query.96k.mode1-2.llmf", 98_304, vec![1, 2, 2])] {
        let frame = fixture(rel);
        assert_eq!(modes(&frame).iter().map(|m| m.0).collect::<Vec<_>>(), want, "{rel}: payload modes");
        for isa in isas_under_test() {
            assert!(decompress(&frame, &opts(isa)).unwrap() == query[..len], "{rel} {isa:?}");
        }
    }
}
