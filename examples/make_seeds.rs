//! Writes small real frames as a fuzz seed corpus: `make_seeds DIR`.
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("output dir"));
    std::fs::create_dir_all(&dir).unwrap();
    let src = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/bf16/all-minilm-l6-v2.layer.0.query.bf16")).unwrap();
    for (i, (len, chunk)) in [(64, 1024), (2000, 1024), (6000, 2048), (20000, 4096), (70000, 1 << 16)].iter().enumerate() {
        let p = llmc::CompressParams { chunk_size: *chunk, ..Default::default() };
        std::fs::write(dir.join(format!("frame{i}")), llmc::compress_bf16(&src[..*len], &p).unwrap()).unwrap();
        std::fs::write(dir.join(format!("raw{i}")), &src[..*len]).unwrap();
    }
}
