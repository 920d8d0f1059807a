//! LSB-first bit packing with Elias-gamma codes, for compact codec tables.

use crate::error::{Error, Result};

#[derive(Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    nbits: u32,
}

impl BitWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the low `n` bits of `v` (n <= 32).
    pub fn bits(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || v >> n == 0));
        self.acc |= u64::from(v) << self.nbits;
        self.nbits += n;
        while self.nbits >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.nbits -= 8;
        }
    }

    /// Elias-gamma code of `v >= 1`: (len-1) zero bits, then `v` MSB first.
    pub fn gamma(&mut self, v: u32) {
        debug_assert!(v >= 1);
        let len = 32 - v.leading_zeros();
        self.bits(0, len - 1);
        for i in (0..len).rev() {
            self.bits((v >> i) & 1, 1);
        }
    }

    pub fn finish(mut self) -> Vec<u8> {
        if self.nbits > 0 {
            self.bytes.push(self.acc as u8);
        }
        self.bytes
    }
}

/// LSB-first bit reader over a byte slice, refilling a 64-bit window. Reading past
/// the end is an error (`Corrupt`), never a panic.
pub struct BitReader<'a> {
    buf: &'a [u8],
    /// Next byte of `buf` to load into the window.
    next: usize,
    window: u64,
    /// Valid bits in `window` (low bits first).
    avail: u32,
    /// Bits consumed so far.
    consumed: usize,
}

impl<'a> BitReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        BitReader { buf, next: 0, window: 0, avail: 0, consumed: 0 }
    }

    fn refill(&mut self) {
        while self.avail <= 56 && self.next < self.buf.len() {
            self.window |= u64::from(self.buf[self.next]) << self.avail;
            self.next += 1;
            self.avail += 8;
        }
    }

    /// Reads `n <= 32` bits.
    pub fn bits(&mut self, n: u32) -> Result<u32> {
        debug_assert!(n <= 32);
        if self.avail < n {
            self.refill();
            if self.avail < n {
                return Err(Error::Corrupt);
            }
        }
        let v = (self.window & ((1u64 << n) - 1)) as u32;
        self.window = if n == 64 { 0 } else { self.window >> n };
        self.avail -= n;
        self.consumed += n as usize;
        Ok(v)
    }

    /// Reads an Elias-gamma code; values needing more than `max_bits` bits are corrupt.
    pub fn gamma(&mut self, max_bits: u32) -> Result<u32> {
        self.refill();
        // Leading zeros of the code are trailing zeros of the LSB-first window.
        let zeros = if self.window == 0 { self.avail } else { self.window.trailing_zeros().min(self.avail) };
        if zeros >= max_bits || zeros >= self.avail {
            return Err(Error::Corrupt);
        }
        self.bits(zeros)?;
        // The value's bits follow MSB first: a 1 and then `zeros` more bits, read
        // at once (LSB first) and reversed.
        let n = zeros + 1;
        let code = self.bits(n)?;
        Ok(code.reverse_bits() >> (32 - n))
    }

    /// Bytes consumed so far (rounded up to whole bytes).
    pub fn bytes_used(&self) -> usize {
        self.consumed.div_ceil(8)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bit_reader_bounds_and_gamma() {
        let mut w = BitWriter::new();
        for v in [1u32, 5, 64, 1000] {
            w.gamma(v);
            w.bits(v & 0x1f, 5);
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for v in [1u32, 5, 64, 1000] {
            assert_eq!(r.gamma(16).unwrap(), v);
            assert_eq!(r.bits(5).unwrap(), v & 0x1f);
        }
        assert!(r.bits(32).is_err(), "reading past the end");
        assert_eq!(BitReader::new(&[0, 0]).gamma(20), Err(Error::Corrupt));
    }

    use super::*;

    #[test]
    fn gamma_roundtrip() {
        let vals = [1u32, 2, 3, 4, 7, 8, 100, 4095, 4096, 65535];
        let mut w = BitWriter::new();
        for &v in &vals {
            w.gamma(v);
            w.bits(v & 0x3ff, 10);
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for &v in &vals {
            assert_eq!(r.gamma(20).unwrap(), v);
            assert_eq!(r.bits(10).unwrap(), v & 0x3ff);
        }
        assert_eq!(r.bytes_used(), bytes.len());
    }

    #[test]
    fn gamma_reads_every_value_up_to_2_pow_16() {
        // Under Miri (scripts/miri.sh) every value to 2^10 and the edges of each
        // longer code length: all of them take minutes there.
        let values: Vec<u32> = if cfg!(miri) { (1..=1 << 10).chain((11..=16).flat_map(|k| [(1 << k) - 1, 1 << k])).collect() } else { (1..=1 << 16).collect() };
        let mut w = BitWriter::new();
        for &v in &values {
            w.gamma(v);
            w.bits(v & 1, 1);
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for &v in &values {
            assert_eq!(r.gamma(17).unwrap(), v);
            assert_eq!(r.bits(1).unwrap(), v & 1);
        }
        assert_eq!(r.bytes_used(), bytes.len());
    }

    #[test]
    fn gamma_rejects_long_runs_of_zeros() {
        let zeros = [0u8; 8];
        assert_eq!(BitReader::new(&zeros).gamma(13), Err(Error::Corrupt));
        assert_eq!(BitReader::new(&[]).gamma(13), Err(Error::Corrupt));
    }
}
