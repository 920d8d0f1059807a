//! Sequential reads through the mount's read path (`model::Reader`) in memory,
//! against a whole-container decode on one thread, in one process: how much
//! the cache and read-ahead cost before FUSE adds its copies.
//!
//!   cargo run --release --example reader_seq -- MODEL.llmc [READ_SIZE]

use llmc::model::{Index, ReadEngine, Reader};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::Path::new(&args[1]);
    let step: usize = args.get(2).map_or(1 << 20, |s| s.parse().unwrap());
    let data = std::fs::read(path).unwrap();
    let index = Index::open(&data).unwrap();
    let mut out = vec![0u8; index.original_size as usize];
    let opts = llmc::DecodeOptions::default();
    index.decompress_all(&data, &mut out, &opts).unwrap();
    // Best of three: the machine is shared.
    let best = |f: &mut dyn FnMut() -> f64| (0..3).map(|_| f()).fold(0.0, f64::max);
    let whole = best(&mut || {
        let t = Instant::now();
        index.decompress_all(&data, &mut out, &opts).unwrap();
        out.len() as f64 / t.elapsed().as_secs_f64() / 1e9
    });
    println!("decompress_all, 1 thread: {whole:.2} GB/s");
    for threads in [0, 1, 2] {
        let gbps = best(&mut || {
            // A fresh reader each time: nothing cached.
            let engine = ReadEngine::new(llmc::model::DEFAULT_CACHE_SIZE, threads).unwrap();
            let r = Reader::open_file(path, &engine, &opts).unwrap();
            let mut buf = vec![0u8; step];
            let t = Instant::now();
            let mut at = 0u64;
            while at < r.size() {
                let n = r.read_at(at, &mut buf).unwrap();
                at += n as u64;
            }
            let gbps = r.size() as f64 / t.elapsed().as_secs_f64() / 1e9;
            let mut check = vec![0u8; 1 << 20];
            let n = r.read_at(r.size() / 2, &mut check).unwrap();
            assert!(check[..n] == out[(r.size() / 2) as usize..][..n]);
            gbps
        });
        println!("Reader, {threads} read-ahead threads, {step}-byte reads: {gbps:.2} GB/s ({:.2} x decompress_all)", gbps / whole);
    }
}
