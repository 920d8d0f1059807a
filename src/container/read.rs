//! Reading a container: validation at open, then random access by byte range or
//! entry, decoding only the chunks a request touches.

use super::entries::Entries;
use super::limits::{max_index_len, may_be_frameless, MAX_ORIGINAL_SIZE};
use super::{check, check_role_order, Region, Role, SourceKind, HEADER_SIZE, HEADER_SIZE_V2, MAGIC, MAX_REGIONS, END_MAGIC, RECORD_MAGIC, RECORD_SIZE, REGION_ENTRY, TRAILER_MAGIC, TRAILER_SIZE, VERSION_1, VERSION_10, VERSION_11};
use crate::codec::{self, Scratch};
use crate::engine::chunk_cache::{ChunkCache, Claim};
use crate::format::frame::CodecId;
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use crate::format::checksum::crc32c;
use crate::engine::frames;
use crate::kernels::Kernels;
use crate::params::DecodeOptions;
use std::borrow::Cow;
use std::cell::RefCell;

/// The parsed index of a container. It owns no file data: every read takes the
/// container bytes, so a caller can keep them in an mmap next to the index.
#[derive(Debug, Clone)]
pub struct Index {
    pub kind: SourceKind,
    /// The container's format version (which frame modes it may hold).
    pub version: u16,
    pub original_size: u64,
    pub sha256_prefix: [u8; 28],
    pub regions: Vec<Region>,
    pub entries: Entries,
    /// The largest chunk size of any tensor frame (parallel work splits on chunk edges).
    pub chunk_size: u64,
    /// Each region's parsed chunk table (`None` for frameless regions), kept
    /// from the open so reads do not parse frame headers again.
    tables: Vec<Option<FrameTable>>,
    /// Decoded chunks of partial reads, shared by the handle's threads.
    cache: ChunkCache,
}

/// What a read needs of a region's frame: codec, chunk size, and per chunk
/// the payload's place in the container and its CRC32C.
#[derive(Debug, Clone)]
struct FrameTable {
    codec: CodecId,
    chunk_size: u64,
    content_size: u64,
    chunks: Vec<(u64, u32, u32)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

impl Index {
    /// Validates the header (version 1) or trailer (version 2), the index and
    /// every region's frame header.
    pub fn open(data: &[u8]) -> Result<Index> {
        let (kind, original_size, sha256_prefix, index_offset, index_size, layout) = read_bounds(data)?;
        let index = &data[index_offset as usize..(index_offset + index_size) as usize];
        let body = index_body(index, layout.version)?;
        let mut chunk_size = 0u64;
        let mut tables = Vec::new();
        let v2 = layout.gap > 0;
        if v2 {
            // The end record, like every region record, must agree with the index.
            let at = layout.frames_end as usize;
            let rec = record_at(data, at).map_err(Error::overrun_is_corrupt)?;
            check(rec == (END_MAGIC, 0, original_size, index_size, 0))?;
        }
        let (regions, entries) = parse_index(&body, layout, original_size, |region| {
            if v2 {
                let rec = record_at(data, region.frame_offset as usize - RECORD_SIZE)?;
                check(rec == (RECORD_MAGIC, region.role as u8, region.orig_offset, region.orig_size, region.frame_size))?;
            }
            if region.frame_size > 0 {
                let frame = &data[region.frame_offset as usize..(region.frame_offset + region.frame_size) as usize];
                let f = frames::parse(frame)?;
                check(f.frame_size == frame.len() && f.header.content_size == region.orig_size)?;
                if matches!(region.role, Role::Tensor | Role::Continuation | Role::Batch) {
                    chunk_size = chunk_size.max(u64::from(f.header.chunk_size));
                }
                let chunks = f.chunks.iter().map(|c| (region.frame_offset + (c.payload.as_ptr() as usize - frame.as_ptr() as usize) as u64, c.payload.len() as u32, c.checksum)).collect();
                tables.push(Some(FrameTable { codec: f.header.codec, chunk_size: u64::from(f.header.chunk_size), content_size: f.header.content_size, chunks }));
            } else {
                tables.push(None);
            }
            Ok(())
        })
        .map_err(Error::overrun_is_corrupt)?;
        Ok(Index { kind, version: layout.version, original_size, sha256_prefix, regions, entries, chunk_size, tables, cache: ChunkCache::default() })
    }

    /// Bytes of leading metadata regions (what a format parser reads first).
    pub fn metadata_size(&self) -> u64 {
        metadata_size(&self.regions)
    }

    /// The first entry called `name` (a hash lookup).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.entries.find(name)
    }

    /// Original offset and size of entry `i` (its region and continuations,
    /// or its place in a batch region).
    pub fn entry_span(&self, i: usize) -> Option<(u64, u64)> {
        entry_span(&self.regions, &self.entries, i)
    }

    /// The regions holding entry `i`: its tensor region and the continuations after it.
    pub fn entry_regions(&self, i: usize) -> Option<core::ops::Range<usize>> {
        Some(tensor_regions(&self.regions, self.entries.get(i)?.region as usize))
    }

    /// Reads `dst.len()` bytes of the original file at `offset`, decoding only
    /// the chunks that overlap the range. Thread-safe (per-thread scratch).
    pub fn read_range(&self, data: &[u8], offset: u64, dst: &mut [u8], opts: &DecodeOptions) -> Result<()> {
        let end = offset.checked_add(dst.len() as u64).ok_or(Error::InvalidArgument)?;
        if end > self.original_size {
            return Err(Error::InvalidArgument);
        }
        if dst.is_empty() {
            return Ok(());
        }
        let kernels = Kernels::resolve(opts.isa)?;
        let first = self.regions.partition_point(|r| r.orig_offset + r.orig_size <= offset);
        SCRATCH.with(|s| {
            let scratch = &mut *s.borrow_mut();
            for (ri, region) in self.regions.iter().enumerate().skip(first).take_while(|(_, r)| r.orig_offset < end) {
                let lo = offset.max(region.orig_offset);
                let hi = end.min(region.orig_offset + region.orig_size);
                let out = &mut dst[(lo - offset) as usize..(hi - offset) as usize];
                let (rel_lo, rel_hi) = (lo - region.orig_offset, hi - region.orig_offset);
                let Some(t) = &self.tables[ri] else {
                    out.fill(0);
                    continue;
                };
                for k in rel_lo / t.chunk_size..=(rel_hi - 1) / t.chunk_size {
                    let (at, size, crc) = t.chunks[k as usize];
                    let payload = data.get(at as usize..at as usize + size as usize).ok_or(Error::SrcTruncated)?;
                    let c_lo = k * t.chunk_size;
                    let c_len = (t.content_size - c_lo).min(t.chunk_size) as usize;
                    let (a, b) = (rel_lo.max(c_lo), rel_hi.min(c_lo + c_len as u64));
                    let target = &mut out[(a - rel_lo) as usize..(b - rel_lo) as usize];
                    let mut decode = |buf: &mut [u8]| -> Result<bool> {
                        let (decoded, sum) = codec::decode_chunk_checked(t.codec, payload, buf, kernels, scratch);
                        let intact = sum == crc;
                        if opts.verify_checksums && !intact {
                            return Err(Error::ChecksumMismatch);
                        }
                        decoded.map(|()| intact)
                    };
                    if b - a == c_len as u64 {
                        // Whole chunks (tensor reads) decode in place, uncached.
                        decode(target)?;
                    } else {
                        // Partial reads go through the cache, which keeps only
                        // chunks whose payload is intact.
                        let (from, to) = ((a - c_lo) as usize, (b - c_lo) as usize);
                        match self.cache.claim((ri as u64, k), c_len, true) {
                            Claim::Hit(chunk) => target.copy_from_slice(&chunk[from..to]),
                            Claim::Mine(claimed) if crc32c(payload) == crc => {
                                let chunk = claimed.decode(c_len, |buf| codec::decode_chunk(t.codec, payload, buf, kernels, scratch))?;
                                target.copy_from_slice(&chunk[from..to]);
                            }
                            _ => {
                                // Damaged (read without verification): never cached.
                                let mut chunk = vec![0u8; c_len];
                                decode(&mut chunk)?;
                                target.copy_from_slice(&chunk[from..to]);
                            }
                        }
                    }
                }
            }
            Ok(())
        })
    }

    /// Rebuilds the whole original file into `dst` (at least `original_size`).
    /// With `opts.n_threads > 1` the chunks of all regions are decoded in
    /// parallel, so one large tensor does not serialise the work.
    pub fn decompress_all(&self, data: &[u8], dst: &mut [u8], opts: &DecodeOptions) -> Result<()> {
        let size = usize::try_from(self.original_size).map_err(|_| Error::SizeOverflow)?;
        let dst = dst.get_mut(..size).ok_or(Error::DstTooSmall)?;
        let kernels = Kernels::resolve(opts.isa)?;
        let mut parsed = Vec::with_capacity(self.regions.len());
        let mut jobs = Vec::new();
        let mut rest: &mut [u8] = dst;
        for (i, r) in self.regions.iter().enumerate() {
            let (out, tail) = core::mem::take(&mut rest).split_at_mut(r.orig_size as usize);
            rest = tail;
            if r.frame_size == 0 {
                out.fill(0);
                continue;
            }
            let f = frames::parse(&data[r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize])?;
            let mut out = out;
            for (k, c) in f.chunks.iter().enumerate() {
                let (head, tail) = core::mem::take(&mut out).split_at_mut(c.content_len);
                out = tail;
                jobs.push((parsed.len(), k, head));
            }
            parsed.push((i, f));
        }
        crate::engine::pool::parallel_for_each(jobs, opts.n_threads, Scratch::default, |(p, k, out), scratch| {
            let f = &parsed[p].1;
            frames::decode_chunk(f, &f.chunks[k], out, kernels, scratch, opts.verify_checksums)
        })?;
        if opts.verify_checksums {
            for (i, f) in &parsed {
                let r = &self.regions[*i];
                let out = &dst[r.orig_offset as usize..(r.orig_offset + r.orig_size) as usize];
                if f.content_checksum.is_some_and(|c| c != crc32c(out)) {
                    return Err(Error::ChecksumMismatch);
                }
            }
        }
        Ok(())
    }
}

/// Bytes of the leading metadata regions of `regions`.
pub fn metadata_size(regions: &[Region]) -> u64 {
    regions.iter().take_while(|r| r.role == Role::Metadata).map(|r| r.orig_size).sum()
}

/// Original offset and size of entry `i` of `entries`, whose regions are
/// `regions`: its tensor region and the continuations after it, or its place
/// in a batch region.
pub fn entry_span(regions: &[Region], entries: &Entries, i: usize) -> Option<(u64, u64)> {
    let e = entries.get(i)?;
    if let Some((offset, size)) = e.within {
        return Some((regions[e.region as usize].orig_offset + offset, size));
    }
    let regions = &regions[tensor_regions(regions, e.region as usize)];
    Some((regions[0].orig_offset, regions.iter().map(|r| r.orig_size).sum()))
}

/// The regions of the tensor whose first region is `first`: it and the
/// continuations that follow it.
pub fn tensor_regions(regions: &[Region], first: usize) -> core::ops::Range<usize> {
    let n = regions.get(first + 1..).map_or(0, |rest| rest.iter().take_while(|r| r.role == Role::Continuation).count());
    first..first + 1 + n
}

/// Where frames may lie in a container: after the header, in order, each
/// `gap` bytes after the previous one (version 2's region records), all before
/// `frames_end`.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// The container's version (which region roles it may use).
    pub version: u16,
    pub first: u64,
    pub gap: u64,
    pub frames_end: u64,
}

type Bounds = (SourceKind, u64, [u8; 28], u64, u64, Layout);

/// Reads a container's header (and version 2's trailer): kind, original size,
/// SHA-256 prefix, where the index is, and where frames may lie.
fn read_bounds(data: &[u8]) -> Result<Bounds> {
    if data.len() < 6 {
        return Err(Error::SrcTruncated);
    }
    if data[..4] != MAGIC {
        return Err(Error::BadMagic);
    }
    match u16::from_le_bytes([data[4], data[5]]) {
        VERSION_1 => read_bounds_v1(data),
        v if super::has_v2_layout(v) => read_bounds_v2(data),
        _ => Err(Error::VersionUnsupported),
    }
}

fn read_bounds_v1(data: &[u8]) -> Result<Bounds> {
    let header = data.get(..HEADER_SIZE).ok_or(Error::SrcTruncated)?;
    let mut r = ByteReader::new(header);
    r.take(6)?;
    let kind = r.u8()?;
    let flags = r.u8()?;
    let original_size = r.u64()?;
    let index_offset = r.u64()?;
    let index_size = r.u64()?;
    let sha256_prefix: [u8; 28] = r.array()?;
    if crc32c(&header[..60]) != r.u32()? {
        return Err(Error::ChecksumMismatch);
    }
    if flags & 0x0f != 0 {
        return Err(Error::VersionUnsupported);
    }
    let kind = SourceKind::from_u8(kind).ok_or(Error::Corrupt)?;
    if original_size > MAX_ORIGINAL_SIZE {
        return Err(Error::LimitExceeded);
    }
    let end = index_offset.checked_add(index_size).ok_or(Error::Corrupt)?;
    check(index_offset >= HEADER_SIZE as u64 && index_size >= 12)?;
    if end > data.len() as u64 {
        return Err(Error::SrcTruncated);
    }
    Ok((kind, original_size, sha256_prefix, index_offset, index_size, Layout { version: VERSION_1, first: HEADER_SIZE as u64, gap: 0, frames_end: index_offset }))
}

/// A version-2 record (region or end) at `at`: magic, role, three u64, its
/// check verified.
pub fn record_at(data: &[u8], at: usize) -> Result<([u8; 4], u8, u64, u64, u64)> {
    let rec = data.get(at..at.checked_add(RECORD_SIZE).ok_or(Error::Corrupt)?).ok_or(Error::SrcTruncated)?;
    parse_record(rec.try_into().expect("record size"))
}

/// Parses a version-2 record, checking its CRC32C and reserved bytes.
pub fn parse_record(rec: &[u8; RECORD_SIZE]) -> Result<([u8; 4], u8, u64, u64, u64)> {
    if crc32c(&rec[..32]) != u32::from_le_bytes(rec[32..].try_into().expect("4 bytes")) {
        return Err(Error::ChecksumMismatch);
    }
    let mut r = ByteReader::new(rec);
    let magic = r.array::<4>()?;
    let role = r.u8()?;
    check(r.array::<3>()? == [0; 3])?;
    Ok((magic, role, r.u64()?, r.u64()?, r.u64()?))
}

/// Checks a version-2, -3 or -4 header (16 bytes) and returns the source kind
/// and the version.
pub fn parse_header_v2(header: &[u8]) -> Result<(SourceKind, u16)> {
    let header = header.get(..HEADER_SIZE_V2).ok_or(Error::SrcTruncated)?;
    if header[..4] != MAGIC {
        return Err(Error::BadMagic);
    }
    if crc32c(&header[..12]) != u32::from_le_bytes(header[12..16].try_into().expect("4 bytes")) {
        return Err(Error::ChecksumMismatch);
    }
    let version = u16::from_le_bytes([header[4], header[5]]);
    if !super::has_v2_layout(version) || header[7] & 0x0f != 0 {
        return Err(Error::VersionUnsupported);
    }
    Ok((SourceKind::from_u8(header[6]).ok_or(Error::Corrupt)?, version))
}

/// A version-2 trailer: original size, index offset, index size, SHA-256.
pub fn parse_trailer(t: &[u8]) -> Result<(u64, u64, u64, [u8; 32])> {
    let t = t.get(..TRAILER_SIZE).ok_or(Error::SrcTruncated)?;
    let mut r = ByteReader::new(t);
    check(r.array::<4>()? == TRAILER_MAGIC)?;
    let original_size = r.u64()?;
    let index_offset = r.u64()?;
    let index_size = r.u64()?;
    let sha: [u8; 32] = r.array()?;
    if crc32c(&t[..60]) != r.u32()? {
        return Err(Error::ChecksumMismatch);
    }
    if original_size > MAX_ORIGINAL_SIZE {
        return Err(Error::LimitExceeded);
    }
    Ok((original_size, index_offset, index_size, sha))
}

fn read_bounds_v2(data: &[u8]) -> Result<Bounds> {
    let (kind, version) = parse_header_v2(data)?;
    let min = (HEADER_SIZE_V2 + RECORD_SIZE + TRAILER_SIZE) as u64;
    if (data.len() as u64) < min + 12 {
        return Err(Error::SrcTruncated);
    }
    let (original_size, index_offset, index_size, sha) = trailer_bounds(data).map_err(|e| if ends_early(data) { Error::SrcTruncated } else { e })?;
    let sha256_prefix: [u8; 28] = sha[..28].try_into().expect("28 bytes");
    let layout = Layout { version, first: HEADER_SIZE_V2 as u64, gap: RECORD_SIZE as u64, frames_end: index_offset - RECORD_SIZE as u64 };
    Ok((kind, original_size, sha256_prefix, index_offset, index_size, layout))
}

/// The trailer at the end of `data` (at least a trailer long), checked against
/// the container's length.
fn trailer_bounds(data: &[u8]) -> Result<(u64, u64, u64, [u8; 32])> {
    let (original_size, index_offset, index_size, sha) = parse_trailer(&data[data.len() - TRAILER_SIZE..])?;
    let end = index_offset.checked_add(index_size).and_then(|e| e.checked_add(TRAILER_SIZE as u64)).ok_or(Error::Corrupt)?;
    check(end == data.len() as u64 && index_size >= 12 && index_offset >= (HEADER_SIZE_V2 + RECORD_SIZE) as u64)?;
    Ok((original_size, index_offset, index_size, sha))
}

/// Whether `data`, a container with a valid version-2+ header but no valid
/// trailer, is the start of one cut short (an interrupted download or copy):
/// its region records, each with a valid CRC, chain from the header to a
/// record, frame, index or trailer that `data` ends inside. Anything else
/// (a damaged record, bytes after the trailer) is not a cut. Only a failed open
/// walks the records, at most one per region the limits allow.
fn ends_early(data: &[u8]) -> bool {
    let len = data.len() as u64;
    let mut at = HEADER_SIZE_V2 as u64;
    for _ in 0..=MAX_REGIONS {
        let Some(rec) = usize::try_from(at).ok().and_then(|a| data.get(a..a.checked_add(RECORD_SIZE)?)) else {
            return true;
        };
        let Ok((magic, _, _, size, frame_size)) = parse_record(rec.try_into().expect("record size")) else {
            return false;
        };
        // After a region record its frame; after the end record (whose third
        // field is the index size) the index and the trailer.
        let next = match magic {
            RECORD_MAGIC => frame_size,
            END_MAGIC => size.saturating_add(TRAILER_SIZE as u64),
            _ => return false,
        };
        at = at.saturating_add(RECORD_SIZE as u64).saturating_add(next);
        if magic == END_MAGIC || at > len {
            return at > len;
        }
    }
    false
}

/// The index of a container of `version` without its CRC, once the CRC is
/// checked: as stored before version 10; decoded from its zstd payload from
/// version 10 (FORMAT.md §10.3), within the size a coded index may declare,
/// once (version 11 on) the coded bytes' own CRC is checked.
pub fn index_body(index: &[u8], version: u16) -> Result<Cow<'_, [u8]>> {
    let index = if version >= VERSION_11 {
        check(index.len() >= 4)?;
        let (coded, crc) = index.split_at(index.len() - 4);
        if crc32c(coded).to_le_bytes() != crc {
            return Err(Error::ChecksumMismatch);
        }
        coded
    } else {
        index
    };
    let index: Cow<'_, [u8]> = if version >= VERSION_10 {
        check(index.len() > 9)?;
        let (len, payload) = index.split_at(8);
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        // Stored (0) or one zstd frame (1); checked before the allocation.
        check(payload[0] <= 1 && (12..=max_index_len(payload.len() as u64)).contains(&len))?;
        // Lazily mapped, and an error rather than an abort if refused.
        let mut raw = frames::zeroed_output(usize::try_from(len).map_err(|_| Error::SizeOverflow)?)?;
        codec::zstd::decode_chunk(payload, &mut raw).map_err(|_| Error::Corrupt)?;
        Cow::Owned(raw)
    } else {
        Cow::Borrowed(index)
    };
    check(index.len() >= 12)?;
    let body_len = index.len() - 4;
    let crc = u32::from_le_bytes(index[body_len..].try_into().expect("4 bytes"));
    if crc32c(&index[..body_len]) != crc {
        return Err(Error::ChecksumMismatch);
    }
    Ok(match index {
        Cow::Borrowed(b) => Cow::Borrowed(&b[..body_len]),
        Cow::Owned(mut v) => {
            v.truncate(body_len);
            Cow::Owned(v)
        }
    })
}

/// Reads and checks an index body (its CRC already verified): regions tile the
/// original in order, frames lie in order inside `layout`, entries name tensor
/// regions. `frame` is called on every region (to check its frame). A record
/// running past the body's end is `SrcTruncated` (callers map it).
pub fn parse_index(body: &[u8], layout: Layout, original_size: u64, mut frame: impl FnMut(&Region) -> Result<()>) -> Result<(Vec<Region>, Entries)> {
    let mut r = ByteReader::new(body);
    let n = r.u32()? as usize;
    check(n <= MAX_REGIONS && n.saturating_mul(REGION_ENTRY) <= r.remaining())?;
    let mut regions = Vec::with_capacity(n);
    let (mut orig, mut frames_end) = (0u64, layout.first);
    for _ in 0..n {
        let region = Region {
            orig_offset: r.u64()?,
            orig_size: r.u64()?,
            frame_offset: r.u64()?,
            frame_size: r.u64()?,
            role: super::Role::from_u8(r.u8()?).ok_or(Error::Corrupt)?,
        };
        check(region.orig_offset == orig && region.orig_size > 0)?;
        check_role_order(layout.version, regions.last().map(|r: &Region| r.role), region.role)?;
        orig = orig.checked_add(region.orig_size).ok_or(Error::Corrupt)?;
        // Frameless (all-zero) regions too: every frame range must be a valid
        // slice, since readers take `data[frame_offset..][..frame_size]`.
        let frame_end = region.frame_offset.checked_add(region.frame_size).ok_or(Error::Corrupt)?;
        // Version 2 on: each region's record, then its frame, laid end to end
        // (as a one-pass reader walks them), so no byte between frames goes
        // unchecked; version 1 had no records and is read as written.
        let next = frames_end.saturating_add(layout.gap);
        check(if layout.gap > 0 { region.frame_offset == next } else { region.frame_offset >= next } && frame_end <= layout.frames_end)?;
        frames_end = frame_end;
        check(region.frame_size > 0 || may_be_frameless(region.role))?;
        frame(&region)?;
        regions.push(region);
    }
    check(orig == original_size && (layout.gap == 0 || frames_end == layout.frames_end))?;
    let n = r.u32()? as usize;
    let entries = Entries::read(&mut r, n, &regions)?;
    check(r.remaining() == 0)?;
    Ok((regions, entries))
}
