//! Decoding a container in one pass, as its bytes arrive (a pipe, a socket, a
//! file read front to back): version 2 puts a record before each region's
//! frame, so the original is rebuilt in order without the index; the index and
//! trailer at the end are then checked against what was seen. Memory: a window
//! of chunks, 8 bytes per chunk of the current frame, and the regions seen so
//! far (33 bytes each) — never the container or the original.

use super::read::{index_body, parse_header_v2, parse_index, parse_record, parse_trailer, Index, Layout};
use super::{check, check_role_order, Region, Role, SourceKind, END_MAGIC, HEADER_SIZE_V2, MAX_REGIONS, RECORD_MAGIC, RECORD_SIZE, TRAILER_SIZE, VERSION_1};
use crate::engine::input::Input;
use crate::engine::stream::{decode_window, ContentCheck, Decoder, FrameReader, Job, Payload, Sink};
use crate::error::{Error, Result};
use crate::format::frame;
use crate::format::limits::MAX_CONTENT_SIZE;
use crate::params::DecodeOptions;
use sha2::{Digest, Sha256};

/// Largest index a stream may declare (the index of `MAX_REGIONS` regions and
/// `MAX_ENTRIES` entries with long names stays well below it).
pub(super) const MAX_INDEX_SIZE: u64 = 1 << 30;

/// What a one-pass decode saw.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub kind: SourceKind,
    pub version: u16,
    pub original_size: u64,
    pub container_size: u64,
}

/// Decodes the container that `input` holds from its first byte, writing the
/// original to `sink` in order, on `workers` threads (0 = the caller's). With
/// `verify_sha`, the original's SHA-256 is checked against the trailer. A
/// version-1 container (index last, no region records) is read into memory
/// first. The input must end with the container.
pub fn decode(input: &mut Input<'_>, decoder: &Decoder<'_>, opts: &DecodeOptions, workers: usize, verify_sha: bool, sink: Sink<'_>) -> Result<Summary> {
    let lead: [u8; 6] = input.array().map_err(|e| if e == Error::SrcTruncated { Error::SrcTruncated } else { e })?;
    if lead[..4] != super::MAGIC {
        return Err(Error::BadMagic);
    }
    match u16::from_le_bytes([lead[4], lead[5]]) {
        v if super::has_v2_layout(v) => decode_v2(input, lead, decoder, opts, workers, verify_sha, sink),
        VERSION_1 => decode_v1(input, lead, decoder, opts, workers, verify_sha, sink),
        _ => Err(Error::VersionUnsupported),
    }
}

/// Version 1 keeps region boundaries only in the index, at the end: the
/// container is read into memory, then decoded region by region, a window of
/// chunks at a time (the output is never held whole).
fn decode_v1(input: &mut Input<'_>, lead: [u8; 6], decoder: &Decoder<'_>, opts: &DecodeOptions, workers: usize, verify_sha: bool, sink: Sink<'_>) -> Result<Summary> {
    if verify_sha && decoder.writes_direct() {
        return Err(Error::InvalidArgument);
    }
    let mut data = lead.to_vec();
    let mut chunk = [0u8; 1 << 16];
    loop {
        let n = input.read_full(&mut chunk)?;
        data.extend_from_slice(&chunk[..n]);
        if n < chunk.len() {
            break;
        }
    }
    let index = Index::open(&data)?;
    if index.original_size > opts.max_output {
        return Err(Error::LimitExceeded);
    }
    let mut sha = verify_sha.then(Sha256::new);
    let mut emit = |bytes: &[u8]| -> Result<()> {
        if let Some(h) = sha.as_mut() {
            h.update(bytes);
        }
        sink(bytes)
    };
    let (mut region, mut next_chunk) = (0usize, 0usize);
    let mut parsed: Option<crate::format::frame::Frame<'_>> = None;
    let produce = |buffers: &crate::engine::pipeline::Slabs| -> Result<Option<Job>> {
        loop {
            let Some(r) = index.regions.get(region) else { return Ok(None) };
            if r.frame_size == 0 {
                region += 1;
                return Ok(Some(Job::Zeros(r.orig_size)));
            }
            let f = match parsed.as_ref() {
                Some(f) => f,
                None => parsed.insert(crate::engine::frames::parse(&data[r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize])?),
            };
            let Some(c) = f.chunks.get(next_chunk) else {
                region += 1;
                next_chunk = 0;
                parsed = None;
                continue;
            };
            let check = match f.content_checksum {
                Some(crc) => ContentCheck::Part { first: next_chunk == 0, last: (next_chunk + 1 == f.chunks.len()).then_some(crc) },
                None => ContentCheck::None,
            };
            let mut payload = buffers.take(c.payload.len())?;
            payload.copy_from_slice(c.payload);
            next_chunk += 1;
            return Ok(Some(Job::Chunk {
                codec: f.header.codec,
                payload: Payload::Bytes(payload),
                crc: c.checksum,
                len: c.content_len,
                check,
                out_at: r.orig_offset + c.content_offset,
            }));
        }
    };
    decoder.run(workers, decode_window(workers, index.chunk_size), produce, &mut emit)?;
    if let Some(h) = sha {
        let got: [u8; 32] = h.finalize().into();
        if got[..28] != index.sha256_prefix {
            return Err(Error::ChecksumMismatch);
        }
    }
    Ok(Summary { kind: index.kind, version: VERSION_1, original_size: index.original_size, container_size: data.len() as u64 })
}

fn decode_v2(input: &mut Input<'_>, lead: [u8; 6], decoder: &Decoder<'_>, opts: &DecodeOptions, workers: usize, verify_sha: bool, sink: Sink<'_>) -> Result<Summary> {
    if verify_sha && decoder.writes_direct() {
        // The digest needs the bytes in order.
        return Err(Error::InvalidArgument);
    }
    let mut header = [0u8; HEADER_SIZE_V2];
    header[..6].copy_from_slice(&lead);
    input.read_exact(&mut header[6..])?;
    let (kind, version) = parse_header_v2(&header)?;
    let mut sha = verify_sha.then(Sha256::new);
    let mut emit = |bytes: &[u8]| -> Result<()> {
        if let Some(h) = sha.as_mut() {
            h.update(bytes);
        }
        sink(bytes)
    };
    let mut regions: Vec<Region> = Vec::new();
    let mut orig = 0u64;
    let mut end: Option<(u64, u64)> = None;
    // The frame being read, and the frame size its record declared.
    let mut current: Option<(FrameReader, u64)> = None;
    let direct = decoder.reads_direct();
    let produce = |buffers: &crate::engine::pipeline::Slabs| -> Result<Option<Job>> {
        loop {
            if let Some((frame, declared)) = current.as_mut() {
                if let Some(job) = frame.next_job(input, buffers, direct)? {
                    return Ok(Some(job));
                }
                check(frame.frame_size == *declared)?;
                current = None;
            }
            if end.is_some() {
                return Ok(None);
            }
            let (magic, role, a, b, c) = parse_record(&input.array()?)?;
            if magic == END_MAGIC {
                check(role == 0 && c == 0 && a == orig)?;
                end = Some((a, b));
                return Ok(None);
            }
            check(magic == RECORD_MAGIC)?;
            let role = Role::from_u8(role).ok_or(Error::Corrupt)?;
            let (orig_offset, orig_size, frame_size) = (a, b, c);
            check(orig_offset == orig && orig_size > 0 && regions.len() < MAX_REGIONS)?;
            check_role_order(version, regions.last().map(|r| r.role), role)?;
            orig = orig.checked_add(orig_size).filter(|&o| o <= MAX_CONTENT_SIZE).ok_or(Error::LimitExceeded)?;
            if orig > opts.max_output {
                return Err(Error::LimitExceeded);
            }
            regions.push(Region { orig_offset, orig_size, frame_offset: input.position(), frame_size, role });
            if frame_size == 0 {
                check(super::limits::may_be_frameless(role))?;
                return Ok(Some(Job::Zeros(orig_size)));
            }
            let fh: [u8; frame::HEADER_SIZE] = input.array()?;
            let h = frame::parse_header(&fh)?;
            check(h.content_size == orig_size)?;
            current = Some((FrameReader::start(input, &fh, orig_offset, opts.max_chunk)?, frame_size));
        }
    };
    let written = decoder.run(workers, decode_window(workers, CHUNK_WINDOW_HINT), produce, &mut emit)?;
    debug_assert_eq!(written, orig);
    let (original_size, index_size) = end.ok_or(Error::Corrupt)?;
    if index_size > MAX_INDEX_SIZE {
        return Err(Error::LimitExceeded);
    }
    let index_offset = input.position();
    let mut index = Vec::new();
    input.read_into(&mut index, index_size)?;
    let body = index_body(&index, version)?;
    let layout = Layout { version, first: HEADER_SIZE_V2 as u64, gap: RECORD_SIZE as u64, frames_end: index_offset - RECORD_SIZE as u64 };
    let (listed, _entries) = parse_index(&body, layout, original_size, |_| Ok(())).map_err(Error::overrun_is_corrupt)?;
    check(listed == regions)?;
    let trailer: [u8; TRAILER_SIZE] = input.array()?;
    let (t_size, t_offset, t_index, digest) = parse_trailer(&trailer)?;
    check(t_size == original_size && t_offset == index_offset && t_index == index_size)?;
    if !input.at_end()? {
        return Err(Error::Corrupt);
    }
    if let Some(h) = sha {
        let got: [u8; 32] = h.finalize().into();
        if got != digest {
            return Err(Error::ChecksumMismatch);
        }
    }
    Ok(Summary { kind, version, original_size, container_size: input.position() })
}

/// Chunk size the window is sized for (Q4_K's default, the largest common one;
/// larger chunks are rare and bounded by `MAX_CHUNK_SIZE` each).
const CHUNK_WINDOW_HINT: u64 = 4 << 20;
