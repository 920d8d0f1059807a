//! Bounds-checked little-endian reading and writing of byte buffers.

use crate::error::{Error, Result};

/// A cursor over untrusted bytes: every read is bounds-checked and a short
/// buffer yields `SrcTruncated`.
#[derive(Clone)]
pub struct ByteReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> ByteReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        ByteReader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::SrcTruncated);
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Like `take`, for a length read from the input as a u64.
    pub fn take_u64(&mut self, n: u64) -> Result<&'a [u8]> {
        self.take(usize::try_from(n).map_err(|_| Error::SrcTruncated)?)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// LEB128 unsigned varint of at most 10 bytes; overlong or overflowing encodings are corrupt.
    pub fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            let chunk = u64::from(b & 0x7f);
            if i == 9 && chunk > 1 {
                return Err(Error::Corrupt);
            }
            v |= chunk << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Error::Corrupt)
    }
}

pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends `words` little-endian (one copy on little-endian targets).
pub fn put_u16s(out: &mut Vec<u8>, words: &[u16]) {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: the bytes of a `[u16]` (any alignment suits `u8`, every byte is
        // initialised), in memory order: little-endian words on this target.
        let bytes = unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<u8>(), 2 * words.len()) };
        out.extend_from_slice(bytes);
    }
    #[cfg(not(target_endian = "little"))]
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a little-endian u32 at `pos` (caller guarantees bounds).
#[inline]
pub fn le_u32(buf: &[u8], pos: usize) -> u32 {
    u32::from_le_bytes([buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]])
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_reader_bounds_and_varints() {
        let mut buf = vec![1, 2, 3, 4, 5, 6, 7, 8, 9];
        put_varint(&mut buf, 300);
        let mut r = ByteReader::new(&buf);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 0x0302);
        assert_eq!(r.u32().unwrap(), 0x0706_0504);
        assert_eq!(r.take(2).unwrap(), &[8, 9]);
        assert_eq!(r.varint().unwrap(), 300);
        assert_eq!(r.u8(), Err(Error::SrcTruncated));
        assert_eq!(r.take_u64(u64::MAX), Err(Error::SrcTruncated));
        assert_eq!(ByteReader::new(&[0xff; 10]).varint(), Err(Error::Corrupt));
    }

    use super::*;

    #[test]
    fn varint_roundtrip_and_rejects_overlong() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(ByteReader::new(&b).varint().unwrap(), v);
        }
        assert_eq!(ByteReader::new(&[0xff; 11]).varint(), Err(Error::Corrupt));
        assert_eq!(ByteReader::new(&[0x80]).varint(), Err(Error::SrcTruncated));
    }
}
