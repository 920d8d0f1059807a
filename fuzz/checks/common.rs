//! Helpers shared by the checks: checksum resealing (so mutations reach the
//! decoders behind the CRCs) and "roundtrip on every ISA".

use llmc::format::checksum::crc32c;
use llmc::format::frame::{CHUNK_ENTRY_SIZE, HEADER_SIZE};
use llmc::{CompressParams, DecodeOptions, Isa};

/// Cap on what a fuzzed decode may allocate, far below the library default.
pub const MAX_OUTPUT: u64 = 1 << 26;

/// Rewrites a (possibly mutated) frame's header check and chunk CRCs, as far as
/// its header and chunk table can still be read.
pub fn reseal_frame(frame: &mut [u8]) {
    if frame.len() < HEADER_SIZE {
        return;
    }
    let check = crc32c(&frame[..28]);
    frame[28..32].copy_from_slice(&check.to_le_bytes());
    let n = u32::from_le_bytes(frame[20..24].try_into().unwrap()) as usize;
    let table_end = HEADER_SIZE.saturating_add(n.saturating_mul(CHUNK_ENTRY_SIZE));
    if n > 1 << 16 || table_end > frame.len() {
        return;
    }
    let mut pos = table_end;
    for i in 0..n {
        let e = HEADER_SIZE + i * CHUNK_ENTRY_SIZE;
        let size = u32::from_le_bytes(frame[e..e + 4].try_into().unwrap()) as usize;
        let Some(end) = pos.checked_add(size).filter(|&end| end <= frame.len()) else { return };
        let c = crc32c(&frame[pos..end]);
        frame[e + 4..e + 8].copy_from_slice(&c.to_le_bytes());
        pos = end;
    }
}

/// Rewrites a container's header check and index CRC (FORMAT.md: a 64-byte
/// header whose bytes 60..64 check 0..60; the index ends with its own CRC).
pub fn reseal_container(c: &mut [u8]) {
    if c.len() < 64 {
        return;
    }
    let u64_at = |c: &[u8], at: usize| u64::from_le_bytes(c[at..at + 8].try_into().unwrap());
    let (off, size) = (u64_at(c, 16), u64_at(c, 24));
    if let Some(end) = off.checked_add(size).filter(|&e| size >= 4 && e <= c.len() as u64) {
        let (off, end) = (off as usize, end as usize);
        let crc = crc32c(&c[off..end - 4]);
        c[end - 4..end].copy_from_slice(&crc.to_le_bytes());
    }
    let check = crc32c(&c[..60]);
    c[60..64].copy_from_slice(&check.to_le_bytes());
}

pub fn decode_opts(isa: Isa, verify: bool) -> DecodeOptions {
    DecodeOptions { isa: Some(isa), verify_checksums: verify, max_output: MAX_OUTPUT, ..Default::default() }
}

/// Compresses with the scalar kernels, checks that every ISA encodes the same
/// bytes, and that every ISA decodes them back to `data`.
pub fn roundtrip_every_isa(data: &[u8], p: CompressParams, compress: impl Fn(&[u8], &CompressParams) -> llmc::Result<Vec<u8>>) {
    let scalar = CompressParams { isa: Some(Isa::Scalar), ..p };
    let frame = compress(data, &scalar).expect("compress");
    for isa in llmc::isa::supported() {
        let q = CompressParams { isa: Some(isa), ..p };
        assert!(compress(data, &q).unwrap() == frame, "{isa:?} encodes differently");
        let out = llmc::decompress(&frame, &decode_opts(isa, true)).expect("decode");
        assert!(out == data, "{isa:?} roundtrip");
    }
}
