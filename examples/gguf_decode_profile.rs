//! Decode a container repeatedly (for profiling): `gguf_decode_profile FILE.gguf`.
fn main() {
    let file = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let c = llmc::model::gguf::compress(&file, &llmc::CompressParams { n_threads: 2, ..Default::default() }, None).unwrap();
    let index = llmc::model::Index::open(&c).unwrap();
    let mut out = vec![0u8; file.len()];
    let t = std::time::Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < 6.0 {
        index.decompress_all(&c, &mut out, &Default::default()).unwrap();
        n += 1;
    }
    println!("{:.2} GB/s", (n * file.len()) as f64 / t.elapsed().as_secs_f64() / 1e9);
}
