//! Repeatedly compresses one file on one thread (for profiling the encoder):
//! `encode_profile FILE [bf16|q4k|rows=N] [seconds]` (`rows=N`: bf16 with row
//! classes, N values per row).
fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("file");
    let codec = args.next().unwrap_or_else(|| "bf16".into());
    let secs: f64 = args.next().map_or(3.0, |s| s.parse().expect("seconds"));
    let src = std::fs::read(path).expect("read");
    let rows = codec.strip_prefix("rows=").map(|n| n.parse::<u64>().expect("row length"));
    let compress = |src: &[u8], p: &llmc::CompressParams| match (codec.as_str(), rows) {
        (_, Some(n)) => llmc::frame::compress(&llmc::frame::Method::Bf16.with_rows(Some(n)), src, p),
        ("bf16", _) => llmc::compress_bf16(src, p),
        ("q4k", _) => llmc::compress_q4k(src, p),
        (other, _) => panic!("unknown codec {other}"),
    };
    let t = std::time::Instant::now();
    let mut n = 0;
    let mut best = f64::INFINITY;
    while t.elapsed().as_secs_f64() < secs {
        let t1 = std::time::Instant::now();
        std::hint::black_box(compress(&src, &Default::default()).unwrap());
        best = best.min(t1.elapsed().as_secs_f64());
        n += 1;
    }
    println!("{:.3} GB/s mean, {:.3} GB/s best of {n}", (n * src.len()) as f64 / t.elapsed().as_secs_f64() / 1e9, src.len() as f64 / best / 1e9);
}
