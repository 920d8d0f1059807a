//! Arbitrary bytes (truncated to whole bf16 words) compress, encode identically
//! on every ISA, and decode back to the input on every ISA.

use llmc::CompressParams;

pub fn run(data: &[u8]) {
    let data = &data[..data.len() & !1];
    let chunk = 1024 * (1 + data.first().copied().unwrap_or(0) as u32 % 4);
    super::common::roundtrip_every_isa(data, CompressParams { chunk_size: chunk, ..Default::default() }, llmc::compress_bf16);
}
