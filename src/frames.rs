//! Whole frames: chunking, threads, checksums and codec dispatch.

use crate::codec::{self, Method, Scratch};
use crate::error::{Error, Result};
use crate::format::checksum::crc32c;
use crate::format::frame::{self, CodecId, Frame};
use crate::isa::{self, Isa};
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

/// Runs `work(i)` for `i in 0..n` on up to `n_threads` scoped threads (the caller's
/// thread alone when `n_threads <= 1`) and returns results in index order.
pub(crate) fn parallel_map<T: Send>(n: usize, n_threads: u32, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = (n_threads.max(1) as usize).min(n.max(1));
    if threads == 1 {
        return (0..n).map(&work).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = work(i);
                slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results.into_iter().map(|r| r.expect("every index was processed")).collect()
}

/// Compresses `src` into one frame.
pub fn compress(method: &Method, src: &[u8], params: &CompressParams) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    compress_to(method, src, params, &mut out)?;
    Ok(out)
}

/// Compresses `src` into `out` (cleared first; its allocation is reused).
pub fn compress_to(method: &Method, src: &[u8], params: &CompressParams, out: &mut Vec<u8>) -> Result<()> {
    let elem = method.element_size();
    if src.len() as u64 % u64::from(elem) != 0 {
        return Err(Error::InvalidArgument);
    }
    if src.len() as u64 > crate::format::limits::MAX_CONTENT_SIZE {
        return Err(Error::LimitExceeded);
    }
    let chunk_size = params.resolve_chunk_size(elem, method.default_chunk_size())?;
    let kernels = Kernels::get(isa::resolve(params.isa)?).ok_or(Error::IsaUnsupported)?;
    let chunks: Vec<&[u8]> = src.chunks(chunk_size as usize).collect();
    let (codec, param, flags) = (method.codec(), method.param(), params.frame_flags());
    if params.n_threads <= 1 || chunks.len() <= 1 {
        // Payloads go straight into the frame.
        return frame::write(out, codec, param, flags, src, chunk_size, chunks.len(), |i, out| {
            codec::encode_chunk(method, chunks[i], kernels, out)
        });
    }
    let payloads = parallel_map(chunks.len(), params.n_threads, |i| {
        let mut p = Vec::new();
        codec::encode_chunk(method, chunks[i], kernels, &mut p).map(|()| p)
    });
    let payloads = payloads.into_iter().collect::<Result<Vec<_>>>()?;
    frame::write(out, codec, param, flags, src, chunk_size, chunks.len(), |i, out| {
        out.extend_from_slice(&payloads[i]);
        Ok(())
    })
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
    let decoded = codec::decode_chunk(f.header.codec, c.payload, out, kernels, scratch);
    if verify {
        c.verify()?;
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
    let isa: Isa = isa::resolve(opts.isa)?;
    let kernels = Kernels::get(isa).ok_or(Error::IsaUnsupported)?;
    let dst = &mut dst[..size];
    let mut outs: Vec<&mut [u8]> = Vec::with_capacity(f.chunks.len());
    let mut rest: &mut [u8] = &mut *dst;
    for c in &f.chunks {
        let (head, tail) = rest.split_at_mut(c.content_len);
        outs.push(head);
        rest = tail;
    }
    let decode_one = |c: &frame::ChunkRef<'_>, out: &mut [u8], scratch: &mut Scratch| -> Result<()> {
        decode_chunk(f, c, out, kernels, scratch, opts.verify_checksums)
    };
    let threads = (opts.n_threads.max(1) as usize).min(f.chunks.len().max(1));
    if threads == 1 {
        let mut scratch = Scratch::default();
        for (c, out) in f.chunks.iter().zip(outs) {
            decode_one(c, out, &mut scratch)?;
        }
    } else {
        // Contiguous runs of chunks per thread; the first error in chunk order wins.
        let per = f.chunks.len().div_ceil(threads);
        let mut work: Vec<Vec<(&frame::ChunkRef<'_>, &mut [u8])>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, pair) in f.chunks.iter().zip(outs).enumerate() {
            work[i / per].push(pair);
        }
        let results: Vec<Result<()>> = std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .into_iter()
                .map(|items| {
                    scope.spawn(move || {
                        let mut scratch = Scratch::default();
                        for (c, out) in items {
                            decode_one(c, out, &mut scratch)?;
                        }
                        Ok(())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(Err(Error::Panic))).collect()
        });
        results.into_iter().collect::<Result<Vec<()>>>()?;
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
    let mut out = Vec::new();
    out.try_reserve_exact(size).map_err(|_| Error::Allocation)?;
    out.resize(size, 0);
    decode_frame(&f, &mut out, opts)?;
    Ok(out)
}
