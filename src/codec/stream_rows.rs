//! Byte stream mode 4: rANS with row classes (see [`super::rows`]). For byte
//! tensors stored row after row (FP8 weights): rows ranked by mean magnitude
//! (the byte without its top, sign, bit) split into two classes at the band
//! boundary with the lowest order-0 entropy on both sides
//! ([`super::rows::split_bands`]), each with its own table, when the estimated
//! size is below one table's.
//!
//! Payload: `{mode 4, lanes_log2 u8, K u8, 0 u8, row u32, first_col u32,
//! n_words u32}`, `K` × `u16 table_len`, the packed classes, the `K`
//! alphabets (8-bit values), `lanes` u32 states, `n_words` u16 words.

use super::rows::{bands_by_rank, class_bits, pack_classes, rank_key, split_bands, RowShape, BANDS, TABLE_CHOICES};
use crate::error::{Error, Result};
use crate::format::bytes::{put_u16, put_u16s, put_u32, ByteReader};
use crate::kernels::Kernels;
use crate::rans::alphabet::Alphabet;
use crate::rans::encode::EncTable;
use crate::rans::estimate::{fixed_bits, Estimate};
use crate::rans::{self, MAX_SYMBOLS};

/// Bytes of the header before the table lengths.
pub const FIXED_HEADER: usize = 16;
/// A mode-1 stream's header (mode, lanes, table length, word count).
const MODE_1_HEADER: usize = 8;
/// Fewest rows before classes are considered.
const MIN_ROWS: usize = 16;
/// Classes per stream.
const TABLES: usize = 2;

/// The header after the mode byte.
pub struct Header {
    pub lanes: usize,
    pub shape: RowShape,
    pub n_words: usize,
    pub table_lens: Vec<usize>,
}

impl Header {
    pub fn read(r: &mut ByteReader<'_>) -> Result<Header> {
        let lanes = 1usize << r.u8()?.min(31);
        let k = usize::from(r.u8()?);
        if r.u8()? != 0 || !TABLE_CHOICES.contains(&k) {
            return Err(Error::Corrupt);
        }
        let shape = RowShape { row: r.u32()? as usize, first_col: r.u32()? as usize };
        let n_words = r.u32()? as usize;
        let table_lens = (0..k).map(|_| r.u16().map(usize::from)).collect::<Result<Vec<_>>>()?;
        Ok(Header { lanes, shape, n_words, table_lens })
    }
}

/// Appends a mode-4 payload for `src` at `shape` when row classes are
/// estimated smaller than one table (`hist` is `src`'s histogram); returns
/// whether it did.
pub fn encode(src: &[u8], shape: RowShape, hist: &[u32; 256], kernels: &Kernels, words: &mut Vec<u16>, out: &mut Vec<u8>) -> bool {
    let n = src.len();
    let n_rows = shape.rows(n);
    // Rows may take fewer lanes than one table would (see `lanes_within`).
    let Some(lanes) = rans::lanes_within(rans::lanes_for_bytes(n), |l| shape.fits(l)) else { return false };
    if n_rows < MIN_ROWS {
        return false;
    }
    // Rank rows by mean magnitude (fixed point: partial rows are shorter) into bands.
    let mut keys: Vec<u64> = (0..n_rows)
        .map(|r| {
            let (a, b) = shape.row_span(r, n);
            let sum: u64 = src[a..b].iter().map(|&x| u64::from(x & 0x7f)).sum();
            // A mean below 128 in 16.16 fixed point: below 2^23.
            rank_key((sum << 16) / (b - a) as u64, r)
        })
        .collect();
    let band = bands_by_rank(&mut keys);
    // Every band's histogram; the top band's is what the others leave of `hist`.
    let mut hists = [[0u32; 256]; BANDS];
    for (r, &b) in band.iter().enumerate().filter(|&(_, &b)| usize::from(b) < BANDS - 1) {
        let (a, e) = shape.row_span(r, n);
        for &x in &src[a..e] {
            hists[usize::from(b)][usize::from(x)] += 1;
        }
    }
    // Exact: `hist` counts `src`, and the rows cover `src` exactly.
    debug_assert_eq!(hist.iter().map(|&c| c as usize).sum::<usize>(), n);
    let mut top = *hist;
    for h in &hists[..BANDS - 1] {
        for (t, &c) in top.iter_mut().zip(h) {
            *t -= c;
        }
    }
    hists[BANDS - 1] = top;
    let (row_class, [lower, upper]) = split_bands(&band, &hists);
    let parts = [Estimate::of(&lower, 8), Estimate::of(&upper, 8)];
    let side = fixed_bits(8 * (FIXED_HEADER + 2 * TABLES - MODE_1_HEADER) + n_rows * class_bits(TABLES));
    if parts.iter().map(|e| e.bits).sum::<u64>() + side >= Estimate::of(hist, 8).bits {
        return false;
    }
    let alphabets: Vec<&Alphabet> = parts.iter().map(|e| &e.alphabet).collect();
    let tables: Vec<EncTable> = alphabets.iter().map(|a| EncTable::<MAX_SYMBOLS>::new(&a.freqs).indexed_by(&a.values)).collect();
    let mut step_class = Vec::new();
    shape.step_classes(n, lanes, &row_class, &mut step_class);
    let (states, start) = rans::encode::encode_by_steps(src, lanes, &tables, &step_class, words, |s, l, t, x, b, p| kernels.rans_encode(s, l, t, x, b, p));
    let words = &words[start..];
    let written: Vec<Vec<u8>> = alphabets.iter().map(|a| a.write(8)).collect();
    out.extend_from_slice(&[super::stream::STREAM_ROWS, lanes.trailing_zeros() as u8, TABLES as u8, 0]);
    put_u32(out, shape.row as u32);
    put_u32(out, shape.first_col as u32);
    put_u32(out, words.len() as u32);
    for t in &written {
        put_u16(out, t.len() as u16);
    }
    pack_classes(&row_class, class_bits(TABLES), out);
    for t in &written {
        out.extend_from_slice(t);
    }
    for s in &states {
        put_u32(out, *s);
    }
    put_u16s(out, words);
    true
}
