//! A sequential input (a file read with `read`, standard input, a pipe) that
//! counts its position and reports a short read as truncation. Inputs are never
//! mapped here: a file truncated while it is read gives `SrcTruncated`, not a
//! bus error.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Read;
use super::io::read_at_full;
use super::pipeline::Slab;

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
    /// Told, before an exact read, how many bytes it will take from `inner`
    /// (see [`Input::on_promise`]).
    promise: Option<Box<dyn FnMut(u64) + Send + 'a>>,
    /// A file input's bytes from `ahead_at` on, read in one `pread` for small
    /// reads: a container of tiny tensors took four `pread`s per tensor (its
    /// record, frame header, chunk table and payload), now about one per
    /// [`READ_AHEAD`] bytes.
    ahead: Vec<u8>,
    ahead_at: u64,
}

/// What one `pread` of a file input takes in for reads smaller than it.
const READ_AHEAD: usize = 64 << 10;

impl<'a> Input<'a> {
    pub fn new(inner: impl Read + Send + 'a) -> Input<'a> {
        Input { inner: Box::new(inner), file: None, back: Vec::new(), position: 0, open_ended: false, progress: None, promise: None, ahead: Vec::new(), ahead_at: 0 }
    }

    /// A file read from its start with `pread`: [`Input::skip`] moves past
    /// bytes without reading them (workers read them with [`Input::file`]).
    pub fn file_at(file: &'a File) -> Input<'a> {
        Input { inner: Box::new(std::io::empty()), file: Some(file), back: Vec::new(), position: 0, open_ended: false, progress: None, promise: None, ahead: Vec::new(), ahead_at: 0 }
    }

    /// Calls `report` with the position whenever reading or skipping moves it
    /// on (for a progress bar; it runs on the reading thread, so keep it cheap).
    pub fn on_progress(&mut self, report: impl FnMut(u64) + Send + 'a) {
        self.progress = Some(Box::new(report));
    }

    /// Calls `promise` with the bytes an exact read ([`Input::read_exact`],
    /// [`Input::read_into`], [`Input::read_slab`]) will take from the inner
    /// reader, before it reads them: the decoder needs them all (or fails as
    /// truncated), so a fed stream may count them as consumed at once. Reads
    /// that may stop short ([`Input::read_full`]) promise nothing, and an exact
    /// read must never be used as a read-up-to on a promised input.
    pub(crate) fn on_promise(&mut self, promise: impl FnMut(u64) + Send + 'a) {
        self.promise = Some(Box::new(promise));
    }

    /// Tells the promise hook that `len` more bytes are needed (the ones given
    /// back are not the inner reader's).
    fn promise(&mut self, len: usize) {
        if let (Some(p), None) = (self.promise.as_mut(), self.file) {
            let from_inner = len.saturating_sub(self.back.len());
            if from_inner > 0 {
                p(from_inner as u64);
            }
        }
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
        if let Some(f) = self.file.filter(|_| n < buf.len()) {
            let at = self.position + n as u64;
            let got = if buf.len() - n < READ_AHEAD { self.read_ahead(f, &mut buf[n..], at)? } else { read_at_full(f, &mut buf[n..], at).map_err(Error::from)? };
            self.position += (n + got) as u64;
            self.moved();
            return Ok(n + got);
        }
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::from_io(&e)),
            }
        }
        self.position += n as u64;
        self.moved();
        Ok(n)
    }

    /// Reads `buf.len()` bytes of `f` at `at` (fewer only at its end) from the
    /// read-ahead window, filling it from `at` first if it does not hold them.
    fn read_ahead(&mut self, f: &File, buf: &mut [u8], at: u64) -> Result<usize> {
        let held = at.checked_sub(self.ahead_at).and_then(|o| usize::try_from(o).ok()).filter(|&o| o <= self.ahead.len() && self.ahead.len() - o >= buf.len());
        let from = match held {
            Some(o) => o,
            None => {
                self.ahead.resize(READ_AHEAD, 0);
                self.ahead_at = at;
                let got = read_at_full(f, &mut self.ahead, at);
                // A failed read leaves the window empty.
                self.ahead.truncate(*got.as_ref().unwrap_or(&0));
                got?;
                0
            }
        };
        let n = buf.len().min(self.ahead.len() - from);
        buf[..n].copy_from_slice(&self.ahead[from..from + n]);
        Ok(n)
    }

    /// Fills `buf` or reports `SrcTruncated`.
    pub fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        self.promise(buf.len());
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
        self.promise(usize::try_from(len).map_err(|_| Error::SizeOverflow)?);
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

    /// Reads exactly `len` bytes into `slab`, which takes that length. The
    /// bytes its allocation already holds are overwritten in place (no zero
    /// fill, no page faults: buffers cycle between tiny and 1 MiB chunks); it
    /// grows only past them, from a file after its size was checked, from a
    /// stream a step at a time as bytes arrive (as [`Input::read_into`]).
    pub fn read_slab(&mut self, slab: &mut Slab, len: u64) -> Result<()> {
        let len = usize::try_from(len).map_err(|_| Error::SizeOverflow)?;
        slab.len = 0;
        // A small payload comes from the read-ahead window (no size check: a
        // short read is the truncation).
        if self.file.is_some() && len < READ_AHEAD {
            slab.grow(len)?;
            self.read_exact(&mut slab.buf[..len])?;
            slab.len = len;
            return Ok(());
        }
        if let Some(f) = self.file.filter(|_| self.back.is_empty()) {
            let size = f.metadata().map_err(|_| Error::Io)?.len();
            if self.position.checked_add(len as u64).is_none_or(|end| end > size) {
                return Err(Error::SrcTruncated);
            }
            slab.grow(len)?;
            self.read_exact(&mut slab.buf[..len])?;
            slab.len = len;
            return Ok(());
        }
        self.promise(len);
        let mut at = 0;
        while at < len {
            let end = len.min(at + (1 << 20));
            slab.grow(end)?;
            let got = self.read_full(&mut slab.buf[at..end])?;
            if got < end - at {
                return Err(Error::SrcTruncated);
            }
            at = end;
        }
        slab.len = len;
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pipeline::{Slabs, Weighed};

    #[test]
    fn slabs_are_read_in_place_and_grow_only_as_bytes_arrive() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let slabs = Slabs::default();
        let mut input = Input::new(&data[..]);
        // A 2 MiB chunk, then a tiny one in the same allocation, then 1 MiB again:
        // the allocation is kept whole and only the asked-for bytes are read.
        let mut s = slabs.take_unfilled(2 << 20);
        input.read_slab(&mut s, 2 << 20).unwrap();
        assert_eq!(&s[..], &data[..2 << 20]);
        let allocation = s.weight();
        slabs.give(s);
        let mut s = slabs.take_unfilled(10);
        input.read_slab(&mut s, 10).unwrap();
        assert_eq!((&s[..], s.weight()), (&data[2 << 20..(2 << 20) + 10], allocation));
        slabs.give(s);
        let mut s = slabs.take_unfilled(1 << 20);
        let short = input.read_slab(&mut s, 1 << 20);
        // 3_000_000 - 2 MiB - 10 bytes remain: fewer than asked for.
        assert_eq!(short, Err(Error::SrcTruncated));
        assert_eq!(s.weight(), allocation, "reading into what is held allocates nothing");
    }

    #[test]
    fn a_stream_declaring_more_than_it_holds_allocates_a_step_not_the_declared_length() {
        let data = [1u8; 100];
        let mut input = Input::new(&data[..]);
        let mut s = Slabs::default().take_unfilled(1 << 30);
        assert_eq!(input.read_slab(&mut s, 1 << 30), Err(Error::SrcTruncated));
        assert!(s.weight() <= 1 << 20, "{} bytes held", s.weight());
    }

    #[test]
    fn small_reads_skips_and_large_reads_of_a_file_agree_with_it() {
        // The read-ahead window: small reads within it, across its end, after
        // a skip past it, a large read that bypasses it, and the file's end.
        let path = std::env::temp_dir().join(format!("llmc-read-ahead-{}", std::process::id()));
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 31 + i / 255) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let f = File::open(&path).unwrap();
        let mut input = Input::file_at(&f);
        let mut at = 0usize;
        for (len, skip) in [(16usize, 0u64), (100, 0), (READ_AHEAD - 200, 0), (300, 0), (8, 70_000), (READ_AHEAD + 1, 0), (5, 3), (1000, 0)] {
            input.skip(skip).unwrap();
            at += skip as usize;
            let mut buf = vec![0u8; len];
            input.read_exact(&mut buf).unwrap();
            assert_eq!(buf, data[at..at + len], "{len} at {at}");
            at += len;
            assert_eq!(input.position(), at as u64);
        }
        let mut s = Slabs::default().take_unfilled(0);
        input.read_slab(&mut s, 40).unwrap();
        assert_eq!(&s[..], &data[at..at + 40]);
        at += 40;
        let mut rest = vec![0u8; data.len() - at + 10];
        assert_eq!(input.read_full(&mut rest).unwrap(), data.len() - at);
        assert_eq!(rest[..data.len() - at], data[at..]);
        assert!(input.at_end().unwrap());
        let mut more = [0u8; 4];
        assert_eq!(input.read_exact(&mut more), Err(Error::SrcTruncated));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_file_read_past_its_end_is_refused_before_allocating() {
        let path = std::env::temp_dir().join(format!("llmc-read-slab-{}", std::process::id()));
        std::fs::write(&path, [5u8; 1000]).unwrap();
        let f = File::open(&path).unwrap();
        let mut input = Input::file_at(&f);
        let mut s = Slabs::default().take_unfilled(1 << 30);
        assert_eq!(input.read_slab(&mut s, 1 << 30), Err(Error::SrcTruncated));
        assert_eq!(s.weight(), 0);
        input.read_slab(&mut s, 1000).unwrap();
        assert_eq!(&s[..], &[5u8; 1000][..]);
        std::fs::remove_file(&path).unwrap();
    }
}
