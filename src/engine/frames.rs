//! Whole frames: chunking, threads, checksums and codec dispatch.

use super::pool::{parallel_for_each, parallel_map};

use crate::codec::{self, Method, Scratch};
use crate::error::{Error, Result};
use crate::format::checksum::crc32c;
use crate::format::frame::{self, CodecId, Frame};
use crate::kernels::Kernels;
use crate::params::{CompressParams, DecodeOptions};

/// What a frame header says, plus the frame's size in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    pub codec: CodecId,
    pub format_version: u16,
    pub has_checksum: bool,
    pub content_size: u64,
    pub frame_size: u64,
    pub n_chunks: u32,
    pub chunk_size: u32,
}

/// `method` as `params` ask for it: without row classes under
/// `PARAM_FLAG_NO_ROW_CLASSES`.
pub fn as_asked(method: &Method, params: &CompressParams) -> Method {
    if params.row_classes() {
        method.clone()
    } else {
        method.clone().without_rows()
    }
}

/// Compresses `src` into one frame.
pub fn compress(method: &Method, src: &[u8], params: &CompressParams) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    compress_to(method, src, params, &mut out)?;
    Ok(out)
}

/// Compresses `src` into the caller's `dst`: the same frame as [`compress`],
/// each payload copied into place while it is in cache; returns its size
/// (`DstTooSmall` if it does not fit, `dst` then partly written).
pub fn compress_into(method: &Method, src: &[u8], params: &CompressParams, dst: &mut [u8]) -> Result<usize> {
    let method = &as_asked(method, params);
    let job = FrameJob::new(method, src, params)?;
    if params.n_threads <= 1 || job.n_chunks() <= 1 {
        // One chunk's payload at a time, in a buffer reused for every chunk.
        let mut scratch = Vec::new();
        return job.write_into(dst, |i, emit| {
            scratch.clear();
            job.encode(i, &mut scratch)?;
            emit(&scratch)
        });
    }
    let payloads = job.encode_all(params.n_threads)?;
    job.write_into(dst, |i, emit| emit(&payloads[i]))
}

/// Compresses `src` into `out` (cleared first; its allocation is reused).
pub fn compress_to(method: &Method, src: &[u8], params: &CompressParams, out: &mut Vec<u8>) -> Result<()> {
    let method = &as_asked(method, params);
    let job = FrameJob::new(method, src, params)?;
    if params.n_threads <= 1 || job.n_chunks() <= 1 {
        // Payloads go straight into the frame.
        return job.write(out, |i, out| job.encode(i, out));
    }
    let payloads = job.encode_all(params.n_threads)?;
    job.assemble(&payloads, out)
}

/// A frame to be coded: its chunks encode independently (in any order, on any
/// thread) and are then assembled, so callers can spread the chunks of many
/// frames over one pool of workers.
pub struct FrameJob<'a> {
    method: &'a Method,
    src: &'a [u8],
    chunk_size: u32,
    flags: u8,
    kernels: &'static Kernels,
}

impl<'a> FrameJob<'a> {
    pub fn new(method: &'a Method, src: &'a [u8], params: &CompressParams) -> Result<Self> {
        let elem = method.element_size();
        if !(src.len() as u64).is_multiple_of(u64::from(elem)) {
            return Err(Error::InvalidArgument);
        }
        if src.len() as u64 > crate::format::limits::MAX_CONTENT_SIZE {
            return Err(Error::LimitExceeded);
        }
        let chunk_size = params.resolve_chunk_size(elem, method.default_chunk_size(), src.len() as u64)?;
        let kernels = Kernels::resolve(params.isa)?;
        Ok(FrameJob { method, src, chunk_size, flags: params.frame_flags(), kernels })
    }

    pub fn n_chunks(&self) -> usize {
        self.src.len().div_ceil(self.chunk_size as usize)
    }

    /// The uncompressed bytes of chunk `i`.
    pub fn chunk(&self, i: usize) -> &'a [u8] {
        let start = i * self.chunk_size as usize;
        &self.src[start..(start + self.chunk_size as usize).min(self.src.len())]
    }

    /// Appends chunk `i`'s payload to `out`.
    pub fn encode(&self, i: usize, out: &mut Vec<u8>) -> Result<()> {
        codec::encode_chunk(self.method, self.chunk(i), (i * self.chunk_size as usize) as u64, self.kernels, out)
    }

    /// Every chunk's payload, encoded on `threads` threads.
    fn encode_all(&self, threads: u32) -> Result<Vec<Vec<u8>>> {
        let payloads = parallel_map(self.n_chunks(), threads, |i| {
            let mut p = Vec::new();
            self.encode(i, &mut p).map(|()| p)
        })?;
        payloads.into_iter().collect()
    }

    /// Writes the frame from payloads encoded earlier, in chunk order.
    pub fn assemble(&self, payloads: &[Vec<u8>], out: &mut Vec<u8>) -> Result<()> {
        self.write(out, |i, out| {
            out.extend_from_slice(&payloads[i]);
            Ok(())
        })
    }

    fn spec(&self) -> frame::FrameSpec<'a> {
        let m = self.method;
        frame::FrameSpec { codec: m.codec(), codec_param: m.param(), flags: self.flags, content: self.src, chunk_size: self.chunk_size, n_chunks: self.n_chunks() }
    }

    fn write(&self, out: &mut Vec<u8>, payload: impl FnMut(usize, &mut Vec<u8>) -> Result<()>) -> Result<()> {
        frame::write(out, &self.spec(), payload)
    }

    fn write_into(&self, dst: &mut [u8], payload: impl FnMut(usize, &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>) -> Result<usize> {
        frame::write_into(dst, &self.spec(), payload)
    }
}

/// Largest frame `compress` can produce for `len` bytes with any chunk size
/// (codecs that can store chunks verbatim).
pub fn compress_bound(codec: CodecId, len: u64) -> Option<u64> {
    frame::bound(len, crate::format::limits::MIN_CHUNK_SIZE, codec::stored_overhead(codec))
}

/// Parses a frame (header and chunk table) without decoding it.
pub fn parse(src: &[u8]) -> Result<Frame<'_>> {
    frame::parse(src, codec::min_payload)
}

pub fn frame_info(src: &[u8]) -> Result<FrameInfo> {
    let f = parse(src)?;
    Ok(FrameInfo {
        codec: f.header.codec,
        format_version: frame::FORMAT_VERSION,
        has_checksum: f.content_checksum.is_some(),
        content_size: f.header.content_size,
        frame_size: f.frame_size as u64,
        n_chunks: f.header.n_chunks,
        chunk_size: f.header.chunk_size,
    })
}

/// Decodes chunk `c` of frame `f` into `out` (exactly its content length).
///
/// The payload's CRC is checked after decoding, while the payload is still in
/// cache: every decoder is safe on corrupt input, and checking first would cost a
/// separate pass over cold memory. A corrupt payload reports `ChecksumMismatch`
/// whether or not its decoder noticed, and no output counts until it passes.
pub fn decode_chunk(
    f: &Frame<'_>,
    c: &frame::ChunkRef<'_>,
    out: &mut [u8],
    kernels: &Kernels,
    scratch: &mut Scratch,
    verify: bool,
) -> Result<()> {
    decode_payload(f.header.codec, c.payload, c.checksum, out, kernels, scratch, verify)
}

/// Decodes one chunk's `payload` into `out`; with `verify`, a payload whose
/// CRC32C is not `checksum` fails with `ChecksumMismatch` whatever the decoder
/// concluded. The one place that rule lives, for frames and streams alike.
pub fn decode_payload(codec: CodecId, payload: &[u8], checksum: u32, out: &mut [u8], kernels: &Kernels, scratch: &mut Scratch, verify: bool) -> Result<()> {
    if !verify {
        return codec::decode_chunk(codec, payload, out, kernels, scratch);
    }
    // The payload is checksummed as the decoder reads it, while it is in cache.
    let (decoded, crc) = codec::decode_chunk_checked(codec, payload, out, kernels, scratch);
    if crc != checksum {
        return Err(Error::ChecksumMismatch);
    }
    decoded
}

/// Decodes a parsed frame into `dst` (at least its content size); returns the
/// number of bytes written.
pub fn decode_frame(f: &Frame<'_>, dst: &mut [u8], opts: &DecodeOptions) -> Result<usize> {
    let size = usize::try_from(f.header.content_size).map_err(|_| Error::SizeOverflow)?;
    if dst.len() < size {
        return Err(Error::DstTooSmall);
    }
    let kernels = Kernels::resolve(opts.isa)?;
    let dst = &mut dst[..size];
    let mut outs: Vec<&mut [u8]> = Vec::with_capacity(f.chunks.len());
    let mut rest: &mut [u8] = &mut *dst;
    for c in &f.chunks {
        let (head, tail) = rest.split_at_mut(c.content_len);
        outs.push(head);
        rest = tail;
    }
    let jobs: Vec<_> = f.chunks.iter().zip(outs).collect();
    if crate::engine::pool::thread_count(opts.n_threads, jobs.len()) == 1 {
        Scratch::with_local(|scratch| jobs.into_iter().try_for_each(|(c, out)| decode_chunk(f, c, out, kernels, scratch, opts.verify_checksums)))?;
    } else {
        parallel_for_each(jobs, opts.n_threads, Scratch::default, |(c, out), scratch| decode_chunk(f, c, out, kernels, scratch, opts.verify_checksums))?;
    }
    if let Some(expected) = f.content_checksum {
        if opts.verify_checksums && crc32c(dst) != expected {
            return Err(Error::ChecksumMismatch);
        }
    }
    Ok(size)
}

/// Decodes a parsed frame that must span all `src_len` bytes of its source
/// (trailing bytes are reported as corruption).
pub fn decode_exact(f: &Frame<'_>, src_len: usize, dst: &mut [u8], opts: &DecodeOptions) -> Result<usize> {
    if f.frame_size != src_len {
        return Err(Error::Corrupt);
    }
    decode_frame(f, dst, opts)
}

/// Decodes the frame that is exactly `src` into `dst`.
pub fn decompress_into(src: &[u8], dst: &mut [u8], opts: &DecodeOptions) -> Result<usize> {
    let f = parse(src)?;
    decode_exact(&f, src.len(), dst, opts)
}

/// Decodes the frame that is exactly `src` into a new vector (content size
/// checked against `opts.max_output` before allocating).
pub fn decompress(src: &[u8], opts: &DecodeOptions) -> Result<Vec<u8>> {
    let f = parse(src)?;
    if f.frame_size != src.len() {
        return Err(Error::Corrupt);
    }
    if f.header.content_size > opts.max_output {
        return Err(Error::LimitExceeded);
    }
    let size = usize::try_from(f.header.content_size).map_err(|_| Error::SizeOverflow)?;
    let mut out = zeroed_output(size)?;
    decode_frame(&f, &mut out, opts)?;
    Ok(out)
}

/// A zero-filled output buffer, or `Allocation` if the allocator refuses. Zeroed
/// allocation (calloc) maps large buffers lazily, so a hostile input declaring a
/// large size that fails at its first chunk never touches most of the memory.
pub fn zeroed_output(size: usize) -> Result<Vec<u8>> {
    if size == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<u8>(size).map_err(|_| Error::SizeOverflow)?;
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return Err(Error::Allocation);
    }
    // SAFETY: `ptr` comes from the global allocator with exactly this layout
    // (align 1, `size` bytes, all initialised to zero), as `Vec<u8>` requires.
    Ok(unsafe { Vec::from_raw_parts(ptr, size, size) })
}
