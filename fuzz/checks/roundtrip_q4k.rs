//! Arbitrary bytes as `block_q4_K` arrays (truncated to whole 144-byte blocks;
//! NaN/inf/subnormal scales included) compress, encode identically on every ISA,
//! and decode back to the input on every ISA.

use llmc::CompressParams;

pub fn run(data: &[u8]) {
    let Some((&sel, data)) = data.split_first() else { return };
    let data = &data[..data.len() / 144 * 144];
    // 8 to 15 blocks per chunk, so small inputs still span several chunks.
    let chunk = 144 * (8 + u32::from(sel % 8));
    super::common::roundtrip_every_isa(data, CompressParams { chunk_size: chunk, ..Default::default() }, llmc::compress_q4k);
}
