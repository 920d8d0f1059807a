//! The pieces of a version-2 container, in the order they are written: the
//! header, a record before each region's frame, the end record, the index and
//! the trailer. Nothing here looks back: a writer emits them in one pass.

use super::{Entry, Region, SourceKind, END_MAGIC, HEADER_SIZE_V2, MAGIC, RECORD_MAGIC, RECORD_SIZE, TRAILER_MAGIC, TRAILER_SIZE};
use crate::codec::zstd;
use crate::error::Result;
use crate::format::bytes::{put_u16, put_u32, put_u64};
use crate::format::checksum::crc32c;

/// The 16-byte header: magic, `version`, source kind, flags, reserved, CRC32C.
pub fn header(kind: SourceKind, version: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_SIZE_V2);
    h.extend_from_slice(&MAGIC);
    put_u16(&mut h, version);
    h.push(kind as u8);
    h.push(0);
    put_u32(&mut h, 0);
    let crc = crc32c(&h);
    put_u32(&mut h, crc);
    h
}

/// A 36-byte record: magic, role, three reserved bytes, three u64, CRC32C.
fn record(magic: [u8; 4], role: u8, a: u64, b: u64, c: u64) -> Vec<u8> {
    let mut r = Vec::with_capacity(RECORD_SIZE);
    r.extend_from_slice(&magic);
    r.extend_from_slice(&[role, 0, 0, 0]);
    put_u64(&mut r, a);
    put_u64(&mut r, b);
    put_u64(&mut r, c);
    let crc = crc32c(&r);
    put_u32(&mut r, crc);
    r
}

/// The record before a region's frame (frame size 0: no frame, all zeros).
pub fn region_record(r: &Region) -> Vec<u8> {
    record(RECORD_MAGIC, r.role as u8, r.orig_offset, r.orig_size, r.frame_size)
}

/// The record after the last region: the original size and the index size.
pub fn end_record(original_size: u64, index_size: u64) -> Vec<u8> {
    record(END_MAGIC, 0, original_size, index_size, 0)
}

/// The index: regions, entries, CRC32C (the same layout in versions 1 and 2).
pub fn index(regions: &[Region], entries: &[Entry]) -> Vec<u8> {
    let mut index = Vec::with_capacity(4 + 33 * regions.len() + 64 * entries.len());
    put_u32(&mut index, regions.len() as u32);
    for r in regions {
        put_u64(&mut index, r.orig_offset);
        put_u64(&mut index, r.orig_size);
        put_u64(&mut index, r.frame_offset);
        put_u64(&mut index, r.frame_size);
        index.push(r.role as u8);
    }
    put_u32(&mut index, entries.len() as u32);
    for e in entries {
        put_u32(&mut index, e.region);
        put_u32(&mut index, e.dtype);
        index.push(e.shape.len() as u8);
        for &d in &e.shape {
            put_u64(&mut index, d);
        }
        put_u16(&mut index, e.name.len() as u16);
        index.extend_from_slice(e.name.as_bytes());
        if let Some((offset, size)) = e.within {
            put_u32(&mut index, offset);
            put_u32(&mut index, size);
        }
    }
    let crc = crc32c(&index);
    put_u32(&mut index, crc);
    index
}

/// zstd level of a version-10 index: a million tiny tensors' 33 MB index takes
/// 0.4 s and codes to 1.2 MB (level 19: 27 s, 0.8 MB; level 3: 0.2 s, 3.2 MB).
pub const INDEX_ZSTD_LEVEL: i32 = 9;

/// An index as a container of `version` (10 or later) stores it: the length
/// of `raw` ([`index`]'s bytes), then a zstd payload of them (FORMAT.md §9:
/// mode 1, or mode 0, stored, when zstd does not shrink them or would shrink
/// them past [`super::limits::max_index_len`]); from version 11, a CRC32C of
/// those bytes (raw's own CRC checks what they decode to, not every bit of
/// the payload: a flipped bit zstd ignores would pass).
pub fn coded_index(raw: &[u8], version: u16) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len() / 4 + 16);
    put_u64(&mut out, raw.len() as u64);
    zstd::encode_chunk(raw, INDEX_ZSTD_LEVEL, &mut out)?;
    if raw.len() as u64 > super::limits::max_index_len((out.len() - 8) as u64) {
        out.truncate(8);
        zstd::stored_chunk(raw, &mut out);
    }
    if version >= super::VERSION_11 {
        let crc = crc32c(&out);
        put_u32(&mut out, crc);
    }
    Ok(out)
}

/// The 64-byte trailer, the last bytes of the container: magic, reserved,
/// original size, index offset, index size, SHA-256 of the original, CRC32C.
pub fn trailer(original_size: u64, index_offset: u64, index_size: u64, sha256: &[u8; 32]) -> Vec<u8> {
    let mut t = Vec::with_capacity(TRAILER_SIZE);
    t.extend_from_slice(&TRAILER_MAGIC);
    put_u64(&mut t, original_size);
    put_u64(&mut t, index_offset);
    put_u64(&mut t, index_size);
    t.extend_from_slice(sha256);
    let crc = crc32c(&t);
    put_u32(&mut t, crc);
    t
}
pub const RECORD_SIZE_USIZE: usize = super::RECORD_SIZE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_is_stored_where_zstd_would_shrink_it_past_what_readers_accept() {
        // 4 MiB of one byte codes to a few hundred bytes: past 64 times that plus 1 MiB.
        let flat = vec![7u8; 4 << 20];
        let coded = coded_index(&flat, crate::container::VERSION_10).unwrap();
        assert_eq!((coded[8], coded.len()), (0, 8 + 1 + flat.len()));
        // Names and sizes as a real index has them: coded.
        let names: Vec<u8> = (0..100_000u32).flat_map(|i| format!("model.layers.{i}.weight_scale").into_bytes()).collect();
        let coded = coded_index(&names, crate::container::VERSION_10).unwrap();
        // Version 11 adds the coded bytes' CRC32C.
        let checked = coded_index(&names, crate::container::VERSION_11).unwrap();
        assert_eq!((&checked[..coded.len()], &checked[coded.len()..]), (&coded[..], &crc32c(&coded).to_le_bytes()[..]));
        assert_eq!(coded[8], 1);
        assert!(coded.len() * 5 < names.len() && names.len() as u64 <= crate::container::limits::max_index_len((coded.len() - 8) as u64));
        assert_eq!(u64::from_le_bytes(coded[..8].try_into().unwrap()), names.len() as u64);
    }
}
