//! bf16 chunk decoder: payload parsing, table setup through the kernel
//! dispatcher, and escape patching.

use crate::format::bf16_split::{raw_len, VALUE_BITS, VALUE_SHIFT};
use crate::rans::alphabet::Alphabet;
use super::{MODE_RANS, MODE_STORED, RANS_HEADER_SIZE};
use crate::error::{Error, Result};
use crate::format::bytes::{le_u32, ByteReader};
use crate::kernels::{Bf16Stream, Bf16Tables, Kernels};
use crate::rans::{self, MAX_LANES, RANS_L};

/// Decodes one chunk payload into `out` (exactly the chunk's content length).
pub fn decode_chunk(payload: &[u8], out: &mut [u8], kernels: &Kernels, t: &mut Bf16Tables) -> Result<()> {
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
        MODE_RANS => decode_rans(payload, out, kernels, t),
        _ => Err(Error::Corrupt),
    }
}

fn decode_rans(payload: &[u8], out: &mut [u8], kernels: &Kernels, t: &mut Bf16Tables) -> Result<()> {
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
    let raw = r.take(raw_len(n))?;
    if r.remaining() != 0 || (esc_count > 0 && !alphabet.has_escape) || esc_count > n {
        return Err(Error::Corrupt);
    }
    let mut states = [0u32; MAX_LANES];
    for (j, x) in states[..lanes].iter_mut().enumerate() {
        *x = le_u32(states_bytes, 4 * j);
        if *x < RANS_L {
            return Err(Error::Corrupt);
        }
    }
    kernels.load_bf16_tables(t, &alphabet);
    let mut s = Bf16Stream { lanes, states, words, word_pos: 0, raw, out, n, step: 0 };
    kernels.decode_bf16(t, &mut s)?;
    patch_escapes(escapes, esc_count, s.out)
}

/// Writes the escaped values over the placeholder the decoder produced.
fn patch_escapes(blob: &[u8], count: usize, out: &mut [u8]) -> Result<()> {
    let n = out.len() / 2;
    let mut r = ByteReader::new(blob);
    let mut next = 0u64;
    for _ in 0..count {
        let pos = next.checked_add(r.varint()?).ok_or(Error::Corrupt)?;
        let value = r.u16()?;
        if pos >= n as u64 || usize::from(value) >= crate::format::bf16_split::NUM_VALUES {
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
