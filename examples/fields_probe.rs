//! Ratio and decode speed of the field-split codec on a region of a file:
//! `fields_probe FILE OFFSET SIZE TYPE` with TYPE one of q8_0, q5_0, q6_k, q4_k, f32, raw32
//! (32-byte rows: one direct stream). PROBE_CHUNK sets the chunk size, PROBE_ISA
//! one ISA, PROBE_NOCRC=1 skips checksums, PROBE_LOOP=SECS decodes for SECS first
//! (for perf).
use llmc::frame::FieldLayout as Layout;
use llmc::frame::Method;
use std::time::Instant;

fn layout(t: &str) -> Layout {
    match t {
        "q8_0" => Layout::from_runs(34, &[&[(0, 1)], &[(1, 1)], &[(2, 32)]]),
        "q5_0" => Layout::from_runs(22, &[&[(0, 1)], &[(1, 1)], &[(2, 4)], &[(6, 16)]]),
        "q6_k" => Layout::from_runs(210, &[&[(0, 128)], &[(128, 64)], &[(192, 16)], &[(208, 1)], &[(209, 1)]]),
        "q4_k" => {
            let mut s: Vec<Vec<(u16, u16)>> = (0..16).map(|i| vec![(i, 1)]).collect();
            s.push(vec![(16, 128)]);
            let refs: Vec<&[(u16, u16)]> = s.iter().map(|v| v.as_slice()).collect();
            Layout::from_runs(144, &refs)
        }
        "f32" => Layout::planes(4),
        "raw32" => Layout::from_runs(32, &[&[(0, 32)]]),
        _ => panic!("type"),
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&a[1]).unwrap();
    let (off, size): (usize, usize) = (a[2].parse().unwrap(), a[3].parse().unwrap());
    let src = &data[off..off + size];
    let m = if a[4] == "q4kc" { Method::Q4k } else { Method::Fields(layout(&a[4])) };
    let chunk: u32 = std::env::var("PROBE_CHUNK").ok().map_or(0, |c| c.parse().unwrap());
    let frame = llmc::frame::compress(&m, src, &llmc::CompressParams { chunk_size: chunk, ..Default::default() }).unwrap();
    print!("{} {} bytes ratio {:.4}", a[4], size, size as f64 / frame.len() as f64);
    let mut out = vec![0u8; size];
    let only = std::env::var("PROBE_ISA").ok();
    for isa in llmc::isa::supported().into_iter().filter(|i| only.as_deref().is_none_or(|o| o == i.name())) {
        let o = llmc::DecodeOptions { isa: Some(isa), verify_checksums: std::env::var("PROBE_NOCRC").is_err(), ..Default::default() };
        llmc::decompress_into(&frame, &mut out, &o).unwrap();
        assert!(out == src);
        let mut best = f64::MAX;
        if let Ok(secs) = std::env::var("PROBE_LOOP") { let t = Instant::now(); while t.elapsed().as_secs_f64() < secs.parse::<f64>().unwrap() { llmc::decompress_into(&frame, &mut out, &o).unwrap(); } }
        for _ in 0..20 {
            let t = Instant::now();
            llmc::decompress_into(&frame, &mut out, &o).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        print!(" | {} {:.2} GB/s", isa.name(), size as f64 / best / 1e9);
    }
    println!();
}
