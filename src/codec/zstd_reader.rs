//! A zstd payload (see [`super::zstd`]) decoded piece by piece, so a caller
//! can look at the start of a large payload (and refuse it) before inflating
//! the rest.

use crate::error::{Error, Result};
use zstd_sys::{ZSTD_DCtx, ZSTD_inBuffer, ZSTD_outBuffer};

/// Reads the content of one zstd payload (mode byte, then the bytes or one zstd
/// frame) in pieces.
pub struct PayloadReader<'a> {
    body: &'a [u8],
    /// Bytes of `body` consumed.
    pos: usize,
    /// `None` for a stored payload.
    dctx: Option<*mut ZSTD_DCtx>,
    /// The zstd frame has ended (`ZSTD_decompressStream` returned 0).
    ended: bool,
}

impl<'a> PayloadReader<'a> {
    pub fn new(payload: &'a [u8]) -> Result<Self> {
        let (&mode, body) = payload.split_first().ok_or(Error::SrcTruncated)?;
        let dctx = match mode {
            0 => None,
            1 => {
                // SAFETY: no arguments; returns NULL when out of memory.
                let d = unsafe { zstd_sys::ZSTD_createDCtx() };
                if d.is_null() {
                    return Err(Error::Allocation);
                }
                Some(d)
            }
            _ => return Err(Error::Corrupt),
        };
        Ok(PayloadReader { body, pos: 0, dctx, ended: false })
    }

    /// Fills all of `out` with the next bytes of content; `Corrupt` if the
    /// payload ends (or is damaged) first.
    pub fn read_exact(&mut self, out: &mut [u8]) -> Result<()> {
        let Some(d) = self.dctx else {
            let src = self.body.get(self.pos..self.pos + out.len()).ok_or(Error::Corrupt)?;
            out.copy_from_slice(src);
            self.pos += out.len();
            return Ok(());
        };
        let mut o = ZSTD_outBuffer { dst: out.as_mut_ptr().cast(), size: out.len(), pos: 0 };
        while o.pos < o.size {
            if self.ended {
                return Err(Error::Corrupt);
            }
            let before = (self.pos, o.pos);
            let mut i = ZSTD_inBuffer { src: self.body.as_ptr().cast(), size: self.body.len(), pos: self.pos };
            // SAFETY: `d` is a live context owned by self; the buffers describe
            // valid slices (`out` writable, `body` readable) and zstd keeps to
            // their sizes, updating only `pos`.
            let r = unsafe { zstd_sys::ZSTD_decompressStream(d, &mut o, &mut i) };
            self.pos = i.pos;
            // SAFETY: pure function of its argument.
            if unsafe { zstd_sys::ZSTD_isError(r) } != 0 {
                return Err(Error::Corrupt);
            }
            self.ended = r == 0;
            if !self.ended && (self.pos, o.pos) == before {
                // No input left and nothing more to flush: the payload is cut short.
                return Err(Error::Corrupt);
            }
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
        if self.pos == self.body.len() {
            Ok(())
        } else {
            Err(Error::Corrupt)
        }
    }
}

impl Drop for PayloadReader<'_> {
    fn drop(&mut self) {
        if let Some(d) = self.dctx {
            // SAFETY: created by ZSTD_createDCtx in `new`, freed once here.
            unsafe { zstd_sys::ZSTD_freeDCtx(d) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(payload: &[u8], n: usize, step: usize) -> Result<Vec<u8>> {
        let mut r = PayloadReader::new(payload)?;
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
    }
}
