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
//!   [`super::profiles`]);
//! * `4` rANS with row classes, a table per class (see [`super::stream_rows`]).
//!
//! The stream's length is known from context (the enclosing codec stores it).

use crate::error::{Error, Result};
use crate::format::bytes::{put_u16s, put_u32, ByteReader};
use super::stream_rows;
use crate::kernels::{portable, ByteStream, ByteTables, BytesModel, Dest, Kernels, TableRef};
use crate::rans::alphabet::Alphabet;
use crate::rans::encode::EncTable;
use crate::rans;

pub const STREAM_RAW: u8 = 0;
pub const STREAM_RANS: u8 = 1;
pub const STREAM_CONST: u8 = 2;
pub const STREAM_PROFILE: u8 = 3;
pub const STREAM_ROWS: u8 = 4;

/// A decoding thread's byte-stream tables and class arrays, reused across streams.
pub type StreamScratch = super::rows::RowScratch<ByteTables>;

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
    /// The payload with the profile's table, while it competes with the own table's.
    static ALT: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::default();
}

/// Appends the payload of `src` (non-empty) to `out`: the smallest of constant,
/// rANS with its own table, rANS with stream `profile.1` of built-in profile
/// `profile.0` (if given) and raw; for symbols at `rows` of a matrix, rANS
/// with a table per class of rows where that is estimated smaller.
pub fn encode_with(src: &[u8], kernels: &Kernels, profile: Option<(u8, usize)>, rows: Option<super::rows::RowShape>, out: &mut Vec<u8>) {
    debug_assert!(!src.is_empty());
    let hist = histogram(kernels, src);
    let alphabet = Alphabet::from_histogram(&hist);
    if alphabet.values.len() == 1 {
        out.extend_from_slice(&[STREAM_CONST, src[0]]);
        return;
    }
    let start = out.len();
    if let Some(shape) = rows {
        if WORDS.with(|w| stream_rows::encode(src, shape, &hist, kernels, &mut w.borrow_mut(), out)) {
            if out.len() - start > src.len() {
                out.truncate(start);
                out.push(STREAM_RAW);
                out.extend_from_slice(src);
            }
            return;
        }
    }
    let table = alphabet.write(8);
    let mut header = vec![STREAM_RANS, 0];
    header.extend_from_slice(&(table.len() as u16).to_le_bytes());
    rans_payload(src, &alphabet, &header, &table, kernels, out);
    if let Some(p) = profile.and_then(|(id, stream)| super::profiles::lookup(id, stream).map(|a| (id, stream, a))) {
        ALT.with(|alt| {
            let alt = &mut alt.borrow_mut();
            alt.clear();
            rans_payload(src, p.2, &[STREAM_PROFILE, 0, p.0, p.1 as u8], &[], kernels, alt);
            if alt.len() < out.len() - start {
                out.truncate(start);
                out.extend_from_slice(alt);
            }
        });
    }
    if out.len() - start > src.len() {
        out.truncate(start);
        out.push(STREAM_RAW);
        out.extend_from_slice(src);
    }
}

/// Bytes that [`encode_with`] without rows cannot go below for `src`: the
/// order-0 entropy of its bytes less what rANS's rounding can save (an eighth
/// of a bit a byte, above its `log2(16/15)`). Lets a caller skip coding an
/// alternative that cannot win.
pub fn size_floor(src: &[u8], kernels: &Kernels) -> usize {
    let bits = rans::estimate::entropy_floor(&histogram(kernels, src)) >> 16;
    (bits / 8).saturating_sub(src.len() as u64 / 64) as usize
}

/// Appends `header` (whose byte 1 receives lanes_log2), `n_words`, `table`, the
/// states and the words of `src` coded with `alphabet` (which covers every value of
/// `src`).
fn rans_payload(src: &[u8], alphabet: &Alphabet, header: &[u8], table: &[u8], kernels: &Kernels, out: &mut Vec<u8>) {
    // The encoder table is indexed by byte value, so `src` is coded as is.
    let enc = EncTable::<{ rans::MAX_SYMBOLS }>::new(&alphabet.freqs).indexed_by(&alphabet.values);
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
        put_u16s(out, words);
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

/// Calls `put(row, first)` for the place of every row of a stream without rANS
/// (symbols `first..first + row.len()` of its `n`), so a raw or constant
/// stream is written a row at a time, not a byte at a time through `Dest::at`.
fn rows(dest: &mut Dest<'_>, n: usize, mut put: impl FnMut(&mut [u8], usize)) {
    let width = 1usize.checked_shl(dest.row_log2).unwrap_or(usize::MAX);
    let mut first = 0;
    while first < n {
        let len = width.min(n - first);
        let at = dest.at(first);
        put(&mut dest.out[at..at + len], first);
        first += len;
    }
}

/// The bytes of a raw stream payload of `n` symbols, which need no decoding:
/// `None` for the other modes (and for a raw payload of the wrong length, which
/// [`decode`] rejects).
pub fn raw_bytes(payload: &[u8], n: usize) -> Option<&[u8]> {
    match payload.split_first() {
        Some((&STREAM_RAW, body)) if body.len() == n => Some(body),
        _ => None,
    }
}

/// Decodes a stream payload (exactly `payload`) of `n` symbols into `dest`.
/// The caller guarantees that every position `dest.at(i)`, `i < n`, is inside
/// `dest.out` and, unless the stream is contiguous, rows are at least 16 wide.
pub fn decode(payload: &[u8], n: usize, dest: Dest<'_>, kernels: &Kernels, t: &mut StreamScratch) -> Result<()> {
    decode_tiled(payload, n, dest, kernels, t, usize::MAX, |_, _, _| {})
}

/// [`decode`], calling `ready(out, done, read)` as the output grows: symbols
/// `0..done` are in `out` (all of `dest.out`), final unless the call returns an
/// error, and the decoder has read `payload[..read]`. It is called every `tile`
/// symbols or so (whole kernel steps; `done` stays put where the kernel stops
/// early, e.g. on the scalar table) and once at the end with `done == n` and
/// `read == payload.len()`, so the caller can work on each piece of output, and
/// checksum each piece of input, while it is in cache.
pub fn decode_tiled(
    payload: &[u8],
    n: usize,
    mut dest: Dest<'_>,
    kernels: &Kernels,
    t: &mut StreamScratch,
    tile: usize,
    mut ready: impl FnMut(&mut [u8], usize, usize),
) -> Result<()> {
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
                rows(&mut dest, n, |row, first| row.copy_from_slice(&body[first..first + row.len()]));
            }
            ready(dest.out, n, payload.len());
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
                rows(&mut dest, n, |row, _| row.fill(v));
            }
            ready(dest.out, n, payload.len());
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
                let t = t.table(0, ByteTables::new_boxed);
                kernels.load_byte_tables(t, &a, lanes);
                (t.view(), n_words)
            } else {
                let (id, stream) = (r.u8()?, r.u8()?);
                let n_words = r.u32()? as usize;
                let (_, tables) = profile_tables(id, usize::from(stream)).ok_or(Error::VersionUnsupported)?;
                (tables, n_words)
            };
            run_rans(r, payload.len(), lanes, n_words, &BytesModel::single(&tables), n, dest, kernels, tile, ready)
        }
        STREAM_ROWS => {
            let h = stream_rows::Header::read(&mut r)?;
            let k = h.table_lens.len();
            if !rans::LANE_CHOICES.contains(&h.lanes) || n == 0 || !h.shape.fits(h.lanes) {
                return Err(Error::Corrupt);
            }
            t.read_classes(&mut r, h.shape, n, h.lanes, k)?;
            for (c, &len) in h.table_lens.iter().enumerate() {
                let a = Alphabet::read(r.take(len)?, 8)?;
                // A class of one value has the (never coded) escape every
                // single-value alphabet carries; no other escape is allowed.
                if a.has_escape && a.values.len() != 1 {
                    return Err(Error::Corrupt);
                }
                kernels.load_byte_tables(t.table(c, ByteTables::new_boxed), &a, h.lanes);
            }
            let views = t.tables(k).map(ByteTables::view);
            run_rans(r, payload.len(), h.lanes, h.n_words, &BytesModel { tables: &views[..k], class: &t.step_class }, n, dest, kernels, tile, ready)
        }
        _ => Err(Error::Corrupt),
    }
}

/// The rest of a rANS stream payload (`r` at its states): states, words, and
/// the decode with `model`, tile by tile (see [`decode_tiled`]).
#[allow(clippy::too_many_arguments)]
fn run_rans(
    mut r: ByteReader<'_>,
    payload_len: usize,
    lanes: usize,
    n_words: usize,
    model: &BytesModel<'_>,
    n: usize,
    dest: Dest<'_>,
    kernels: &Kernels,
    tile: usize,
    mut ready: impl FnMut(&mut [u8], usize, usize),
) -> Result<()> {
    let states_bytes = r.take(4 * lanes)?;
    let words_at = r.position();
    let words = r.take(n_words.checked_mul(2).ok_or(Error::Corrupt)?)?;
    if r.remaining() != 0 {
        return Err(Error::Corrupt);
    }
    let states = rans::read_states(states_bytes, lanes)?;
    let mut s = ByteStream { lanes, states, words, word_pos: 0, dest, n, step: 0 };
    let steps = (tile / lanes).max(1);
    let mut until = steps;
    while tile < n && until < s.full_steps() {
        kernels.advance_bytes(model, &mut s, until);
        ready(s.dest.out, s.step * lanes, words_at + 2 * s.word_pos);
        until += steps;
    }
    kernels.decode_bytes(model, &mut s)?;
    ready(s.dest.out, n, payload_len);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random bytes with roughly `bits` bits of entropy each (a skewed
    /// distribution over `1 << bits` values, plus rare outliers).
    fn data(n: usize, bits: u32, seed: u32) -> Vec<u8> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let r = s >> 8;
                if r.is_multiple_of(97) {
                    (r >> 8) as u8
                } else {
                    let v = (r & ((1 << bits) - 1)) as u8;
                    v & ((r >> 12) as u8 | 0x0f)
                }
            })
            .collect()
    }

    #[test]
    fn no_stream_codes_below_its_size_floor() {
        // Every mode (constant, own table, profile, raw) on skewed, near-uniform,
        // low-entropy and tiny inputs, and on the header rows of a real Q4_K chunk.
        let k = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        let q4k = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/q4k/qwen2.5-coder-1.5b.blk.0.attn_q.q4k")).expect("fixture");
        let (headers, _, _) = crate::codec::q4k::encode::split_blocks(&q4k);
        let n = q4k.len() / crate::format::q4k_block::BLOCK;
        // (bytes, profile stream)
        type Input = (Vec<u8>, Option<(u8, usize)>);
        let mut inputs: Vec<Input> = (0..16).map(|p| (headers[p * n..(p + 1) * n].to_vec(), Some((crate::codec::profiles::Q4K_V1, p)))).collect();
        for (len, bits) in [(1, 4), (2, 1), (100, 2), (5000, 1), (70_000, 3), (70_000, 8), (300_000, 5)] {
            for seed in 0..3 {
                inputs.push((data(len, bits, seed), None));
            }
        }
        inputs.push((vec![7; 4096], None));
        let mut tight = 0;
        for (src, profile) in &inputs {
            let mut out = Vec::new();
            encode_with(src, k, *profile, None, &mut out);
            let floor = size_floor(src, k);
            assert!(floor <= out.len(), "{} bytes coded in {}, below the floor {floor}", src.len(), out.len());
            tight += usize::from(floor * 100 >= out.len() * 95);
        }
        assert!(tight >= 8, "the floor is too loose to be useful: {tight} inputs within 5 %");
    }

    fn decode_on(isa: crate::isa::Isa, payload: &[u8], n: usize, out: &mut [u8], row: Option<(u32, usize, usize)>) -> Result<()> {
        let k = Kernels::get(isa).expect("supported");
        let mut t = StreamScratch::default();
        let dest = match row {
            None => Dest::contiguous(out),
            Some((row_log2, stride, offset)) => Dest { out, row_log2, stride, offset },
        };
        decode(payload, n, dest, k, &mut t)
    }

    /// [`decode_tiled`] on `isa`, checking at every `ready` call that the symbols it
    /// declares final already hold `want`'s bytes (the oracle's output, when it
    /// decoded) and that the last call covers all `n`.
    fn decode_tiled_on(isa: crate::isa::Isa, payload: &[u8], n: usize, out: &mut [u8], row: Option<(u32, usize, usize)>, tile: usize, want: Option<&[u8]>) -> Result<()> {
        let k = Kernels::get(isa).expect("supported");
        let mut t = StreamScratch::default();
        let (row_log2, stride, offset) = row.unwrap_or((usize::BITS - 1, 0, 0));
        let dest = Dest { out, row_log2, stride, offset };
        let at = |i: usize| (i >> row_log2) * stride + offset + (i & ((1usize << row_log2) - 1));
        let mut seen = 0;
        let mut read_before = 0;
        decode_tiled(payload, n, dest, k, &mut t, tile, |out, done, read| {
            assert!(seen <= done && done <= n, "{isa:?} ready {seen} -> {done} of {n}");
            assert!(read_before <= read && read <= payload.len(), "{isa:?} read {read_before} -> {read} of {}", payload.len());
            assert!(done < n || read == payload.len(), "{isa:?} the last call reads it all");
            read_before = read;
            for i in (seen..done).filter(|_| want.is_some()) {
                assert_eq!(Some(out[at(i)]), want.map(|w| w[at(i)]), "{isa:?} symbol {i} of {n} declared final early (tile {tile})");
            }
            seen = done;
        })?;
        assert_eq!(seen, n, "{isa:?} last ready call");
        Ok(())
    }

    /// `payload` (`n` symbols) decodes on every ISA, whole and in tiles, as the
    /// oracle decodes it (an error where it fails), into each destination of
    /// `rows` (`None`: contiguous); with `src`, the oracle must give it back.
    fn decodes_alike_on_every_isa(payload: &[u8], n: usize, rows: &[Option<(u32, usize, usize)>], src: Option<&[u8]>, what: &str) {
        let scalar = crate::isa::Isa::Scalar;
        for &row in rows {
            let span = match row {
                None => n,
                Some((r, stride, off)) => ((n - 1) >> r) * stride + off + (1 << r),
            };
            let mut want = vec![0u8; span];
            let w = decode_on(scalar, payload, n, &mut want, row);
            if let (None, Some(src)) = (row, src) {
                assert!(w.is_ok(), "{what}: the oracle fails");
                assert_eq!(&want[..], src, "{what}: the oracle");
            }
            for isa in crate::isa::supported() {
                let mut got = vec![0u8; span];
                let g = decode_on(isa, payload, n, &mut got, row);
                assert_eq!(g.is_ok(), w.is_ok(), "{isa:?} {what} row {row:?}");
                if w.is_ok() {
                    assert_eq!(got, want, "{isa:?} {what} row {row:?}");
                }
                for tile in [1usize, 300] {
                    let mut got = vec![0u8; span];
                    let g = decode_tiled_on(isa, payload, n, &mut got, row, tile, w.is_ok().then_some(&want[..]));
                    assert_eq!(g.is_ok(), w.is_ok(), "{isa:?} {what} row {row:?} tile {tile}");
                    if w.is_ok() {
                        assert_eq!(got, want, "{isa:?} {what} row {row:?} tile {tile}");
                    }
                }
            }
        }
    }

    /// Row classes (a table per run of rows) at 64 and 128 lanes: runs of one
    /// step, chunks that start mid-row, classes of one value; destinations 64
    /// and 128 wide with a stride; damaged and cut payloads.
    #[test]
    fn byte_row_classes_decode_alike_on_every_isa() {
        use crate::codec::rows::RowShape;
        let scalar = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        let mut with_classes = 0;
        for (row, first_col, n) in [(128usize, 0usize, 40_000usize), (128, 0, 70_016), (256, 128, 70_016), (4096, 0, 70_016), (64, 0, 20_000), (128, 64, 20_032), (1024, 512, 40_960)] {
            for constant_rows in [false, true] {
                let mut s = (row * 31 + n + first_col) as u32 | 1;
                // Odd rows wide (or one value), even rows narrow with rare outliers.
                let src: Vec<u8> = (0..n)
                    .map(|i| {
                        s ^= s << 13;
                        s ^= s >> 17;
                        s ^= s << 5;
                        if ((first_col + i) / row) % 2 == 1 {
                            if constant_rows { 9 } else { ((s >> 7) % 200) as u8 }
                        } else {
                            (((s >> 3) % 5) as u8).wrapping_add(if s.is_multiple_of(53) { (s >> 20) as u8 } else { 0 })
                        }
                    })
                    .collect();
                let mut payload = Vec::new();
                encode_with(&src, scalar, None, Some(RowShape { row, first_col }), &mut payload);
                with_classes += usize::from(payload[0] == STREAM_ROWS);
                let what = format!("rows {row}/{first_col} n {n}");
                decodes_alike_on_every_isa(&payload, n, &[None, Some((7, 130, 1)), Some((6, 64, 0)), Some((6, 70, 3))], Some(&src), &what);
                let mut bad = payload.clone();
                let at = bad.len() - 9;
                bad[at] ^= 0x08;
                decodes_alike_on_every_isa(&bad, n, &[None, Some((4, 20, 1))], None, "damaged rows");
                let cut = &payload[..payload.len() - 2];
                decodes_alike_on_every_isa(cut, n, &[None], None, "cut rows");
            }
        }
        assert!(with_classes >= 6, "only {with_classes} payloads have row classes");
    }

    #[test]
    fn byte_row_classes_meet_off_the_median_and_decode_alike() {
        use crate::codec::rows::RowShape;
        let scalar = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        // Every fourth row small and narrow, the rest wide: the classes meet at
        // the first band boundary, a quarter of the rows against three.
        for (row, first_col, rows) in [(128usize, 0usize, 64usize), (128, 64, 67), (256, 0, 17)] {
            let n = rows * row - first_col - row / 2;
            let mut s = (row + rows) as u32 | 1;
            let src: Vec<u8> = (0..n)
                .map(|i| {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    if ((first_col + i) / row) % 4 == 3 { (s % 3) as u8 } else { 20 + ((s >> 7) % 100) as u8 }
                })
                .collect();
            let mut payload = Vec::new();
            encode_with(&src, scalar, None, Some(RowShape { row, first_col }), &mut payload);
            assert_eq!(payload[0], STREAM_ROWS, "rows {row}/{first_col}");
            let n_rows = RowShape { row, first_col }.rows(n);
            let class = |r: usize| payload[20 + r / 8] >> (r % 8) & 1;
            for r in 0..n_rows {
                assert_eq!(class(r), u8::from(r % 4 != 3), "rows {row}/{first_col}: row {r}");
            }
            decodes_alike_on_every_isa(&payload, n, &[None], Some(&src), "off-median rows");
        }
    }

    /// Alphabets of up to 256 symbols, most of them of frequency one: buckets
    /// full of symbol starts, at every offset.
    #[test]
    fn rare_symbol_byte_alphabets_decode_alike_on_every_isa() {
        let scalar = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        for (n, rare_from, rare_to, seed) in [(70_000usize, 1u32, 255u32, 1u32), (40_000, 0, 255, 2), (20_000, 0, 200, 3), (70_000, 100, 255, 4), (33_000, 2, 254, 5)] {
            let mut s = seed.wrapping_mul(0x9e37_79b9) | 1;
            let common = [0u8, 77, 200, 255];
            let mut src: Vec<u8> = (rare_from..=rare_to).map(|v| v as u8).collect();
            while src.len() < n {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                let v = if s.is_multiple_of(29) { (rare_from + (s >> 8) % (rare_to - rare_from + 1)) as u8 } else { common[(s >> 3) as usize % 4] };
                src.push(v);
            }
            let mut payload = Vec::new();
            encode_with(&src, scalar, None, None, &mut payload);
            assert_eq!(payload[0], STREAM_RANS);
            let table_len = usize::from(u16::from_le_bytes([payload[2], payload[3]]));
            let alphabet = Alphabet::read(&payload[8..8 + table_len], 8).expect("alphabet");
            let ones = alphabet.freqs.iter().filter(|&&f| f == 1).count();
            assert!(ones * 2 > alphabet.freqs.len(), "n {n}: {ones} of {} symbols rare", alphabet.freqs.len());
            decodes_alike_on_every_isa(&payload, n, &[None, Some((5, 34, 2)), Some((6, 66, 1)), Some((4, 16, 0))], Some(&src), &format!("rare n {n}"));
        }
    }

    /// The permute kernels compute a symbol's byte where the alphabet allows
    /// (every value; every value but one) and look it up otherwise: each kind,
    /// at 64 and 128 lanes, contiguous and into rows, decodes as the oracle does
    /// on every ISA.
    #[test]
    fn byte_value_maps_decode_alike_on_every_isa() {
        use crate::kernels::{ByteTables, ValueMap};
        let scalar = crate::isa::Isa::Scalar;
        type Remap = fn(u8) -> u8;
        let kinds: [(ValueMap, Remap); 3] = [
            (ValueMap::Identity, |v| v),
            (ValueMap::Gap(0x80), |v| if v == 0x80 { 0x7f } else { v }),
            (ValueMap::Table, |v| v & 0xfe),
        ];
        for (kind, map) in kinds {
            for n in [20000usize, 70016] {
                // Every value once (so the alphabet is what `map` leaves), then a skewed tail.
                let mut src: Vec<u8> = (0..=255u8).map(map).collect();
                src.extend(data(n - 256, 8, n as u32).into_iter().map(|v| map(v.wrapping_add(v >> 1))));
                let mut payload = Vec::new();
                encode_with(&src, Kernels::get(scalar).expect("scalar"), None, None, &mut payload);
                assert_eq!(payload[0], STREAM_RANS);
                let table_len = usize::from(u16::from_le_bytes([payload[2], payload[3]]));
                let alphabet = Alphabet::read(&payload[8..8 + table_len], 8).expect("alphabet");
                let mut t = ByteTables::new_boxed();
                t.load_all(&alphabet);
                let found = match t.buckets.values {
                    ValueMap::Gap(_) => ValueMap::Gap(0x80),
                    k => k,
                };
                assert_eq!(found, kind, "n {n}");
                decodes_alike_on_every_isa(&payload, n, &[None, Some((5, 34, 2)), Some((4, 22, 6)), Some((6, 70, 3))], Some(&src), &format!("{kind:?} n {n}"));
            }
        }
    }

    /// Every ISA's byte-stream decoder against the scalar oracle, contiguous and
    /// into rows (16 and 32 wide, as Q5_0/Q8_0 quants), on lengths around the
    /// lane counts and step multiples, on low- and high-entropy data (few or many
    /// words per step: the SIMD kernels' last steps run on a padded copy of the
    /// remaining words), and on damaged payloads, where every ISA must agree
    /// with the oracle (an error, or the same bytes).
    #[test]
    fn byte_streams_match_the_oracle_on_every_isa() {
        let scalar = crate::isa::Isa::Scalar;
        let lengths = [1usize, 31, 32, 33, 100, 128, 129, 255, 256, 1000, 4096, 8191, 8192, 8193, 20000, 32767, 32768, 32800, 70000];
        for (li, &n) in lengths.iter().enumerate() {
            for bits in [1u32, 3, 6, 8] {
                let src = data(n, bits, (li as u32) << 4 | bits);
                let mut payload = Vec::new();
                encode_with(&src, Kernels::get(scalar).expect("scalar"), None, None, &mut payload);
                // Every encoder (both AVX2 lookups among them) writes the same bytes.
                for k in Kernels::all_variants() {
                    let mut p = Vec::new();
                    encode_with(&src, k, None, None, &mut p);
                    assert!(p == payload, "{:?} n {n} bits {bits} encodes differently", k.isa());
                }
                for row in [None, Some((5u32, 34usize, 2usize)), Some((4, 22, 6))] {
                    let span = |n: usize| match row {
                        None => n,
                        Some((r, stride, off)) => ((n - 1) >> r) * stride + off + (1 << r),
                    };
                    if row.is_some() && n % (1 << row.map_or(0, |r| r.0)) != 0 {
                        continue;
                    }
                    let mut want = vec![0u8; span(n)];
                    decode_on(scalar, &payload, n, &mut want, row).expect("scalar decodes");
                    if row.is_none() {
                        assert_eq!(want, src, "oracle n {n} bits {bits}");
                    }
                    for isa in crate::isa::supported() {
                        let mut got = vec![0u8; span(n)];
                        decode_on(isa, &payload, n, &mut got, row).expect("decodes");
                        assert_eq!(got, want, "{isa:?} n {n} bits {bits} row {row:?}");
                        // In pieces (one step, a few, many): the same bytes.
                        for tile in [1, 200, 5000] {
                            let mut got = vec![0u8; span(n)];
                            decode_tiled_on(isa, &payload, n, &mut got, row, tile, Some(&want)).expect("decodes in pieces");
                            assert_eq!(got, want, "{isa:?} n {n} bits {bits} row {row:?} tile {tile}");
                        }
                    }
                    // Damage: words cut short, a flipped bit in the last words, one word too many.
                    let mut damaged = vec![payload[..payload.len() - 2].to_vec(), payload.clone(), [payload.clone(), vec![0, 0]].concat()];
                    let at = payload.len().saturating_sub(7).max(1);
                    damaged[1][at] ^= 0x10;
                    for bad in &damaged {
                        let mut want = vec![0u8; span(n)];
                        let w = decode_on(scalar, bad, n, &mut want, row);
                        for isa in crate::isa::supported() {
                            let mut got = vec![0u8; span(n)];
                            let g = decode_on(isa, bad, n, &mut got, row);
                            assert_eq!(g.is_ok(), w.is_ok(), "{isa:?} n {n} bits {bits} row {row:?} damaged");
                            if w.is_ok() {
                                assert_eq!(got, want, "{isa:?} n {n} bits {bits} row {row:?} damaged");
                            }
                            for tile in [1, 200] {
                                let mut got = vec![0u8; span(n)];
                                let g = decode_tiled_on(isa, bad, n, &mut got, row, tile, w.is_ok().then_some(&want[..]));
                                assert_eq!(g.is_ok(), w.is_ok(), "{isa:?} n {n} bits {bits} row {row:?} tile {tile} damaged");
                                if w.is_ok() {
                                    assert_eq!(got, want, "{isa:?} n {n} bits {bits} row {row:?} tile {tile} damaged");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
