//! A sequential input (a file read with `read`, standard input, a pipe) that
//! counts its position and reports a short read as truncation. Inputs are never
//! mapped here: a file truncated while it is read gives `SrcTruncated`, not a
//! bus error.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Read;
use super::io::read_at_full;

pub struct Input<'a> {
    inner: Box<dyn Read + Send + 'a>,
    /// A file read with `pread` at `position` (then `inner` is unused), so
    /// payloads can be skipped and read by the workers themselves.
    file: Option<&'a File>,
    /// Bytes given back with [`Input::unread`], read before `inner`.
    back: Vec<u8>,
    position: u64,
    /// The input may go on after what a decoder reads (a stream fed piece by
    /// piece): [`Input::at_end`] does not look for trailing bytes.
    open_ended: bool,
    /// Told the position each time it moves on (a progress bar).
    progress: Option<Box<dyn FnMut(u64) + Send + 'a>>,
}

impl<'a> Input<'a> {
    pub fn new(inner: impl Read + Send + 'a) -> Input<'a> {
        Input { inner: Box::new(inner), file: None, back: Vec::new(), position: 0, open_ended: false, progress: None }
    }

    /// A file read from its start with `pread`: [`Input::skip`] moves past
    /// bytes without reading them (workers read them with [`Input::file`]).
    pub fn file_at(file: &'a File) -> Input<'a> {
        Input { inner: Box::new(std::io::empty()), file: Some(file), back: Vec::new(), position: 0, open_ended: false, progress: None }
    }

    /// Calls `report` with the position whenever reading or skipping moves it
    /// on (for a progress bar; it runs on the reading thread, so keep it cheap).
    pub fn on_progress(&mut self, report: impl FnMut(u64) + Send + 'a) {
        self.progress = Some(Box::new(report));
    }

    fn moved(&mut self) {
        if let Some(report) = self.progress.as_mut() {
            report(self.position);
        }
    }

    /// The file behind a [`Input::file_at`] input.
    pub fn file(&self) -> Option<&'a File> {
        self.file
    }

    /// Moves `len` bytes on without reading them (file inputs only; a skip
    /// past the end shows when those bytes are read, or at [`Input::at_end`]).
    pub fn skip(&mut self, len: u64) -> Result<()> {
        if self.file.is_none() || !self.back.is_empty() {
            return Err(Error::InvalidArgument);
        }
        self.position = self.position.checked_add(len).ok_or(Error::SizeOverflow)?;
        self.moved();
        Ok(())
    }

    /// Moves past everything left, for a reader that took the input by other
    /// means (a file read at offsets, a copy): a file input is not read again.
    pub fn skip_to_end(&mut self) -> Result<()> {
        if let Some(f) = self.file {
            self.back.clear();
            self.position = f.metadata().map_err(|_| Error::Io)?.len();
            return Ok(());
        }
        let mut buf = vec![0u8; 1 << 16];
        while self.read_full(&mut buf)? > 0 {}
        Ok(())
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Gives `bytes` (the last ones read) back: the next reads return them first.
    pub fn unread(&mut self, bytes: &[u8]) {
        self.unread_vec(bytes.to_vec());
    }

    /// [`Input::unread`] of an owned buffer, kept without a copy when nothing
    /// else is given back (a planner's whole metadata prefix).
    pub fn unread_vec(&mut self, mut bytes: Vec<u8>) {
        self.position -= bytes.len() as u64;
        if !self.back.is_empty() {
            bytes.extend_from_slice(&self.back);
        }
        self.back = bytes;
    }

    /// Reads up to `buf.len()` bytes, fewer only at the end of the input.
    pub fn read_full(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut n = self.back.len().min(buf.len());
        buf[..n].copy_from_slice(&self.back[..n]);
        self.back.drain(..n);
        if self.back.is_empty() && self.back.capacity() > 0 {
            // A large prefix given back is freed once it is read again.
            self.back = Vec::new();
        }
        if let Some(f) = self.file {
            let got = read_at_full(f, &mut buf[n..], self.position + n as u64).map_err(Error::from)?;
            self.position += (n + got) as u64;
            self.moved();
            return Ok(n + got);
        }
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Err(Error::Io),
            }
        }
        self.position += n as u64;
        self.moved();
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
            // Exactly what is needed: doubling would hold up to twice a
            // chunk per buffer of a compression window.
            out.reserve_exact(step);
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

    /// An input that may continue past what is decoded (see `open_ended`).
    pub fn open_ended(mut self) -> Self {
        self.open_ended = true;
        self
    }

    /// Reads exactly `len` bytes into `buf` (resized to `len`). From a file,
    /// a length past its end is refused before anything is allocated; from a
    /// stream, the buffer grows only as bytes arrive.
    pub fn read_to(&mut self, buf: &mut Vec<u8>, len: u64) -> Result<()> {
        if let Some(f) = self.file.filter(|_| self.back.is_empty()) {
            let size = f.metadata().map_err(|_| Error::Io)?.len();
            if self.position.checked_add(len).is_none_or(|end| end > size) {
                return Err(Error::SrcTruncated);
            }
            let len = usize::try_from(len).map_err(|_| Error::SizeOverflow)?;
            if buf.len() >= len {
                buf.truncate(len);
            } else {
                buf.resize(len, 0);
            }
            return self.read_exact(buf);
        }
        buf.clear();
        self.read_into(buf, len)
    }

    /// True when no byte is left (always, for an open-ended input).
    pub fn at_end(&mut self) -> Result<bool> {
        if self.open_ended {
            return Ok(true);
        }
        let mut b = [0u8; 1];
        Ok(self.read_full(&mut b)? == 0)
    }
}
