//! Building a container from regions.

use super::limits::{check_entry, may_be_frameless, MAX_ENTRIES, MAX_ORIGINAL_SIZE, MAX_REGIONS};
use super::{Entry, Region, Role, SourceKind, HEADER_SIZE, MAGIC, VERSION};
use crate::error::{Error, Result};
use crate::format::bytes::{put_u16, put_u32, put_u64};
use crate::format::checksum::crc32c;

/// One region to write: its role and its frame (empty for all-zero padding).
pub struct RegionFrame {
    pub orig_size: u64,
    pub role: Role,
    pub frame: Vec<u8>,
}

/// Checks everything the index will record against what readers accept
/// ([`super::limits`]), so that nothing is written that cannot be read back.
fn check_fits(regions: &[RegionFrame], entries: &[Entry]) -> Result<()> {
    let total = regions.iter().try_fold(0u64, |a, r| a.checked_add(r.orig_size)).ok_or(Error::SizeOverflow)?;
    if total > MAX_ORIGINAL_SIZE || regions.len() > MAX_REGIONS || entries.len() > MAX_ENTRIES {
        return Err(Error::LimitExceeded);
    }
    if regions.iter().any(|r| r.orig_size == 0 || (r.frame.is_empty() && !may_be_frameless(r.role))) {
        return Err(Error::InvalidArgument);
    }
    for e in entries {
        check_entry(&e.name, e.shape.len()).map_err(|u| u.status())?;
        if regions.get(e.region as usize).is_none_or(|r| r.role != Role::Tensor) {
            return Err(Error::InvalidArgument);
        }
    }
    Ok(())
}

/// Writes a container. Regions must cover the original file in order;
/// `sha256` is the original file's digest. Anything a reader would reject
/// (a name longer than `limits::MAX_NAME`, ...) is refused before writing.
pub fn write(kind: SourceKind, regions: &[RegionFrame], entries: &[Entry], sha256: &[u8; 32]) -> Result<Vec<u8>> {
    check_fits(regions, entries)?;
    let frames: usize = regions.iter().map(|r| r.frame.len()).sum();
    let mut out = Vec::with_capacity(HEADER_SIZE + frames + 64 * regions.len() + 64 * entries.len());
    out.resize(HEADER_SIZE, 0);
    let mut index = Vec::new();
    put_u32(&mut index, regions.len() as u32);
    let mut orig = 0u64;
    for r in regions {
        let region = Region { orig_offset: orig, orig_size: r.orig_size, frame_offset: out.len() as u64, frame_size: r.frame.len() as u64, role: r.role };
        out.extend_from_slice(&r.frame);
        put_u64(&mut index, region.orig_offset);
        put_u64(&mut index, region.orig_size);
        put_u64(&mut index, region.frame_offset);
        put_u64(&mut index, region.frame_size);
        index.push(region.role as u8);
        orig += r.orig_size;
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
    }
    let crc = crc32c(&index);
    put_u32(&mut index, crc);
    let index_offset = out.len() as u64;
    out.extend_from_slice(&index);

    let mut h = Vec::with_capacity(HEADER_SIZE);
    h.extend_from_slice(&MAGIC);
    put_u16(&mut h, VERSION);
    h.push(kind as u8);
    h.push(0);
    put_u64(&mut h, orig);
    put_u64(&mut h, index_offset);
    put_u64(&mut h, index.len() as u64);
    h.extend_from_slice(&sha256[..28]);
    let crc = crc32c(&h);
    put_u32(&mut h, crc);
    out[..HEADER_SIZE].copy_from_slice(&h);
    Ok(out)
}
