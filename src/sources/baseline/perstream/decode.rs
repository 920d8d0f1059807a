//! Rebuilding the GGUF from a per-stream file in order, with a reader open on
//! each stream (sixteen on the byte-grouped Q4_K headers, one per byte
//! position, each started at its group): memory is a few small buffers and
//! zstd's windows, whatever the file's size.

use super::{read_meta_header, stream_sizes, HEADER_SIZE, MAGIC, META, NIBBLES_Q4K, Q4K_BLOCK, Q4K_HEADER, SCALES_Q4K, STREAMS};
use crate::codec::zstd_reader::{PayloadReader, ReadAt};
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use sha2::{Digest, Sha256};

/// Q4_K blocks rebuilt at a time (about 1 MiB of output).
const BLOCKS: u64 = 7282;
/// Bytes of other streams copied at a time.
const WINDOW: u64 = 1 << 20;

/// Rebuilds the GGUF held by the per-stream file `src`, handing its bytes to
/// `sink` in order; returns the original's size. Validated stream by stream:
/// the header, then the GGUF header at the start of the metadata stream, then
/// every declared stream size against what that GGUF implies, and only then
/// are the streams inflated. The SHA-256 is checked at the end: bytes already
/// handed to `sink` are not taken back (a file output is kept from its final
/// name by the caller).
pub fn decode(src: &dyn ReadAt, max_output: u64, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<u64> {
    let mut head = vec![0u8; (HEADER_SIZE as u64).min(src.size()) as usize];
    src.read_exact_at(&mut head, 0)?;
    let mut r = ByteReader::new(&head);
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
    let original_usize = usize::try_from(original).map_err(|_| Error::SizeOverflow)?;
    let mut sizes = [(0u64, 0u64); STREAMS];
    for s in &mut sizes {
        *s = (r.u64()?, r.u64()?);
    }
    let sha: [u8; 32] = r.array()?;
    // The streams hold exactly the original bytes.
    if sizes.iter().try_fold(0u64, |a, s| a.checked_add(s.0)) != Some(original) {
        return Err(Error::Corrupt);
    }
    let mut bodies = [(0u64, 0u64); STREAMS];
    let mut at = HEADER_SIZE as u64;
    for (body, &(_, comp)) in bodies.iter_mut().zip(&sizes) {
        let end = at.checked_add(comp).ok_or(Error::Corrupt)?;
        if end > src.size() {
            return Err(Error::SrcTruncated);
        }
        *body = (at, end);
        at = end;
    }
    if at != src.size() {
        return Err(Error::Corrupt);
    }
    let open = |k: usize| PayloadReader::at(src, bodies[k].0, bodies[k].1);
    let mut meta_reader = open(META)?;
    let mut meta = Vec::new();
    let pieces = read_meta_header(&mut meta_reader, &mut meta, sizes[META].0 as usize, original_usize)?;
    if stream_sizes(&pieces).iter().zip(&sizes).any(|(&want, &(got, _))| want != got) {
        return Err(Error::Corrupt);
    }
    // Every stream is opened (and checked) before a byte is written.
    let mut readers = Vec::with_capacity(STREAMS);
    for k in 0..STREAMS {
        readers.push(if k == META || k == SCALES_Q4K { None } else { Some(open(k)?) });
    }
    let total_q4k = sizes[SCALES_Q4K].0 / Q4K_HEADER;
    let mut scales = Vec::with_capacity(Q4K_HEADER as usize);
    if total_q4k > 0 {
        for byte in 0..Q4K_HEADER {
            let mut s = open(SCALES_Q4K)?;
            s.skip(byte * total_q4k)?;
            scales.push(s);
        }
    }

    let mut hash = Sha256::new();
    let mut written = 0u64;
    let mut emit = |b: &[u8]| -> Result<()> {
        hash.update(b);
        written += b.len() as u64;
        sink(b)
    };
    let (mut meta_used, mut q4k_before) = (0usize, 0u64);
    let mut buf = Vec::new();
    let mut headers = vec![Vec::new(); Q4K_HEADER as usize];
    for &(_, size, stream) in &pieces {
        match stream {
            META => {
                // The prefix read to parse the header first, then the reader.
                let from_prefix = (size as usize).min(meta.len() - meta_used);
                emit(&meta[meta_used..meta_used + from_prefix])?;
                meta_used += from_prefix;
                copy(&mut meta_reader, size - from_prefix as u64, &mut buf, &mut emit)?;
                if meta_used == meta.len() {
                    meta = Vec::new();
                    meta_used = 0;
                }
            }
            NIBBLES_Q4K => {
                let n = size / Q4K_BLOCK;
                if q4k_before + n > total_q4k {
                    return Err(Error::Corrupt);
                }
                let quants = readers[NIBBLES_Q4K].as_mut().ok_or(Error::Corrupt)?;
                let mut left = n;
                while left > 0 {
                    let w = left.min(BLOCKS) as usize;
                    for (h, s) in headers.iter_mut().zip(&mut scales) {
                        h.resize(w, 0);
                        s.read_exact(h)?;
                    }
                    buf.resize(w * Q4K_BLOCK as usize, 0);
                    for (k, block) in buf.chunks_exact_mut(Q4K_BLOCK as usize).enumerate() {
                        for (p, h) in headers.iter().enumerate() {
                            block[p] = h[k];
                        }
                        quants.read_exact(&mut block[Q4K_HEADER as usize..])?;
                    }
                    emit(&buf)?;
                    left -= w as u64;
                }
                q4k_before += n;
            }
            k => copy(readers[k].as_mut().ok_or(Error::Corrupt)?, size, &mut buf, &mut emit)?,
        }
    }
    // Every stream used up exactly (the header readers but the last stop at
    // the next group).
    meta_reader.finish()?;
    for r in readers.into_iter().flatten().chain(scales.pop()) {
        r.finish()?;
    }
    if written != original || hash.finalize().as_slice() != sha {
        return Err(Error::ChecksumMismatch);
    }
    Ok(original)
}

/// Copies `n` bytes of `reader`'s content to `emit`, a window at a time.
fn copy(reader: &mut PayloadReader<'_>, mut n: u64, buf: &mut Vec<u8>, emit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
    while n > 0 {
        let w = n.min(WINDOW) as usize;
        buf.resize(w, 0);
        reader.read_exact(buf)?;
        emit(buf)?;
        n -= w as u64;
    }
    Ok(())
}
