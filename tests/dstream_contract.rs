//! The C streaming decoder (`llmc_dstream_*`) driven the ways callers drive
//! it, on a real container and frame: the README's loop with random piece and
//! output sizes and bytes after the stream, cuts, pieces presented from the
//! consumed position (the fuzz driver's pattern), and a full output buffer
//! after the stream ended (from an independent review).

mod common;
use common::fixture;
use llmc::ffi::stream::*;
use llmc::CompressParams;

struct Rng(u64);
impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Feeds `fed` as the README does; returns (consumed, output, finished).
fn readme_loop(fed: &[u8], rng: &mut Rng, flags: u32) -> (usize, Vec<u8>, bool) {
    let mut ds = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { llmc_dstream_create(2, flags, &mut ds) }, 0);
    let (mut at, mut avail, mut got, mut finished) = (0usize, 0usize, Vec::new(), 0i32);
    let mut buf = vec![0u8; 16 << 20];
    while finished == 0 && avail < fed.len() {
        let k = [2, 64, 4096, 70_000, 3 << 20][rng.next(5)];
        avail = (avail + 1 + rng.next(k)).min(fed.len());
        loop {
            let size = [1, 7, 4096, 1 << 20, 16 << 20][rng.next(5)];
            let mut ib = llmc_inbuf { src: fed[at..avail].as_ptr().cast(), size: avail - at, pos: 0 };
            let mut ob = llmc_outbuf { dst: buf.as_mut_ptr().cast(), size, pos: 0 };
            // SAFETY: live buffers; `ds` is open.
            let s = unsafe { llmc_dstream_decompress(ds, &mut ob, &mut ib, &mut finished) };
            assert_eq!(s, 0, "status {s}");
            at += ib.pos;
            got.extend_from_slice(&buf[..ob.pos]);
            if !(finished == 0 && (ib.pos < ib.size || ob.pos == ob.size)) {
                break;
            }
        }
    }
    // SAFETY: opened above.
    unsafe { llmc_dstream_free(ds) };
    (at, got, finished == 1)
}

#[test]
fn a_container_and_a_frame_in_random_pieces_with_bytes_after_them() {
    let file = fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let c = llmc::model::gguf::compress(&file, &CompressParams { n_threads: 2, ..Default::default() }, None).unwrap();
    let bf16 = &file[..4 << 20];
    let f = llmc::compress_bf16(bf16, &CompressParams { chunk_size: 64 << 10, ..Default::default() }).unwrap();
    let mut rng = Rng(0xdead_beef_1234_5678);
    for round in 0..12 {
        for (name, stream, orig) in [("container", &c, &file[..]), ("frame", &f, bf16)] {
            let mut fed = stream.clone();
            fed.extend_from_slice(b"LLMC\x02\x00 the next object in the pipe");
            let flags = if name == "container" && round % 2 == 0 { LLMC_DSTREAM_VERIFY_SHA256 } else { 0 };
            let (at, got, finished) = readme_loop(&fed, &mut rng, flags);
            assert!(finished, "{name} round {round}: not finished");
            assert_eq!(at, stream.len(), "{name} round {round}: consumed");
            assert!(got == orig, "{name} round {round}: output differs ({} of {} bytes)", got.len(), orig.len());
        }
    }
}

#[test]
fn a_cut_container_or_frame_never_finishes_and_never_hangs() {
    let file = fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let c = llmc::model::gguf::compress(&file, &CompressParams { n_threads: 2, ..Default::default() }, None).unwrap();
    let f = llmc::compress_bf16(&file[..1 << 20], &CompressParams { chunk_size: 64 << 10, ..Default::default() }).unwrap();
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    for round in 0..40 {
        for stream in [&c, &f] {
            let cut = match round {
                0 => stream.len() - 1,
                1 => stream.len() - 64,
                _ => 1 + rng.next(stream.len() - 1),
            };
            let (at, _got, finished) = readme_loop(&stream[..cut], &mut rng, 0);
            assert!(!finished, "cut at {cut} of {} finished", stream.len());
            assert_eq!(at, cut, "cut at {cut}: not all taken");
        }
    }
}

/// fuzz/checks/stream_decode.rs's `c_stream` pattern: each call presents a
/// piece of 1..=256 bytes starting at what was consumed so far.
#[test]
fn the_fuzz_driver_pattern_decodes_a_real_container() {
    let file = fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let c = llmc::model::gguf::compress(&file, &CompressParams { n_threads: 2, ..Default::default() }, None).unwrap();
    let mut fed = c.clone();
    fed.extend_from_slice(b"TRAILING");
    let mut failures = Vec::new();
    for seed in 1..=6u64 {
        let mut rng = Rng(seed * 0x9E37_79B9);
        let mut ds = std::ptr::null_mut();
        // SAFETY: a valid out-pointer.
        assert_eq!(unsafe { llmc_dstream_create(2, 0, &mut ds) }, 0);
        let (mut at, mut got, mut finished) = (0usize, Vec::new(), 0i32);
        let mut buf = vec![0u8; 1 << 20];
        let mut status = 0;
        while finished == 0 {
            let end = (at + 1 + rng.next(4096)).min(fed.len());
            let mut ib = llmc_inbuf { src: fed[at..].as_ptr().cast(), size: end - at, pos: 0 };
            let mut ob = llmc_outbuf { dst: buf.as_mut_ptr().cast(), size: [1, 4096, 1 << 20][rng.next(3)], pos: 0 };
            // SAFETY: live buffers; `ds` is open.
            status = unsafe { llmc_dstream_decompress(ds, &mut ob, &mut ib, &mut finished) };
            if status != 0 {
                break;
            }
            at += ib.pos;
            got.extend_from_slice(&buf[..ob.pos]);
        }
        // SAFETY: opened above.
        unsafe { llmc_dstream_free(ds) };
        if (status, finished, at) != (0, 1, c.len()) || got != file {
            failures.push(format!("seed {seed}: status {status}, finished {finished}, consumed {at} of {}, output {} of {} bytes, same {}", c.len(), got.len(), file.len(), got == file));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A call with an empty output buffer (`out.pos == out.size`, e.g. a caller
/// whose buffer is full) after the decoder finished, with the bytes after
/// the stream presented: never returns.
#[test]
fn a_call_with_a_full_output_buffer_after_the_stream_ended_returns() {
    let file = fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let f = llmc::compress_bf16(&file[..1 << 20], &CompressParams::default()).unwrap();
    let mut fed = f.clone();
    fed.extend_from_slice(b"NEXT OBJECT");
    let fed: &'static [u8] = Box::leak(fed.into_boxed_slice());
    let mut ds = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { llmc_dstream_create(1, 0, &mut ds) }, 0);
    let mut finished = 0;
    let mut none = [0u8; 0];
    let mut ib = llmc_inbuf { src: fed.as_ptr().cast(), size: f.len(), pos: 0 };
    let mut ob = llmc_outbuf { dst: none.as_mut_ptr().cast(), size: 0, pos: 0 };
    // SAFETY: live buffers; `ds` is open.
    assert_eq!(unsafe { llmc_dstream_decompress(ds, &mut ob, &mut ib, &mut finished) }, 0);
    let at = ib.pos;
    std::thread::sleep(std::time::Duration::from_millis(500)); // the decoder finishes
    let ds = ds as usize;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut finished = 0;
        let mut none = [0u8; 0];
        let mut ib = llmc_inbuf { src: fed[at..].as_ptr().cast(), size: fed.len() - at, pos: 0 };
        let mut ob = llmc_outbuf { dst: none.as_mut_ptr().cast(), size: 0, pos: 0 };
        // SAFETY: live buffers; `ds` is open.
        let s = unsafe { llmc_dstream_decompress(ds as *mut llmc_dstream, &mut ob, &mut ib, &mut finished) };
        let _ = tx.send(s);
    });
    assert!(rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok(), "llmc_dstream_decompress with a full output buffer never returned");
}
