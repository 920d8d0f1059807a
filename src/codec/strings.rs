//! zstd payload mode 2: a run of GGUF strings (`u64` little-endian length, then
//! the bytes) coded as two zstd frames, the lengths (as LEB128 varints) and the
//! string bytes. Apart, each is far easier for zstd than interleaved: a tokenizer
//! vocabulary's eight-byte lengths break every match in the strings (FORMAT.md §9).
//!
//! Body after the mode byte: `n_records u32`, `lengths_frame_len u32`, the
//! lengths frame (the `n_records` varints, nothing else), then the bytes frame:
//! the records' bytes in order followed by the tail, the chunk's bytes after its
//! last whole record, so any content decodes back exactly.

use crate::error::{Error, Result};
use crate::format::bytes::{put_u32, put_varint, ByteReader};

/// The records `chunk` starts with: their lengths, and where the tail begins.
/// Parsing stops at the first length that overruns the chunk.
fn records(chunk: &[u8]) -> (Vec<u64>, usize) {
    let (mut lengths, mut at) = (Vec::new(), 0usize);
    while let Some(head) = chunk.get(at..at + 8) {
        let len = u64::from_le_bytes(head.try_into().expect("eight bytes"));
        let room = (chunk.len() - at - 8) as u64;
        if len > room || lengths.len() == u32::MAX as usize {
            break;
        }
        lengths.push(len);
        at += 8 + len as usize;
    }
    (lengths, at)
}

/// The body of a mode-2 payload for `chunk` at zstd `level`, or `None` when the
/// chunk does not start with a string record (code it whole instead).
pub fn encode_body(chunk: &[u8], level: i32) -> Result<Option<Vec<u8>>> {
    let (lengths, tail_at) = records(chunk);
    if lengths.is_empty() {
        return Ok(None);
    }
    let mut varints = Vec::with_capacity(lengths.len());
    for &len in &lengths {
        put_varint(&mut varints, len);
    }
    let mut bytes = Vec::with_capacity(chunk.len() - 8 * lengths.len());
    let mut at = 0;
    for &len in &lengths {
        bytes.extend_from_slice(&chunk[at + 8..at + 8 + len as usize]);
        at += 8 + len as usize;
    }
    bytes.extend_from_slice(&chunk[tail_at..]);
    let mut lengths_frame = Vec::new();
    super::zstd::compress_frame(&varints, level, &mut lengths_frame)?;
    let mut body = Vec::with_capacity(8 + lengths_frame.len() + bytes.len() / 2);
    put_u32(&mut body, lengths.len() as u32);
    put_u32(&mut body, lengths_frame.len() as u32);
    body.extend_from_slice(&lengths_frame);
    super::zstd::compress_frame(&bytes, level, &mut body)?;
    Ok(Some(body))
}

/// Decodes a mode-2 body into exactly `out.len()` bytes. Every count is checked
/// against `out` before anything is allocated, and each record's length before
/// the record is placed (a corrupt body leaves `out` partly written).
pub fn decode_body(body: &[u8], out: &mut [u8], dctx: &mut Option<super::zstd::DCtx>) -> Result<()> {
    let mut r = ByteReader::new(body);
    let n = r.u32()? as usize;
    let lengths_len = r.u32()? as usize;
    let lengths_frame = r.take(lengths_len)?;
    let bytes_frame = r.take(r.remaining())?;
    // Each record takes at least its eight-byte length; each varint at most ten.
    let heads = n.checked_mul(8).filter(|&h| h <= out.len()).ok_or(Error::Corrupt)?;
    let declared = super::zstd::frame_content_size(lengths_frame).filter(|&d| d <= 10 * n as u64).ok_or(Error::Corrupt)?;
    let mut varints = vec![0u8; declared as usize];
    if super::zstd::decompress_frame_with(lengths_frame, &mut varints, dctx)? != varints.len() {
        return Err(Error::Corrupt);
    }
    // The strings and the tail land where the heads end, then each record's
    // bytes move down to follow its length (never over bytes not yet moved).
    // One pass over the varints, each length checked against what is left of
    // `out` before its record moves (a pass that only checked them first cost a
    // fifth of a vocabulary's decode).
    let want = out.len() - heads;
    if super::zstd::decompress_frame_with(bytes_frame, &mut out[heads..], dctx)? != want {
        return Err(Error::Corrupt);
    }
    let (mut src, mut dst, mut at) = (heads, 0usize, 0usize);
    for k in 0..n {
        // Nearly every token is shorter than 128 bytes: a one-byte varint.
        let len = match varints.get(at) {
            Some(&b) if b < 0x80 => {
                at += 1;
                u64::from(b)
            }
            _ => {
                let mut v = ByteReader::new(varints.get(at..).unwrap_or_default());
                let len = v.varint().map_err(|_| Error::Corrupt)?;
                at += v.position();
                len
            }
        };
        // `src <= out.len()` holds: every earlier record fitted.
        let len = usize::try_from(len).ok().filter(|&len| len <= out.len() - src).ok_or(Error::Corrupt)?;
        // Most tokens are a few bytes: one 16-byte move instead of a memmove
        // call. Its spare bytes land on what later records overwrite anyway
        // while the gap between source and destination (8 bytes per record
        // still to place) is at least 16, and the 16 bytes read lie in `out`.
        if len <= 16 && n - k >= 3 && src + 16 <= out.len() {
            let word: [u8; 16] = out[src..src + 16].try_into().expect("16 bytes");
            out[dst + 8..dst + 24].copy_from_slice(&word);
        } else {
            out.copy_within(src..src + len, dst + 8);
        }
        out[dst..dst + 8].copy_from_slice(&(len as u64).to_le_bytes());
        src += len;
        dst += 8 + len;
    }
    if at != varints.len() {
        return Err(Error::Corrupt);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&[u8]], tail: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for s in items {
            v.extend_from_slice(&(s.len() as u64).to_le_bytes());
            v.extend_from_slice(s);
        }
        v.extend_from_slice(tail);
        v
    }

    fn roundtrip(chunk: &[u8]) -> Option<usize> {
        let body = encode_body(chunk, 3).unwrap()?;
        let mut out = vec![0xa5u8; chunk.len()];
        decode_body(&body, &mut out, &mut None).unwrap();
        assert_eq!(out, chunk);
        Some(body.len())
    }

    #[test]
    fn short_and_long_records_mixed_at_random_roundtrip() {
        // Lengths around the 16-byte fast path, runs of empty strings, and
        // tails, so every record position (the last three included) is met.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..200 {
            let n = 1 + (next() % 300) as usize;
            let items: Vec<Vec<u8>> = (0..n)
                .map(|i| {
                    let len = match next() % 8 {
                        0 => 0,
                        1..=5 => (next() % 18) as usize,
                        _ => (next() % 70) as usize,
                    };
                    (0..len).map(|j| (i * 31 + j * 7 + round) as u8).collect()
                })
                .collect();
            let refs: Vec<&[u8]> = items.iter().map(|v| &v[..]).collect();
            let tail: Vec<u8> = (0..(next() % 5) as usize).map(|j| j as u8).collect();
            assert!(roundtrip(&strings(&refs, &tail)).is_some(), "round {round}");
        }
    }

    #[test]
    fn records_and_tails_roundtrip() {
        assert!(roundtrip(&strings(&[b"<pad>", b"", b"hello", b"\xe2\x96\x81the"], b"")).is_some());
        assert!(roundtrip(&strings(&[b"a"], b"\x07\x00\x00")).is_some());
        // A length that overruns the chunk ends the records: the rest is tail.
        assert!(roundtrip(&strings(&[b"ab"], &[200, 0, 0, 0, 0, 0, 0, 0, 1, 2])).is_some());
        assert!(roundtrip(&strings(&[], &[0; 8])).is_some());
        assert_eq!(roundtrip(&[1, 2, 3]), None);
        assert_eq!(roundtrip(&[9, 0, 0, 0, 0, 0, 0, 0, 1]), None);
    }

    #[test]
    fn hostile_bodies_are_refused() {
        let chunk = strings(&[b"one", b"two", b"three"], b"xy");
        let body = encode_body(&chunk, 3).unwrap().unwrap();
        let mut out = vec![0u8; chunk.len()];
        // Truncated anywhere.
        for cut in 0..body.len() {
            assert!(decode_body(&body[..cut], &mut out, &mut None).is_err(), "cut {cut}");
        }
        // A wrong output size.
        assert!(decode_body(&body, &mut vec![0u8; chunk.len() + 1], &mut None).is_err());
        assert!(decode_body(&body, &mut vec![0u8; chunk.len() - 1], &mut None).is_err());
        // More records than the lengths frame holds, or than the output can.
        let mut more = body.clone();
        more[0] = 4;
        assert!(decode_body(&more, &mut out, &mut None).is_err());
        more[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_body(&more, &mut out, &mut None).is_err());
        // Fewer records: varints left over.
        let mut fewer = body.clone();
        fewer[0] = 2;
        assert!(decode_body(&fewer, &mut out, &mut None).is_err());
        // A lengths frame length past the body.
        let mut long = body;
        long[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_body(&long, &mut out, &mut None).is_err());
    }
}
