//! Every ggml type's codec: field layouts that tile the type's block exactly,
//! and a lossless round trip on every ISA for each type with a field split
//! (blocks of pseudo-random bytes: edge cases only, ratios come from real
//! tensors in `tests/q4k.rs` and the README).

mod common;
use common::*;
use llmc::frame::Method;
use llmc::model::gguf::{methods_for_type, types};
use llmc::{decompress, CompressParams};

#[test]
fn every_field_layout_tiles_its_block() {
    for t in &types::GGML_TYPES {
        for m in methods_for_type(t.id) {
            if let Method::Fields(layout) = m {
                layout.validate().unwrap_or_else(|e| panic!("{}: {e:?}", t.name));
                assert_eq!(u32::from(layout.block_size), t.type_size, "{}: layout block size", t.name);
            }
        }
    }
}

#[test]
fn field_split_types_roundtrip_on_every_isa() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut split = 0;
    for t in &types::GGML_TYPES {
        let Some(method) = methods_for_type(t.id).into_iter().find(|m| matches!(m, Method::Fields(_))) else { continue };
        split += 1;
        // A few thousand blocks: several chunks' worth of streams, and a partial block count.
        let blocks = 3001;
        let src: Vec<u8> = (0..blocks * t.type_size as usize)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Skewed bytes, so the streams are coded rather than stored.
                (seed >> 56) as u8 & if i % 3 == 0 { 0x0f } else { 0xff }
            })
            .collect();
        let params = CompressParams { chunk_size: 1024 * t.type_size, ..CompressParams::default() };
        let frame = llmc::frame::compress(&method, &src, &params).unwrap_or_else(|e| panic!("{}: {e:?}", t.name));
        for isa in isas_under_test() {
            assert!(decompress(&frame, &opts(isa)).unwrap() == src, "{} on {isa:?}", t.name);
        }
    }
    assert!(split >= 25, "only {split} types have a field split");
}

#[test]
fn field_splits_beat_zstd_on_real_tensors_of_every_new_type() {
    // One real tensor per type (llama.cpp's own quantiser on Gemma 3 270M's
    // weights; `fixtures/ggml-types/*.json` say how), coded with its split and with
    // the zstd -3 these types used to get.
    let dir = fixtures_dir().join("ggml-types");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.starts_with("gemma") && !n.ends_with(".json")).collect();
    names.sort();
    assert_eq!(names.len(), 14, "{names:?}");
    for name in names {
        let src = std::fs::read(dir.join(&name)).unwrap();
        let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
        let t = types::GGML_TYPES.iter().find(|t| t.name == meta["ggml_type"]).unwrap_or_else(|| panic!("{name}: type"));
        let split = methods_for_type(t.id).remove(0);
        assert!(matches!(split, Method::Fields(_)), "{}", t.name);
        let params = CompressParams::default();
        let frame = llmc::frame::compress(&split, &src, &params).unwrap();
        let zstd = llmc::frame::compress(&Method::Zstd { level: 3 }, &src, &params).unwrap();
        let ratio = |f: &[u8]| src.len() as f64 / f.len() as f64;
        eprintln!("{:8} {:>7} B: field split {:.4}, zstd -3 {:.4}", t.name, src.len(), ratio(&frame), ratio(&zstd));
        assert!(frame.len() < zstd.len() && frame.len() < src.len(), "{}: {:.4} vs zstd {:.4}", t.name, ratio(&frame), ratio(&zstd));
        for isa in isas_under_test() {
            assert!(decompress(&frame, &opts(isa)).unwrap() == src, "{} on {isa:?}", t.name);
        }
    }
}

#[test]
fn q8_0_scales_as_ranks_code_a_real_tensor_smaller_and_decode_on_every_isa() {
    // Gemma 3 270M's `blk.0.attn_v` (Q8_0, 5,120 blocks): its scales are
    // `amax / 127` of bf16 weights, a few hundred fp16 values scattered so that
    // their low byte depends on the high one (`codec::ranks`).
    let file = std::fs::read(fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf")).unwrap();
    let g = llmc::model::gguf::parse(&file).unwrap();
    let t = g.tensors.iter().find(|t| t.ggml_type == 8).expect("a Q8_0 tensor");
    let src = &file[t.abs_offset..t.abs_offset + t.nbytes.unwrap()];
    let ranked = methods_for_type(8).remove(0);
    let Method::Fields(layout) = &ranked else { panic!("Q8_0 is a field split") };
    assert_eq!(layout.ranks, Some(0), "the scale is ranked");
    let plain = Method::Fields(llmc::frame::FieldLayout { ranks: None, ..layout.clone() });
    let params = CompressParams::default();
    let (with, without) = (llmc::frame::compress(&ranked, src, &params).unwrap(), llmc::frame::compress(&plain, src, &params).unwrap());
    eprintln!("{}: {} B, scales as they are {} B, as ranks {} B", t.name, src.len(), without.len(), with.len());
    assert!(with.len() + 500 < without.len(), "ranks: {} vs {}", with.len(), without.len());
    for isa in isas_under_test() {
        assert!(decompress(&with, &opts(isa)).unwrap() == src, "{isa:?}");
    }
}
