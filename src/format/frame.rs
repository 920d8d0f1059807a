//! The `LLMF` frame: a self-describing sequence of independently decodable chunks.
//!
//! ```text
//! offset size field
//!  0      4   magic "LLMF"
//!  4      2   format version (1)
//!  6      1   codec id (1 bf16, 2 q4k, 3 zstd, 4 stored, 5 fields)
//!  7      1   flags: bits 0-3 must be understood, bits 4-7 may be ignored
//!  8      8   content size (uncompressed bytes)
//! 16      4   chunk size (uncompressed bytes per chunk; the last may be shorter)
//! 20      4   number of chunks (= ceil(content size / chunk size))
//! 24      4   codec parameter (informational: level used)
//! 28      4   header check: CRC32C of bytes 0..28
//! 32   8*n    chunk table: {u32 compressed size, u32 CRC32C of the payload}
//!  ..         chunk payloads, in order, unpadded
//!  ..     4   content checksum (CRC32C of the whole content), only with flag bit 0
//! ```
//! All integers are little-endian. See FORMAT.md for the codec payloads.

use super::bytes::{put_u16, put_u32, put_u64, ByteReader};
use super::checksum::crc32c;
use super::limits::{MAX_CHUNK_SIZE, MAX_CONTENT_SIZE, MIN_CHUNK_SIZE};
use crate::error::{Error, Result};

pub const FRAME_MAGIC: [u8; 4] = *b"LLMF";
pub use super::abi::CodecId;

impl CodecId {
    /// Every codec, for tables and tests.
    pub const ALL: [CodecId; 5] = [CodecId::Bf16, CodecId::Q4k, CodecId::Zstd, CodecId::Stored, CodecId::Fields];
}
use super::abi::{LLMC_FORMAT_VERSION_MAX, LLMC_FORMAT_VERSION_MIN};

/// The version this library writes (the newest it reads).
pub const FORMAT_VERSION: u16 = LLMC_FORMAT_VERSION_MAX as u16;
pub const FORMAT_VERSION_MIN: u16 = LLMC_FORMAT_VERSION_MIN as u16;
pub const FORMAT_VERSION_MAX: u16 = LLMC_FORMAT_VERSION_MAX as u16;
pub const HEADER_SIZE: usize = 32;
pub const CHUNK_ENTRY_SIZE: usize = 8;

/// Flag bit 0 (must be understood): a CRC32C of the content follows the payloads.
pub const FLAG_CONTENT_CHECKSUM: u8 = 1 << 0;
const REQUIRED_FLAG_BITS: u8 = 0x0f;
const KNOWN_REQUIRED_FLAGS: u8 = FLAG_CONTENT_CHECKSUM;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub codec: CodecId,
    pub flags: u8,
    pub content_size: u64,
    pub chunk_size: u32,
    pub n_chunks: u32,
    pub codec_param: u32,
}

impl FrameHeader {
    pub fn has_content_checksum(&self) -> bool {
        self.flags & FLAG_CONTENT_CHECKSUM != 0
    }
}

/// One chunk of a parsed frame.
#[derive(Debug, Clone, Copy)]
pub struct ChunkRef<'a> {
    pub payload: &'a [u8],
    pub checksum: u32,
    /// Where the chunk's content starts in the uncompressed output.
    pub content_offset: u64,
    pub content_len: usize,
}

impl ChunkRef<'_> {
    pub fn verify(&self) -> Result<()> {
        if crc32c(self.payload) == self.checksum {
            Ok(())
        } else {
            Err(Error::ChecksumMismatch)
        }
    }
}

#[derive(Debug, Clone)]
pub struct Frame<'a> {
    pub header: FrameHeader,
    pub chunks: Vec<ChunkRef<'a>>,
    pub content_checksum: Option<u32>,
    /// Bytes of `src` this frame occupies.
    pub frame_size: usize,
}

/// Reads and validates a frame header without touching the chunk table.
pub fn parse_header(src: &[u8]) -> Result<FrameHeader> {
    if src.len() < FRAME_MAGIC.len() {
        return Err(Error::SrcTruncated);
    }
    if src[..4] != FRAME_MAGIC {
        return Err(Error::BadMagic);
    }
    if src.len() < HEADER_SIZE {
        return Err(Error::SrcTruncated);
    }
    let mut r = ByteReader::new(&src[..HEADER_SIZE]);
    r.take(4)?;
    let version = r.u16()?;
    let codec = r.u8()?;
    let flags = r.u8()?;
    let content_size = r.u64()?;
    let chunk_size = r.u32()?;
    let n_chunks = r.u32()?;
    let codec_param = r.u32()?;
    let check = r.u32()?;
    if crc32c(&src[..28]) != check {
        return Err(Error::ChecksumMismatch);
    }
    if !(FORMAT_VERSION_MIN..=FORMAT_VERSION_MAX).contains(&version) {
        return Err(Error::VersionUnsupported);
    }
    if flags & REQUIRED_FLAG_BITS & !KNOWN_REQUIRED_FLAGS != 0 {
        return Err(Error::VersionUnsupported);
    }
    let codec = CodecId::from_u8(codec).ok_or(Error::CodecUnsupported)?;
    if content_size > MAX_CONTENT_SIZE {
        return Err(Error::LimitExceeded);
    }
    let elem = u64::from(codec.element_size());
    if content_size % elem != 0
        || !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size)
        || u64::from(chunk_size) % elem != 0
    {
        return Err(Error::Corrupt);
    }
    if u64::from(n_chunks) != content_size.div_ceil(u64::from(chunk_size)) {
        return Err(Error::Corrupt);
    }
    Ok(FrameHeader { codec, flags, content_size, chunk_size, n_chunks, codec_param })
}

/// Parses a whole frame: header, chunk table, payload slices. `min_payload`
/// gives, per codec, the smallest payload that can hold `content_len` bytes; a
/// table that claims more content than its payloads can justify is rejected
/// before any output is allocated.
pub fn parse(src: &[u8], min_payload: fn(CodecId, usize) -> usize) -> Result<Frame<'_>> {
    let header = parse_header(src)?;
    let n = header.n_chunks as usize;
    let table_len = n.checked_mul(CHUNK_ENTRY_SIZE).ok_or(Error::SizeOverflow)?;
    let mut table = ByteReader::new(&src[HEADER_SIZE..]);
    let table = ByteReader::new(table.take(table_len)?);
    let mut table = table;
    let mut pos = HEADER_SIZE + table_len;
    let mut chunks = Vec::with_capacity(n);
    let mut content_offset = 0u64;
    for _ in 0..n {
        let comp = table.u32()? as usize;
        let checksum = table.u32()?;
        let end = pos.checked_add(comp).ok_or(Error::SizeOverflow)?;
        let payload = src.get(pos..end).ok_or(Error::SrcTruncated)?;
        let content_len = (header.content_size - content_offset).min(u64::from(header.chunk_size)) as usize;
        if comp < min_payload(header.codec, content_len) {
            return Err(Error::Corrupt);
        }
        chunks.push(ChunkRef { payload, checksum, content_offset, content_len });
        content_offset += content_len as u64;
        pos = end;
    }
    let content_checksum = if header.has_content_checksum() {
        let mut r = ByteReader::new(src.get(pos..).unwrap_or(&[]));
        let c = r.u32()?;
        pos += 4;
        Some(c)
    } else {
        None
    };
    Ok(Frame { header, chunks, content_checksum, frame_size: pos })
}

/// What a frame writer needs besides the payloads: the header's fields and
/// the content (for its size and, with the flag, its checksum).
pub struct FrameSpec<'a> {
    pub codec: CodecId,
    pub codec_param: u32,
    pub flags: u8,
    pub content: &'a [u8],
    pub chunk_size: u32,
    pub n_chunks: usize,
}

impl FrameSpec<'_> {
    fn header(&self) -> [u8; HEADER_SIZE] {
        header_bytes(self.codec, self.codec_param, self.flags, self.content.len() as u64, self.chunk_size, self.n_chunks as u32)
    }
}

/// Writes a frame into `out` (cleared first): header and chunk table, then the
/// payloads that `payload(i, out)` appends for each chunk `i` in order.
pub fn write(out: &mut Vec<u8>, spec: &FrameSpec<'_>, mut payload: impl FnMut(usize, &mut Vec<u8>) -> crate::error::Result<()>) -> crate::error::Result<()> {
    let &FrameSpec { flags, content, n_chunks, .. } = spec;
    out.clear();
    // Room for every chunk stored (a mode byte each) and the checksum: one
    // allocation instead of a copy per doubling. Untouched pages cost nothing.
    out.reserve(HEADER_SIZE + n_chunks * (CHUNK_ENTRY_SIZE + 1) + content.len() + 4);
    out.extend_from_slice(&spec.header());
    let table = out.len();
    out.resize(table + n_chunks * CHUNK_ENTRY_SIZE, 0);
    for i in 0..n_chunks {
        let start = out.len();
        payload(i, out)?;
        let size = u32::try_from(out.len() - start).map_err(|_| crate::error::Error::SizeOverflow)?;
        let crc = crc32c(&out[start..]);
        let e = table + i * CHUNK_ENTRY_SIZE;
        out[e..e + 4].copy_from_slice(&size.to_le_bytes());
        out[e + 4..e + 8].copy_from_slice(&crc.to_le_bytes());
    }
    if flags & FLAG_CONTENT_CHECKSUM != 0 {
        put_u32(out, crc32c(content));
    }
    Ok(())
}

/// [`write`] into a caller's buffer `dst`: `payload(i, emit)` hands chunk `i`'s
/// payload to `emit`, which copies it into place and records its size and
/// CRC. A frame of any size then costs no buffer of its own and no copy of the
/// whole (for a 23 MB tensor through the C API those were 15 % of its encode
/// time, and as much memory as the frame). Returns the frame's size, or
/// `DstTooSmall` as soon as a piece does not fit (`dst` is then partly written).
pub fn write_into(dst: &mut [u8], spec: &FrameSpec<'_>, mut payload: impl FnMut(usize, &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>) -> Result<usize> {
    let &FrameSpec { flags, content, n_chunks, .. } = spec;
    let table = HEADER_SIZE;
    let mut at = n_chunks.checked_mul(CHUNK_ENTRY_SIZE).and_then(|t| t.checked_add(table)).ok_or(Error::SizeOverflow)?;
    let head = dst.get_mut(..at).ok_or(Error::DstTooSmall)?;
    head[..HEADER_SIZE].copy_from_slice(&spec.header());
    for i in 0..n_chunks {
        let mut entry = None;
        payload(i, &mut |bytes: &[u8]| {
            dst.get_mut(at..at + bytes.len()).ok_or(Error::DstTooSmall)?.copy_from_slice(bytes);
            entry = Some((u32::try_from(bytes.len()).map_err(|_| Error::SizeOverflow)?, crc32c(bytes)));
            at += bytes.len();
            Ok(())
        })?;
        let (size, crc) = entry.expect("every chunk's payload is emitted");
        let e = table + i * CHUNK_ENTRY_SIZE;
        dst[e..e + 4].copy_from_slice(&size.to_le_bytes());
        dst[e + 4..e + 8].copy_from_slice(&crc.to_le_bytes());
    }
    if flags & FLAG_CONTENT_CHECKSUM != 0 {
        dst.get_mut(at..at + 4).ok_or(Error::DstTooSmall)?.copy_from_slice(&crc32c(content).to_le_bytes());
        at += 4;
    }
    Ok(at)
}

/// The 32-byte frame header for these fields (its check included).
pub fn header_bytes(codec: CodecId, codec_param: u32, flags: u8, content_size: u64, chunk_size: u32, n_chunks: u32) -> [u8; HEADER_SIZE] {
    let mut h = Vec::with_capacity(HEADER_SIZE);
    h.extend_from_slice(&FRAME_MAGIC);
    put_u16(&mut h, FORMAT_VERSION);
    h.push(codec as u8);
    h.push(flags);
    put_u64(&mut h, content_size);
    put_u32(&mut h, chunk_size);
    put_u32(&mut h, n_chunks);
    put_u32(&mut h, codec_param);
    let check = crc32c(&h);
    put_u32(&mut h, check);
    h.try_into().expect("32 bytes")
}

/// Upper bound of a frame's size for `content_len` bytes when every chunk may
/// fall back to storing (`stored_overhead` bytes per chunk beyond the content).
pub fn bound(content_len: u64, chunk_size: u32, stored_overhead: u64) -> Option<u64> {
    let n = content_len.div_ceil(u64::from(chunk_size));
    let per_chunk = CHUNK_ENTRY_SIZE as u64 + stored_overhead;
    (HEADER_SIZE as u64 + 4).checked_add(n.checked_mul(per_chunk)?)?.checked_add(content_len)
}
