//! A whole container read into memory from any file (for callers that do not
//! map it): a regular file by its length, anything else (a pipe, a device) by
//! what its checked header and records declare (version 1: the size in its
//! header; later versions: each record's frame, then the end record's index and
//! the trailer), and no further. A source that is no container (such as
//! `/dev/zero`) is refused after its first 16 bytes.

use super::read::{parse_header_v2, parse_record};
use super::{END_MAGIC, HEADER_SIZE, HEADER_SIZE_V2, MAGIC, RECORD_MAGIC, RECORD_SIZE, TRAILER_SIZE, VERSION_1};
use crate::error::{Error, Result};
use crate::format::checksum::crc32c;
use std::io::Read;

/// Largest container read into memory: every byte of a container is either
/// frames (about the original's size at worst) or index.
pub(super) const MAX_CONTAINER: u64 = 2 * super::limits::MAX_ORIGINAL_SIZE;

/// Reads the container in `file` into memory.
pub fn read_all(file: &std::fs::File) -> Result<Vec<u8>> {
    let meta = file.metadata().map_err(|e| Error::from_io(&e))?;
    if !meta.is_file() {
        return read_declared(file);
    }
    let mut out = reserve(meta.len())?;
    read_into(file, &mut out, meta.len())?;
    Ok(out)
}

/// A container from a source without a length (a pipe, a device): as far as
/// its header, records and end record say it goes.
fn read_declared(file: &std::fs::File) -> Result<Vec<u8>> {
    let mut head = [0u8; HEADER_SIZE_V2];
    read_exact(file, &mut head)?;
    if head[..4] != MAGIC {
        return Err(Error::BadMagic);
    }
    if u16::from_le_bytes([head[4], head[5]]) == VERSION_1 {
        return read_rest(file, &head);
    }
    parse_header_v2(&head)?;
    let mut out = head.to_vec();
    // At most one record per region and the end record: junk that keeps
    // sending valid empty records is refused there, not at the size limit.
    for _ in 0..=super::MAX_REGIONS {
        let mut rec = [0u8; RECORD_SIZE];
        read_exact(file, &mut rec)?;
        let (magic, _, _, size, frame_size) = parse_record(&rec)?;
        // A region's frame follows its record; the end record is followed by
        // the index (`size`) and the trailer, the container's last bytes.
        let (more, last) = match magic {
            RECORD_MAGIC => (frame_size, false),
            END_MAGIC => (size.checked_add(TRAILER_SIZE as u64).ok_or(Error::Corrupt)?, true),
            _ => return Err(Error::Corrupt),
        };
        out.extend_from_slice(&rec);
        let total = (out.len() as u64).checked_add(more).filter(|&t| t <= MAX_CONTAINER).ok_or(Error::LimitExceeded)?;
        // Amortised growth (a copy per doubling, not per region), at most
        // RESERVE_AHEAD before the bytes arrive: a record that declares more
        // than the source holds costs what the source sent.
        usize::try_from(more).map_err(|_| Error::SizeOverflow)?;
        out.try_reserve(more.min(RESERVE_AHEAD) as usize).map_err(|_| Error::Allocation)?;
        read_into(file, &mut out, more)?;
        debug_assert_eq!(out.len() as u64, total);
        if last {
            return Ok(out);
        }
    }
    Err(Error::LimitExceeded)
}

/// The rest of a version-1 container whose first 16 bytes, `head`, were read:
/// the size its header declares.
pub(super) fn read_rest(mut file: impl Read, head: &[u8; HEADER_SIZE_V2]) -> Result<Vec<u8>> {
    let mut header = [0u8; HEADER_SIZE];
    header[..HEADER_SIZE_V2].copy_from_slice(head);
    read_exact(&mut file, &mut header[HEADER_SIZE_V2..])?;
    let size = declared_size(&header)?;
    // Grown as the bytes arrive (a copy per doubling): a header that declares
    // more than the source holds costs what the source sent, not what it declared.
    let mut out = reserve(size.min(RESERVE_AHEAD))?;
    out.extend_from_slice(&header);
    read_into(&mut file, &mut out, size - HEADER_SIZE as u64)?;
    Ok(out)
}

/// A version-1 container's size from its header (magic and header CRC
/// checked): it ends with its index.
fn declared_size(h: &[u8; HEADER_SIZE]) -> Result<u64> {
    if h[..4] != MAGIC {
        return Err(Error::BadMagic);
    }
    if crc32c(&h[..60]) != u32::from_le_bytes(h[60..64].try_into().expect("4 bytes")) {
        return Err(Error::ChecksumMismatch);
    }
    let field = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().expect("8 bytes"));
    let end = field(16).checked_add(field(24)).ok_or(Error::Corrupt)?;
    if end > MAX_CONTAINER {
        return Err(Error::LimitExceeded);
    }
    if end < HEADER_SIZE as u64 {
        return Err(Error::Corrupt);
    }
    Ok(end)
}

/// The most a declared size reserves before its bytes arrive.
const RESERVE_AHEAD: u64 = 64 << 20;

fn reserve(size: u64) -> Result<Vec<u8>> {
    let size = usize::try_from(size).map_err(|_| Error::SizeOverflow)?;
    let mut v = Vec::new();
    v.try_reserve_exact(size).map_err(|_| Error::Allocation)?;
    Ok(v)
}

pub(super) fn read_exact(mut file: impl Read, buf: &mut [u8]) -> Result<()> {
    file.read_exact(buf).map_err(|e| if e.kind() == std::io::ErrorKind::UnexpectedEof { Error::SrcTruncated } else { Error::from_io(&e) })
}

/// Appends exactly `n` more bytes of `file` to `out`.
pub(super) fn read_into(file: impl Read, out: &mut Vec<u8>, n: u64) -> Result<()> {
    let got = file.take(n).read_to_end(out).map_err(|e| Error::from_io(&e))?;
    if (got as u64) < n {
        return Err(Error::SrcTruncated);
    }
    Ok(())
}
