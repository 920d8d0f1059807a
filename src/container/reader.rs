//! Reading a container's original bytes through a shared cache of decoded
//! chunks, with decoding ahead of sequential readers: the read path of
//! `llmc mount` and of the C `llmc_reader_*` functions.
//!
//! A [`ReadEngine`] (the chunk cache and the read-ahead workers) may serve many
//! [`Reader`]s, one per open container, so a mount of a checkpoint directory
//! has one cache budget and one set of threads. A read decodes only the chunks
//! it touches; each chunk's CRC32C is checked after decoding (unless disabled),
//! and a damaged chunk fails only the reads that touch it ([`ReadFailure`]
//! names it). Chunks a read covers whole are decoded straight into the
//! caller's buffer and not cached: a sequential reader will not come back.
//!
//! Memory: the cache budget, plus one chunk per thread decoding, plus the
//! index. A mapped container's pages are released (`MADV_DONTNEED`) after
//! every 32 MiB of chunks decoded, so reading a whole model does not leave it
//! resident.

use super::read::Index;
use crate::codec::{self, Scratch};
use crate::engine::chunk_cache::{ChunkCache, ChunkData, Claim};
use crate::engine::readahead::SequentialDetector;
use crate::engine::workers::{Gate, Workers};
use crate::error::{Error, Result};
use crate::format::frame::CodecId;
use crate::kernels::Kernels;
use crate::params::DecodeOptions;
use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Default cache budget (256 MiB).
pub const DEFAULT_CACHE_SIZE: usize = 256 << 20;
/// Jobs the read-ahead queue holds before dropping the oldest.
const READAHEAD_QUEUE: usize = 64;
/// Compressed bytes decoded between two releases of a mapped container's
/// pages: releasing after every chunk costs a TLB shootdown on every core each
/// time, so the container's resident pages are released in batches instead.
const RELEASE_BATCH: u64 = 32 << 20;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
    /// A payload read from a [`ContainerBytes::File`] (one chunk's, reused).
    static PAYLOAD: RefCell<Vec<u8>> = RefCell::default();
}

/// The cache and read-ahead workers shared by readers.
pub struct ReadEngine {
    cache: ChunkCache,
    workers: Option<Workers>,
    next_id: AtomicU64,
}

impl ReadEngine {
    /// A cache of `cache_size` bytes and `threads` read-ahead workers (0: no
    /// threads are started and nothing is decoded ahead).
    pub fn new(cache_size: usize, threads: usize) -> Result<Arc<ReadEngine>> {
        let workers = if threads > 0 { Some(Workers::new(threads, READAHEAD_QUEUE, "readahead").map_err(|_| Error::Generic)?) } else { None };
        Ok(Arc::new(ReadEngine { cache: ChunkCache::new(cache_size), workers, next_id: AtomicU64::new(0) }))
    }

    pub fn cache(&self) -> &ChunkCache {
        &self.cache
    }

    pub fn threads(&self) -> usize {
        self.workers.as_ref().map_or(0, Workers::threads)
    }

    /// Stops the read-ahead threads and waits for them (nothing is decoded
    /// ahead afterwards). For an owner that must not leave threads behind.
    pub fn stop(&self) {
        if let Some(w) = &self.workers {
            w.stop();
        }
    }

    /// How many chunks of `chunk_size` bytes to decode ahead of a sequential
    /// reader: enough to keep every worker busy twice over, within half the cache.
    fn depth(&self, chunk_size: u64) -> u64 {
        let fit = (self.cache.budget() as u64 / 2) / chunk_size.max(1);
        (2 * self.threads() as u64 + 1).min(fit)
    }
}

/// Opens a container file for reading (a missing file is `NotFound`).
fn open_container_file(path: &Path) -> Result<std::fs::File> {
    // The OS error is kept for `llmc_last_os_error`, as every open does.
    std::fs::File::open(path).map_err(|e| Error::from_io(&e))
}

/// The container's bytes: an open file read with `pread`, mapped (pages
/// released after use) or in memory.
pub enum ContainerBytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
    /// Read at offsets (`pread`). The index and chunk tables are parsed through
    /// a map at open that is dropped right after; payloads are read as they are
    /// decoded, so a file truncated or replaced in place while it is open gives
    /// errors (`SrcTruncated`, or a checksum mismatch) on the reads that touch
    /// it, never a bus error: what a long-running reader such as the mount needs.
    File(std::fs::File),
}

impl ContainerBytes {
    /// Maps `path` read-only. Like every mmap reader, this relies on the file
    /// not being truncated while it is open.
    pub fn map(path: &Path) -> Result<ContainerBytes> {
        let f = open_container_file(path)?;
        if f.metadata()?.len() == 0 {
            return Ok(ContainerBytes::Owned(Vec::new()));
        }
        // SAFETY: a read-only shared map of a file we do not modify; a file
        // truncated underneath is outside the threat model (documented).
        Ok(ContainerBytes::Mapped(unsafe { memmap2::Mmap::map(&f) }?))
    }

    /// Opens `path` to be read at offsets (see [`ContainerBytes::File`]).
    pub fn open(path: &Path) -> Result<ContainerBytes> {
        let f = open_container_file(path)?;
        let meta = f.metadata()?;
        if meta.is_dir() {
            // As opening a directory elsewhere: `Io` with EISDIR (`last_os_error`).
            return Err(Error::from_io(&std::io::Error::from_raw_os_error(libc::EISDIR)));
        }
        if !meta.is_file() {
            // A pipe or device: no offsets to read at.
            return Err(Error::InvalidArgument);
        }
        Ok(ContainerBytes::File(f))
    }

    /// The whole container in memory or mapped; empty for [`ContainerBytes::File`].
    pub fn bytes(&self) -> &[u8] {
        match self {
            ContainerBytes::Mapped(m) => m,
            ContainerBytes::Owned(v) => v,
            ContainerBytes::File(_) => &[],
        }
    }

    /// The `len` bytes at `offset`: lent from memory or the map, or read into
    /// `buf` from a file (a short read is `SrcTruncated`).
    fn payload<'a>(&'a self, offset: usize, len: usize, buf: &'a mut Vec<u8>) -> Result<&'a [u8]> {
        let ContainerBytes::File(f) = self else {
            return self.bytes().get(offset..offset.checked_add(len).ok_or(Error::SrcTruncated)?).ok_or(Error::SrcTruncated);
        };
        buf.resize(len, 0);
        match crate::engine::io::read_at_full(f, buf, offset as u64) {
            Ok(n) if n == len => Ok(&buf[..]),
            Ok(_) => Err(Error::SrcTruncated),
            Err(e) => Err(Error::from(e)),
        }
    }

    /// Maps `[offset, offset + len)` in one call (MADV_POPULATE_READ, Linux
    /// 5.14) rather than a page fault every 16 pages while decoding. Best
    /// effort: an older kernel refuses and the faults happen as before.
    fn populate(&self, offset: usize, len: usize) {
        if let ContainerBytes::Mapped(m) = self {
            let _ = m.advise_range(memmap2::Advice::PopulateRead, offset, len);
        }
    }

    /// Drops `[offset, offset + len)` from the process's resident set.
    fn release(&self, offset: usize, len: usize) {
        if let ContainerBytes::Mapped(m) = self {
            // SAFETY: the map is a read-only, shared mapping of a file. After
            // MADV_DONTNEED its pages are read again from the file on the next
            // access, with the same contents, so no live slice changes; only
            // the pages' residency does. Offsets are within the map (checked by
            // memmap2, which aligns the start down to a page).
            let _ = unsafe { m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
        }
    }
}

/// A stretch of the original file: one chunk of a frame, or a run of zeros.
#[derive(Debug, Clone, Copy)]
struct Piece {
    offset: u64,
    len: u64,
    region: u32,
    /// `None`: zero bytes (a frameless region).
    codec: Option<CodecId>,
    payload_offset: usize,
    payload_len: usize,
    checksum: u32,
}

/// The chunks (pieces that need decoding) from piece `next` on that a
/// sequential reader will want next: at least `depth` of them, and on until
/// `bytes` of the file are covered, but never more than `limit` (what the
/// job queue holds: more would push out the nearest). Counted in chunks alone,
/// the read-ahead would shrink to a few KiB over a run of small tensors (norms,
/// biases: one short chunk each), and the thread serving the reader would then
/// decode the next large chunk itself while the workers sat idle.
fn ahead(pieces: &[Piece], next: usize, depth: u64, bytes: u64, limit: usize) -> Vec<usize> {
    let (mut covered, mut chunks) = (0, Vec::new());
    for (i, p) in pieces.iter().enumerate().skip(next) {
        if chunks.len() >= limit || (chunks.len() as u64 >= depth && covered >= bytes) {
            break;
        }
        covered += p.len;
        if p.codec.is_some() {
            chunks.push(i);
        }
    }
    chunks
}

/// A read that touched a chunk which failed to decode or verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadFailure {
    pub error: Error,
    /// Which chunk (see [`Reader::chunk_span`] and [`Reader::chunk_tensor`]).
    pub chunk: usize,
}

impl From<ReadFailure> for Error {
    fn from(f: ReadFailure) -> Error {
        f.error
    }
}

/// One container opened for reads of its original bytes. Dropping the last
/// `Arc<Reader>` waits for the read-ahead jobs decoding one of its chunks, so
/// that the reader (and with it, maybe, the engine and its threads) is always
/// dropped by its owner, never by a worker (see [`Gate`]).
pub struct Reader {
    core: Arc<Core>,
}

/// A reader's state, which its read-ahead jobs reach through `gate`.
struct Core {
    gate: Arc<Gate>,
    engine: Arc<ReadEngine>,
    id: u64,
    source: ContainerBytes,
    index: Index,
    pieces: Vec<Piece>,
    /// For each region, the entry (tensor) stored in it.
    region_entry: Vec<Option<u32>>,
    kernels: &'static Kernels,
    verify: bool,
    sequential: SequentialDetector,
    /// Compressed bytes decoded since the container's pages were last released.
    touched: AtomicU64,
    /// The pieces the read-ahead last queued, `first << 32 | end`: a
    /// sequential reader tops it up once half of them, or all but its depth,
    /// are behind it (large chunks: at every read, as before). Queueing on every read
    /// cost tiny tensors (one short chunk each, dozens queued per read) four
    /// times their decode.
    queued: AtomicU64,
}

impl Reader {
    /// Opens the container at `path` for reads through `engine` (payloads read
    /// with `pread`, see [`ContainerBytes::File`]).
    pub fn open_file(path: &Path, engine: &Arc<ReadEngine>, opts: &DecodeOptions) -> Result<Arc<Reader>> {
        Reader::new(ContainerBytes::open(path)?, engine, opts)
    }

    /// Validates the container (header, index, every frame's chunk table) and
    /// lays out its chunks. `opts.isa` and `opts.verify_checksums` apply to
    /// every read.
    pub fn new(source: ContainerBytes, engine: &Arc<ReadEngine>, opts: &DecodeOptions) -> Result<Arc<Reader>> {
        let kernels = Kernels::resolve(opts.isa)?;
        // A file is parsed through a map that lives only for the open.
        let parse_map = match &source {
            // SAFETY: a read-only map of a file we do not modify, dropped before
            // this function returns; a file truncated during the open itself
            // is outside the threat model, as for every mmap reader.
            ContainerBytes::File(f) if f.metadata()?.len() > 0 => Some(unsafe { memmap2::Mmap::map(f) }?),
            _ => None,
        };
        let data = parse_map.as_deref().unwrap_or(source.bytes());
        let index = Index::open(data)?;
        let mut pieces = Vec::new();
        for (i, r) in index.regions.iter().enumerate() {
            let region = i as u32;
            if r.frame_size == 0 {
                pieces.push(Piece { offset: r.orig_offset, len: r.orig_size, region, codec: None, payload_offset: 0, payload_len: 0, checksum: 0 });
                continue;
            }
            // Index::open checked that every frame lies inside the container.
            let frame = &data[r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize];
            let f = crate::engine::frames::parse(frame)?;
            pieces.reserve(f.chunks.len());
            for c in &f.chunks {
                pieces.push(Piece {
                    offset: r.orig_offset + c.content_offset,
                    len: c.content_len as u64,
                    region,
                    codec: Some(f.header.codec),
                    payload_offset: c.payload.as_ptr() as usize - data.as_ptr() as usize,
                    payload_len: c.payload.len(),
                    checksum: c.checksum,
                });
            }
        }
        let mut region_entry = vec![None; index.regions.len()];
        for e in 0..index.entries.len() {
            for r in index.entry_regions(e).expect("an entry") {
                // A batch's chunks are named after its first tensor.
                region_entry[r].get_or_insert(e as u32);
            }
        }
        // Opening touched every frame's header and chunk table.
        source.release(0, data.len());
        drop(parse_map);
        let id = engine.next_id.fetch_add(1, Ordering::Relaxed);
        let core = Core { gate: Arc::default(), engine: Arc::clone(engine), id, source, index, pieces, region_entry, kernels, verify: opts.verify_checksums, sequential: SequentialDetector::new(), touched: AtomicU64::new(0), queued: AtomicU64::new(0) };
        Ok(Arc::new(Reader { core: Arc::new(core) }))
    }

    /// Size of the original file.
    pub fn size(&self) -> u64 {
        self.core.size()
    }

    pub fn index(&self) -> &Index {
        &self.core.index
    }

    pub fn engine(&self) -> &Arc<ReadEngine> {
        &self.core.engine
    }

    /// Bytes of decoded chunks in the (shared) cache.
    pub fn cached_bytes(&self) -> usize {
        self.core.engine.cache.cached_bytes()
    }

    /// Number of chunks (and zero runs) the original file is made of.
    pub fn n_chunks(&self) -> usize {
        self.core.pieces.len()
    }

    /// Where chunk `chunk` lies in the original file: `(offset, len)`.
    pub fn chunk_span(&self, chunk: usize) -> Option<(u64, u64)> {
        self.core.pieces.get(chunk).map(|p| (p.offset, p.len))
    }

    /// What chunk `chunk` holds, for messages: "tensor NAME", or for a batch
    /// "tiny tensors NAME and N more"; `None` for metadata or padding.
    pub fn chunk_tensor(&self, chunk: usize) -> Option<String> {
        let region = self.core.pieces.get(chunk)?.region as usize;
        let e = (*self.core.region_entry.get(region)?)?;
        let name = self.core.index.entries.get(e as usize)?.name;
        if self.core.index.regions[region].role != super::Role::Batch {
            return Some(format!("tensor {name}"));
        }
        // A batch's entries follow each other from its first.
        let more = self.core.index.entries.iter().skip(e as usize + 1).take_while(|m| m.region as usize == region).count();
        Some(format!("tiny tensors {name} and {more} more"))
    }

    /// Reads up to `dst.len()` bytes at `offset` of the original file, like
    /// `pread`: returns the bytes read, fewer at the end of the file and 0 at
    /// or past it. Thread-safe; any number of threads may read at once.
    pub fn read_at(&self, offset: u64, dst: &mut [u8]) -> core::result::Result<usize, ReadFailure> {
        self.core.read_at(offset, dst)
    }

    /// Like [`Self::read_at`] for `len` bytes at `offset`, without a copy when
    /// they lie inside one decoded chunk: `use_bytes` gets them where the cache
    /// holds them (a FUSE reply is written to the kernel straight from there).
    /// `None` when the read spans chunks, touches a zero run or starts at or past
    /// the end: the caller reads with `read_at` instead. Reads past the end are
    /// cut short, as with `read_at`.
    pub fn read_in_chunk<T>(&self, offset: u64, len: usize, use_bytes: impl FnOnce(&[u8]) -> T) -> Option<core::result::Result<T, ReadFailure>> {
        self.core.read_in_chunk(offset, len, use_bytes)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.core.gate.close();
    }
}

impl Core {
    /// Size of the original file.
    pub fn size(&self) -> u64 {
        self.index.original_size
    }

    /// See [`Reader::read_at`].
    fn read_at(self: &Arc<Self>, offset: u64, dst: &mut [u8]) -> core::result::Result<usize, ReadFailure> {
        let size = self.size();
        if offset >= size || dst.is_empty() {
            return Ok(0);
        }
        let n = (size - offset).min(dst.len() as u64) as usize;
        let end = offset + n as u64;
        let first = self.pieces.partition_point(|p| p.offset + p.len <= offset);
        let last = self.pieces.partition_point(|p| p.offset < end);
        let sequential = self.sequential.observe(offset, n as u64);
        if sequential {
            self.read_ahead(last);
        }
        for i in first..last {
            let p = &self.pieces[i];
            let (lo, hi) = (offset.max(p.offset), end.min(p.offset + p.len));
            let out = &mut dst[(lo - offset) as usize..(hi - offset) as usize];
            let fail = |error| ReadFailure { error, chunk: i };
            if p.codec.is_none() {
                out.fill(0);
            } else if lo == p.offset && hi == p.offset + p.len && !self.engine.cache.is_present(self.key(i)) {
                self.cancel_read_ahead(i);
                self.decode(p, out).map_err(fail)?;
            } else {
                let data = self.chunk(i).map_err(fail)?;
                out.copy_from_slice(&data[(lo - p.offset) as usize..(hi - p.offset) as usize]);
                // Released first: the cache recycles a buffer only when no
                // reader holds it.
                drop(data);
                // Drop-behind: a sequential reader that reached the end of a
                // chunk will not come back to it; its buffer serves the next
                // decode warm (no page faults) and the cache holds what is ahead.
                if sequential && hi == p.offset + p.len {
                    self.engine.cache.discard(self.key(i));
                }
            }
        }
        Ok(n)
    }

    /// See [`Reader::read_in_chunk`].
    fn read_in_chunk<T>(self: &Arc<Self>, offset: u64, len: usize, use_bytes: impl FnOnce(&[u8]) -> T) -> Option<core::result::Result<T, ReadFailure>> {
        let size = self.size();
        if offset >= size || len == 0 {
            return None;
        }
        let end = offset + (size - offset).min(len as u64);
        let i = self.pieces.partition_point(|p| p.offset + p.len <= offset);
        let p = self.pieces.get(i)?;
        if p.codec.is_none() || end > p.offset + p.len {
            return None;
        }
        let sequential = self.sequential.observe(offset, end - offset);
        if sequential {
            self.read_ahead(i + 1);
        }
        let data = match self.chunk(i) {
            Ok(d) => d,
            Err(error) => return Some(Err(ReadFailure { error, chunk: i })),
        };
        let result = use_bytes(&data[(offset - p.offset) as usize..(end - p.offset) as usize]);
        // Released before the drop-behind below, so the cache can recycle it.
        drop(data);
        if sequential && end == p.offset + p.len {
            self.engine.cache.discard(self.key(i));
        }
        Some(Ok(result))
    }

    fn key(&self, chunk: usize) -> (u64, u64) {
        (self.id, chunk as u64)
    }

    /// Chunk `i` decoded, from the cache or decoded now (once across threads).
    fn chunk(&self, i: usize) -> Result<ChunkData> {
        let p = &self.pieces[i];
        self.engine.cache.get_or_decode(self.key(i), p.len as usize, |out| {
            self.cancel_read_ahead(i);
            self.decode(p, out)
        })
    }

    fn job_key(&self, chunk: usize) -> u128 {
        u128::from(self.id) << 64 | chunk as u128
    }

    /// A reader decoding chunk `i` itself takes it off the read-ahead queue, so
    /// a worker that fell behind does not decode it again.
    fn cancel_read_ahead(&self, i: usize) {
        if let Some(w) = &self.engine.workers {
            w.cancel(self.job_key(i));
        }
    }

    /// Decodes one chunk into `out` (exactly its length) and checks its CRC.
    fn decode(&self, p: &Piece, out: &mut [u8]) -> Result<()> {
        let codec = p.codec.ok_or(Error::Corrupt)?;
        self.source.populate(p.payload_offset, p.payload_len);
        let (decoded, checked) = PAYLOAD.with(|buf| {
            let mut buf = buf.borrow_mut();
            let payload = self.source.payload(p.payload_offset, p.payload_len, &mut buf)?;
            // As in frames::decode_chunk: checksummed as the decoder reads the payload.
            Ok::<_, Error>(SCRATCH.with(|s| {
                let scratch = &mut s.borrow_mut();
                if !self.verify {
                    return (codec::decode_chunk(codec, payload, out, self.kernels, scratch), Ok(()));
                }
                let (decoded, sum) = codec::decode_chunk_checked(codec, payload, out, self.kernels, scratch);
                (decoded, if sum == p.checksum { Ok(()) } else { Err(Error::ChecksumMismatch) })
            }))
        })?;
        let len = p.payload_len as u64;
        if self.touched.fetch_add(len, Ordering::Relaxed) + len >= RELEASE_BATCH {
            self.touched.store(0, Ordering::Relaxed);
            self.source.release(0, self.source.bytes().len());
        }
        decoded.and(checked)
    }

    /// Queues the chunks from `next` on for decoding by the workers: the
    /// engine's depth in chunks, and at least that many MiB (see [`ahead`]).
    fn read_ahead(self: &Arc<Self>, next: usize) {
        let Some(workers) = &self.engine.workers else { return };
        let depth = self.engine.depth(self.index.chunk_size.max(1));
        let q = self.queued.load(Ordering::Relaxed);
        let (first, end) = ((q >> 32) as usize, (q & 0xffff_ffff) as usize);
        if first <= next && end.saturating_sub(next) > (depth as usize).max((end - first) / 2) {
            return;
        }
        let bytes = (depth << 20).min(self.engine.cache.budget() as u64 / 2);
        let chunks = ahead(&self.pieces, next, depth, bytes, READAHEAD_QUEUE);
        if let Some(&last) = chunks.last() {
            if let (Ok(first), Ok(end)) = (u32::try_from(next), u32::try_from(last + 1)) {
                self.queued.store(u64::from(first) << 32 | u64::from(end), Ordering::Relaxed);
            }
        }
        for i in chunks {
            if self.engine.cache.is_present(self.key(i)) {
                continue;
            }
            // A weak reference: queued jobs must not keep a closed reader (and
            // through it the engine and these workers) alive; taken through
            // the gate, so a job never holds the last one.
            let (me, gate) = (Arc::downgrade(self), Arc::clone(&self.gate));
            workers.submit(self.job_key(i), move || {
                if let Some(me) = gate.enter(&me) {
                    me.prefetch(i);
                }
            });
        }
    }

    /// A worker's job: decode chunk `i` into the cache unless a reader got to
    /// it first. Failures are left for the readers that touch the chunk.
    fn prefetch(&self, i: usize) {
        let p = &self.pieces[i];
        if let Claim::Mine(claimed) = self.engine.cache.claim(self.key(i), p.len as usize, false) {
            let _ = claimed.decode(p.len as usize, |out| self.decode(p, out));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of these lengths laid end to end; `0` length marks a zero run
    /// of 1 MiB (no decoding).
    fn layout(lens: &[u64]) -> Vec<Piece> {
        let mut offset = 0;
        lens.iter()
            .map(|&len| {
                let (len, codec) = if len == 0 { (1 << 20, None) } else { (len, Some(CodecId::Zstd)) };
                let p = Piece { offset, len, region: 0, codec, payload_offset: 0, payload_len: 0, checksum: 0 };
                offset += len;
                p
            })
            .collect()
    }

    #[test]
    fn read_ahead_reaches_past_a_run_of_small_chunks() {
        let mib = 1 << 20;
        // A large chunk, then the small chunks of a layer's norms, then large ones.
        let mut lens = vec![mib];
        lens.extend([2560; 12]);
        lens.extend([mib; 6]);
        let pieces = layout(&lens);
        let chosen = ahead(&pieces, 1, 5, 5 * mib, 64);
        assert_eq!(chosen, (1..18).collect::<Vec<_>>(), "the 12 small chunks and the next 5 large ones");
        // Uniform large chunks: the depth in chunks decides.
        assert_eq!(ahead(&pieces, 13, 5, 5 * mib, 64), vec![13, 14, 15, 16, 17]);
        // Never more than the queue holds.
        assert_eq!(ahead(&pieces, 1, 5, 5 * mib, 8), (1..9).collect::<Vec<_>>());
    }

    #[test]
    fn zero_runs_count_as_covered_but_are_not_decoded() {
        let mib = 1 << 20;
        let pieces = layout(&[mib, 0, 0, mib, mib, mib]);
        assert_eq!(ahead(&pieces, 0, 2, 4 * mib, 64), vec![0, 3]);
        assert_eq!(ahead(&pieces, 0, 3, 0, 64), vec![0, 3, 4]);
        assert!(ahead(&pieces, 0, 0, 0, 64).is_empty());
        assert!(ahead(&pieces, 6, 5, 5 * mib, 64).is_empty());
    }
}
