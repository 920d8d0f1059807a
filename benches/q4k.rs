//! Q4_K encode and decode per ISA, memcpy of the same buffer in the same group.
//!
//!     cargo bench --bench q4k

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use llmc::{compress_q4k, decompress_into, CompressParams, DecodeOptions};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    for name in ["qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k", "qwen2.5-coder-1.5b.blk.0.attn_q.q4k"] {
        let src = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/q4k").join(name)).expect("fixture");
        let mut group = c.benchmark_group(format!("q4k/{name}"));
        group.throughput(Throughput::BytesDecimal(src.len() as u64));
        group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
        let mut copy = vec![0u8; src.len()];
        group.bench_function("memcpy", |b| b.iter(|| copy.copy_from_slice(black_box(&src))));
        let mut out = vec![0u8; src.len()];
        for isa in llmc::isa::supported() {
            let params = CompressParams { isa: Some(isa), ..Default::default() };
            group.bench_function(BenchmarkId::new("encode", isa.name()), |b| b.iter(|| compress_q4k(black_box(&src), &params).expect("compress")));
            let frame = compress_q4k(&src, &params).expect("compress");
            let opts = DecodeOptions { isa: Some(isa), ..Default::default() };
            decompress_into(&frame, &mut out, &opts).expect("decode");
            assert!(out == src, "{isa:?} roundtrip");
            group.bench_function(BenchmarkId::new("decode", isa.name()), |b| b.iter(|| decompress_into(black_box(&frame), &mut out, &opts).expect("decode")));
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
