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

use crate::sources::gguf::{parse_prefix, Gguf};
use crate::sources::gguf::types::{F32, Q4_K};
use crate::codec::zstd;
use crate::error::{Error, Result};
use crate::format::bytes::{put_u16, put_u64, ByteReader};
use sha2::{Digest, Sha256};

pub const NAME: &str = "decomp_perstream_zstd19_bg";
pub const MAGIC: [u8; 4] = *b"LLMS";
const STREAMS: usize = 5;
const META: usize = 0;
const NIBBLES_Q4K: usize = 1;
const QUANT_OTHER: usize = 2;
const SCALES_Q4K: usize = 3;
const TENSOR_F32: usize = 4;
const HEADER_SIZE: usize = 4 + 2 + 2 + 8 + STREAMS * 16 + 32;

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

/// Q4_K blocks: 16-byte headers (in block order) to `headers`, quants to `nibbles`.
fn split_q4k(data: &[u8], headers: &mut Vec<u8>, nibbles: &mut Vec<u8>) {
    for block in data.chunks_exact(144) {
        headers.extend_from_slice(&block[..16]);
        nibbles.extend_from_slice(&block[16..]);
    }
}

/// Byte grouping over all Q4_K blocks of the file: byte p of every block, p = 0..16.
fn group_bytes(headers: &[u8]) -> Vec<u8> {
    let n = headers.len() / 16;
    (0..16).flat_map(|p| (0..n).map(move |k| headers[16 * k + p])).collect()
}

pub fn compress(file: &[u8], level: i32) -> Result<Vec<u8>> {
    let g = crate::sources::gguf::parse(file)?;
    let mut streams: [Vec<u8>; STREAMS] = Default::default();
    let mut q4k_headers = Vec::new();
    for (offset, size, stream) in pieces(&g)? {
        let data = &file[offset as usize..(offset + size) as usize];
        if stream == NIBBLES_Q4K {
            split_q4k(data, &mut q4k_headers, &mut streams[NIBBLES_Q4K]);
        } else {
            streams[stream].extend_from_slice(data);
        }
    }
    streams[SCALES_Q4K] = group_bytes(&q4k_headers);
    let mut frames: Vec<Vec<u8>> = Vec::with_capacity(STREAMS);
    for s in &streams {
        let mut f = Vec::new();
        zstd::encode_chunk(s, level, &mut f)?;
        frames.push(f);
    }
    let mut out = Vec::with_capacity(HEADER_SIZE + frames.iter().map(Vec::len).sum::<usize>());
    out.extend_from_slice(&MAGIC);
    put_u16(&mut out, 1);
    put_u16(&mut out, 0);
    put_u64(&mut out, file.len() as u64);
    for (s, f) in streams.iter().zip(&frames) {
        put_u64(&mut out, s.len() as u64);
        put_u64(&mut out, f.len() as u64);
    }
    out.extend_from_slice(&Sha256::digest(file));
    for f in &frames {
        out.extend_from_slice(f);
    }
    Ok(out)
}

pub fn decompress(data: &[u8], max_output: u64) -> Result<Vec<u8>> {
    let mut r = ByteReader::new(data);
    if r.array::<4>()? != MAGIC {
        return Err(Error::BadMagic);
    }
    if r.u16()? != 1 || r.u16()? != 0 {
        return Err(Error::VersionUnsupported);
    }
    let original = r.u64()?;
    if original > max_output {
        return Err(Error::LimitExceeded);
    }
    let mut sizes = [(0u64, 0u64); STREAMS];
    for s in &mut sizes {
        *s = (r.u64()?, r.u64()?);
    }
    let sha: [u8; 32] = r.array()?;
    // The streams hold exactly the original bytes.
    if sizes.iter().try_fold(0u64, |a, s| a.checked_add(s.0)) != Some(original) {
        return Err(Error::Corrupt);
    }
    let mut streams: Vec<Vec<u8>> = Vec::with_capacity(STREAMS);
    for &(raw, comp) in &sizes {
        let body = r.take(usize::try_from(comp).map_err(|_| Error::Corrupt)?)?;
        let mut s = crate::engine::frames::zeroed_output(usize::try_from(raw).map_err(|_| Error::SizeOverflow)?)?;
        zstd::decode_chunk(body, &mut s)?;
        streams.push(s);
    }
    if r.remaining() != 0 {
        return Err(Error::Corrupt);
    }
    let g = parse_prefix(&streams[META], usize::try_from(original).map_err(|_| Error::SizeOverflow)?)?;
    let mut out = Vec::new();
    out.try_reserve_exact(original as usize).map_err(|_| Error::Allocation)?;
    let mut cursor = [0usize; STREAMS];
    let take = |stream: usize, n: usize, cursor: &mut [usize; STREAMS]| -> Result<std::ops::Range<usize>> {
        let start = cursor[stream];
        let end = start.checked_add(n).filter(|&e| e <= streams[stream].len()).ok_or(Error::Corrupt)?;
        cursor[stream] = end;
        Ok(start..end)
    };
    let mut q4k_blocks_before = 0usize;
    let total_q4k = streams[SCALES_Q4K].len() / 16;
    for (_, size, stream) in pieces(&g)? {
        let size = size as usize;
        if stream == NIBBLES_Q4K {
            let n = size / 144;
            let qs = take(NIBBLES_Q4K, 128 * n, &mut cursor)?;
            if q4k_blocks_before + n > total_q4k {
                return Err(Error::Corrupt);
            }
            for k in 0..n {
                for p in 0..16 {
                    out.push(streams[SCALES_Q4K][p * total_q4k + q4k_blocks_before + k]);
                }
                out.extend_from_slice(&streams[NIBBLES_Q4K][qs.start + 128 * k..qs.start + 128 * (k + 1)]);
            }
            q4k_blocks_before += n;
        } else {
            let range = take(stream, size, &mut cursor)?;
            out.extend_from_slice(&streams[stream][range]);
        }
    }
    if out.len() as u64 != original || Sha256::digest(&out).as_slice() != sha {
        return Err(Error::ChecksumMismatch);
    }
    Ok(out)
}
