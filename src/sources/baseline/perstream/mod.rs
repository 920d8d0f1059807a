//! The paper's method, `decomp_perstream_zstd19_bg`, kept so users can compare: the
//! GGUF is cut into five streams — every non-tensor byte (header, key-values,
//! tensor infos, padding), Q4_K quant nibbles, the other quantised tensors, Q4_K
//! block headers byte-grouped (byte 0 of every block, then byte 1, ...), F32
//! tensors — and each is compressed whole with zstd at level 19. No random access.
//!
//! ```text
//! magic "LLMS", u16 version 1, u16 reserved, u64 original size,
//! 5 × {u64 stream size, u64 compressed size}, 32-byte SHA-256 of the original,
//! then the five zstd frames in that order.
//! ```
//! The decoder parses the GGUF header at the start of the first stream to learn how
//! the streams interleave.
//!
//! Both directions stream (the format itself does not: its streams follow one
//! another, while the original interleaves them): the encoder reads its input
//! once per stream at known offsets and compresses each stream as it reads it
//! ([`encode`]); the decoder keeps a reader open on each stream — sixteen on the
//! byte-grouped Q4_K headers, one per byte position — and writes the original
//! in order ([`decode`]). Memory stays bounded (zstd windows and small buffers)
//! whatever the file's size; both need their input at random offsets (a file).

mod decode;
mod encode;

pub use decode::decode;
pub use encode::compress_to;

use crate::codec::zstd_reader::{PayloadReader, SliceAt};
use crate::engine::output::Output;
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use crate::sources::gguf::types::{F32, Q4_K};
use crate::sources::gguf::{parse_prefix, Gguf};

pub const NAME: &str = "decomp_perstream_zstd19_bg";
pub const MAGIC: [u8; 4] = *b"LLMS";
const STREAMS: usize = 5;
const META: usize = 0;
const NIBBLES_Q4K: usize = 1;
const QUANT_OTHER: usize = 2;
const SCALES_Q4K: usize = 3;
const TENSOR_F32: usize = 4;
const HEADER_SIZE: usize = 4 + 2 + 2 + 8 + STREAMS * 16 + 32;
/// Bytes of a Q4_K block: 16 of header (d, dmin, scales), 128 of quants.
const Q4K_BLOCK: u64 = 144;
const Q4K_HEADER: u64 = 16;

/// The file's pieces in order: `(offset, size, stream)`.
fn pieces(g: &Gguf<'_>) -> Result<Vec<(u64, u64, usize)>> {
    let mut order: Vec<_> = g.tensors.iter().collect();
    order.sort_by_key(|t| t.abs_offset);
    let mut out = Vec::new();
    let mut at = 0u64;
    for t in order {
        let size = t.nbytes.ok_or(Error::GgufInvalid)? as u64;
        let start = t.abs_offset as u64;
        if start < at {
            return Err(Error::GgufInvalid);
        }
        if start > at {
            out.push((at, start - at, META));
        }
        let stream = match t.ggml_type {
            Q4_K => NIBBLES_Q4K,
            F32 => TENSOR_F32,
            _ => QUANT_OTHER,
        };
        out.push((start, size, stream));
        at = start + size;
    }
    let file_len = g.file_len as u64;
    if at < file_len {
        out.push((at, file_len - at, META));
    }
    Ok(out)
}

/// Names of the five streams, in file order.
pub const STREAM_NAMES: [&str; STREAMS] = ["non-tensor bytes", "Q4_K quants", "other quantised tensors", "Q4_K block headers (byte-grouped)", "F32 tensors"];

/// What a per-stream file's header says: the original size and, per stream,
/// its size and compressed size. Checks the magic, version and that the
/// compressed streams fill the file exactly; nothing is inflated.
pub fn header(data: &[u8]) -> Result<(u64, [(u64, u64); STREAMS])> {
    let mut r = ByteReader::new(data);
    if r.array::<4>()? != MAGIC {
        return Err(Error::BadMagic);
    }
    if r.u16()? != 1 || r.u16()? != 0 {
        return Err(Error::VersionUnsupported);
    }
    let original = r.u64()?;
    let mut sizes = [(0u64, 0u64); STREAMS];
    for s in &mut sizes {
        *s = (r.u64()?, r.u64()?);
    }
    r.array::<32>()?;
    let comp = sizes.iter().try_fold(0u64, |a, s| a.checked_add(s.1)).ok_or(Error::Corrupt)?;
    if comp != r.remaining() as u64 {
        return Err(if comp > r.remaining() as u64 { Error::SrcTruncated } else { Error::Corrupt });
    }
    Ok((original, sizes))
}

/// What each stream must hold for a file with these pieces: every size the
/// header declares is checked against it before the streams are inflated.
fn stream_sizes(pieces: &[(u64, u64, usize)]) -> [u64; STREAMS] {
    let mut sizes = [0u64; STREAMS];
    for &(_, size, stream) in pieces {
        if stream == NIBBLES_Q4K {
            sizes[NIBBLES_Q4K] += size / 144 * 128;
            sizes[SCALES_Q4K] += size / 144 * 16;
        } else {
            sizes[stream] += size;
        }
    }
    sizes
}

/// First bytes of the metadata stream tried for its GGUF header, doubled until
/// the header parses (so a stream that is not a GGUF is refused after 64 KiB).
const FIRST_LOOK: usize = 64 << 10;

/// Inflates the start of the metadata stream until its GGUF header parses,
/// and returns the file's pieces. Any error from the header is `GgufInvalid`
/// (the file is damaged or forged: its first stream is no GGUF header).
fn read_meta_header(reader: &mut PayloadReader<'_>, meta: &mut Vec<u8>, meta_size: usize, original: usize) -> Result<Vec<(u64, u64, usize)>> {
    let mut want = FIRST_LOOK.min(meta_size);
    loop {
        let at = meta.len();
        meta.try_reserve_exact(want - at).map_err(|_| Error::Allocation)?;
        meta.resize(want, 0);
        reader.read_exact(&mut meta[at..])?;
        match parse_prefix(meta, original) {
            Err(Error::SrcTruncated) if want < meta_size => want = want.saturating_mul(2).min(meta_size),
            Err(Error::LimitExceeded) => return Err(Error::LimitExceeded),
            Err(_) => return Err(Error::GgufInvalid),
            Ok(g) => return pieces(&g).map_err(|_| Error::GgufInvalid),
        }
    }
}


/// Compresses a GGUF file held in memory (see [`compress_to`]).
pub fn compress(file: &[u8], level: i32) -> Result<Vec<u8>> {
    let mut out = Output::memory();
    compress_to(&SliceAt(file), level, &mut out)?;
    Ok(out.into_vec())
}

/// Rebuilds the GGUF from a per-stream file held in memory, checked against
/// its SHA-256 (see [`decode`]).
pub fn decompress(data: &[u8], max_output: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    decode(&SliceAt(data), max_output, &mut |b: &[u8]| {
        out.try_reserve(b.len()).map_err(|_| Error::Allocation)?;
        out.extend_from_slice(b);
        Ok(())
    })?;
    Ok(out)
}
