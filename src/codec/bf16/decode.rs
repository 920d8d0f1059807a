//! bf16 chunk decoder: payload parsing, table setup through the kernel
//! dispatcher, and escape patching.

use crate::format::bf16_split::{assemble, raw_field, raw_len, VALUE_BITS, VALUE_SHIFT};
use crate::rans::alphabet::Alphabet;
use super::rows::Header;
use crate::codec::rows;
use super::{DecodeScratch, MODE_RANS, MODE_RANS_CARRYING, MODE_ROWS, MODE_ROWS_CARRYING, MODE_STORED, RANS_HEADER_SIZE};
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use crate::kernels::{Bf16Model, Bf16Stream, Bf16Tables, Kernels};
use crate::rans;

/// Decodes one chunk payload into `out` (exactly the chunk's content length).
pub fn decode_chunk(payload: &[u8], out: &mut [u8], kernels: &Kernels, scratch: &mut DecodeScratch) -> Result<()> {
    let mut r = ByteReader::new(payload);
    match r.u8()? {
        MODE_STORED => {
            let body = r.take(r.remaining())?;
            if body.len() != out.len() {
                return Err(Error::Corrupt);
            }
            out.copy_from_slice(body);
            Ok(())
        }
        MODE_RANS => decode_rans(payload, out, kernels, scratch.table(0, Bf16Tables::new_boxed), false),
        MODE_ROWS => decode_rows(payload, out, kernels, scratch, false),
        MODE_RANS_CARRYING => decode_rans(payload, out, kernels, scratch.table(0, Bf16Tables::new_boxed), true),
        MODE_ROWS_CARRYING => decode_rows(payload, out, kernels, scratch, true),
        _ => Err(Error::Corrupt),
    }
}

/// Modes 1 and 3 (`carrying`: the lanes carry the last raw bytes).
fn decode_rans(payload: &[u8], out: &mut [u8], kernels: &Kernels, t: &mut Bf16Tables, carrying: bool) -> Result<()> {
    let n = out.len() / 2;
    let mut r = ByteReader::new(payload);
    r.u8()?;
    let lanes_log2 = r.u8()?;
    let table_len = usize::from(r.u16()?);
    let n_words = r.u32()? as usize;
    let esc_count = r.u32()? as usize;
    let esc_len = r.u32()? as usize;
    debug_assert_eq!(r.position(), RANS_HEADER_SIZE);
    let lanes = 1usize << lanes_log2.min(31);
    if !rans::LANE_CHOICES.contains(&lanes) || n == 0 {
        return Err(Error::Corrupt);
    }
    let alphabet = Alphabet::read(r.take(table_len)?, VALUE_BITS)?;
    let escapes = r.take(esc_len)?;
    let states_bytes = r.take(4 * lanes)?;
    let words = r.take(n_words.checked_mul(2).ok_or(Error::Corrupt)?)?;
    let raw = r.take(stored_raw_len(n, lanes, carrying)?)?;
    if r.remaining() != 0 || (esc_count > 0 && !alphabet.has_escape) || esc_count > n {
        return Err(Error::Corrupt);
    }
    let states = rans::read_states(states_bytes, lanes)?;
    kernels.load_bf16_tables(t, &alphabet);
    let mut s = Bf16Stream { lanes, states, words, word_pos: 0, raw, out, n, step: 0, carrying };
    let t: &Bf16Tables = t;
    kernels.decode_bf16(&Bf16Model::single(&t), &mut s)?;
    complete_carried_fields(&mut s);
    patch_escapes(escapes, esc_count, s.out, |_| true)
}

/// Raw-field bytes a payload stores: all of them, or with carrying lanes all
/// but the `CARRY_BYTES` each lane carries (a carrying payload must have them).
fn stored_raw_len(n: usize, lanes: usize, carrying: bool) -> Result<usize> {
    match carrying {
        false => Ok(raw_len(n)),
        true => raw_len(n).checked_sub(rans::CARRY_BYTES * lanes).ok_or(Error::Corrupt),
    }
}

/// With carrying lanes, the values whose raw fields reach past the stored bytes
/// were decoded with those bits zero: ORs in their whole fields, read from the
/// stored bytes' last whole group (4 fields in 3 bytes) on and the bytes the
/// final states carried (which the decoder checked).
fn complete_carried_fields(s: &mut Bf16Stream<'_>) {
    if !s.carrying {
        return;
    }
    let from = s.raw.len() / 3 * 3;
    let kept = s.raw.len() - from;
    let mut tail = [0u8; 2 + rans::CARRY_BYTES * rans::MAX_LANES];
    tail[..kept].copy_from_slice(&s.raw[from..]);
    rans::carried_bytes(&s.states[..s.lanes], &mut tail[kept..kept + rans::CARRY_BYTES * s.lanes]);
    let first = from / 3 * 4;
    for i in first..s.n {
        let w = u16::from_le_bytes([s.out[2 * i], s.out[2 * i + 1]]) | assemble(0, raw_field(&tail, i - first));
        s.out[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
    }
}

/// Modes 2 and 4: a table per row class (see [`super::rows`]); `carrying` as in [`decode_rans`].
fn decode_rows(payload: &[u8], out: &mut [u8], kernels: &Kernels, scratch: &mut DecodeScratch, carrying: bool) -> Result<()> {
    let n = out.len() / 2;
    let mut r = ByteReader::new(payload);
    r.u8()?;
    let h = Header::read(&mut r, carrying)?;
    let lanes = 1usize << h.lanes_log2.min(31);
    if !rans::LANE_CHOICES.contains(&lanes) || n == 0 || !h.shape.fits(lanes) {
        return Err(Error::Corrupt);
    }
    let k = h.table_lens.len();
    scratch.read_classes(&mut r, h.shape, n, lanes, k)?;
    let mut has_escape = [false; rows::MAX_TABLES];
    for (c, &len) in h.table_lens.iter().enumerate() {
        let alphabet = Alphabet::read(r.take(len)?, VALUE_BITS)?;
        has_escape[c] = alphabet.has_escape;
        kernels.load_bf16_tables(scratch.table(c, Bf16Tables::new_boxed), &alphabet);
    }
    let escapes = r.take(h.esc_len)?;
    let states_bytes = r.take(4 * lanes)?;
    let words = r.take(h.n_words.checked_mul(2).ok_or(Error::Corrupt)?)?;
    let raw = r.take(stored_raw_len(n, lanes, carrying)?)?;
    if r.remaining() != 0 || h.esc_count > n {
        return Err(Error::Corrupt);
    }
    let states = rans::read_states(states_bytes, lanes)?;
    let tables = scratch.tables(k);
    let mut s = Bf16Stream { lanes, states, words, word_pos: 0, raw, out, n, step: 0, carrying };
    kernels.decode_bf16(&Bf16Model { tables: &tables[..k], class: &scratch.step_class }, &mut s)?;
    complete_carried_fields(&mut s);
    // An escaped position must lie in a row whose table has the escape symbol.
    let shape = h.shape;
    let row_class = &scratch.row_class;
    patch_escapes(escapes, h.esc_count, s.out, |i| has_escape[usize::from(row_class[(shape.first_col + i) / shape.row])])
}

/// Writes the escaped values over the placeholder the decoder produced;
/// `escapable(i)` says whether position `i`'s table has an escape symbol.
fn patch_escapes(blob: &[u8], count: usize, out: &mut [u8], escapable: impl Fn(usize) -> bool) -> Result<()> {
    let n = out.len() / 2;
    let mut r = ByteReader::new(blob);
    let mut next = 0u64;
    for _ in 0..count {
        let pos = next.checked_add(r.varint()?).ok_or(Error::Corrupt)?;
        let value = r.u16()?;
        if pos >= n as u64 || usize::from(value) >= crate::format::bf16_split::NUM_VALUES || !escapable(pos as usize) {
            return Err(Error::Corrupt);
        }
        let i = pos as usize;
        let w = u16::from_le_bytes([out[2 * i], out[2 * i + 1]]);
        let w = (w & 0x801f) | (value << VALUE_SHIFT);
        out[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
        next = pos + 1;
    }
    if r.remaining() != 0 {
        return Err(Error::Corrupt);
    }
    Ok(())
}
