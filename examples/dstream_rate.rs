//! The C streaming decoder (`llmc_dstream_*`) fed in pieces of one size, as a
//! loader reading a socket would feed it, for each of several sizes:
//!
//!   cargo run --release --example dstream_rate -- FILE.llmc ORIGINAL [THREADS]
//!
//! Prints, per piece size, the wall time, MB/s of decoded output and the cost
//! per call; every byte is checked against ORIGINAL. Output is taken into a
//! 1 MiB buffer; calls repeat while input is left or the buffer came back full.

use llmc::ffi::stream::*;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(original)) = (args.get(1), args.get(2)) else {
        panic!("usage: dstream_rate FILE.llmc ORIGINAL [THREADS]");
    };
    let threads: u32 = args.get(3).map_or(2, |t| t.parse().unwrap());
    let data = std::fs::read(path).unwrap();
    let want = std::fs::read(original).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    for piece in [64usize, 512, 4096, 65536, 1 << 20] {
        let mut ds = std::ptr::null_mut();
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { llmc_dstream_create(threads, 0, &mut ds) }, 0);
        let t = Instant::now();
        let (mut at, mut got, mut calls, mut finished) = (0usize, 0usize, 0u64, 0i32);
        while finished == 0 {
            let end = (at + piece).min(data.len());
            let mut ib = llmc_inbuf { src: data[at..].as_ptr().cast(), size: end - at, pos: 0 };
            loop {
                let mut ob = llmc_outbuf { dst: buf.as_mut_ptr().cast(), size: buf.len(), pos: 0 };
                // SAFETY: the buffers describe live slices; `ds` is open.
                let s = unsafe { llmc_dstream_decompress(ds, &mut ob, &mut ib, &mut finished) };
                calls += 1;
                assert_eq!(s, 0, "status {s}");
                assert!(want[got..].starts_with(&buf[..ob.pos]), "output differs at {got}");
                got += ob.pos;
                if finished != 0 || (ib.pos == ib.size && ob.pos < ob.size) {
                    break;
                }
            }
            at += ib.pos;
            assert!(finished != 0 || at < data.len(), "the whole input did not finish the stream");
        }
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(got, want.len());
        println!("pieces of {piece:>7} B: {secs:.3} s, {:.0} MB/s of output, {calls} calls, {:.2} us per call", got as f64 / secs / 1e6, secs * 1e6 / calls as f64);
        // SAFETY: opened above, freed once.
        unsafe { llmc_dstream_free(ds) };
    }
}
