//! Decodes the tensors of one GGUF type again and again on one thread (for
//! `perf record`): `type_loop FILE.gguf TYPE SECS [ISA]`, e.g. `Q8_0 5 avx512`.
//! Prints the rate (GB/s of decoded bytes, best pass).
use llmc::model::Index;
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let file = std::fs::read(&a[1]).expect("file");
    let ty = a[2].as_str();
    let secs: f64 = a[3].parse().expect("seconds");
    let isa = a.get(4).map(|n| llmc::isa::supported().into_iter().find(|i| i.name() == n).expect("isa"));
    let c = llmc::model::compress(&file, &llmc::CompressParams { n_threads: 2, ..Default::default() }, None).expect("compresses");
    let index = Index::open(&c).expect("opens");
    let spans: Vec<(u64, u64)> = index
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| llmc::model::gguf::types::type_name(e.dtype) == ty)
        .map(|(i, _)| index.entry_span(i).expect("entry"))
        .collect();
    let total: u64 = spans.iter().map(|s| s.1).sum();
    let opts = llmc::DecodeOptions { isa, n_threads: 1, ..Default::default() };
    let mut out = vec![0u8; index.original_size as usize];
    let (start, mut best) = (Instant::now(), f64::MAX);
    while start.elapsed().as_secs_f64() < secs {
        let t = Instant::now();
        for &(off, len) in &spans {
            index.read_range(&c, off, &mut out[off as usize..(off + len) as usize], &opts).expect("decodes");
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!("{ty}: {} tensors, {total} bytes, {:.3} GB/s", spans.len(), total as f64 / best / 1e9);
}
