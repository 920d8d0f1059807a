//! The checksum gate as a benchmark: checks the three pinned sha256[:16] prefixes of
//! `fixtures/expected-checksums.json` first (panics on a mismatch), then reports
//! decode GB/s per ISA and memcpy of the same size for each method.
//!
//!     cargo bench --bench smoke      (needs the whole GGUF: `llmc fetch`)

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use llmc::model::Index;
use llmc::{CompressParams, DecodeOptions};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn cache_file() -> PathBuf {
    let dir = std::env::var_os("LLMC_CACHE_DIR").map(PathBuf::from).unwrap_or_else(|| {
        let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"));
        base.join("llmc")
    });
    dir.join("gemma-3-270m-q4_k_m.gguf")
}

fn prefix(data: &[u8]) -> String {
    Sha256::digest(data)[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("fixtures/expected-checksums.json")).unwrap()).unwrap();
    let gguf = std::fs::read(cache_file()).expect("the whole GGUF: run `cargo run --release -- fetch` first");
    let inputs = [
        ("bf16", std::fs::read(root.join("fixtures/bf16/all-minilm-l6-v2.word_embeddings.bf16")).unwrap()),
        ("q4k", std::fs::read(root.join("fixtures/q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k")).unwrap()),
        ("gguf", gguf),
    ];
    for (method, src) in &inputs {
        let p = CompressParams::default();
        let compressed = match *method {
            "bf16" => llmc::compress_bf16(src, &p).unwrap(),
            "q4k" => llmc::compress_q4k(src, &p).unwrap(),
            _ => llmc::model::gguf::compress(src, &CompressParams { n_threads: 2, ..p }, None).unwrap(),
        };
        let want = expected["methods"][method]["sha256_16"].as_str().unwrap();
        assert_eq!(prefix(&compressed), want, "{method}: the gate's prefix moved; run `llmc smoke`");
        let index = (*method == "gguf").then(|| Index::open(&compressed).unwrap());
        let mut group = c.benchmark_group(format!("smoke/{method}"));
        group.throughput(Throughput::BytesDecimal(src.len() as u64));
        group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
        let mut out = vec![0u8; src.len()];
        group.bench_function("memcpy", |b| b.iter(|| out.copy_from_slice(black_box(src))));
        for isa in llmc::isa::supported() {
            let opts = DecodeOptions { isa: Some(isa), ..Default::default() };
            group.bench_function(BenchmarkId::new("decode", isa.name()), |b| {
                b.iter(|| match &index {
                    Some(ix) => ix.decompress_all(&compressed, &mut out, &opts).unwrap(),
                    None => {
                        llmc::decompress_into(&compressed, &mut out, &opts).unwrap();
                    }
                })
            });
            assert!(out[..] == src[..], "{method} {isa:?} roundtrip");
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
