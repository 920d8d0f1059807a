//! Frame surgery for hostile-input tests: recompute checksums after a mutation so
//! that the corruption reaches the payload decoders instead of stopping at a CRC.

use llmc::frame::crc32c;
use llmc::frame::{CHUNK_ENTRY_SIZE, HEADER_SIZE};

/// Rewrites the header check and every chunk CRC of a (possibly mutated) frame,
/// as far as its header and table can still be read.
pub fn reseal(frame: &mut [u8]) {
    if frame.len() < HEADER_SIZE {
        return;
    }
    let check = crc32c(&frame[..28]);
    frame[28..32].copy_from_slice(&check.to_le_bytes());
    let n = u32::from_le_bytes(frame[20..24].try_into().unwrap()) as usize;
    let table_end = HEADER_SIZE.saturating_add(n.saturating_mul(CHUNK_ENTRY_SIZE));
    if n > 1 << 20 || table_end > frame.len() {
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

pub fn container_version(c: &[u8]) -> u16 {
    c.get(4..6).map_or(0, |v| u16::from_le_bytes([v[0], v[1]]))
}

/// Recomputes a container's header check (version 1: bytes 0..60, stored at
/// 60; version 2: bytes 0..12, stored at 12) and version 2's trailer check.
pub fn reseal_container_header(c: &mut [u8]) {
    if container_version(c) == 1 && c.len() >= 64 {
        let crc = crc32c(&c[..60]);
        c[60..64].copy_from_slice(&crc.to_le_bytes());
    } else if c.len() >= 16 {
        let crc = crc32c(&c[..12]);
        c[12..16].copy_from_slice(&crc.to_le_bytes());
        reseal_trailer(c);
    }
}

/// Recomputes version 2's trailer check (the last 64 bytes).
pub fn reseal_trailer(c: &mut [u8]) {
    if c.len() >= 16 + 64 {
        let t = c.len() - 64;
        let crc = crc32c(&c[t..t + 60]);
        c[t + 60..t + 64].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Recomputes a container's index CRC (the index's last 4 bytes), as far as the
/// header's (version 1) or trailer's (version 2) index offset and size still
/// point inside `c` (from version 10, only an index stored as it is, mode 0;
/// from version 11 also the coded bytes' CRC after it); then the trailer's check.
pub fn reseal_container_index(c: &mut [u8]) {
    let v1 = container_version(c) == 1;
    if c.len() < 64 || (!v1 && c.len() < 16 + 64) {
        return;
    }
    let u64_at = |at: usize| u64::from_le_bytes(c[at..at + 8].try_into().unwrap());
    let (at, size) = if v1 { (u64_at(16), u64_at(24)) } else { (u64_at(c.len() - 64 + 12), u64_at(c.len() - 64 + 20)) };
    if let Some(end) = at.checked_add(size).filter(|&e| size >= 4 && e <= c.len() as u64) {
        let (start, mut at, mut end) = (at as usize, at as usize, end as usize);
        // Version 11 ends its coded index with the CRC of the coded bytes.
        let outer = container_version(c) >= 11;
        if outer {
            end -= 4;
        }
        // Version 10 codes its index (length, mode, payload): a stored one (mode
        // 0) is resealed behind its 9 bytes; a zstd one cannot be.
        let inner = container_version(c) < 10 || matches!(c.get(at + 8), Some(0) if end >= at + 9 + 4);
        if container_version(c) >= 10 && inner {
            at += 9;
        }
        if inner {
            let crc = crc32c(&c[at..end - 4]);
            c[end - 4..end].copy_from_slice(&crc.to_le_bytes());
        }
        if outer {
            let crc = crc32c(&c[start..end]);
            c[end..end + 4].copy_from_slice(&crc.to_le_bytes());
        }
    }
    if !v1 {
        reseal_trailer(c);
    }
}

/// Recomputes the check of every version-2 (or -3) region record found by
/// walking the container from its header (records whose sizes still make sense).
pub fn reseal_container_records(c: &mut [u8]) {
    if container_version(c) < 2 {
        return;
    }
    let mut at = 16usize;
    // `at` comes from the (fuzzed) records: checked arithmetic throughout.
    while at.checked_add(36).is_some_and(|end| end <= c.len()) {
        let r = &c[at..at + 36];
        if &r[..4] != b"LLMR" && &r[..4] != b"LLMX" {
            return;
        }
        let crc = crc32c(&c[at..at + 32]);
        c[at + 32..at + 36].copy_from_slice(&crc.to_le_bytes());
        if &c[at..at + 4] == b"LLMX" {
            return;
        }
        let frame = u64::from_le_bytes(c[at + 24..at + 32].try_into().unwrap());
        match usize::try_from(frame).ok().and_then(|f| (at + 36).checked_add(f)) {
            Some(next) => at = next,
            None => return,
        }
    }
}

/// Decodes without checksum verification on every ISA; the result must be an
/// error or exactly `expected` (if given). Panics propagate (and fail the test).
pub fn decode_unverified(frame: &[u8], isas: &[llmc::Isa]) -> Vec<Result<Vec<u8>, llmc::Error>> {
    isas.iter()
        .map(|&isa| {
            let opts = llmc::DecodeOptions { isa: Some(isa), verify_checksums: false, ..Default::default() };
            llmc::decompress(frame, &opts)
        })
        .collect()
}

/// Flips each of `bits` of `frame` in turn (checksums resealed, so the corruption
/// reaches the payload decoders) and decodes it unverified on every ISA: each
/// decode fails cleanly or yields `content_len` bytes. Returns the failures.
pub fn resealed_flips(frame: &[u8], bits: impl Iterator<Item = usize>, content_len: usize, isas: &[llmc::Isa]) -> usize {
    let mut errors = 0;
    for bit in bits {
        let mut copy = frame.to_vec();
        copy[bit / 8] ^= 1 << (bit % 8);
        reseal(&mut copy);
        for r in decode_unverified(&copy, isas) {
            match r {
                Err(_) => errors += 1,
                Ok(out) => assert_eq!(out.len(), content_len, "bit {bit}"),
            }
        }
    }
    errors
}

/// Hands every single-bit mutation of `input` (one copy, each bit flipped in
/// turn and restored) and the flipped bit's number to `check`.
pub fn each_bit_flip(input: &[u8], mut check: impl FnMut(&[u8], usize)) {
    let mut copy = input.to_vec();
    for bit in 0..input.len() * 8 {
        copy[bit / 8] ^= 1 << (bit % 8);
        check(&copy, bit);
        copy[bit / 8] ^= 1 << (bit % 8);
    }
}

/// Every single bit flip of `frame`, decoded with checksums on every ISA, gives
/// an error or exactly `expected`: never a wrong output reported as success.
pub fn assert_every_flip_detected(frame: &[u8], expected: &[u8], isas: &[llmc::Isa]) {
    for &isa in isas {
        let opts = llmc::DecodeOptions { isa: Some(isa), ..Default::default() };
        each_bit_flip(frame, |copy, bit| {
            if let Ok(out) = llmc::decompress(copy, &opts) {
                assert!(out == expected, "bit {bit}, {isa:?}: wrong output reported as success");
            }
        });
    }
}
