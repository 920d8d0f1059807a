//! Writes the fuzz seed corpora from real fixtures: `make_seeds DIR` fills
//! `DIR/<target>/` for every target in `fuzz/`. Deterministic; run by
//! `scripts/fuzz.sh` before fuzzing.
use llmc::frame::FieldLayout as Layout;
use llmc::frame::Method;
use llmc::CompressParams;
use std::path::{Path, PathBuf};

#[path = "../tests/common/hostile.rs"]
#[allow(dead_code)]
mod hostile;
#[path = "../tests/common/index.rs"]
#[allow(dead_code)]
mod index;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)).expect("fixture")
}

fn put(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(name), bytes).unwrap();
}

fn chunked(chunk_size: u32) -> CompressParams {
    CompressParams { chunk_size, level: 1, ..Default::default() }
}

/// A GGUF v3 file with two key-values and Q4_K, F32 and Q8_0 tensors cut from
/// real fixtures (the layout llama.cpp writes: infos, padding to 32, data).
fn tiny_gguf(q4k: &[u8], f32s: &[u8], q8: &[u8]) -> Vec<u8> {
    gguf_with_arrays(q4k, f32s, q8, &[])
}

/// [`tiny_gguf`] with more metadata arrays: (key, GGUF element type, element
/// count, the elements' bytes).
fn gguf_with_arrays(q4k: &[u8], f32s: &[u8], q8: &[u8], arrays: &[(&str, u32, u64, &[u8])]) -> Vec<u8> {
    fn s(out: &mut Vec<u8>, v: &str) {
        out.extend_from_slice(&(v.len() as u64).to_le_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    let mut f = b"GGUF".to_vec();
    f.extend_from_slice(&3u32.to_le_bytes());
    f.extend_from_slice(&3u64.to_le_bytes());
    f.extend_from_slice(&(2 + arrays.len() as u64).to_le_bytes());
    s(&mut f, "general.architecture");
    f.extend_from_slice(&8u32.to_le_bytes());
    s(&mut f, "llama");
    s(&mut f, "tokenizer.ggml.token_type");
    f.extend_from_slice(&9u32.to_le_bytes());
    f.extend_from_slice(&5u32.to_le_bytes());
    f.extend_from_slice(&3u64.to_le_bytes());
    for v in [1i32, 3, 6] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    for (key, ty, n, elements) in arrays {
        s(&mut f, key);
        f.extend_from_slice(&9u32.to_le_bytes());
        f.extend_from_slice(&ty.to_le_bytes());
        f.extend_from_slice(&n.to_le_bytes());
        f.extend_from_slice(elements);
    }
    // (name, dims, ggml type, offset)
    for (name, n, ty, off) in [("blk.0.ffn_gate.weight", 256u64, 12u32, 0u64), ("blk.0.attn_norm.weight", 8, 0, 160), ("token_embd.weight", 32, 8, 192)] {
        s(&mut f, name);
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&n.to_le_bytes());
        f.extend_from_slice(&ty.to_le_bytes());
        f.extend_from_slice(&off.to_le_bytes());
    }
    let data_start = f.len().div_ceil(32) * 32;
    f.resize(data_start, 0);
    for (bytes, off) in [(&q4k[..144], 0), (&f32s[..32], 160), (&q8[..34], 192)] {
        f.resize(data_start + off, 0);
        f.extend_from_slice(bytes);
    }
    f
}

/// A safetensors file of named byte tensors (dtype, shape, bytes).
fn tiny_safetensors(tensors: &[(&str, &str, u64, &[u8])]) -> Vec<u8> {
    let (mut fields, mut data) = (Vec::new(), Vec::new());
    for (name, dtype, n, bytes) in tensors {
        let begin = data.len();
        data.extend_from_slice(bytes);
        fields.push(format!(r#""{name}":{{"dtype":"{dtype}","shape":[{n}],"data_offsets":[{begin},{}]}}"#, data.len()));
    }
    let json = format!(r#"{{"__metadata__":{{"format":"pt"}},{}}}"#, fields.join(","));
    let mut f = (json.len() as u64).to_le_bytes().to_vec();
    f.extend_from_slice(json.as_bytes());
    f.extend_from_slice(&data);
    f
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: make_seeds DIR"));
    let bf16 = fixture("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let q4k = fixture("q4k/qwen2.5-coder-1.5b.blk.0.attn_k.q4k");
    let q6k = fixture("q4k/qwen2.5-coder-1.5b.blk.0.attn_v.q6k");

    for (i, (len, chunk)) in [(64, 1024), (2000, 1024), (6000, 2048)].into_iter().enumerate() {
        let frame = llmc::compress_bf16(&bf16[..len], &chunked(chunk)).unwrap();
        put(&dir, "decode_frame", &format!("bf16_{i}"), &frame);
        put(&dir, "roundtrip_bf16", &format!("raw_{i}"), &bf16[..len]);
    }
    for (i, blocks) in [1usize, 9, 20].into_iter().enumerate() {
        let raw = &q4k[..blocks * 144];
        put(&dir, "decode_frame", &format!("q4k_{i}"), &llmc::compress_q4k(raw, &chunked(144 * 8)).unwrap());
        put(&dir, "roundtrip_q4k", &format!("raw_{i}"), &[&[i as u8][..], raw].concat());
    }
    let q6k_layout = Method::Fields(Layout::from_runs(210, &[&[(0, 128)], &[(128, 64)], &[(192, 16)], &[(208, 2)]]));
    let methods = [("stored", Method::Stored, 0u8), ("zstd", Method::Zstd { level: 1 }, 1), ("planes", Method::Fields(Layout::planes(2)), 2)];
    for (name, method, sel) in methods.iter().chain([("q6k", q6k_layout, 3)].iter()) {
        let src = if *sel == 3 { &q6k[..210 * 12] } else { &bf16[..3000] };
        let frame = llmc::frame::compress(method, src, &chunked(if *sel == 3 { 210 * 5 } else { 1024 })).unwrap();
        put(&dir, "decode_frame", name, &frame);
        let head = [*sel, 1, 0x55, 0x24, 0x81, 0, 0, 0, 0, 1];
        put(&dir, "roundtrip_codecs", name, &[&head[..], src].concat());
    }
    // Q5_0 blocks with their quants folded (a field layout with a fold), from the
    // gemma fixture's blk.0.attn_k.weight.
    let q5_0 = &fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf")[6_514_560..6_514_560 + 22 * 100];
    let q5_layout = llmc::model::gguf::methods_for_type(llmc::model::gguf::types::Q5_0).remove(0);
    put(&dir, "decode_frame", "q5_0", &llmc::frame::compress(&q5_layout, q5_0, &chunked(22 * 48)).unwrap());
    // GGUF strings (zstd payload mode 2): records that end inside the chunk, then a tail.
    let words = ["<pad>", "<eos>", "\u{2581}the", "\u{2581}of", "ing", "", "\u{2581}and", "tion"];
    let strings: Vec<u8> = (0..600).flat_map(|i| {
        let w = words[i % words.len()].as_bytes();
        [&(w.len() as u64).to_le_bytes()[..], w].concat()
    }).collect();
    let frame = llmc::frame::compress(&Method::ZstdStrings { level: 1 }, &strings, &chunked(2048)).unwrap();
    put(&dir, "decode_frame", "strings", &frame);
    put(&dir, "roundtrip_codecs", "strings", &[&[4u8, 1, 0x55, 0x24, 0x81, 0, 0, 0, 0, 1][..], &strings].concat());

    // GGUF numeric words (zstd payload mode 3): the fixture's vocabulary scores.
    let scores = &fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf")[4_413_542 + 4000..4_413_542 + 4000 + 4 * 1500];
    put(&dir, "decode_frame", "words", &llmc::frame::compress(&Method::ZstdWords { level: 1 }, scores, &chunked(2048)).unwrap());
    put(&dir, "roundtrip_codecs", "words", &[&[1u8, 0, 1, 0, 0, 0, 0, 0, 0, 0][..], scores].concat());

    let f32s: Vec<u8> = bf16[..64].chunks(2).flat_map(|w| [0, 0, w[0], w[1]]).collect();
    let gguf = tiny_gguf(&q4k, &f32s, &q6k);
    put(&dir, "gguf_parse", "tiny", &gguf);
    put(&dir, "roundtrip_container", "tiny_gguf", &gguf);
    // A vocabulary's strings and scores: under `cargo fuzz` the decomposition
    // gives arrays from 256 bytes their own spans (GGUF strings in pieces of at
    // most 1 KiB, words as differences), which this seed reaches.
    let gguf = gguf_with_arrays(&q4k, &f32s, &q6k, &[("tokenizer.ggml.tokens", 8, 600, &strings), ("tokenizer.ggml.scores", 6, 1500, scores)]);
    put(&dir, "gguf_parse", "vocabulary", &gguf);
    put(&dir, "roundtrip_container", "vocabulary_gguf", &gguf);
    let st = tiny_safetensors(&[("a.bf16", "BF16", 64, &bf16[..128]), ("b.f32", "F32", 32, &f32s), ("c.i64", "I64", 2, &[7; 16])]);
    put(&dir, "safetensors_parse", "tiny", &st);
    put(&dir, "roundtrip_container", "st_bytes", &[&[0u8, 16][..], &bf16[..128], &[2, 4], &f32s, &[3, 1], &[9; 8]].concat());
    for (name, file) in [("gguf", &gguf), ("safetensors", &st)] {
        let container = llmc::model::compress(file, &chunked(0), None).unwrap();
        // Version 10 codes its index; the same index stored as it is (mode 0)
        // lets mutations reach the index parser (the checks reseal its CRC).
        let stored = index::with_index(&container, index::raw_index(&container));
        for target in ["container_read", "stream_decode", "reader_read"] {
            put(&dir, target, name, &container);
            put(&dir, target, &format!("{name}_stored_index"), &stored);
        }
    }
    let frame = llmc::frame::compress(&llmc::frame::Method::Bf16, &bf16[..3000], &chunked(1024)).unwrap();
    put(&dir, "stream_decode", "frame", &frame);
}
