//! Arbitrary bytes (truncated to an even length) compress, decode on every ISA
//! back to the input, and encode identically on every ISA.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmc::{CompressParams, DecodeOptions};

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len() & !1];
    let chunk = 1024 * (1 + data.first().copied().unwrap_or(0) as u32 % 4);
    let p = CompressParams { chunk_size: chunk, isa: Some(llmc::isa::Isa::Scalar), ..Default::default() };
    let frame = llmc::compress_bf16(data, &p).expect("compress");
    for isa in llmc::isa::supported() {
        let q = CompressParams { isa: Some(isa), ..p };
        assert!(llmc::compress_bf16(data, &q).unwrap() == frame, "{isa:?} encodes differently");
        let out = llmc::decompress(&frame, &DecodeOptions { isa: Some(isa), ..Default::default() }).expect("decode");
        assert!(out == data, "{isa:?} roundtrip");
    }
});
