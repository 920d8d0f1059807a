//! Repeatedly compresses one file (for profiling the encoder).
fn main() {
    let path = std::env::args().nth(1).expect("file");
    let src = std::fs::read(path).expect("read");
    let t = std::time::Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < 3.0 {
        std::hint::black_box(llmc::compress_bf16(&src, &Default::default()).unwrap());
        n += 1;
    }
    println!("{:.3} GB/s", (n * src.len()) as f64 / t.elapsed().as_secs_f64() / 1e9);
}
