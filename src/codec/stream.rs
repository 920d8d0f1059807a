//! One byte stream coded on its own — the building block of the field-split
//! codecs (a field of a quantisation block, a byte plane of a float tensor).
//!
//! A stream payload starts with a mode byte:
//! * `0` raw: the bytes verbatim;
//! * `1` rANS over byte values: `{lanes_log2 u8, table_len u16, n_words u32}`,
//!   the alphabet (8-bit values), `lanes` u32 states, `n_words` u16 words;
//! * `2` constant: one byte, repeated;
//! * `3` rANS with a built-in profile table: `{lanes_log2 u8, profile u8, stream
//!   u8, n_words u32}`, `lanes` u32 states, `n_words` u16 words (see
//!   [`super::profiles`]).
//!
//! The stream's length is known from context (the enclosing codec stores it).

use crate::error::{Error, Result};
use crate::format::bytes::{le_u32, put_u32, ByteReader};
use crate::kernels::Kernels;
use crate::rans::alphabet::Alphabet;
use crate::rans::encode::EncTable;
use crate::rans::table::{self, DecodeTable};
use crate::rans::{self, MAX_LANES, PROB_SCALE, RANS_L};
use multiversion::multiversion;

pub const STREAM_RAW: u8 = 0;
pub const STREAM_RANS: u8 = 1;
pub const STREAM_CONST: u8 = 2;
pub const STREAM_PROFILE: u8 = 3;

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+bmi2"))]
fn histogram(src: &[u8]) -> [u32; 256] {
    // Four partial histograms: skewed data would serialise on one counter.
    let mut part = [[0u32; 256]; 4];
    let mut quads = src.chunks_exact(4);
    for c in &mut quads {
        for (h, &b) in part.iter_mut().zip(c) {
            h[usize::from(b)] += 1;
        }
    }
    for &b in quads.remainder() {
        part[0][usize::from(b)] += 1;
    }
    let mut hist = [0u32; 256];
    for (v, h) in hist.iter_mut().enumerate() {
        *h = part[0][v] + part[1][v] + part[2][v] + part[3][v];
    }
    hist
}

thread_local! {
    static WORDS: std::cell::RefCell<Vec<u16>> = std::cell::RefCell::default();
}

/// Appends the payload of `src` (non-empty) to `out`: the smallest of constant,
/// rANS with its own table, rANS with `profile`'s table (if given) and raw.
pub fn encode(src: &[u8], kernels: &Kernels, out: &mut Vec<u8>) {
    encode_with(src, kernels, None, out)
}

/// [`encode`], also trying stream `profile.1` of built-in profile `profile.0`.
pub fn encode_with(src: &[u8], kernels: &Kernels, profile: Option<(u8, usize)>, out: &mut Vec<u8>) {
    debug_assert!(!src.is_empty());
    let alphabet = Alphabet::from_histogram(&histogram(src));
    if alphabet.values.len() == 1 {
        out.extend_from_slice(&[STREAM_CONST, src[0]]);
        return;
    }
    let start = out.len();
    let table = alphabet.write(8);
    let mut header = vec![STREAM_RANS, 0];
    header.extend_from_slice(&(table.len() as u16).to_le_bytes());
    rans_payload(src, &alphabet, &header, &table, kernels, out);
    if let Some(p) = profile.and_then(|(id, stream)| super::profiles::lookup(id, stream).map(|a| (id, stream, a))) {
        let mut alt = Vec::new();
        rans_payload(src, p.2, &[STREAM_PROFILE, 0, p.0, p.1 as u8], &[], kernels, &mut alt);
        if alt.len() < out.len() - start {
            out.truncate(start);
            out.extend_from_slice(&alt);
        }
    }
    if out.len() - start >= 1 + src.len() {
        out.truncate(start);
        out.push(STREAM_RAW);
        out.extend_from_slice(src);
    }
}

/// Appends `header` (whose byte 1 receives lanes_log2), `n_words`, `table`, the
/// states and the words of `src` coded with `alphabet` (which covers every value of
/// `src`).
fn rans_payload(src: &[u8], alphabet: &Alphabet, header: &[u8], table: &[u8], kernels: &Kernels, out: &mut Vec<u8>) {
    // The encoder table is indexed by byte value, so `src` is coded as is.
    let enc = EncTable::new(&alphabet.freqs).indexed_by(&alphabet.values);
    let lanes = rans::lanes_for_bytes(src.len());
    WORDS.with(|w| {
        let buf = &mut w.borrow_mut();
        let (states, start) = rans::encode::encode(src, lanes, &enc, buf, kernels.rans_encode);
        let words = &buf[start..];
        out.reserve(header.len() + 4 + table.len() + 4 * lanes + 2 * words.len());
        out.push(header[0]);
        out.push(lanes.trailing_zeros() as u8);
        out.extend_from_slice(&header[2..]);
        put_u32(out, words.len() as u32);
        out.extend_from_slice(table);
        for s in &states {
            put_u32(out, *s);
        }
        out.extend(words.iter().flat_map(|w| w.to_le_bytes()));
    });
}

/// Slot tables for byte streams: the id in each entry is the byte value itself.
pub struct ByteTables {
    pub dec: DecodeTable,
    /// `table::build_avx2` layout, for the AVX2 kernels.
    pub dec_avx2: DecodeTable,
}

impl ByteTables {
    pub fn new_boxed() -> Box<ByteTables> {
        Box::new(ByteTables { dec: [0; PROB_SCALE as usize], dec_avx2: [0; PROB_SCALE as usize] })
    }

    /// Builds both layouts for `alphabet` (its symbols stand for their byte values).
    fn load(&mut self, alphabet: &Alphabet, avx2: bool) {
        let id = |s: usize| alphabet.values[s] as u8;
        if avx2 {
            table::build_avx2(&alphabet.freqs, id, &mut self.dec_avx2);
        }
        table::build(&alphabet.freqs, id, &mut self.dec);
    }

    pub fn view(&self) -> TableRef<'_> {
        TableRef { dec: &self.dec, dec_avx2: &self.dec_avx2 }
    }
}

/// The tables a byte-stream kernel reads (owned per call, or a profile's cached ones).
#[derive(Clone, Copy)]
pub struct TableRef<'a> {
    pub dec: &'a DecodeTable,
    pub dec_avx2: &'a DecodeTable,
}

/// Built-in profile streams' tables, built once per process on first use.
fn profile_tables(id: u8, stream: usize) -> Option<(&'static Alphabet, TableRef<'static>)> {
    use std::sync::OnceLock;
    const SLOTS: usize = 32;
    static CACHE: [OnceLock<Option<Box<ByteTables>>>; SLOTS] = [const { OnceLock::new() }; SLOTS];
    let alphabet = super::profiles::lookup(id, stream)?;
    let slot = CACHE.get(usize::from(id).checked_sub(1)? * 17 + stream)?;
    let tables = slot.get_or_init(|| {
        let mut t = ByteTables::new_boxed();
        t.load(alphabet, true);
        Some(t)
    });
    tables.as_ref().map(|t| (alphabet, t.view()))
}

/// Where a stream's symbols land: symbol `i` goes to
/// `out[(i >> row_log2) * stride + offset + (i & (2^row_log2 - 1))]` — rows of a
/// power-of-two width placed `stride` bytes apart (a field inside each block), or
/// one contiguous run.
pub struct Dest<'a> {
    pub out: &'a mut [u8],
    pub row_log2: u32,
    pub stride: usize,
    pub offset: usize,
}

impl<'a> Dest<'a> {
    /// All of `out`, contiguous.
    pub fn contiguous(out: &'a mut [u8]) -> Self {
        Dest { out, row_log2: usize::BITS - 1, stride: 0, offset: 0 }
    }

    #[inline(always)]
    pub fn at(&self, i: usize) -> usize {
        let row_mask = (1usize << self.row_log2) - 1;
        (i >> self.row_log2) * self.stride + self.offset + (i & row_mask)
    }
}

/// Decoder position inside one byte stream; kernels advance it by whole steps.
/// The SIMD kernels write 32 symbols at a time: one row piece when rows are at
/// least 32 wide, two 16-byte pieces when rows are 16 wide.
pub struct ByteStream<'a> {
    pub lanes: usize,
    pub states: [u32; MAX_LANES],
    pub words: &'a [u8],
    pub word_pos: usize,
    pub dest: Dest<'a>,
    /// Symbols in the stream.
    pub n: usize,
    pub step: usize,
}

impl ByteStream<'_> {
    pub fn n_words(&self) -> usize {
        self.words.len() / 2
    }

    pub fn full_steps(&self) -> usize {
        self.n / self.lanes
    }
}

/// Decodes the remaining steps one symbol at a time and checks the final state.
fn finish(t: &DecodeTable, s: &mut ByteStream<'_>) -> Result<()> {
    let (n, n_words) = (s.n, s.n_words());
    let mut q = s.word_pos;
    while s.step * s.lanes < n {
        let base = s.step * s.lanes;
        for j in 0..s.lanes.min(n - base) {
            let (sym, mut x) = table::step(t, s.states[j]);
            if x < RANS_L {
                if q >= n_words {
                    return Err(Error::Corrupt);
                }
                x = (x << 16) | u32::from(u16::from_le_bytes([s.words[2 * q], s.words[2 * q + 1]]));
                q += 1;
            }
            s.states[j] = x;
            let at = s.dest.at(base + j);
            s.dest.out[at] = sym;
        }
        s.step += 1;
    }
    s.word_pos = q;
    if q != n_words || s.states[..s.lanes].iter().any(|&x| x != RANS_L) {
        return Err(Error::Corrupt);
    }
    Ok(())
}

impl Dest<'_> {
    fn is_contiguous(&self) -> bool {
        self.row_log2 == usize::BITS - 1 && self.offset == 0
    }
}

/// Writes `f(i)` for every symbol of a stream without rANS.
fn fill(dest: &mut Dest<'_>, n: usize, f: impl Fn(usize) -> u8) {
    for i in 0..n {
        let at = dest.at(i);
        dest.out[at] = f(i);
    }
}

/// Decodes a stream payload (exactly `payload`) of `n` symbols into `dest`.
/// The caller guarantees that every position `dest.at(i)`, `i < n`, is inside
/// `dest.out` and, unless the stream is contiguous, rows are at least 16 wide.
pub fn decode(payload: &[u8], n: usize, mut dest: Dest<'_>, kernels: &Kernels, t: &mut ByteTables) -> Result<()> {
    debug_assert!(n == 0 || dest.at(n - 1) < dest.out.len());
    let mut r = ByteReader::new(payload);
    match r.u8()? {
        STREAM_RAW => {
            let body = r.take(r.remaining())?;
            if body.len() != n {
                return Err(Error::Corrupt);
            }
            if dest.is_contiguous() {
                dest.out[..n].copy_from_slice(body);
            } else {
                fill(&mut dest, n, |i| body[i]);
            }
            Ok(())
        }
        STREAM_CONST => {
            let v = r.u8()?;
            if r.remaining() != 0 {
                return Err(Error::Corrupt);
            }
            if dest.is_contiguous() {
                dest.out[..n].fill(v);
            } else {
                fill(&mut dest, n, |_| v);
            }
            Ok(())
        }
        mode @ (STREAM_RANS | STREAM_PROFILE) => {
            let lanes = 1usize << r.u8()?.min(31);
            if !rans::LANE_CHOICES.contains(&lanes) || n == 0 {
                return Err(Error::Corrupt);
            }
            let (tables, n_words) = if mode == STREAM_RANS {
                let table_len = usize::from(r.u16()?);
                let n_words = r.u32()? as usize;
                let a = Alphabet::read(r.take(table_len)?, 8)?;
                if a.has_escape {
                    return Err(Error::Corrupt);
                }
                t.load(&a, kernels.avx2_tables);
                (t.view(), n_words)
            } else {
                let (id, stream) = (r.u8()?, r.u8()?);
                let n_words = r.u32()? as usize;
                let (_, tables) = profile_tables(id, usize::from(stream)).ok_or(Error::VersionUnsupported)?;
                (tables, n_words)
            };
            let states_bytes = r.take(4 * lanes)?;
            let words = r.take(n_words.checked_mul(2).ok_or(Error::Corrupt)?)?;
            if r.remaining() != 0 {
                return Err(Error::Corrupt);
            }
            let mut states = [0u32; MAX_LANES];
            for (j, x) in states[..lanes].iter_mut().enumerate() {
                *x = le_u32(states_bytes, 4 * j);
                if *x < RANS_L {
                    return Err(Error::Corrupt);
                }
            }
            let mut s = ByteStream { lanes, states, words, word_pos: 0, dest, n, step: 0 };
            (kernels.bytes_decode)(tables, &mut s);
            finish(tables.dec, &mut s)
        }
        _ => Err(Error::Corrupt),
    }
}
