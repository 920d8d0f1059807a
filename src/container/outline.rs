//! A container's outline (source kind, version, sizes, regions, tensor
//! entries) read from a source without a length, such as a pipe, in memory
//! bounded by its largest frame and its index: each frame is read, its header
//! checked as [`Index::open`] checks it, and dropped. `llmc info -` uses it, so
//! a piped model is not held whole.

use super::entries::Entries;
use super::read::{index_body, metadata_size, parse_header_v2, parse_index, parse_record, parse_trailer, tensor_regions, Index, Layout};
use super::{check, Region, SourceKind, END_MAGIC, HEADER_SIZE_V2, MAGIC, RECORD_MAGIC, RECORD_SIZE, TRAILER_SIZE, VERSION_1};
use super::load::{read_exact, read_into, read_rest, MAX_CONTAINER};
use crate::engine::frames;
use crate::error::{Error, Result};
use std::io::Read;

/// What a container is, without its frames.
#[derive(Debug, Clone)]
pub struct Outline {
    pub kind: SourceKind,
    pub version: u16,
    pub original_size: u64,
    /// The container's own size in bytes.
    pub size: u64,
    pub regions: Vec<Region>,
    pub entries: Entries,
}

impl Outline {
    /// The outline of an opened container `size` bytes long.
    pub fn of(index: &Index, size: u64) -> Outline {
        Outline { kind: index.kind, version: index.version, original_size: index.original_size, size, regions: index.regions.clone(), entries: index.entries.clone() }
    }

    /// Bytes of leading metadata regions (as [`Index::metadata_size`]).
    pub fn metadata_size(&self) -> u64 {
        metadata_size(&self.regions)
    }

    /// The regions holding entry `i` (as [`Index::entry_regions`]).
    pub fn entry_regions(&self, i: usize) -> Option<core::ops::Range<usize>> {
        Some(tensor_regions(&self.regions, self.entries.get(i)?.region as usize))
    }

    /// Original offset and size of entry `i` (as [`Index::entry_span`]).
    pub fn entry_span(&self, i: usize) -> Option<(u64, u64)> {
        super::read::entry_span(&self.regions, &self.entries, i)
    }
}

/// Reads a container's outline from `src` (a pipe, a file), as far as the
/// container declares and no further. Version 1 (which keeps its index at the
/// end, behind a size in its header) is read whole and opened.
pub fn read_outline(mut src: impl Read) -> Result<Outline> {
    let mut head = [0u8; HEADER_SIZE_V2];
    read_exact(&mut src, &mut head)?;
    if head[..4] != MAGIC {
        return Err(Error::BadMagic);
    }
    if u16::from_le_bytes([head[4], head[5]]) == VERSION_1 {
        let data = read_rest(&mut src, &head)?;
        return Ok(Outline::of(&Index::open(&data)?, data.len() as u64));
    }
    let (kind, version) = parse_header_v2(&head)?;
    // Each region record as read: where its frame starts, and its fields.
    let mut records: Vec<(u64, u8, u64, u64, u64)> = Vec::new();
    let mut at = HEADER_SIZE_V2 as u64;
    let mut frame = Vec::new();
    for _ in 0..=super::MAX_REGIONS {
        let mut rec = [0u8; RECORD_SIZE];
        read_exact(&mut src, &mut rec)?;
        let (magic, role, a, b, frame_size) = parse_record(&rec)?;
        at += RECORD_SIZE as u64;
        if magic == END_MAGIC {
            // The end record: original size, index size; then the index and the trailer.
            let (original_size, index_size) = (a, b);
            check((role, frame_size) == (0, 0))?;
            if index_size > super::stream::MAX_INDEX_SIZE {
                return Err(Error::LimitExceeded);
            }
            let index = read_vec(&mut src, index_size)?;
            let mut trailer = [0u8; TRAILER_SIZE];
            read_exact(&mut src, &mut trailer)?;
            let (t_original, index_offset, t_index_size, _) = parse_trailer(&trailer)?;
            check(t_original == original_size && index_offset == at && t_index_size == index_size && index_size >= 12)?;
            let frames_end = at - RECORD_SIZE as u64;
            let layout = Layout { version, first: HEADER_SIZE_V2 as u64, gap: RECORD_SIZE as u64, frames_end };
            let mut next = records.iter();
            let (regions, entries) = parse_index(&index_body(&index, version)?, layout, original_size, |r| {
                // Every region as its record said, in order.
                let seen = next.next().ok_or(Error::Corrupt)?;
                check(*seen == (r.frame_offset, r.role as u8, r.orig_offset, r.orig_size, r.frame_size))
            })
            .map_err(Error::overrun_is_corrupt)?;
            check(next.next().is_none())?;
            let size = at + index_size + TRAILER_SIZE as u64;
            return Ok(Outline { kind, version, original_size, size, regions, entries });
        }
        check(magic == RECORD_MAGIC)?;
        let (orig_offset, orig_size) = (a, b);
        records.push((at, role, orig_offset, orig_size, frame_size));
        let end = at.checked_add(frame_size).filter(|&e| e <= MAX_CONTAINER).ok_or(Error::LimitExceeded)?;
        if frame_size > 0 {
            // The frame, checked as an open checks it, then dropped.
            frame.clear();
            read_into(&mut src, &mut frame, frame_size)?;
            let f = frames::parse(&frame)?;
            check(f.frame_size == frame.len() && f.header.content_size == orig_size)?;
        }
        at = end;
    }
    Err(Error::LimitExceeded)
}

fn read_vec(src: impl Read, n: u64) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    read_into(src, &mut v, n)?;
    Ok(v)
}
