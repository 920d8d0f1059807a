//! Compress once, then decode a file repeatedly for `secs` (profiling aid):
//! `decode_loop FILE METHOD [SECS] [ROW]` with METHOD bf16 | q4k (ROW: values
//! per row of a bf16 matrix, for row contexts).
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let src = std::fs::read(&a[1]).unwrap();
    let method = match a[2].as_str() { "bf16" => llmc::frame::Method::Bf16, _ => llmc::frame::Method::Q4k };
    let secs: f64 = a.get(3).map_or(4.0, |s| s.parse().unwrap());
    let method = method.with_rows(a.get(4).map(|s| s.parse().unwrap()));
    let frame = llmc::frame::compress(&method, &src, &Default::default()).unwrap();
    let mut out = vec![0u8; src.len()];
    let t = std::time::Instant::now();
    let mut n = 0;
    while t.elapsed().as_secs_f64() < secs {
        llmc::decompress_into(&frame, &mut out, &Default::default()).unwrap();
        n += 1;
    }
    println!("{:.2} GB/s", (n * src.len()) as f64 / t.elapsed().as_secs_f64() / 1e9);
}
