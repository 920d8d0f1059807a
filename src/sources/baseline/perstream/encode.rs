//! Writing a per-stream file in one pass per stream: each stream is read from
//! the input at the offsets the GGUF header gives and compressed as it is read,
//! one zstd context at a time; nothing grows with the file.

use super::{pieces, stream_sizes, HEADER_SIZE, MAGIC, NIBBLES_Q4K, Q4K_BLOCK, Q4K_HEADER, SCALES_Q4K, STREAMS};
use crate::codec::zstd::StreamEncoder;
use crate::codec::zstd_reader::ReadAt;
use crate::engine::output::Output;
use crate::error::{Error, Result};
use crate::format::bytes::{put_u16, put_u64};
use crate::sources::gguf::parse_prefix;
use sha2::{Digest, Sha256};

/// Input bytes read at a time: a whole number of Q4_K blocks, about 1 MiB.
const WINDOW: u64 = Q4K_BLOCK * 7282;
/// Largest GGUF header read to find the pieces.
const MAX_METADATA: u64 = 1 << 30;

type Sink<'a> = &'a mut dyn FnMut(&[u8]) -> Result<()>;

/// The file's pieces, from its GGUF header (read in growing prefixes).
fn plan(src: &dyn ReadAt) -> Result<Vec<(u64, u64, usize)>> {
    let len = src.size();
    let original = usize::try_from(len).map_err(|_| Error::SizeOverflow)?;
    let mut want = len.min(1 << 20);
    loop {
        let mut head = vec![0u8; want as usize];
        src.read_exact_at(&mut head, 0)?;
        match parse_prefix(&head, original) {
            Err(Error::SrcTruncated) if want < len.min(MAX_METADATA) => want = (want * 4).min(len).min(MAX_METADATA),
            Err(e) => return Err(e),
            Ok(g) => return pieces(&g),
        }
    }
}

/// Hands stream `k`'s raw bytes to `f`, in order, a window at a time.
fn feed(src: &dyn ReadAt, pieces: &[(u64, u64, usize)], k: usize, f: Sink<'_>) -> Result<()> {
    let (mut buf, mut picked) = (Vec::new(), Vec::new());
    let q4k = k == NIBBLES_Q4K || k == SCALES_Q4K;
    // The block headers are byte-grouped: byte 0 of every block, then byte 1...
    let passes = if k == SCALES_Q4K { Q4K_HEADER as usize } else { 1 };
    for byte in 0..passes {
        for &(offset, size, stream) in pieces.iter().filter(|p| if q4k { p.2 == NIBBLES_Q4K } else { p.2 == k }) {
            let size = if stream == NIBBLES_Q4K { size / Q4K_BLOCK * Q4K_BLOCK } else { size };
            let mut at = 0;
            while at < size {
                let n = (size - at).min(WINDOW);
                buf.resize(n as usize, 0);
                src.read_exact_at(&mut buf, offset + at)?;
                at += n;
                let blocks = buf.chunks_exact(Q4K_BLOCK as usize);
                match k {
                    SCALES_Q4K => {
                        picked.clear();
                        picked.extend(blocks.map(|b| b[byte]));
                    }
                    NIBBLES_Q4K => {
                        picked.clear();
                        blocks.for_each(|b| picked.extend_from_slice(&b[Q4K_HEADER as usize..]));
                    }
                    _ => {
                        f(&buf)?;
                        continue;
                    }
                }
                f(&picked)?;
            }
        }
    }
    Ok(())
}

/// Writes stream `k`'s payload (mode byte, then its zstd frame, or the bytes
/// themselves when zstd would not shrink them — `stored` says which) to
/// `sink`; returns the payload's size.
fn payload(src: &dyn ReadAt, pieces: &[(u64, u64, usize)], k: usize, raw: u64, level: i32, stored: bool, sink: Sink<'_>) -> Result<u64> {
    if stored {
        sink(&[0])?;
        feed(src, pieces, k, sink)?;
        return Ok(1 + raw);
    }
    sink(&[1])?;
    let mut z = StreamEncoder::new(level, raw)?;
    feed(src, pieces, k, &mut |b: &[u8]| z.write(b, &mut *sink))?;
    Ok(1 + z.finish(sink)?)
}

/// Compresses the GGUF file `src` at zstd `level` into `out`. A seekable
/// output gets its header written last; any other output is coded twice — the
/// sizes first, then the header and the streams — so that nothing is held.
pub fn compress_to(src: &dyn ReadAt, level: i32, out: &mut Output) -> Result<()> {
    let pieces = plan(src)?;
    let raw = stream_sizes(&pieces);
    let io = |_| Error::Io;
    let mut sizes = [0u64; STREAMS];
    let mut stored = [false; STREAMS];
    let start = out.position();
    if out.seekable() {
        out.write(&[0u8; HEADER_SIZE]).map_err(io)?;
        for k in 0..STREAMS {
            let at = out.position();
            sizes[k] = payload(src, &pieces, k, raw[k], level, false, &mut |b| out.write(b).map_err(io))?;
            if sizes[k] > raw[k] {
                // zstd did not shrink it: stored, as `zstd::encode_chunk` does.
                out.truncate(at).map_err(io)?;
                stored[k] = true;
                sizes[k] = payload(src, &pieces, k, raw[k], level, true, &mut |b| out.write(b).map_err(io))?;
            }
        }
        out.patch(start, &header(src, &raw, &sizes)?).map_err(io)?;
    } else {
        for k in 0..STREAMS {
            sizes[k] = payload(src, &pieces, k, raw[k], level, false, &mut |_| Ok(()))?;
            if sizes[k] > raw[k] {
                stored[k] = true;
                sizes[k] = 1 + raw[k];
            }
        }
        out.write(&header(src, &raw, &sizes)?).map_err(io)?;
        for k in 0..STREAMS {
            payload(src, &pieces, k, raw[k], level, stored[k], &mut |b| out.write(b).map_err(io))?;
        }
    }
    Ok(())
}

/// The file header: magic, version, sizes, and the SHA-256 of the original
/// (read once more, in windows).
fn header(src: &dyn ReadAt, raw: &[u64; STREAMS], sizes: &[u64; STREAMS]) -> Result<Vec<u8>> {
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; WINDOW as usize];
    let mut at = 0;
    while at < src.size() {
        let n = (src.size() - at).min(WINDOW) as usize;
        src.read_exact_at(&mut buf[..n], at)?;
        sha.update(&buf[..n]);
        at += n as u64;
    }
    let mut h = Vec::with_capacity(HEADER_SIZE);
    h.extend_from_slice(&MAGIC);
    put_u16(&mut h, 1);
    put_u16(&mut h, 0);
    put_u64(&mut h, src.size());
    for k in 0..STREAMS {
        put_u64(&mut h, raw[k]);
        put_u64(&mut h, sizes[k]);
    }
    h.extend_from_slice(&sha.finalize());
    debug_assert_eq!(h.len(), HEADER_SIZE);
    Ok(h)
}
