//! bf16 chunk encoder. Everything here is integer code with one scalar rANS
//! encoder, so the output is identical on every ISA.

use crate::format::bf16_split::{raw_len, raw_of, value_of, NUM_VALUES, VALUE_BITS};
use crate::rans::alphabet::Alphabet;
use super::{MODE_RANS, MODE_STORED, RANS_HEADER_SIZE};
use crate::format::bytes::{put_u16, put_u32, put_varint};
use crate::kernels::{portable, Kernels};
use crate::rans::{self, encode::EncTable};

#[inline(always)]
fn word(src: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([src[2 * i], src[2 * i + 1]])
}

portable! {
/// Value histogram. Four partial histograms: weights cluster on a few exponents,
/// and consecutive increments of one counter would serialise on store forwarding.
fn histogram(src: &[u8]) -> [u32; NUM_VALUES] {
    let mut part = [[0u32; NUM_VALUES]; 4];
    let mut quads = src.chunks_exact(8);
    for c in &mut quads {
        for (k, h) in part.iter_mut().enumerate() {
            h[usize::from(value_of(u16::from_le_bytes([c[2 * k], c[2 * k + 1]])))] += 1;
        }
    }
    for c in quads.remainder().chunks_exact(2) {
        part[0][usize::from(value_of(u16::from_le_bytes([c[0], c[1]])))] += 1;
    }
    let mut hist = [0u32; NUM_VALUES];
    for (v, h) in hist.iter_mut().enumerate() {
        *h = part[0][v] + part[1][v] + part[2][v] + part[3][v];
    }
    hist
}
}

portable! {
/// One pass over the chunk: the symbol of every value (via `map`) and the packed
/// raw fields, eight values to six bytes. `raw` needs two bytes of slack beyond
/// `raw_len(n)`: each group is written as one 8-byte store.
fn split(src: &[u8], map: &[u8; NUM_VALUES], syms: &mut [u8], raw: &mut [u8]) {
    let n = src.len() / 2;
    let groups = n / 8;
    for (g, (c, s)) in src.chunks_exact(16).zip(syms.chunks_exact_mut(8)).enumerate() {
        let lo = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
        let hi = u64::from_le_bytes(c[8..].try_into().expect("8 bytes"));
        let mut bits = 0u64;
        for (j, sj) in s.iter_mut().enumerate() {
            let w = (if j < 4 { lo >> (16 * j) } else { hi >> (16 * (j - 4)) }) as u16;
            *sj = map[usize::from(value_of(w))];
            bits |= u64::from(raw_of(w)) << (6 * j);
        }
        raw[6 * g..6 * g + 8].copy_from_slice(&bits.to_le_bytes());
    }
    for i in groups * 8..n {
        let w = word(src, i);
        syms[i] = map[usize::from(value_of(w))];
        let bit = 6 * i;
        let f = raw_of(w) << (bit % 8);
        raw[bit / 8] |= f as u8;
        if bit % 8 > 2 {
            raw[bit / 8 + 1] |= (f >> 8) as u8;
        }
    }
}
}

/// Per-thread buffers reused across chunks (fresh pages per chunk cost more than coding).
#[derive(Default)]
struct Scratch {
    syms: Vec<u8>,
    raw: Vec<u8>,
    words: Vec<u16>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Appends the payload of one chunk of little-endian bf16 words (even length, at
/// least 2 bytes) to `out`. Falls back to storing when coding would not save space.
pub fn encode_chunk(src: &[u8], kernels: &Kernels, out: &mut Vec<u8>) {
    SCRATCH.with(|s| encode_with(src, &mut s.borrow_mut(), kernels, out))
}

fn encode_with(src: &[u8], scratch: &mut Scratch, kernels: &Kernels, out: &mut Vec<u8>) {
    debug_assert!(src.len() % 2 == 0 && !src.is_empty());
    let n = src.len() / 2;
    let alphabet = Alphabet::from_histogram(&histogram(kernels, src));
    let map: [u8; NUM_VALUES] = alphabet.symbol_map(NUM_VALUES).try_into().expect("one entry per value");
    let syms = &mut scratch.syms;
    syms.resize(n, 0);
    let raw = &mut scratch.raw;
    raw.clear();
    raw.resize(raw_len(n) + 2, 0);
    split(kernels, src, &map, syms, raw);
    let raw = &raw[..raw_len(n)];

    let mut escapes = Vec::new();
    let mut esc_count = 0u32;
    if let Some(esc) = alphabet.escape_symbol() {
        let mut prev = 0usize;
        for (i, &s) in syms.iter().enumerate() {
            if s == esc {
                put_varint(&mut escapes, (i - prev) as u64);
                put_u16(&mut escapes, value_of(word(src, i)));
                prev = i + 1;
                esc_count += 1;
            }
        }
    }

    let lanes = rans::lanes_for(n);
    let (states, start) = rans::encode::encode(syms, lanes, &EncTable::new(&alphabet.freqs), &mut scratch.words, |s, l, t, x, b, p| kernels.rans_encode(s, l, t, x, b, p));
    let words = &scratch.words[start..];
    let table = alphabet.write(VALUE_BITS);
    let total = RANS_HEADER_SIZE + table.len() + escapes.len() + 4 * lanes + 2 * words.len() + raw_len(n);
    if total >= 1 + src.len() {
        out.push(MODE_STORED);
        out.extend_from_slice(src);
        return;
    }
    let start = out.len();
    out.reserve(total);
    out.push(MODE_RANS);
    out.push(lanes.trailing_zeros() as u8);
    put_u16(out, table.len() as u16);
    put_u32(out, words.len() as u32);
    put_u32(out, esc_count);
    put_u32(out, escapes.len() as u32);
    out.extend_from_slice(&table);
    out.extend_from_slice(&escapes);
    for s in &states {
        put_u32(out, *s);
    }
    out.extend(words.iter().flat_map(|w| w.to_le_bytes()));
    out.extend_from_slice(raw);
    debug_assert_eq!(out.len() - start, total);
}
