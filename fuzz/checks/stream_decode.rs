//! Any bytes as a stream: decoded in one pass (Rust, from a reader) and through
//! the C streaming decoder fed in pieces whose sizes come from the input, also
//! after resealing frame, record, index, trailer and header checksums so
//! mutations reach the parsers behind them. Must never panic or allocate past
//! the cap; whatever two paths both accept must agree byte for byte, and a
//! version-2 container accepted in one pass must read the same at random.

use super::common::{reseal_container, reseal_frame, MAX_OUTPUT};
use llmc::ffi::stream::*;
use llmc::stream::Input;
use llmc::DecodeOptions;

fn one_pass(data: &[u8]) -> Option<Vec<u8>> {
    let opts = DecodeOptions { max_output: MAX_OUTPUT, ..Default::default() };
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| {
        if out.len() + b.len() > MAX_OUTPUT as usize {
            return Err(llmc::Error::LimitExceeded);
        }
        out.extend_from_slice(b);
        Ok(())
    };
    llmc::stream::decode(&mut Input::new(data), &opts, 0, true, &mut sink).ok().map(|_| out)
}

/// The C decoder, in pieces of 1..=256 bytes picked from the data itself.
fn c_stream(data: &[u8]) -> Option<Vec<u8>> {
    let mut ds = std::ptr::null_mut();
    // SAFETY: a valid out-pointer.
    assert_eq!(unsafe { llmc_dstream_create(2, 0, &mut ds) }, 0);
    let (mut at, mut out, mut finished) = (0usize, Vec::new(), 0i32);
    let mut buf = vec![0u8; 4096];
    let mut result = None;
    for step in 0.. {
        let piece = 1 + usize::from(data.get(step % data.len().max(1)).copied().unwrap_or(0));
        let end = (at + piece).min(data.len());
        let mut ib = llmc_inbuf { src: data[at..].as_ptr().cast(), size: end - at, pos: 0 };
        let mut ob = llmc_outbuf { dst: buf.as_mut_ptr().cast(), size: buf.len(), pos: 0 };
        // SAFETY: the buffers describe live slices; `ds` is open.
        let s = unsafe { llmc_dstream_decompress(ds, &mut ob, &mut ib, &mut finished) };
        if s != 0 {
            break;
        }
        out.extend_from_slice(&buf[..ob.pos]);
        at += ib.pos;
        if finished == 1 {
            result = Some(out);
            break;
        }
        if out.len() as u64 > MAX_OUTPUT {
            break;
        }
        if at == data.len() && ib.pos == 0 && ob.pos == 0 {
            break; // the input ran out: truncated
        }
    }
    // SAFETY: opened above, freed once.
    unsafe { llmc_dstream_free(ds) };
    result
}

fn check(data: &[u8]) {
    let a = one_pass(data);
    let b = c_stream(data);
    if let (Some(a), Some(b)) = (&a, &b) {
        assert!(a == b, "one-pass and C stream decoders disagree");
    }
    // What one pass decodes (checking the SHA-256 too), the C decoder fed in
    // pieces decodes as well: it refuses only version-1 containers and
    // per-stream files. (Comparing only when both succeed hid a bookkeeping
    // bug that failed valid containers fed this way.)
    if let (Some(_), None) = (&a, &b) {
        let refused = data.starts_with(b"LLMS") || data.starts_with(b"LLMC\x01\x00");
        assert!(refused, "the C stream decoder failed on a stream one pass decodes");
    }
    if let (Some(a), true) = (&a, data.get(..6) == Some(&b"LLMC\x02\x00"[..])) {
        if let Ok(index) = llmc::model::Index::open(data) {
            let mut all = vec![0u8; a.len()];
            index.read_range(data, 0, &mut all, &DecodeOptions::default()).expect("random access reads what one pass read");
            assert!(&all == a, "random access and one pass disagree");
        }
    }
}

pub fn run(data: &[u8]) {
    if data.len() > 1 << 20 {
        return;
    }
    check(data);
    let mut sealed = data.to_vec();
    reseal_frame(&mut sealed);
    reseal_container(&mut sealed);
    check(&sealed);
}
