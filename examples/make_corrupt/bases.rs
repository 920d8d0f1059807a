//! The unmutated inputs, cut from the committed fixtures: small multi-chunk
//! frames of every codec, a small GGUF and a small safetensors file, and the
//! containers of both.

use crate::st;
use llmc::frame::Method;
use llmc::PARAM_FLAG_CONTENT_CHECKSUM;
use llmc::CompressParams;

pub const GGUF_FIXTURE: &str = "gguf/gemma-3-270m-q4_k_m.blk0.gguf";
const QUERY: &str = "bf16/all-minilm-l6-v2.layer.0.query.bf16";
const OUTPUT: &str = "bf16/all-minilm-l6-v2.layer.3.output.bf16";
// attn_q: its chunks are coded (attn_k's mostly fall back to storing).
const Q4K: &str = "q4k/qwen2.5-coder-1.5b.blk.0.attn_q.q4k";
const Q6K: &str = "q4k/qwen2.5-coder-1.5b.blk.0.attn_v.q6k";

pub fn fixture(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A corpus file that is a valid input, and where it came from.
pub struct Base {
    pub file: &'static str,
    pub from: String,
    pub bytes: Vec<u8>,
}

fn frame(file: &'static str, rel: &str, len: usize, method: Method, chunk: u32, flags: u32) -> Base {
    frame_at(file, rel, 0, len, method, chunk, flags)
}

fn frame_at(file: &'static str, rel: &str, at: usize, len: usize, method: Method, chunk: u32, flags: u32) -> Base {
    let src = &fixture(rel)[at..at + len];
    let p = CompressParams { chunk_size: chunk, flags, ..Default::default() };
    let bytes = llmc::frame::compress(&method, src, &p).unwrap();
    let codec = method.codec().name();
    let from = format!("{codec} frame of {rel} bytes {at}..{}, chunk size {chunk} ({} chunks)", at + len, len.div_ceil(chunk as usize));
    Base { file, from, bytes }
}

/// Where the fixture's `blk.0.attn_k.weight` (Q5_0) starts.
const Q5_0_AT: usize = 6_514_560;

/// One frame per codec, each with at least two chunks (the last one short).
pub fn frames() -> Vec<Base> {
    let q6k = llmc::model::gguf::methods_for_type(llmc::model::gguf::types::Q6_K).remove(0);
    let q5_0 = llmc::model::gguf::methods_for_type(llmc::model::gguf::types::Q5_0).remove(0);
    vec![
        frame("bf16.llmf", QUERY, 6000, Method::Bf16, 2048, 0),
        frame("bf16-crc.llmf", QUERY, 6000, Method::Bf16, 2048, PARAM_FLAG_CONTENT_CHECKSUM),
        // Chunks under about 48 blocks are stored: one coded chunk, one stored.
        frame("q4k.llmf", Q4K, 144 * 56, Method::Q4k, 144 * 48, 0),
        // From about 100 blocks a chunk's headers code as fields (payload mode 2).
        frame("q4k-fields.llmf", Q4K, 144 * 104, Method::Q4k, 144 * 96, 0),
        frame("fields.llmf", Q6K, 210 * 20, q6k, 210 * 8, 0),
        // Q5_0 blocks, their quants folded (a layout with a fold, §6), and the
        // same blocks unfolded, as every version before 8 wrote them.
        frame_at("fields-q5.llmf", GGUF_FIXTURE, Q5_0_AT, 22 * 120, q5_0.clone(), 22 * 48, 0),
        frame_at("fields-q5-plain.llmf", GGUF_FIXTURE, Q5_0_AT, 22 * 120, q5_0.without_rows(), 22 * 48, 0),
        frame("zstd.llmf", GGUF_FIXTURE, 4096, Method::Zstd { level: 19 }, 1024, 0),
        frame("stored.llmf", Q4K, 2500, Method::Stored, 1024, 0),
        strings_frame(),
        words_frame(),
        ranked_frame(),
    ]
}

/// Q8_0 blocks whose scales code as ranks (FORMAT.md §6): 600 of the
/// fixture's `blk.0.attn_v.weight` blocks, each given the scale of one of its
/// first 8 blocks (few values, so that ranks pay in a chunk of 400 blocks).
fn ranked_frame() -> Base {
    let file = fixture(GGUF_FIXTURE);
    let g = llmc::model::gguf::parse(&file).unwrap();
    let t = g.tensors.iter().find(|t| t.name == "blk.0.attn_v.weight").unwrap();
    let at = t.abs_offset;
    let mut src = file[at..at + 34 * 600].to_vec();
    let scales: Vec<[u8; 2]> = (0..8).map(|k| [src[34 * k], src[34 * k + 1]]).collect();
    for (i, b) in src.chunks_exact_mut(34).enumerate() {
        b[..2].copy_from_slice(&scales[(i * i + i / 3) % 8]);
    }
    let method = llmc::model::gguf::methods_for_type(llmc::model::gguf::types::Q8_0).remove(0);
    let chunk = 34 * 400;
    let bytes = llmc::frame::compress(&method, &src, &CompressParams { chunk_size: chunk, ..Default::default() }).unwrap();
    let f = llmc::frame::parse(&bytes).unwrap();
    assert!(f.chunks.iter().all(|c| c.payload[2] & 0x40 != 0), "every chunk codes its scales as ranks");
    let from = format!("fields frame (Q8_0, scales as ranks) of {GGUF_FIXTURE} bytes {at}..{} (blk.0.attn_v.weight's first 600 blocks), each block's scale replaced by one of the first 8 blocks' scales, chunk size {chunk} (2 chunks)", at + 34 * 600);
    Base { file: "fields-q8-ranks.llmf", from, bytes }
}

/// The version-11 container, as the library writes it today, of a small GGUF
/// like `model.gguf` holding the first 32 rows (640 blocks, 21,760 bytes: no
/// tiny tensor, so not batched) of the fixture's `blk.0.attn_v.weight` (Q8_0,
/// whose field layout may code its scales as ranks; the coded index ends with
/// its own CRC). Only the container is in the corpus.
pub fn version_11() -> Base {
    let gguf = crate::tiny_gguf::build_with(&fixture(GGUF_FIXTURE), &[("blk.0.attn_v.weight", 32)]);
    let bytes = llmc::model::compress(&gguf, &llmc::CompressParams::default(), None).unwrap();
    assert_eq!(bytes[4], 11, "a Q8_0 tensor");
    assert!(llmc::model::decompress(&bytes, &Default::default()).unwrap() == gguf);
    let from = format!("container version 11 (default parameters) of a GGUF of {GGUF_FIXTURE}'s key-value pairs (arrays cut to 5 elements) and the first 32 rows of blk.0.attn_v.weight (Q8_0)");
    Base { file: "model-v11.gguf.llmc", from, bytes }
}

/// Where the fixture's vocabulary scores (`tokenizer.ggml.scores`, f32) start.
const SCORES_AT: usize = 4_413_542;

/// The content of `words.llmf`: 4096 of the fixture's vocabulary scores, from -506.0.
pub fn words_source() -> Vec<u8> {
    let at = SCORES_AT + 4 * 1000;
    let src = fixture(GGUF_FIXTURE)[at..at + 4 * 4096].to_vec();
    assert_eq!(src[..4], (-506.0f32).to_le_bytes(), "the scores moved");
    src
}

/// GGUF numeric words (zstd mode 3) on 4096 of the fixture's vocabulary scores
/// (-506.0, -507.0, …), four chunks.
fn words_frame() -> Base {
    let (at, len, chunk) = (SCORES_AT + 4 * 1000, 4 * 4096, 4096);
    let src = words_source();
    let p = CompressParams { chunk_size: chunk, ..Default::default() };
    let bytes = llmc::frame::compress(&Method::ZstdWords { level: 19 }, &src, &p).unwrap();
    let from = format!("zstd frame (GGUF words) of {GGUF_FIXTURE} bytes {at}..{}, vocabulary scores 1000..5096, chunk size {chunk} (4 chunks)", at + len);
    Base { file: "words.llmf", from, bytes }
}

/// Where the fixture's vocabulary (`tokenizer.ggml.tokens`, GGUF string records) starts.
const VOCABULARY_AT: usize = 979;

/// GGUF strings (zstd mode 2) on the fixture's first tokens: chunk 0 starts at a
/// record and is coded as strings; the others start inside one.
fn strings_frame() -> Base {
    let (at, len, chunk) = (VOCABULARY_AT, 3000, 1024);
    let src = &fixture(GGUF_FIXTURE)[at..at + len];
    assert_eq!(&src[..13], b"\x05\0\0\0\0\0\0\0<pad>", "the vocabulary moved");
    let p = CompressParams { chunk_size: chunk, ..Default::default() };
    let bytes = llmc::frame::compress(&Method::ZstdStrings { level: 19 }, src, &p).unwrap();
    let from = format!("zstd frame (GGUF strings) of {GGUF_FIXTURE} bytes {at}..{}, the first tokens, chunk size {chunk} (3 chunks)", at + len);
    Base { file: "strings.llmf", from, bytes }
}

pub fn gguf() -> Base {
    let bytes = crate::tiny_gguf::build(&fixture(GGUF_FIXTURE));
    let from = format!("{GGUF_FIXTURE}: its key-value pairs (arrays cut to 5 elements) and the first rows of 5 tensors (F32, Q4_K, Q6_K, Q8_0)");
    Base { file: "model.gguf", from, bytes }
}

/// A safetensors file of real weights: two BF16 slices, one of them also as F32.
pub fn safetensors() -> Base {
    let slice = |rel: &str, n: usize| fixture(rel)[..n].to_vec();
    let widen: Vec<u8> = slice(OUTPUT, 512).chunks_exact(2).flat_map(|h| [0, 0, h[0], h[1]]).collect();
    let t = |name: &str, dtype: &str, shape: serde_json::Value, data: Vec<u8>| st::Tensor { name: name.into(), dtype: dtype.into(), shape, data };
    let tensors = [
        t("encoder.layer.0.attention.self.query.weight", "BF16", serde_json::json!([4, 384]), slice(QUERY, 3072)),
        t("encoder.layer.3.output.LayerNorm.weight", "F32", serde_json::json!([256]), widen),
        t("encoder.layer.3.output.dense.weight", "BF16", serde_json::json!([2, 768]), slice(OUTPUT, 3072)),
    ];
    let bytes = st::write(&tensors, Some(&serde_json::json!({"format": "pt"})));
    let from = format!("{QUERY} bytes 0..3072 and {OUTPUT} bytes 0..3072 as BF16 tensors, {OUTPUT} bytes 0..512 widened to F32");
    Base { file: "model.safetensors", from, bytes }
}

/// The version-10 container of `of` (its three tensors are tiny and side by
/// side: one batch, and a coded index), as the library writes it today.
pub fn batched(of: &Base) -> Base {
    let bytes = llmc::model::compress(&of.bytes, &llmc::CompressParams::default(), None).unwrap();
    assert_eq!(bytes[4], 10, "a batch and a coded index");
    Base { file: "model-batched.safetensors.llmc", from: format!("container version 10 of {} (default parameters: one batch of its three tensors, a coded index)", of.file), bytes }
}

/// The container cases mutate the version-1 layout (index offset in the
/// header): their base is the committed version-1 container of `of`, which
/// readers keep accepting. (Version-2 hostile cases: `tests/streaming.rs`, the `stream_decode` fuzz target.)
pub fn container(of: &Base, file: &'static str) -> Base {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corrupt").join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.get(4..6) == Some(&[1, 0][..]), "{}: not a version-1 container", path.display());
    let back = llmc::model::decompress(&bytes, &Default::default()).unwrap();
    assert!(back == of.bytes, "{} is not a container of {}", path.display(), of.file);
    Base { file, from: format!("version-1 container of {} (default parameters)", of.file), bytes }
}
