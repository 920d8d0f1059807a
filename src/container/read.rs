//! Reading a container: validation at open, then random access by byte range or
//! entry, decoding only the chunks a request touches.

use super::{check, Entry, Region, Role, SourceKind, HEADER_SIZE, MAGIC, MAX_DIMS, MAX_ENTRIES, MAX_NAME, MAX_REGIONS, REGION_ENTRY, VERSION};
use crate::codec::Scratch;
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use crate::format::checksum::crc32c;
use crate::format::limits::MAX_CONTENT_SIZE;
use crate::engine::frames;
use crate::kernels::Kernels;
use crate::params::DecodeOptions;
use std::cell::RefCell;

/// The parsed index of a container. It owns no file data: every read takes the
/// container bytes, so a caller can keep them in an mmap next to the index.
#[derive(Debug, Clone)]
pub struct Index {
    pub kind: SourceKind,
    pub original_size: u64,
    pub sha256_prefix: [u8; 28],
    pub regions: Vec<Region>,
    pub entries: Vec<Entry>,
    /// The largest chunk size of any tensor frame (parallel work splits on chunk edges).
    pub chunk_size: u64,
}

thread_local! {
    static SCRATCH: RefCell<(Scratch, Vec<u8>)> = RefCell::default();
}

impl Index {
    /// Validates the header, the index and every region's frame header.
    pub fn open(data: &[u8]) -> Result<Index> {
        if data.len() < 4 {
            return Err(Error::SrcTruncated);
        }
        if data[..4] != MAGIC {
            return Err(Error::BadMagic);
        }
        let header = data.get(..HEADER_SIZE).ok_or(Error::SrcTruncated)?;
        let mut r = ByteReader::new(header);
        r.take(4)?;
        let version = r.u16()?;
        let kind = r.u8()?;
        let flags = r.u8()?;
        let original_size = r.u64()?;
        let index_offset = r.u64()?;
        let index_size = r.u64()?;
        let sha256_prefix: [u8; 28] = r.array()?;
        if crc32c(&header[..60]) != r.u32()? {
            return Err(Error::ChecksumMismatch);
        }
        if version != VERSION || flags & 0x0f != 0 {
            return Err(Error::VersionUnsupported);
        }
        let kind = SourceKind::from_u8(kind).ok_or(Error::Corrupt)?;
        if original_size > MAX_CONTENT_SIZE {
            return Err(Error::LimitExceeded);
        }
        let end = index_offset.checked_add(index_size).ok_or(Error::Corrupt)?;
        check(index_offset >= HEADER_SIZE as u64 && index_size >= 12)?;
        if end > data.len() as u64 {
            return Err(Error::SrcTruncated);
        }
        let index = &data[index_offset as usize..end as usize];
        let (body, crc) = index.split_at(index.len() - 4);
        if crc32c(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(Error::ChecksumMismatch);
        }
        let (regions, entries, chunk_size) =
            Self::read_index(data, body, index_offset, original_size).map_err(Error::overrun_is_corrupt)?;
        Ok(Index { kind, original_size, sha256_prefix, regions, entries, chunk_size })
    }

    /// Reads and checks the index body (its CRC already verified). It lies inside
    /// the container, so a record running past its end is `Corrupt`, as is a
    /// frame that overruns its region.
    fn read_index(data: &[u8], body: &[u8], index_offset: u64, original_size: u64) -> Result<(Vec<Region>, Vec<Entry>, u64)> {
        let mut r = ByteReader::new(body);
        let n = r.u32()? as usize;
        check(n <= MAX_REGIONS && n.saturating_mul(REGION_ENTRY) <= r.remaining())?;
        let mut regions = Vec::with_capacity(n);
        let (mut orig, mut frames_end, mut chunk_size) = (0u64, HEADER_SIZE as u64, 0u64);
        for _ in 0..n {
            let region = Region {
                orig_offset: r.u64()?,
                orig_size: r.u64()?,
                frame_offset: r.u64()?,
                frame_size: r.u64()?,
                role: super::Role::from_u8(r.u8()?).ok_or(Error::Corrupt)?,
            };
            // Regions tile the original in order; frames lie in order between the
            // header and the index.
            check(region.orig_offset == orig && region.orig_size > 0)?;
            orig = orig.checked_add(region.orig_size).ok_or(Error::Corrupt)?;
            // Frameless (all-zero) regions too: every frame range must be a valid
            // slice, since readers take `data[frame_offset..][..frame_size]`.
            let frame_end = region.frame_offset.checked_add(region.frame_size).ok_or(Error::Corrupt)?;
            check(region.frame_offset >= frames_end && frame_end <= index_offset)?;
            frames_end = frame_end;
            if region.frame_size > 0 {
                let frame = &data[region.frame_offset as usize..frame_end as usize];
                let f = frames::parse(frame)?;
                check(f.frame_size == frame.len() && f.header.content_size == region.orig_size)?;
                if region.role == Role::Tensor {
                    chunk_size = chunk_size.max(u64::from(f.header.chunk_size));
                }
            }
            regions.push(region);
        }
        check(orig == original_size)?;
        let n = r.u32()? as usize;
        check(n <= MAX_ENTRIES && n.saturating_mul(11) <= r.remaining())?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            let region = r.u32()?;
            let dtype = r.u32()?;
            let n_dims = usize::from(r.u8()?);
            check(n_dims <= MAX_DIMS)?;
            let shape = (0..n_dims).map(|_| r.u64()).collect::<Result<Vec<u64>>>()?;
            let len = usize::from(r.u16()?);
            check(len <= MAX_NAME)?;
            let name = std::str::from_utf8(r.take(len)?).map_err(|_| Error::Corrupt)?.to_owned();
            check(regions.get(region as usize).is_some_and(|g: &Region| g.role == Role::Tensor))?;
            entries.push(Entry { region, dtype, shape, name });
        }
        check(r.remaining() == 0)?;
        Ok((regions, entries, chunk_size))
    }

    /// Bytes of leading metadata regions (what a format parser reads first).
    pub fn metadata_size(&self) -> u64 {
        self.regions.iter().take_while(|r| r.role == Role::Metadata).map(|r| r.orig_size).sum()
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|e| e.name == name)
    }

    /// Original offset and size of entry `i`.
    pub fn entry_span(&self, i: usize) -> Option<(u64, u64)> {
        let r = &self.regions[self.entries.get(i)?.region as usize];
        Some((r.orig_offset, r.orig_size))
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
            let (scratch, tmp) = &mut *s.borrow_mut();
            for region in self.regions[first..].iter().take_while(|r| r.orig_offset < end) {
                let lo = offset.max(region.orig_offset);
                let hi = end.min(region.orig_offset + region.orig_size);
                let out = &mut dst[(lo - offset) as usize..(hi - offset) as usize];
                let (rel_lo, rel_hi) = (lo - region.orig_offset, hi - region.orig_offset);
                if region.frame_size == 0 {
                    out.fill(0);
                    continue;
                }
                let frame = &data[region.frame_offset as usize..(region.frame_offset + region.frame_size) as usize];
                let f = frames::parse(frame)?;
                for c in &f.chunks {
                    let (c_lo, c_hi) = (c.content_offset, c.content_offset + c.content_len as u64);
                    if c_hi <= rel_lo || c_lo >= rel_hi {
                        continue;
                    }
                    let (a, b) = (rel_lo.max(c_lo), rel_hi.min(c_hi));
                    let target = &mut out[(a - rel_lo) as usize..(b - rel_lo) as usize];
                    if a == c_lo && b == c_hi {
                        frames::decode_chunk(&f, c, target, kernels, scratch, opts.verify_checksums)?;
                    } else {
                        tmp.resize(c.content_len, 0);
                        frames::decode_chunk(&f, c, tmp, kernels, scratch, opts.verify_checksums)?;
                        target.copy_from_slice(&tmp[(a - c_lo) as usize..(b - c_lo) as usize]);
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
