//! bf16 chunk decoder: payload parsing, table setup, the scalar decoder (the
//! specification the SIMD kernels must match) and escape patching.

use super::model::{assemble, raw_len, RAW_BITS, VALUE_BITS, VALUE_SHIFT};
use crate::rans::alphabet::Alphabet;
use super::{MODE_RANS, MODE_STORED, RANS_HEADER_SIZE};
use crate::error::{Error, Result};
use crate::format::bytes::{le_u32, ByteReader};
use crate::kernels::Kernels;
use crate::rans::{self, table, table::DecodeTable, MAX_LANES, MAX_SYMBOLS, PROB_SCALE, RANS_L};

/// Per-chunk lookup tables, in the shapes each kernel family wants.
pub struct Bf16Tables {
    pub dec: DecodeTable,
    /// Symbol -> value bits already shifted into place (escape: 0, patched later).
    pub value16: [u16; MAX_SYMBOLS],
    /// Value bits per probability slot, for AVX2 on wide alphabets: gathered with
    /// the same index as the slot entry, so the two gathers do not wait on each other.
    pub value_by_slot: [u32; PROB_SCALE as usize],
    /// The AVX2 slot table (`table::build_avx2` layout), where the id is
    /// `value - value_base` when the alphabet's values span at most 256 (the usual
    /// case: one gather yields everything) and 0 otherwise (the value comes from
    /// `value_by_slot`). Frequency in the top bits costs one shift to extract.
    pub dec_by_value: DecodeTable,
    pub value_base: u16,
    pub dense: bool,
    /// Low and high bytes, for AVX-512 VBMI byte permutes.
    pub value_lo: [u8; MAX_SYMBOLS],
    pub value_hi: [u8; MAX_SYMBOLS],
    pub n_symbols: usize,
}

impl Bf16Tables {
    pub fn new_boxed() -> Box<Bf16Tables> {
        Box::new(Bf16Tables {
            dec: [0; PROB_SCALE as usize],
            value16: [0; MAX_SYMBOLS],
            value_by_slot: [0; PROB_SCALE as usize],
            dec_by_value: [0; PROB_SCALE as usize],
            value_base: 0,
            dense: false,
            value_lo: [0; MAX_SYMBOLS],
            value_hi: [0; MAX_SYMBOLS],
            n_symbols: 0,
        })
    }

    fn load(&mut self, a: &Alphabet, by_value: bool) {
        table::build(&a.freqs, |s| s as u8, &mut self.dec);
        self.value16 = [0; MAX_SYMBOLS];
        for (i, &v) in a.values.iter().enumerate() {
            self.value16[i] = v << VALUE_SHIFT;
        }
        for i in 0..MAX_SYMBOLS {
            let v = self.value16[i];
            self.value_lo[i] = v as u8;
            self.value_hi[i] = (v >> 8) as u8;
        }
        self.n_symbols = a.n_symbols();
        self.value_base = a.values[0];
        self.dense = by_value && a.values[a.values.len() - 1] - a.values[0] < 256;
        if by_value {
            // The escape symbol maps to the base value; it is patched afterwards.
            let (values, base, dense) = (&self.value16, self.value_base, self.dense);
            let offset = |s: usize| if dense { (values[s] >> VALUE_SHIFT).saturating_sub(base) as u8 } else { 0 };
            table::build_avx2(&a.freqs, offset, &mut self.dec_by_value);
            for (slot, &e) in self.dec.iter().enumerate() {
                self.value_by_slot[slot] = u32::from(self.value16[(e >> 24) as usize]);
            }
        }
    }
}

/// Decoder position inside one chunk. Kernels advance it step by step; the scalar
/// code finishes whatever is left and checks the final state.
pub struct Bf16Stream<'a> {
    pub lanes: usize,
    pub states: [u32; MAX_LANES],
    /// Renormalisation words, little-endian u16.
    pub words: &'a [u8],
    /// Next word to read.
    pub word_pos: usize,
    /// Packed raw fields, exactly `raw_len(n)` bytes.
    pub raw: &'a [u8],
    /// Output: exactly `2 * n` bytes.
    pub out: &'a mut [u8],
    pub n: usize,
    /// Next step (group of `lanes` values) to decode.
    pub step: usize,
}

impl Bf16Stream<'_> {
    pub fn n_words(&self) -> usize {
        self.words.len() / 2
    }

    pub fn full_steps(&self) -> usize {
        self.n / self.lanes
    }

    /// Bytes of raw fields one full step covers (lanes are multiples of 32).
    pub fn raw_per_step(&self) -> usize {
        self.lanes * RAW_BITS / 8
    }
}

#[inline(always)]
fn raw_field(raw: &[u8], i: usize) -> u32 {
    let bit = RAW_BITS * i;
    let lo = u32::from(raw[bit / 8]);
    let hi = u32::from(raw.get(bit / 8 + 1).copied().unwrap_or(0));
    ((lo | hi << 8) >> (bit % 8)) & 0x3f
}

/// Decodes every remaining step of `s` one value at a time, then checks that all
/// words were consumed and every lane returned to `RANS_L`.
pub fn finish(t: &Bf16Tables, s: &mut Bf16Stream<'_>) -> Result<()> {
    let n_words = s.n_words();
    let mut q = s.word_pos;
    while s.step * s.lanes < s.n {
        let base = s.step * s.lanes;
        let count = s.lanes.min(s.n - base);
        for j in 0..count {
            let (sym, mut x) = table::step(&t.dec, s.states[j]);
            if x < RANS_L {
                if q >= n_words {
                    return Err(Error::Corrupt);
                }
                x = (x << 16) | u32::from(u16::from_le_bytes([s.words[2 * q], s.words[2 * q + 1]]));
                q += 1;
            }
            s.states[j] = x;
            let i = base + j;
            let w = assemble(t.value16[usize::from(sym)], raw_field(s.raw, i));
            s.out[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
        }
        s.step += 1;
    }
    s.word_pos = q;
    if q != n_words || s.states[..s.lanes].iter().any(|&x| x != RANS_L) {
        return Err(Error::Corrupt);
    }
    Ok(())
}

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
    t.load(&alphabet, kernels.avx2_tables);
    let mut s = Bf16Stream { lanes, states, words, word_pos: 0, raw, out, n, step: 0 };
    (kernels.bf16_decode)(t, &mut s);
    finish(t, &mut s)?;
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
        if pos >= n as u64 || usize::from(value) >= super::model::NUM_VALUES {
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
