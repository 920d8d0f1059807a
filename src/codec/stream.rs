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
use crate::kernels::{portable, ByteStream, ByteTables, Dest, Kernels, TableRef};
use crate::rans::alphabet::Alphabet;
use crate::rans::encode::EncTable;
use crate::rans::{self, MAX_LANES, RANS_L};

pub const STREAM_RAW: u8 = 0;
pub const STREAM_RANS: u8 = 1;
pub const STREAM_CONST: u8 = 2;
pub const STREAM_PROFILE: u8 = 3;

portable! {
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
    let alphabet = Alphabet::from_histogram(&histogram(kernels, src));
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
        let (states, start) = rans::encode::encode(src, lanes, &enc, buf, |s, l, t, x, b, p| kernels.rans_encode(s, l, t, x, b, p));
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

/// Built-in profile streams' tables, built once per process on first use.
fn profile_tables(id: u8, stream: usize) -> Option<(&'static Alphabet, TableRef<'static>)> {
    use std::sync::OnceLock;
    const SLOTS: usize = 32;
    static CACHE: [OnceLock<Option<Box<ByteTables>>>; SLOTS] = [const { OnceLock::new() }; SLOTS];
    let alphabet = super::profiles::lookup(id, stream)?;
    let slot = CACHE.get(usize::from(id).checked_sub(1)? * 17 + stream)?;
    let tables = slot.get_or_init(|| {
        let mut t = ByteTables::new_boxed();
        t.load_all(alphabet);
        Some(t)
    });
    tables.as_ref().map(|t| (alphabet, t.view()))
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
                kernels.load_byte_tables(t, &a);
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
            kernels.decode_bytes(tables, &mut s)
        }
        _ => Err(Error::Corrupt),
    }
}
