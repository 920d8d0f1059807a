//! A whole container read into memory from any file (for callers that do not
//! map it): a regular file by its length, anything else (a pipe, a device) by
//! the size its checked header declares, so a source that never ends (such as
//! `/dev/zero`) is refused after 64 bytes instead of read until memory runs out.

use super::{HEADER_SIZE, MAGIC};
use crate::error::{Error, Result};
use crate::format::checksum::crc32c;
use std::io::Read;

/// Largest container read into memory: every byte of a container is either
/// frames (about the original's size at worst) or index.
const MAX_CONTAINER: u64 = 2 * super::limits::MAX_ORIGINAL_SIZE;

/// Reads the container in `file` into memory.
pub fn read_all(file: &std::fs::File) -> Result<Vec<u8>> {
    let meta = file.metadata().map_err(|e| Error::from_io(&e))?;
    let size = if meta.is_file() {
        meta.len()
    } else {
        let mut header = [0u8; HEADER_SIZE];
        read_exact(file, &mut header)?;
        let size = declared_size(&header)?;
        let mut out = reserve(size)?;
        out.extend_from_slice(&header);
        read_into(file, &mut out, size - HEADER_SIZE as u64)?;
        return Ok(out);
    };
    let mut out = reserve(size)?;
    read_into(file, &mut out, size)?;
    Ok(out)
}

/// The container's size from its header (magic and header CRC checked): it
/// ends with its index.
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

fn reserve(size: u64) -> Result<Vec<u8>> {
    let size = usize::try_from(size).map_err(|_| Error::SizeOverflow)?;
    let mut v = Vec::new();
    v.try_reserve_exact(size).map_err(|_| Error::Allocation)?;
    Ok(v)
}

fn read_exact(mut file: &std::fs::File, buf: &mut [u8]) -> Result<()> {
    file.read_exact(buf).map_err(|e| if e.kind() == std::io::ErrorKind::UnexpectedEof { Error::SrcTruncated } else { Error::from_io(&e) })
}

/// Appends exactly `n` more bytes of `file` to `out`.
fn read_into(file: &std::fs::File, out: &mut Vec<u8>, n: u64) -> Result<()> {
    let got = file.take(n).read_to_end(out).map_err(|e| Error::from_io(&e))?;
    if (got as u64) < n {
        return Err(Error::SrcTruncated);
    }
    Ok(())
}
