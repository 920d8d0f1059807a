//! bf16 encode and decode per ISA, with memcpy of the same buffer in the same
//! group as the baseline. Throughput is decimal GB/s of uncompressed bytes.
//!
//!     cargo bench --bench bf16

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use llmc::{compress_bf16, decompress_into, CompressParams, DecodeOptions};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const FIXTURES: [&str; 2] = ["all-minilm-l6-v2.word_embeddings.bf16", "all-minilm-l6-v2.layer.0.query.bf16"];

fn bench(c: &mut Criterion) {
    for name in FIXTURES {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bf16").join(name);
        let src = std::fs::read(&path).expect("fixture");
        let mut group = c.benchmark_group(format!("bf16/{name}"));
        group.throughput(Throughput::BytesDecimal(src.len() as u64));
        group.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));

        let mut copy = vec![0u8; src.len()];
        group.bench_function("memcpy", |b| b.iter(|| copy.copy_from_slice(black_box(&src))));

        let mut out = vec![0u8; src.len()];
        for isa in llmc::isa::supported() {
            let params = CompressParams { isa: Some(isa), ..Default::default() };
            group.bench_function(BenchmarkId::new("encode", isa.name()), |b| {
                b.iter(|| compress_bf16(black_box(&src), &params).expect("compress"))
            });
            let frame = compress_bf16(&src, &params).expect("compress");
            let opts = DecodeOptions { isa: Some(isa), ..Default::default() };
            decompress_into(&frame, &mut out, &opts).expect("decode");
            assert!(out == src, "{isa:?} roundtrip");
            group.bench_function(BenchmarkId::new("decode", isa.name()), |b| {
                b.iter(|| decompress_into(black_box(&frame), &mut out, &opts).expect("decode"))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
