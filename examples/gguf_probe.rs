//! Compress a GGUF into a container, report ratio and times, rebuild and verify.
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("gguf");
    let threads: u32 = std::env::args().nth(2).map_or(1, |t| t.parse().unwrap());
    let file = std::fs::read(&path).unwrap();
    let t = Instant::now();
    let c = llmc::model::gguf::compress(&file, &llmc::CompressParams { n_threads: threads, ..Default::default() }, None).unwrap();
    println!("compress: {:.2} s, {} -> {} bytes, ratio {:.4}", t.elapsed().as_secs_f64(), file.len(), c.len(), file.len() as f64 / c.len() as f64);
    let index = llmc::model::Index::open(&c).unwrap();
    let mut out = vec![0u8; file.len()];
    for isa in llmc::isa::supported() {
        let opts = llmc::DecodeOptions { isa: Some(isa), ..Default::default() };
        let mut best = f64::MAX;
        for _ in 0..3 {
            out.fill(0);
            let t = Instant::now();
            index.decompress_all(&c, &mut out, &opts).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        assert!(out == file, "{isa:?} rebuild differs");
        println!("decode {}: {:.2} GB/s (byte-exact)", isa.name(), file.len() as f64 / best / 1e9);
    }
    let mut by_type = std::collections::BTreeMap::<u32, (u64, u64)>::new();
    for e in &index.entries {
        let r = &index.regions[e.region as usize];
        let v = by_type.entry(e.dtype).or_default();
        v.0 += r.orig_size;
        v.1 += r.frame_size;
    }
    for (t, (o, f)) in by_type {
        println!("  {:6} {:>11} -> {:>11}  {:.4}", llmc::model::gguf::types::type_name(t), o, f, o as f64 / f as f64);
    }
    let meta: (u64, u64) = index.regions.iter().filter(|r| !matches!(r.role, llmc::model::Role::Tensor | llmc::model::Role::Continuation)).fold((0, 0), |a, r| (a.0 + r.orig_size, a.1 + r.frame_size));
    println!("  non-tensor {:>11} -> {:>11}  {:.4}", meta.0, meta.1, meta.0 as f64 / meta.1 as f64);
}
