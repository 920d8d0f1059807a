//! Profiling aid: times Q4_K block assembly alone per ISA on a real file's headers.
use llmc::codec::q4k::decode::Parts;
use llmc::codec::q4k::model::{BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES};
fn main() {
    let src = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let n = src.len() / BLOCK;
    let mut headers = vec![0u8; HEADER * n];
    for k in 0..n { for p in 0..HEADER { headers[p * n + k] = src[k * BLOCK + p]; } }
    let mut x = 12345u64;
    let mut rnd = |len: usize| (0..len).map(|_| { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x as u8 }).collect::<Vec<u8>>();
    let flags = rnd(FLAG_BYTES * n);
    let planes = rnd(PLANE_BYTES * n);
    let parts = Parts { headers: &headers, flags: &flags, planes: &planes };
    let mut out = vec![0u8; n * BLOCK];
    for isa in llmc::isa::supported() {
        let k = llmc::kernels::Kernels::get(isa).unwrap();
        let mut best = f64::MAX;
        for _ in 0..50 { let t = std::time::Instant::now(); (k.q4k_assemble)(&parts, n, &mut out); best = best.min(t.elapsed().as_secs_f64()); }
        println!("{:?} assemble {:.2} GB/s", isa, out.len() as f64 / best / 1e9);
    }
}
