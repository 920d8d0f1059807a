//! A zstd payload (see [`super::zstd`]: a mode byte, then the bytes or one zstd
//! frame) decoded piece by piece from a positioned source — a slice or a file —
//! so a caller can look at the start of a large payload (and refuse it) before
//! inflating the rest, and can keep several payloads of one file open at once
//! with a small input buffer each.

use crate::error::{Error, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;
use zstd_sys::{ZSTD_DCtx, ZSTD_inBuffer, ZSTD_outBuffer};

/// Bytes readable at any offset.
pub trait ReadAt: Sync {
    fn size(&self) -> u64;
    /// Fills `buf` from `offset`; `SrcTruncated` if the source ends first.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()>;
}

/// Bytes in memory.
pub struct SliceAt<'a>(pub &'a [u8]);

impl ReadAt for SliceAt<'_> {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        let at = usize::try_from(offset).map_err(|_| Error::SrcTruncated)?;
        let src = self.0.get(at..).and_then(|s| s.get(..buf.len())).ok_or(Error::SrcTruncated)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

/// A file of a known length, read with `pread` (a file truncated meanwhile is
/// an error, never a bus error).
pub struct FileAt<'a> {
    pub file: &'a File,
    pub len: u64,
}

impl ReadAt for FileAt<'_> {
    fn size(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<()> {
        self.file.read_exact_at(buf, offset).map_err(|e| if e.kind() == std::io::ErrorKind::UnexpectedEof { Error::SrcTruncated } else { Error::Io })
    }
}

/// Compressed bytes read ahead per payload.
const INPUT_BUFFER: usize = 64 << 10;

/// Reads the content of one zstd payload, `src[start..end]`, in pieces.
pub struct PayloadReader<'a> {
    src: &'a dyn ReadAt,
    /// Next unread byte of the payload, and its end.
    at: u64,
    end: u64,
    /// Compressed bytes read ahead, and how many of them zstd has taken.
    input: Vec<u8>,
    taken: usize,
    /// `None` for a stored payload.
    dctx: Option<*mut ZSTD_DCtx>,
    /// The zstd frame has ended (`ZSTD_decompressStream` returned 0).
    ended: bool,
}

// SAFETY: the context is owned by the reader alone and used only through
// `&mut self`; zstd contexts may move between threads.
unsafe impl Send for PayloadReader<'_> {}

impl<'a> PayloadReader<'a> {
    /// The payload at `src[start..end]` (checked against the source's size).
    pub fn at(src: &'a dyn ReadAt, start: u64, end: u64) -> Result<Self> {
        if start >= end || end > src.size() {
            return Err(Error::SrcTruncated);
        }
        let mut mode = [0u8; 1];
        src.read_exact_at(&mut mode, start)?;
        let dctx = match mode[0] {
            0 => None,
            1 => {
                // One frame, not a skippable one (zstd would read it as empty content).
                let mut magic = [0u8; 4];
                if end - start > 4 {
                    src.read_exact_at(&mut magic, start + 1)?;
                }
                if super::zstd::is_skippable(&magic) {
                    return Err(Error::Corrupt);
                }
                // SAFETY: no arguments; returns NULL when out of memory.
                let d = unsafe { zstd_sys::ZSTD_createDCtx() };
                if d.is_null() {
                    return Err(Error::Allocation);
                }
                Some(d)
            }
            _ => return Err(Error::Corrupt),
        };
        Ok(PayloadReader { src, at: start + 1, end, input: Vec::new(), taken: 0, dctx, ended: false })
    }

    /// Fills all of `out` with the next bytes of content; `Corrupt` if the
    /// payload ends (or is damaged) first.
    pub fn read_exact(&mut self, out: &mut [u8]) -> Result<()> {
        let Some(d) = self.dctx else {
            if self.end - self.at < out.len() as u64 {
                return Err(Error::Corrupt);
            }
            self.src.read_exact_at(out, self.at)?;
            self.at += out.len() as u64;
            return Ok(());
        };
        let mut o = ZSTD_outBuffer { dst: out.as_mut_ptr().cast(), size: out.len(), pos: 0 };
        while o.pos < o.size {
            if self.ended {
                return Err(Error::Corrupt);
            }
            if self.taken == self.input.len() && self.at < self.end {
                let n = (self.end - self.at).min(INPUT_BUFFER as u64) as usize;
                self.input.resize(n, 0);
                self.src.read_exact_at(&mut self.input, self.at)?;
                self.at += n as u64;
                self.taken = 0;
            }
            let before = (self.taken, o.pos);
            let mut i = ZSTD_inBuffer { src: self.input.as_ptr().cast(), size: self.input.len(), pos: self.taken };
            // SAFETY: `d` is a live context owned by self; the buffers describe
            // valid slices (`out` writable, `input` readable) and zstd keeps to
            // their sizes, updating only `pos`.
            let r = unsafe { zstd_sys::ZSTD_decompressStream(d, &mut o, &mut i) };
            self.taken = i.pos;
            // SAFETY: pure function of its argument.
            if unsafe { zstd_sys::ZSTD_isError(r) } != 0 {
                return Err(Error::Corrupt);
            }
            self.ended = r == 0;
            if !self.ended && (self.taken, o.pos) == before {
                // No input left (refilled above when any is) and nothing more
                // to flush: the payload is cut short.
                return Err(Error::Corrupt);
            }
        }
        Ok(())
    }

    /// Decodes and drops the next `n` bytes of content.
    pub fn skip(&mut self, mut n: u64) -> Result<()> {
        if self.dctx.is_none() {
            if self.end - self.at < n {
                return Err(Error::Corrupt);
            }
            self.at += n;
            return Ok(());
        }
        let mut scratch = vec![0u8; n.min(INPUT_BUFFER as u64) as usize];
        while n > 0 {
            let k = n.min(scratch.len() as u64) as usize;
            self.read_exact(&mut scratch[..k])?;
            n -= k as u64;
        }
        Ok(())
    }

    /// Checks that the content has ended and the payload is used up exactly.
    pub fn finish(mut self) -> Result<()> {
        if self.dctx.is_some() && !self.ended {
            let mut extra = [0u8; 1];
            match self.read_exact(&mut extra) {
                Err(Error::Corrupt) if self.ended => {}
                _ => return Err(Error::Corrupt),
            }
        }
        if self.at == self.end && self.taken == self.input.len() {
            Ok(())
        } else {
            Err(Error::Corrupt)
        }
    }
}

impl Drop for PayloadReader<'_> {
    fn drop(&mut self) {
        if let Some(d) = self.dctx {
            // SAFETY: created by ZSTD_createDCtx in `at`, freed once here.
            unsafe { zstd_sys::ZSTD_freeDCtx(d) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(payload: &[u8], n: usize, step: usize) -> Result<Vec<u8>> {
        let src = SliceAt(payload);
        let mut r = PayloadReader::at(&src, 0, payload.len() as u64)?;
        let mut out = vec![0u8; n];
        for piece in out.chunks_mut(step) {
            r.read_exact(piece)?;
        }
        r.finish()?;
        Ok(out)
    }

    #[test]
    fn reads_in_pieces_and_checks_the_length() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8 ^ (i >> 12) as u8).collect();
        let mut p = Vec::new();
        crate::codec::zstd::encode_chunk(&data, 3, &mut p).unwrap();
        assert_eq!(p[0], 1);
        for step in [1000, 65536, 300_000] {
            assert_eq!(read_all(&p, data.len(), step).unwrap(), data);
        }
        assert_eq!(read_all(&p, data.len() - 1, 4096), Err(Error::Corrupt), "content longer than asked");
        assert_eq!(read_all(&p, data.len() + 1, 4096), Err(Error::Corrupt), "content shorter than asked");
        assert_eq!(read_all(&p[..p.len() - 3], data.len(), 4096), Err(Error::Corrupt), "cut payload");
        let mut stored = vec![0u8];
        stored.extend_from_slice(&data[..100]);
        assert_eq!(read_all(&stored, 100, 7).unwrap(), &data[..100]);
        assert_eq!(read_all(&stored, 99, 7), Err(Error::Corrupt));
        assert_eq!(read_all(&[9], 0, 1).err(), Some(Error::Corrupt));
        assert_eq!(read_all(&[], 0, 1).err(), Some(Error::SrcTruncated));
    }

    #[test]
    fn skips_and_reads_at_an_offset_of_a_larger_source() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 253) as u8).collect();
        let mut p = vec![0xAAu8; 5];
        crate::codec::zstd::encode_chunk(&data, 3, &mut p).unwrap();
        let end = p.len() as u64;
        p.extend_from_slice(&[0xBB; 9]);
        let src = SliceAt(&p);
        let mut r = PayloadReader::at(&src, 5, end).unwrap();
        r.skip(150_000).unwrap();
        let mut tail = vec![0u8; 50_000];
        r.read_exact(&mut tail).unwrap();
        assert_eq!(tail, data[150_000..]);
        r.finish().unwrap();
        assert_eq!(PayloadReader::at(&src, 5, p.len() as u64 + 1).err().map(|_| ()), Some(()), "past the source");
    }
}
