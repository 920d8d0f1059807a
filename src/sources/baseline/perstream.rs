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
use crate::codec::zstd_reader::PayloadReader;
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

/// Rebuilds the GGUF. Validated stream by stream: the header, then the GGUF
/// header at the start of the metadata stream, then every declared stream size
/// against what that GGUF implies, and only then are the streams inflated.
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
    let original = usize::try_from(original).map_err(|_| Error::SizeOverflow)?;
    let mut sizes = [(0u64, 0u64); STREAMS];
    for s in &mut sizes {
        *s = (r.u64()?, r.u64()?);
    }
    let sha: [u8; 32] = r.array()?;
    // The streams hold exactly the original bytes.
    if sizes.iter().try_fold(0u64, |a, s| a.checked_add(s.0)) != Some(original as u64) {
        return Err(Error::Corrupt);
    }
    let mut bodies = Vec::with_capacity(STREAMS);
    for &(_, comp) in &sizes {
        bodies.push(r.take(usize::try_from(comp).map_err(|_| Error::Corrupt)?)?);
    }
    if r.remaining() != 0 {
        return Err(Error::Corrupt);
    }
    let raw = |k: usize| sizes[k].0 as usize;
    let mut meta_reader = PayloadReader::new(bodies[META])?;
    let mut meta = Vec::new();
    let pieces = read_meta_header(&mut meta_reader, &mut meta, raw(META), original)?;
    if stream_sizes(&pieces).iter().zip(&sizes).any(|(&want, &(got, _))| want != got) {
        return Err(Error::Corrupt);
    }
    let at = meta.len();
    meta.try_reserve_exact(raw(META) - at).map_err(|_| Error::Allocation)?;
    meta.resize(raw(META), 0);
    meta_reader.read_exact(&mut meta[at..])?;
    meta_reader.finish()?;
    let mut streams: Vec<Vec<u8>> = vec![meta];
    for (k, body) in bodies.iter().enumerate().skip(1) {
        let mut s = crate::engine::frames::zeroed_output(raw(k))?;
        zstd::decode_chunk(body, &mut s)?;
        streams.push(s);
    }
    let mut out = Vec::new();
    out.try_reserve_exact(original).map_err(|_| Error::Allocation)?;
    let mut cursor = [0usize; STREAMS];
    let take = |stream: usize, n: usize, cursor: &mut [usize; STREAMS]| -> Result<std::ops::Range<usize>> {
        let start = cursor[stream];
        let end = start.checked_add(n).filter(|&e| e <= streams[stream].len()).ok_or(Error::Corrupt)?;
        cursor[stream] = end;
        Ok(start..end)
    };
    let mut q4k_blocks_before = 0usize;
    let total_q4k = streams[SCALES_Q4K].len() / 16;
    for &(_, size, stream) in &pieces {
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
    if out.len() != original || Sha256::digest(&out).as_slice() != sha {
        return Err(Error::ChecksumMismatch);
    }
    Ok(out)
}
