//! Decode time per region kind/type of a GGUF container (best of 5).
use std::time::Instant;
fn main() {
    let file = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let c = llmc::model::gguf::compress(&file, &llmc::CompressParams { n_threads: 2, ..Default::default() }, None).unwrap();
    let index = llmc::model::Index::open(&c).unwrap();
    let mut name = std::collections::HashMap::new();
    for e in &index.entries { name.insert(e.region as usize, e.dtype); }
    let mut acc = std::collections::BTreeMap::<String, (u64, f64)>::new();
    let opts = llmc::DecodeOptions::default();
    let mut total = 0.0;
    for (i, r) in index.regions.iter().enumerate() {
        let key = match name.get(&i) { Some(t) => llmc::model::gguf::types::type_name(*t).to_string(), None => format!("{:?}", r.role) };
        let mut out = vec![0u8; r.orig_size as usize];
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            index.read_range(&c, r.orig_offset, &mut out, &opts).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        total += best;
        let a = acc.entry(key).or_default(); a.0 += r.orig_size; a.1 += best;
    }
    for (k, (b, t)) in acc { println!("{k:10} {b:>11} bytes {:7.2} ms {:6.2} GB/s", t * 1e3, b as f64 / t / 1e9); }
    println!("total {:.2} ms -> {:.2} GB/s", total * 1e3, file.len() as f64 / total / 1e9);
}
