//! A sequential input (a file read with `read`, standard input, a pipe) that
//! counts its position and reports a short read as truncation. Inputs are never
//! mapped here: a file truncated while it is read gives `SrcTruncated`, not a
//! bus error.

use crate::error::{Error, Result};
use std::io::Read;

pub struct Input<'a> {
    inner: Box<dyn Read + Send + 'a>,
    /// Bytes given back with [`Input::unread`], read before `inner`.
    back: Vec<u8>,
    position: u64,
}

impl<'a> Input<'a> {
    pub fn new(inner: impl Read + Send + 'a) -> Input<'a> {
        Input { inner: Box::new(inner), back: Vec::new(), position: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Gives `bytes` (the last ones read) back: the next reads return them first.
    pub fn unread(&mut self, bytes: &[u8]) {
        let mut back = bytes.to_vec();
        back.extend_from_slice(&self.back);
        self.back = back;
        self.position -= bytes.len() as u64;
    }

    /// Reads up to `buf.len()` bytes, fewer only at the end of the input.
    pub fn read_full(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = self.back.len().min(buf.len());
        buf[..n].copy_from_slice(&self.back[..n]);
        self.back.drain(..n);
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Error::Io),
            }
        }
        self.position += n as u64;
        Ok(n)
    }

    /// Fills `buf` or reports `SrcTruncated`.
    pub fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        if self.read_full(buf)? == buf.len() {
            Ok(())
        } else {
            Err(Error::SrcTruncated)
        }
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        self.read_exact(&mut a)?;
        Ok(a)
    }

    /// Appends exactly `len` bytes to `out`, growing it only as bytes arrive
    /// (a declared length alone never allocates more than 1 MiB ahead).
    pub fn read_into(&mut self, out: &mut Vec<u8>, len: u64) -> Result<()> {
        let mut left = len;
        while left > 0 {
            let step = left.min(1 << 20) as usize;
            let at = out.len();
            out.resize(at + step, 0);
            let got = self.read_full(&mut out[at..])?;
            if got < step {
                out.truncate(at + got);
                return Err(Error::SrcTruncated);
            }
            left -= step as u64;
        }
        Ok(())
    }

    /// True when no byte is left.
    pub fn at_end(&mut self) -> Result<bool> {
        let mut b = [0u8; 1];
        Ok(self.read_full(&mut b)? == 0)
    }
}
