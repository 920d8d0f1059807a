//! A container's index as FORMAT.md §10.3 lays it out, whether stored as it
//! is (versions 2 to 9) or coded (version 10: its length, then a zstd
//! payload), and containers with an edited index, resealed. Kept apart from
//! `hostile` (which the fuzz checks share) because it decodes zstd itself.

use super::hostile::{container_version, reseal_trailer};
use llmc::frame::crc32c;

/// A version-2-or-later container's index as §10.3 lays it out (CRC
/// included): as stored before version 10, decoded from its length and zstd
/// payload in version 10.
#[allow(dead_code)]
pub fn raw_index(c: &[u8]) -> Vec<u8> {
    let t = c.len() - 64;
    let at = u64::from_le_bytes(c[t + 12..t + 20].try_into().unwrap()) as usize;
    let size = u64::from_le_bytes(c[t + 20..t + 28].try_into().unwrap()) as usize;
    let mut index = &c[at..at + size];
    if container_version(c) < 10 {
        return index.to_vec();
    }
    if container_version(c) >= 11 {
        // The coded bytes' own CRC32C.
        index = &index[..index.len() - 4];
    }
    let len = u64::from_le_bytes(index[..8].try_into().unwrap()) as usize;
    let (mode, payload) = (index[8], &index[9..]);
    if mode == 0 {
        return payload.to_vec();
    }
    let mut raw = vec![0u8; len];
    // SAFETY: both slices are valid for their lengths; zstd writes at most `len` bytes.
    let n = unsafe { zstd_sys::ZSTD_decompress(raw.as_mut_ptr().cast(), len, payload.as_ptr().cast(), payload.len()) };
    assert_eq!(n, len, "a zstd index");
    raw
}

/// `c` (version 2 or later) with its index edited as laid out in §10.3 (see
/// [`raw_index`]) and resealed: its CRC recomputed, stored again (in version
/// 10 as a stored payload, mode 0), and the end record and trailer given its
/// new size.
#[allow(dead_code)]
pub fn with_raw_index(c: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut raw = raw_index(c);
    edit(&mut raw);
    with_index(c, raw)
}

/// `c` with `raw` (laid out as §10.3) for its index, stored as `c`'s header
/// version stores it; see [`with_raw_index`].
#[allow(dead_code)]
pub fn with_index(c: &[u8], mut raw: Vec<u8>) -> Vec<u8> {
    let n = raw.len();
    let crc = crc32c(&raw[..n - 4]);
    raw[n - 4..].copy_from_slice(&crc.to_le_bytes());
    let mut index = if container_version(c) < 10 { raw } else { [&(n as u64).to_le_bytes()[..], &[0], &raw].concat() };
    if container_version(c) >= 11 {
        let crc = crc32c(&index);
        index.extend_from_slice(&crc.to_le_bytes());
    }
    with_index_bytes(c, &index)
}

/// `c` with `index` for its index bytes, as they are (in version 11 the coded
/// bytes' CRC included), the end record and the trailer given their size.
#[allow(dead_code)]
pub fn with_index_bytes(c: &[u8], index: &[u8]) -> Vec<u8> {
    let t = c.len() - 64;
    let at = u64::from_le_bytes(c[t + 12..t + 20].try_into().unwrap()) as usize;
    let mut out = [&c[..at], index, &c[t..]].concat();
    // The end record (just before the index) and the trailer hold its size.
    out[at - 36 + 16..at - 36 + 24].copy_from_slice(&(index.len() as u64).to_le_bytes());
    let crc = crc32c(&out[at - 36..at - 4]);
    out[at - 4..at].copy_from_slice(&crc.to_le_bytes());
    let t = out.len() - 64;
    out[t + 20..t + 28].copy_from_slice(&(index.len() as u64).to_le_bytes());
    reseal_trailer(&mut out);
    out
}
