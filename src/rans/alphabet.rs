//! Alphabets: which values a stream codes, and their frequencies.
//!
//! Serialised as a bit string (LSB first): `n_regular - 1` (8 bits), `has_escape`
//! (1 bit), the first value (`value_bits` bits), the gaps to the following values
//! (Elias-gamma), then the frequencies (Elias-gamma, the last implied).

use super::{freq, MAX_SYMBOLS};
use crate::error::{Error, Result};
use crate::format::bitio::{BitReader, BitWriter};

/// The coded alphabet of one stream: regular symbols (ascending values) plus an
/// optional escape symbol (index `values.len()`) for values outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alphabet {
    pub values: Vec<u16>,
    pub has_escape: bool,
    pub freqs: Vec<u32>,
}

impl Alphabet {
    pub fn n_symbols(&self) -> usize {
        self.values.len() + usize::from(self.has_escape)
    }

    pub fn escape_symbol(&self) -> Option<u8> {
        self.has_escape.then_some(self.values.len() as u8)
    }

    /// Picks the alphabet for a histogram (at least one non-zero count).
    ///
    /// Up to 256 distinct values are all coded directly. Beyond that the 255 most
    /// frequent are kept and the rest share the escape symbol. A single distinct
    /// value gets an (unused) escape too, so every frequency stays below the scale.
    pub fn from_histogram(hist: &[u32]) -> Alphabet {
        let count = |v: u16| hist[usize::from(v)];
        let mut present: Vec<u16> = (0..hist.len() as u16).filter(|&v| count(v) > 0).collect();
        let mut escape_count = 0u64;
        let has_escape = if present.len() > MAX_SYMBOLS {
            // Most frequent first, lower value first on ties: deterministic.
            present.sort_by(|&a, &b| count(b).cmp(&count(a)).then(a.cmp(&b)));
            escape_count = present[MAX_SYMBOLS - 1..].iter().map(|&v| u64::from(count(v))).sum();
            present.truncate(MAX_SYMBOLS - 1);
            present.sort_unstable();
            true
        } else {
            present.len() == 1
        };
        let mut counts: Vec<u64> = present.iter().map(|&v| u64::from(count(v))).collect();
        if has_escape {
            counts.push(escape_count);
        }
        let freqs = freq::normalize(&counts);
        Alphabet { values: present, has_escape, freqs }
    }

    /// Symbol index of every value below `n_values` (escape, or 0, for values
    /// outside the alphabet).
    pub fn symbol_map(&self, n_values: usize) -> Vec<u8> {
        let mut map = vec![self.escape_symbol().unwrap_or(0); n_values];
        for (i, &v) in self.values.iter().enumerate() {
            map[usize::from(v)] = i as u8;
        }
        map
    }

    pub fn write(&self, value_bits: u32) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.bits(self.values.len() as u32 - 1, 8);
        w.bits(u32::from(self.has_escape), 1);
        w.bits(u32::from(self.values[0]), value_bits);
        for pair in self.values.windows(2) {
            w.gamma(u32::from(pair[1] - pair[0]));
        }
        freq::write_freqs(&mut w, &self.freqs);
        w.finish()
    }

    /// Parses and validates a serialised alphabet that must fill `blob` exactly.
    pub fn read(blob: &[u8], value_bits: u32) -> Result<Alphabet> {
        let mut r = BitReader::new(blob);
        let n_regular = r.bits(8)? as usize + 1;
        let has_escape = r.bits(1)? == 1;
        let limit = 1u32 << value_bits;
        let mut values = Vec::with_capacity(n_regular);
        let mut v = r.bits(value_bits)?;
        values.push(v as u16);
        for _ in 1..n_regular {
            v += r.gamma(value_bits + 1)?;
            if v >= limit {
                return Err(Error::Corrupt);
            }
            values.push(v as u16);
        }
        let n_symbols = n_regular + usize::from(has_escape);
        if n_symbols > MAX_SYMBOLS {
            return Err(Error::Corrupt);
        }
        let freqs = freq::read_freqs(&mut r, n_symbols)?;
        if r.bytes_used() != blob.len() {
            return Err(Error::Corrupt);
        }
        Ok(Alphabet { values, has_escape, freqs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_small_and_escaped() {
        let mut hist = [0u32; 1024];
        hist[7] = 5;
        let a = Alphabet::from_histogram(&hist);
        assert!(a.has_escape && a.values == vec![7]);
        assert_eq!(Alphabet::read(&a.write(10), 10).unwrap(), a);

        let mut hist = [0u32; 1024];
        for (v, h) in hist.iter_mut().enumerate() {
            *h = (v as u32 % 97) + 1;
        }
        let a = Alphabet::from_histogram(&hist);
        assert_eq!(a.n_symbols(), 256);
        assert!(a.has_escape);
        assert_eq!(Alphabet::read(&a.write(10), 10).unwrap(), a);
        let map = a.symbol_map(1024);
        assert_eq!(map.iter().filter(|&&s| s == 255).count(), 1024 - 255);
    }

    #[test]
    fn byte_alphabets_never_escape() {
        let hist: Vec<u32> = (0..256).map(|v| v + 1).collect();
        let a = Alphabet::from_histogram(&hist);
        assert!(!a.has_escape && a.n_symbols() == 256);
        assert_eq!(Alphabet::read(&a.write(8), 8).unwrap(), a);
    }

    #[test]
    fn rejects_trailing_bytes_and_values_out_of_range() {
        let mut hist = [0u32; 1024];
        hist[1] = 3;
        hist[900] = 4;
        let a = Alphabet::from_histogram(&hist);
        let mut blob = a.write(10);
        blob.push(0);
        assert_eq!(Alphabet::read(&blob, 10), Err(Error::Corrupt));
        let mut w = BitWriter::new();
        w.bits(1, 8);
        w.bits(0, 1);
        w.bits(1000, 10);
        w.gamma(100);
        assert_eq!(Alphabet::read(&w.finish(), 10), Err(Error::Corrupt));
    }
}
