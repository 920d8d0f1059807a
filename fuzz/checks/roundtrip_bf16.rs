//! Arbitrary bytes (truncated to whole bf16 words) compress, encode identically
//! on every ISA, and decode back to the input on every ISA — with one table per
//! chunk and with row classes (the second byte picks a row length or none),
//! with lanes that carry raw bytes and (bit 2 of the first byte) without them,
//! as `LLMC_FLAG_NO_ROW_CLASSES` asks.

use llmc::CompressParams;

pub fn run(data: &[u8]) {
    let data = &data[..data.len() & !1];
    let chunk = 1024 * (1 + data.first().copied().unwrap_or(0) as u32 % 4);
    // Rows of 32..256 values: short enough that 1 KiB chunks have the rows
    // row classes need; 0 = no rows.
    let row = match data.get(1).copied().unwrap_or(0) % 9 {
        0 => 0,
        k => 32 * u32::from(k),
    };
    let flags = if data.first().is_some_and(|b| b & 4 != 0) { llmc::PARAM_FLAG_NO_ROW_CLASSES } else { 0 };
    let p = CompressParams { chunk_size: chunk, flags, ..Default::default() };
    super::common::roundtrip_every_isa(data, p, |d, p| llmc::compress_bf16_rows(d, row, p));
}
