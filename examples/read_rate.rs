//! Per-tensor reads against the in-memory whole-file decode of the same
//! container, same run, one thread (the loader read rate of issue 11):
//!
//!   cargo run --release --example read_rate -- FILE.llmc [ROUNDS]
//!
//! Prints GB/s of tensor bytes read with `Index::read_range` one tensor at a
//! time into a reused buffer, and of `decompress_all`, best of ROUNDS.

use llmc::model::Index;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: read_rate FILE.llmc [ROUNDS]");
    let rounds: usize = std::env::args().nth(2).map_or(5, |r| r.parse().unwrap());
    let data = std::fs::read(&path).unwrap();
    let index = Index::open(&data).unwrap();
    let opts = llmc::DecodeOptions::default();
    let spans: Vec<(u64, u64)> = (0..index.entries.len()).filter_map(|i| index.entry_span(i)).collect();
    let tensor_bytes: u64 = spans.iter().map(|s| s.1).sum();
    let mut buf = vec![0u8; spans.iter().map(|s| s.1).max().unwrap_or(0) as usize];
    let mut whole = vec![0u8; index.original_size as usize];
    let (mut best_t, mut best_w) = (f64::MAX, f64::MAX);
    for _ in 0..rounds {
        let t = Instant::now();
        for &(off, size) in &spans {
            index.read_range(&data, off, &mut buf[..size as usize], &opts).unwrap();
        }
        best_t = best_t.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        index.decompress_all(&data, &mut whole, &opts).unwrap();
        best_w = best_w.min(t.elapsed().as_secs_f64());
    }
    let (rt, rw) = (tensor_bytes as f64 / best_t / 1e9, index.original_size as f64 / best_w / 1e9);
    println!("{path}: per-tensor reads {rt:.2} GB/s ({} tensors, {tensor_bytes} B), whole-file decode {rw:.2} GB/s, ratio {:.3}", spans.len(), rt / rw);
}
