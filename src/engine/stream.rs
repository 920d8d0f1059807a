//! Frames as streams: decoding a frame as its bytes arrive (header, chunk
//! table, then payloads in bounded windows, decoded in parallel and written in
//! order), and assembling a frame whose payloads arrive in order.

use super::input::Input;
use super::output::Output;
use super::pipeline::{self, Buffers};
use crate::codec::{self, Method, Scratch};
use crate::error::{Error, Result};
use crate::format::checksum::crc32c;
use crate::format::frame::{self, FrameHeader, CHUNK_ENTRY_SIZE, HEADER_SIZE};
use crate::isa;
use crate::kernels::Kernels;
use crate::params::{CompressParams, DecodeOptions};

/// Bytes of chunks (compressed and decoded) a stream keeps in flight beyond one
/// window of small chunks: large chunks shrink the window down to one.
const WINDOW_BYTES: u64 = 48 << 20;

/// Jobs in flight for `workers` threads and chunks of `chunk_size` bytes.
pub fn window(workers: usize, chunk_size: u64) -> usize {
    let by_bytes = (WINDOW_BYTES / chunk_size.max(1)).max(1) as usize;
    pipeline::window_for(workers).min(by_bytes)
}

/// Where decoded bytes go, in order.
pub type Sink<'s> = &'s mut dyn FnMut(&[u8]) -> Result<()>;

/// What [`decode_frame`] read.
#[derive(Debug, Clone, Copy)]
pub struct Decoded {
    pub header: FrameHeader,
    /// Bytes of input the frame occupied, header included.
    pub frame_size: u64,
}

/// Decodes one frame from `input`, whose 32 header bytes were already read
/// into `header`. Output goes to `sink` in order; `workers` threads decode
/// (0 = the caller's thread). Memory: the chunk table (8 bytes per chunk, read
/// as it arrives) and a window of chunks.
pub fn decode_frame(input: &mut Input<'_>, header: &[u8; HEADER_SIZE], opts: &DecodeOptions, workers: usize, sink: Sink<'_>) -> Result<Decoded> {
    let h = frame::parse_header(header)?;
    let kernels = Kernels::get(isa::resolve(opts.isa)?).ok_or(Error::IsaUnsupported)?;
    let n = h.n_chunks as u64;
    let mut table = Vec::new();
    input.read_into(&mut table, n * CHUNK_ENTRY_SIZE as u64)?;
    let entry = |i: usize| {
        let e = &table[i * CHUNK_ENTRY_SIZE..][..CHUNK_ENTRY_SIZE];
        (u32::from_le_bytes(e[..4].try_into().expect("4")) as usize, u32::from_le_bytes(e[4..].try_into().expect("4")))
    };
    let content_len = |i: usize| (h.content_size - i as u64 * u64::from(h.chunk_size)).min(u64::from(h.chunk_size)) as usize;
    let mut frame_size = (HEADER_SIZE + table.len()) as u64;
    for i in 0..n as usize {
        let (comp, _) = entry(i);
        if comp < codec::min_payload(h.codec, content_len(i)) {
            return Err(Error::Corrupt);
        }
        frame_size += comp as u64;
    }
    let (inputs, outputs) = (Buffers::default(), Buffers::default());
    let mut next = 0usize;
    let mut content_crc = h.has_content_checksum().then(|| crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi));
    let workers = if n > 1 { workers } else { 0 };
    pipeline::run(
        workers,
        window(workers, u64::from(h.chunk_size)),
        || {
            if next == n as usize {
                return Ok(None);
            }
            let (comp, crc) = entry(next);
            let mut payload = inputs.take(0);
            input.read_into(&mut payload, comp as u64)?;
            next += 1;
            Ok(Some((payload, crc, content_len(next - 1))))
        },
        Scratch::default,
        |(payload, crc, len), scratch| {
            let mut out = outputs.take(len);
            let decoded = codec::decode_chunk(h.codec, &payload, &mut out, kernels, scratch);
            let intact = !opts.verify_checksums || crc32c(&payload) == crc;
            inputs.give(payload);
            if !intact {
                return Err(Error::ChecksumMismatch);
            }
            decoded.map(|()| out)
        },
        |out| {
            if let Some(d) = content_crc.as_mut() {
                d.update(&out);
            }
            let r = sink(&out);
            outputs.give(out);
            r
        },
    )?;
    if let Some(d) = content_crc {
        let stored = u32::from_le_bytes(input.array()?);
        frame_size += 4;
        if opts.verify_checksums && d.finalize() as u32 != stored {
            return Err(Error::ChecksumMismatch);
        }
    }
    Ok(Decoded { header: h, frame_size })
}

/// Builds one frame from payloads that arrive in chunk order. On a seekable
/// output the payloads are written as they come and the chunk table (and the
/// `lead` bytes reserved before the frame, e.g. a container's region record)
/// is filled in at the end; otherwise the frame is kept until it is complete.
pub struct FrameAssembler {
    header: [u8; HEADER_SIZE],
    n_chunks: usize,
    table: Vec<u8>,
    lead_len: usize,
    /// Where the lead starts (streamed), or the frame so far (buffered).
    streamed_at: Option<u64>,
    buffer: Vec<u8>,
    payload_bytes: u64,
    content_crc: Option<crc_fast::Digest>,
    /// A content checksum computed by the caller.
    fixed_crc: Option<u32>,
}

impl FrameAssembler {
    pub fn new(out: &mut Output, lead_len: usize, method: &Method, flags: u8, content_size: u64, chunk_size: u32) -> Result<FrameAssembler> {
        let n_chunks = content_size.div_ceil(u64::from(chunk_size));
        let n = u32::try_from(n_chunks).map_err(|_| Error::LimitExceeded)?;
        let header = frame::header_bytes(method.codec(), method.param(), flags, content_size, chunk_size, n);
        let table_len = n_chunks as usize * CHUNK_ENTRY_SIZE;
        let content_crc = (flags & frame::FLAG_CONTENT_CHECKSUM != 0).then(|| crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi));
        let mut a = FrameAssembler { header, n_chunks: n_chunks as usize, table: Vec::with_capacity(table_len), lead_len, streamed_at: None, buffer: Vec::new(), payload_bytes: 0, content_crc, fixed_crc: None };
        if out.seekable() {
            a.streamed_at = Some(out.position());
            out.write_zeros((lead_len + HEADER_SIZE + table_len) as u64)?;
        }
        Ok(a)
    }

    /// Feeds the content a checksum covers (only with the content-checksum flag).
    pub fn content(&mut self, bytes: &[u8]) {
        if let Some(d) = self.content_crc.as_mut() {
            d.update(bytes);
        }
    }

    /// Sets the content checksum instead of feeding the content.
    pub fn set_content_checksum(&mut self, crc: u32) {
        self.fixed_crc = Some(crc);
    }

    pub fn push(&mut self, out: &mut Output, payload: &[u8]) -> Result<()> {
        let size = u32::try_from(payload.len()).map_err(|_| Error::SizeOverflow)?;
        self.table.extend_from_slice(&size.to_le_bytes());
        self.table.extend_from_slice(&crc32c(payload).to_le_bytes());
        self.payload_bytes += payload.len() as u64;
        if self.streamed_at.is_some() {
            out.write(payload)?;
        } else {
            self.buffer.extend_from_slice(payload);
        }
        Ok(())
    }

    /// Completes the frame; `lead(frame_size)` gives the `lead_len` bytes that
    /// go before it. Returns the frame's size.
    pub fn finish(self, out: &mut Output, lead: impl FnOnce(u64) -> Vec<u8>) -> Result<u64> {
        if self.table.len() != self.n_chunks * CHUNK_ENTRY_SIZE {
            return Err(Error::InvalidArgument);
        }
        let checksum = self.content_crc.map(|d| self.fixed_crc.unwrap_or(d.finalize() as u32).to_le_bytes());
        let frame_size = (HEADER_SIZE + self.table.len()) as u64 + self.payload_bytes + checksum.map_or(0, |c| c.len() as u64);
        let lead = lead(frame_size);
        debug_assert_eq!(lead.len(), self.lead_len);
        match self.streamed_at {
            Some(at) => {
                if let Some(c) = checksum {
                    out.write(&c)?;
                }
                let mut head = lead;
                head.extend_from_slice(&self.header);
                head.extend_from_slice(&self.table);
                out.patch(at, &head)?;
            }
            None => {
                out.write(&lead)?;
                out.write(&self.header)?;
                out.write(&self.table)?;
                out.write(&self.buffer)?;
                if let Some(c) = checksum {
                    out.write(&c)?;
                }
            }
        }
        Ok(frame_size)
    }
}

/// Compresses `content_size` bytes of `input` into one frame on `out`, reading
/// and coding a window of chunks at a time on `workers` threads (0 = the
/// caller's). Gives the same bytes as [`super::frames::compress`].
pub fn compress_frame(method: &Method, input: &mut Input<'_>, content_size: u64, params: &CompressParams, workers: usize, out: &mut Output) -> Result<u64> {
    let elem = method.element_size();
    if content_size % u64::from(elem) != 0 {
        return Err(Error::InvalidArgument);
    }
    if content_size > crate::format::limits::MAX_CONTENT_SIZE {
        return Err(Error::LimitExceeded);
    }
    let chunk_size = params.resolve_chunk_size(elem, method.default_chunk_size())?;
    let kernels = Kernels::get(isa::resolve(params.isa)?).ok_or(Error::IsaUnsupported)?;
    let mut a = FrameAssembler::new(out, 0, method, params.frame_flags(), content_size, chunk_size)?;
    let buffers = Buffers::default();
    let mut left = content_size;
    pipeline::run(
        workers,
        window(workers, u64::from(chunk_size)),
        || {
            if left == 0 {
                return Ok(None);
            }
            let len = left.min(u64::from(chunk_size));
            let mut chunk = buffers.take(0);
            input.read_into(&mut chunk, len)?;
            left -= len;
            Ok(Some(chunk))
        },
        || (),
        |chunk: Vec<u8>, ()| {
            let mut p = Vec::new();
            codec::encode_chunk(method, &chunk, kernels, &mut p).map(|()| (chunk, p))
        },
        |(chunk, p)| {
            a.content(&chunk);
            buffers.give(chunk);
            a.push(out, &p)
        },
    )?;
    a.finish(out, |_| Vec::new())
}
