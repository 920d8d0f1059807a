//! Any bytes as a frame: parse, inspect and decode on every ISA, with and without
//! checksum verification, and also after re-sealing the checksums so mutations
//! reach the payload decoders. Must never panic or touch memory out of bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use llmc::format::checksum::crc32c;
use llmc::format::frame::{CHUNK_ENTRY_SIZE, HEADER_SIZE};
use llmc::DecodeOptions;

fn reseal(frame: &mut [u8]) {
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

fn decode_all(data: &[u8]) {
    let _ = llmc::frame_info(data);
    for isa in llmc::isa::supported() {
        for verify in [true, false] {
            let opts = DecodeOptions { isa: Some(isa), verify_checksums: verify, max_output: 1 << 26, ..Default::default() };
            if let Ok(out) = llmc::decompress(data, &opts) {
                assert_eq!(out.len() as u64, llmc::frame_info(data).unwrap().content_size);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    decode_all(data);
    let mut sealed = data.to_vec();
    reseal(&mut sealed);
    decode_all(&sealed);
});
