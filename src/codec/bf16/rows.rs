//! bf16 payload modes 2 and 4: the header of a chunk coded with row classes
//! (see [`crate::codec::rows`]).

use crate::codec::rows::{RowShape, TABLE_CHOICES};
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;

/// Bytes before the per-table alphabet lengths.
pub const FIXED_HEADER: usize = 24;

/// The mode-2 (or 4) header after the mode byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Mode 4: the lanes carry the last raw bytes (as mode 3 over mode 1).
    pub carrying: bool,
    pub lanes_log2: u8,
    pub shape: RowShape,
    pub n_words: usize,
    pub esc_count: usize,
    pub esc_len: usize,
    pub table_lens: Vec<usize>,
}

impl Header {
    /// Parses the header (the reader stands after the mode byte, 4 if `carrying`).
    pub fn read(r: &mut ByteReader<'_>, carrying: bool) -> Result<Header> {
        let lanes_log2 = r.u8()?;
        let k = usize::from(r.u8()?);
        if r.u8()? != 0 || !TABLE_CHOICES.contains(&k) {
            return Err(Error::Corrupt);
        }
        let row = r.u32()? as usize;
        let first_col = r.u32()? as usize;
        let n_words = r.u32()? as usize;
        let esc_count = r.u32()? as usize;
        let esc_len = r.u32()? as usize;
        let table_lens = (0..k).map(|_| r.u16().map(usize::from)).collect::<Result<Vec<_>>>()?;
        Ok(Header { carrying, lanes_log2, shape: RowShape { row, first_col }, n_words, esc_count, esc_len, table_lens })
    }

    pub fn write(&self, out: &mut Vec<u8>) {
        use crate::format::bytes::{put_u16, put_u32};
        let mode = if self.carrying { super::MODE_ROWS_CARRYING } else { super::MODE_ROWS };
        out.extend_from_slice(&[mode, self.lanes_log2, self.table_lens.len() as u8, 0]);
        put_u32(out, self.shape.row as u32);
        put_u32(out, self.shape.first_col as u32);
        put_u32(out, self.n_words as u32);
        put_u32(out, self.esc_count as u32);
        put_u32(out, self.esc_len as u32);
        for &len in &self.table_lens {
            put_u16(out, len as u16);
        }
    }

    pub fn size(&self) -> usize {
        FIXED_HEADER + 2 * self.table_lens.len()
    }
}

