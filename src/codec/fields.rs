//! The field-split codec: content made of fixed-size blocks (ggml quantisation
//! blocks, float words) is split into byte streams, one per field, each coded on
//! its own (constant, raw or rANS; see [`super::stream`]).
//!
//! Chunk payload: the layout — `block_size u16`, `n_streams u8` (bit 7 set: a
//! fold follows, `kind u8` and `at u16`; container version 8 on), then per stream
//! `n_ranges u8` and `n_ranges × {start u16, len u16}` (the stream takes those bytes
//! of every block, in order; the ranges of all streams tile the block exactly
//! once) — then per stream `u32 length` and its stream payload. With a fold, the
//! streams split each block as the fold rewrote it ([`Fold`]). Bit 6 of
//! `n_streams` set (container version 11 on): after the fold, `at u16`, `n u16`
//! and `n` u16 values: the 16-bit field at `at` of every block holds its
//! value's rank in that list ([`super::ranks`]), its two bytes streams of their own.

use super::ranks::{self, List};
use super::stream;
use crate::error::{Error, Result};
use crate::format::bytes::{put_u16, put_u32, ByteReader};
use crate::format::checksum::RunningCrc;
use crate::format::quant_fold::FOLDED_BYTES;
use super::rows::RowShape;
use super::stream::StreamScratch;
use crate::kernels::{portable, Dest, Kernels};

/// A contiguous run of bytes inside a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: u16,
    pub len: u16,
}

/// How a block splits into streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub block_size: u16,
    pub streams: Vec<Vec<Range>>,
    /// Bytes of each block rewritten before the split (and back after decoding).
    pub fold: Option<Fold>,
    /// The 16-bit field at this offset, whose bytes are two one-byte streams,
    /// may be coded as ranks in a list of the chunk's values (the writer's
    /// choice, chunk by chunk; a layout read from a chunk has it where the
    /// chunk did so).
    pub ranks: Option<u16>,
}

/// A rewrite of some bytes of every block, so that the split streams see
/// skewed bytes where the block keeps a value's bits apart. Each is its own
/// inverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fold {
    /// 5-bit quants (Q5_0, Q5_1): the `qs` nibbles of the 20 bytes `qh[4]
    /// qs[16]` at offset `at` ([`crate::format::quant_fold`]).
    Quants5 { at: u16 },
}

/// Wire id of [`Fold::Quants5`].
const FOLD_QUANTS5: u8 = 1;
/// Bit of the stream count byte that announces a fold.
const FOLD_FLAG: u8 = 0x80;
/// Bit of the stream count byte that announces a field coded as ranks.
const RANKS_FLAG: u8 = 0x40;

impl Fold {
    /// The byte range it reads or rewrites inside a block.
    fn span(self) -> (usize, usize) {
        match self {
            Fold::Quants5 { at } => (usize::from(at), usize::from(at) + FOLDED_BYTES),
        }
    }

    /// Applies the fold to every block of `blocks` (whole blocks of `block`
    /// bytes) in place: before the split, or after decoding to undo it. With
    /// `source` (the rows of the stream [`Fold::source`] names, one per block),
    /// the bytes the fold reads are put in place from it first: the reassembly
    /// left them out.
    fn apply(self, kernels: &Kernels, blocks: &mut [u8], block: usize, source: Option<&[u8]>) {
        match self {
            Fold::Quants5 { at } => {
                let at = usize::from(at);
                let own: Vec<u8>;
                let qh = match source {
                    Some(rows) => rows,
                    None => {
                        own = blocks.chunks_exact(block).flat_map(|b| b[at..at + 4].iter().copied()).collect();
                        &own
                    }
                };
                kernels.fold_quants5(blocks, block, at, qh);
            }
        }
    }

    /// The stream that holds exactly the bytes the fold reads (`qh` of 5-bit
    /// quants), as the encoder lays it out, and their width: the decoder then
    /// puts them in place with the unfold instead of a copy.
    fn source(self, layout: &Layout) -> Option<(usize, usize)> {
        match self {
            Fold::Quants5 { at } => layout.streams.iter().position(|runs| runs[..] == [Range { start: at, len: 4 }]).map(|s| (s, 4)),
        }
    }
}

/// Streams a layout may have: the count byte's bits 6 and 7 are flags.
pub const MAX_STREAMS: usize = 63;

/// The smallest valid payload, whatever the chunk's size: a one-stream, one-run
/// layout (8 bytes), the stream's length (4) and a constant stream (mode, byte).
/// Constant streams code any number of bytes in two, so no larger bound holds.
pub const MIN_PAYLOAD: usize = 8 + 4 + 2;

impl Layout {
    /// One stream per byte position (e.g. byte planes of f32: `planes(4)`).
    pub fn planes(block_size: u16) -> Layout {
        Layout { block_size, streams: (0..block_size).map(|i| vec![Range { start: i, len: 1 }]).collect(), fold: None, ranks: None }
    }

    /// Streams given as `(start, len)` runs.
    pub fn from_runs(block_size: u16, streams: &[&[(u16, u16)]]) -> Layout {
        let streams = streams.iter().map(|s| s.iter().map(|&(start, len)| Range { start, len }).collect()).collect();
        Layout { block_size, streams, fold: None, ranks: None }
    }

    /// The same split of the blocks as `fold` rewrites them.
    pub fn folded(self, fold: Fold) -> Layout {
        Layout { fold: Some(fold), ..self }
    }

    /// The same split, the 16-bit field at `at` coded as ranks where that is
    /// smaller (its bytes must be two one-byte streams).
    pub fn ranked(self, at: u16) -> Layout {
        Layout { ranks: Some(at), ..self }
    }

    /// The streams of the low and high byte of the ranked field.
    fn rank_streams(&self) -> Option<(usize, usize)> {
        let at = self.ranks?;
        let one = |start: u16| self.streams.iter().position(|runs| runs[..] == [Range { start, len: 1 }]);
        Some((one(at)?, one(at.checked_add(1)?)?))
    }

    fn stream_width(&self, s: usize) -> usize {
        self.streams[s].iter().map(|r| usize::from(r.len)).sum()
    }

    /// Every byte of the block belongs to exactly one stream, and no run is empty.
    pub fn validate(&self) -> Result<()> {
        if self.block_size == 0 || self.streams.is_empty() || self.streams.len() > MAX_STREAMS {
            return Err(Error::Corrupt);
        }
        if self.fold.is_some_and(|f| f.span().1 > usize::from(self.block_size)) {
            return Err(Error::Corrupt);
        }
        // A ranked field is two one-byte streams of its own, outside the fold.
        if let Some(at) = self.ranks {
            let at = usize::from(at);
            if self.rank_streams().is_none() || self.fold.is_some_and(|f| f.span().0 < at + 2 && at < f.span().1) {
                return Err(Error::Corrupt);
            }
        }
        let mut seen = vec![false; usize::from(self.block_size)];
        for r in self.streams.iter().flatten() {
            let end = usize::from(r.start) + usize::from(r.len);
            if r.len == 0 || end > seen.len() {
                return Err(Error::Corrupt);
            }
            for b in &mut seen[usize::from(r.start)..end] {
                if std::mem::replace(b, true) {
                    return Err(Error::Corrupt);
                }
            }
        }
        if seen.iter().all(|&b| b) {
            Ok(())
        } else {
            Err(Error::Corrupt)
        }
    }

    /// Writes the layout; `list`: the chunk codes the ranked field as ranks
    /// in it (`self.ranks` must be set).
    fn write(&self, out: &mut Vec<u8>, list: Option<&[u16]>) {
        put_u16(out, self.block_size);
        let ranked = match (list, self.ranks) {
            (Some(list), Some(at)) => Some((at, list)),
            _ => None,
        };
        let count = self.streams.len() as u8 | if ranked.is_some() { RANKS_FLAG } else { 0 };
        match self.fold {
            None => out.push(count),
            Some(Fold::Quants5 { at }) => {
                out.extend_from_slice(&[count | FOLD_FLAG, FOLD_QUANTS5]);
                put_u16(out, at);
            }
        }
        if let Some((at, list)) = ranked {
            put_u16(out, at);
            put_u16(out, list.len() as u16);
            List::write(list, out);
        }
        for s in &self.streams {
            out.push(s.len() as u8);
            for r in s {
                put_u16(out, r.start);
                put_u16(out, r.len);
            }
        }
    }

    /// Reads a layout and, where the chunk codes a field as ranks, their list.
    fn read<'a>(r: &mut ByteReader<'a>) -> Result<(Layout, Option<List<'a>>)> {
        let block_size = r.u16()?;
        let count = r.u8()?;
        let fold = match count & FOLD_FLAG {
            0 => None,
            _ => match r.u8()? {
                FOLD_QUANTS5 => Some(Fold::Quants5 { at: r.u16()? }),
                _ => return Err(Error::Corrupt),
            },
        };
        let (ranks, list) = match count & RANKS_FLAG {
            0 => (None, None),
            _ => {
                let at = r.u16()?;
                let n = usize::from(r.u16()?);
                (Some(at), Some(List::new(r.take(2 * n)?)?))
            }
        };
        let n = usize::from(count & !(FOLD_FLAG | RANKS_FLAG));
        let mut streams = Vec::with_capacity(n.min(MAX_STREAMS));
        for _ in 0..n {
            let k = usize::from(r.u8()?);
            let mut runs = Vec::with_capacity(k);
            for _ in 0..k {
                runs.push(Range { start: r.u16()?, len: r.u16()? });
            }
            streams.push(runs);
        }
        let layout = Layout { block_size, streams, fold, ranks };
        layout.validate()?;
        Ok((layout, list))
    }
}

portable! {
/// Copies stream `s`'s bytes of every block into `dst` (block order).
fn gather(src: &[u8], block: usize, runs: &[Range], dst: &mut [u8]) {
    let width: usize = runs.iter().map(|r| usize::from(r.len)).sum();
    if let [r] = runs {
        let (start, len) = (usize::from(r.start), usize::from(r.len));
        if len == 1 {
            for (d, b) in dst.iter_mut().zip(src.chunks_exact(block)) {
                *d = b[start];
            }
            return;
        }
        for (d, b) in dst.chunks_exact_mut(len).zip(src.chunks_exact(block)) {
            d.copy_from_slice(&b[start..start + len]);
        }
        return;
    }
    for (d, b) in dst.chunks_exact_mut(width).zip(src.chunks_exact(block)) {
        let mut at = 0;
        for r in runs {
            let (start, len) = (usize::from(r.start), usize::from(r.len));
            d[at..at + len].copy_from_slice(&b[start..start + len]);
            at += len;
        }
    }
}
}

/// One copy of the reassembly: `len` bytes from offset `from` of a stream's row to
/// offset `to` of the block.
#[derive(Clone, Copy)]
struct Move {
    stream: usize,
    from: usize,
    to: usize,
    len: usize,
}

fn moves(layout: &Layout) -> Vec<Move> {
    let mut m = Vec::new();
    for (stream, runs) in layout.streams.iter().enumerate() {
        let mut from = 0;
        for r in runs {
            m.push(Move { stream, from, to: usize::from(r.start), len: usize::from(r.len) });
            from += usize::from(r.len);
        }
    }
    m
}

/// Copies one run of every block of a tile: `N` bytes at `from` of each stream row
/// to `to` of each block. A constant `N` turns the copy into plain moves.
#[inline(always)]
fn copy_rows<const N: usize>(dst: &mut [u8], block: usize, to: usize, rows: &[u8], width: usize, from: usize) {
    for (d, r) in dst.chunks_exact_mut(block).zip(rows.chunks_exact(width)) {
        let v: [u8; N] = r[from..from + N].try_into().expect("N bytes");
        d[to..to + N].copy_from_slice(&v);
    }
}

fn copy_rows_any(dst: &mut [u8], block: usize, m: &Move, rows: &[u8], width: usize) {
    for (d, r) in dst.chunks_exact_mut(block).zip(rows.chunks_exact(width)) {
        d[m.to..m.to + m.len].copy_from_slice(&r[m.from..m.from + m.len]);
    }
}

/// Blocks per tile: the tile of output stays in L1 while every stream writes into it.
const TILE_BYTES: usize = 16 << 10;

/// One step of the reassembly: a run copy, or 2 or 4 single-byte streams whose
/// bytes sit side by side in the block (fp16 scales, float byte planes), written
/// together.
#[derive(Clone, Copy)]
enum Op<'a> {
    Copy(Move),
    Fuse2 { streams: [usize; 2], to: usize },
    Fuse4 { streams: [usize; 4], to: usize },
    /// A field coded as ranks: the value of rank `lo[k] | hi[k] << 8` in
    /// `list` (checked beforehand: every rank is in it) written at `to`.
    Ranked { streams: [usize; 2], to: usize, list: List<'a> },
}

/// The reassembly of `moves`: single-byte moves of one-byte-wide streams into
/// adjacent offsets are fused in fours, then pairs; the rest are copied as runs.
fn plan(moves: &[Move], widths: &[usize]) -> Vec<Op<'static>> {
    let single = |m: &Move| m.len == 1 && widths[m.stream] == 1;
    let mut bytes: Vec<Move> = moves.iter().copied().filter(single).collect();
    bytes.sort_by_key(|m| m.to);
    let mut ops: Vec<Op> = moves.iter().copied().filter(|m| !single(m)).map(Op::Copy).collect();
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().enumerate().take_while(|(k, m)| m.to == bytes[i].to + k).count();
        if run >= 4 {
            let b = &bytes[i..i + 4];
            ops.push(Op::Fuse4 { streams: [b[0].stream, b[1].stream, b[2].stream, b[3].stream], to: b[0].to });
            i += 4;
        } else if run >= 2 {
            ops.push(Op::Fuse2 { streams: [bytes[i].stream, bytes[i + 1].stream], to: bytes[i].to });
            i += 2;
        } else {
            ops.push(Op::Copy(bytes[i]));
            i += 1;
        }
    }
    ops
}

/// Writes `a[k], b[k]` at offset `to` of block `k` of `dst`.
#[inline(always)]
fn fuse2(dst: &mut [u8], block: usize, to: usize, a: &[u8], b: &[u8]) {
    if block == 2 {
        // Byte planes of 16-bit words: a plain interleave, which vectorises.
        for ((d, &x), &y) in dst.chunks_exact_mut(2).zip(a).zip(b) {
            d.copy_from_slice(&[x, y]);
        }
        return;
    }
    for ((d, &x), &y) in dst.chunks_exact_mut(block).zip(a).zip(b) {
        // One 16-bit store per block.
        d[to..to + 2].copy_from_slice(&u16::from_le_bytes([x, y]).to_le_bytes());
    }
}

/// Writes `s[0][k], …, s[3][k]` at offset `to` of block `k` of `dst`.
#[inline(always)]
fn fuse4(dst: &mut [u8], block: usize, to: usize, s: [&[u8]; 4]) {
    let n = dst.len() / block;
    let (a, b, c, d) = (&s[0][..n], &s[1][..n], &s[2][..n], &s[3][..n]);
    if block == 4 {
        for (k, o) in dst.chunks_exact_mut(4).enumerate() {
            o.copy_from_slice(&[a[k], b[k], c[k], d[k]]);
        }
        return;
    }
    for (k, o) in dst.chunks_exact_mut(block).enumerate() {
        o[to..to + 4].copy_from_slice(&u32::from_le_bytes([a[k], b[k], c[k], d[k]]).to_le_bytes());
    }
}

portable! {
/// Rebuilds blocks `first..` (`out` holds whole blocks) from all decoded streams
/// (`fields[s]` holds stream `s` of every block, `widths[s]` bytes per block),
/// tile by tile.
fn interleave(fields: &[&[u8]], widths: &[usize], ops: &[Op<'_>], block: usize, first: usize, out: &mut [u8]) {
    let tile = (TILE_BYTES / block).max(1);
    for (t, dst) in out.chunks_mut(tile * block).enumerate() {
        let first = first + t * tile;
        let n = dst.len() / block;
        let rows = |s: usize| &fields[s][first * widths[s]..(first + n) * widths[s]];
        for op in ops {
            match *op {
                Op::Fuse2 { streams: [a, b], to } => fuse2(dst, block, to, rows(a), rows(b)),
                Op::Fuse4 { streams: [a, b, c, d], to } => fuse4(dst, block, to, [rows(a), rows(b), rows(c), rows(d)]),
                Op::Ranked { streams: [a, b], to, list } => list.put_values(dst, block, to, rows(a), rows(b)),
                Op::Copy(m) => {
                    let w = widths[m.stream];
                    let rows = rows(m.stream);
                    match m.len {
                        1 => copy_rows::<1>(dst, block, m.to, rows, w, m.from),
                        2 => copy_rows::<2>(dst, block, m.to, rows, w, m.from),
                        4 => copy_rows::<4>(dst, block, m.to, rows, w, m.from),
                        8 => copy_rows::<8>(dst, block, m.to, rows, w, m.from),
                        12 => copy_rows::<12>(dst, block, m.to, rows, w, m.from),
                        16 => copy_rows::<16>(dst, block, m.to, rows, w, m.from),
                        32 => copy_rows::<32>(dst, block, m.to, rows, w, m.from),
                        64 => copy_rows::<64>(dst, block, m.to, rows, w, m.from),
                        128 => copy_rows::<128>(dst, block, m.to, rows, w, m.from),
                        _ => copy_rows_any(dst, block, &m, rows, w),
                    }
                }
            }
        }
    }
}
}

thread_local! {
    static FIELD: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::default();
    /// A folded copy of the chunk being encoded: reused, like `FIELD`, so that
    /// no chunk allocates or faults in a chunk-sized buffer again.
    static FOLDED: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::default();
    /// The value counts and the ranked field's two planes, reused likewise.
    static RANKED: std::cell::RefCell<(ranks::Counter, Vec<u8>)> = std::cell::RefCell::default();
}

/// Appends the payload of `chunk` (a non-empty multiple of the block size) to `out`.
/// With `rows` (where the chunk's blocks sit in the rows of a matrix), streams
/// of one byte per block may give each class of rows its own table.
pub fn encode_chunk(chunk: &[u8], layout: &Layout, rows: Option<RowShape>, kernels: &Kernels, out: &mut Vec<u8>) -> Result<()> {
    layout.validate().map_err(|_| Error::InvalidArgument)?;
    let block = usize::from(layout.block_size);
    if chunk.is_empty() || !chunk.len().is_multiple_of(block) {
        return Err(Error::InvalidArgument);
    }
    if let Some(fold) = layout.fold {
        return FOLDED.with(|f| {
            let folded = &mut f.borrow_mut();
            folded.clear();
            folded.extend_from_slice(chunk);
            fold.apply(kernels, folded, block, None);
            encode_ranked(folded, layout, rows, kernels, out);
            Ok(())
        });
    }
    encode_ranked(chunk, layout, rows, kernels, out);
    Ok(())
}

/// [`encode_split`], the layout's ranked field (if any) coded as ranks where
/// its two streams and the list come out smaller than its two streams as they
/// are. Both pairs of streams are coded (they are small beside the rest), and
/// the smaller pair goes into the payload as it was coded.
fn encode_ranked(chunk: &[u8], layout: &Layout, rows: Option<RowShape>, kernels: &Kernels, out: &mut Vec<u8>) {
    let (Some(at), Some((lo, hi))) = (layout.ranks, layout.rank_streams()) else {
        return encode_split(chunk, layout, None, None, rows, kernels, out);
    };
    let block = usize::from(layout.block_size);
    RANKED.with(|cell| {
        let (counter, planes) = &mut *cell.borrow_mut();
        let Some(list) = counter.list(chunk, block, usize::from(at)) else {
            return encode_split(chunk, layout, None, None, rows, kernels, out);
        };
        let n = chunk.len() / block;
        planes.resize(2 * n, 0);
        let (lo_plane, hi_plane) = planes.split_at_mut(n);
        // The pair coded as one buffer: the low stream's length, both streams.
        let code = |lo_plane: &[u8], hi_plane: &[u8]| {
            let mut coded = Vec::new();
            stream::encode_with(lo_plane, kernels, None, rows, &mut coded);
            let split = coded.len();
            stream::encode_with(hi_plane, kernels, None, rows, &mut coded);
            (coded, split)
        };
        gather(kernels, chunk, block, &layout.streams[lo], lo_plane);
        gather(kernels, chunk, block, &layout.streams[hi], hi_plane);
        let values = code(lo_plane, hi_plane);
        counter.ranks_of(chunk, block, usize::from(at), &list, lo_plane, hi_plane);
        let ranks = code(lo_plane, hi_plane);
        let ((coded, split), list) = if ranks.0.len() + 4 + 2 * list.len() < values.0.len() { (ranks, Some(&list[..])) } else { (values, None) };
        let pair = Coded { streams: [lo, hi], bodies: [&coded[..split], &coded[split..]] };
        encode_split(chunk, layout, list, Some(pair), rows, kernels, out)
    })
}

/// Two streams of a layout, coded already.
struct Coded<'a> {
    streams: [usize; 2],
    bodies: [&'a [u8]; 2],
}

/// [`encode_chunk`] once the blocks are as the streams split them; `list`:
/// the ranked field holds ranks in it; `coded`: streams coded already.
fn encode_split(chunk: &[u8], layout: &Layout, list: Option<&[u16]>, coded: Option<Coded<'_>>, rows: Option<RowShape>, kernels: &Kernels, out: &mut Vec<u8>) {
    let block = usize::from(layout.block_size);
    layout.write(out, list);
    let n_blocks = chunk.len() / block;
    FIELD.with(|f| {
        let field = &mut f.borrow_mut();
        for (s, runs) in layout.streams.iter().enumerate() {
            if let Some(body) = coded.as_ref().and_then(|c| c.streams.iter().position(|&t| t == s).map(|k| c.bodies[k])) {
                put_u32(out, body.len() as u32);
                out.extend_from_slice(body);
                continue;
            }
            // Grown, never shrunk: streams of different widths do not zero it again.
            let len = n_blocks * layout.stream_width(s);
            if field.len() < len {
                field.resize(len, 0);
            }
            let field = &mut field[..len];
            gather(kernels, chunk, block, runs, field);
            let at = out.len();
            put_u32(out, 0);
            let rows = rows.filter(|_| layout.stream_width(s) == 1);
            stream::encode_with(field, kernels, None, rows, out);
            let len = (out.len() - at - 4) as u32;
            out[at..at + 4].copy_from_slice(&len.to_le_bytes());
        }
    });
}

/// Whether stream `s` can be decoded straight into the blocks: one run whose
/// width is a power of two of at least 16 (the SIMD kernels store 32 symbols as
/// one or two row pieces).
fn direct(runs: &[Range]) -> Option<(u32, usize)> {
    match runs {
        [r] if r.len >= 16 && r.len.is_power_of_two() => Some((r.len.trailing_zeros(), usize::from(r.start))),
        _ => None,
    }
}

/// Decodes a chunk payload into `out` (the chunk's content length). Wide streams
/// are decoded straight into place; the others into `field` first. The widest
/// direct stream is decoded a tile at a time (about [`TILE_BYTES`] of
/// blocks), and each tile's blocks get the staged bytes while the tile is still
/// in L1: one pass over the chunk's output, not a second read-modify-write pass.
///
/// With a fold ([`Fold`]), each tile's blocks are unfolded once they are whole;
/// where the bytes the fold reads are a stream of their own, the unfold puts
/// that stream in place itself (the reassembly leaves it out).
///
/// `crc` covers each stream's body while it is in cache: a decoded body right
/// after it is decoded (the tiled one a tile at a time), a raw body (stored
/// bytes, reassembled straight from the payload) a tile at a time as the
/// reassembly reads it. Covering a raw body apart, before the reassembly, read
/// it cold from memory: a fifth of the decode time of F16 byte planes, whose
/// low-byte plane is raw.
pub fn decode_chunk(payload: &[u8], out: &mut [u8], kernels: &Kernels, tables: &mut StreamScratch, field: &mut Vec<u8>, crc: &mut RunningCrc<'_>) -> Result<()> {
    let mut r = ByteReader::new(payload);
    let (layout, list) = Layout::read(&mut r)?;
    let block = usize::from(layout.block_size);
    if !out.len().is_multiple_of(block) {
        return Err(Error::Corrupt);
    }
    let n_blocks = out.len() / block;
    let widths: Vec<usize> = (0..layout.streams.len()).map(|s| layout.stream_width(s)).collect();
    let mut bodies: Vec<&[u8]> = Vec::with_capacity(widths.len());
    for _ in &widths {
        let len = r.u32()? as usize;
        bodies.push(r.take(len)?);
    }
    if r.remaining() != 0 {
        return Err(Error::Corrupt);
    }
    if let [runs] = &layout.streams[..] {
        if let [run] = &runs[..] {
            if run.start == 0 && usize::from(run.len) == block && layout.fold.is_none() {
                // One stream that is every byte in order (one-byte elements:
                // FP8, int8): decoded straight into place, not staged and copied.
                stream::decode(bodies[0], out.len(), Dest::contiguous(out), kernels, tables)?;
                crc.cover(bodies[0]);
                return Ok(());
            }
        }
    }
    // Where the chunk codes the ranked field as ranks: its two streams (low,
    // high byte), its offset in the block and the list.
    let ranked = match (list, layout.rank_streams(), layout.ranks) {
        (Some(list), Some(pair), Some(at)) => Some((pair, usize::from(at), list)),
        _ => None,
    };
    let is_rank = |s: usize| ranked.is_some_and(|((lo, hi), _, _)| s == lo || s == hi);
    let staged: usize = layout
        .streams
        .iter()
        .zip(&widths)
        .zip(&bodies)
        .enumerate()
        .filter(|&(s, ((runs, &w), body))| direct(runs).is_none() && !is_rank(s) && stream::raw_bytes(body, w * n_blocks).is_none())
        .map(|(_, ((_, w), _))| w * n_blocks)
        .sum();
    let ranks_len = if ranked.is_some() { 2 * n_blocks } else { 0 };
    field.resize(ranks_len + staged, 0);
    let (ranks, mut rest) = field.split_at_mut(ranks_len);
    // Ranks decoded first and checked against the list; the reassembly
    // writes their values into the blocks.
    let mut rank_planes: [&[u8]; 2] = [&[], &[]];
    if let Some(((lo, hi), _, list)) = ranked {
        let (lo_plane, hi_plane) = ranks.split_at_mut(n_blocks);
        for (s, plane) in [(lo, &mut *lo_plane), (hi, &mut *hi_plane)] {
            stream::decode(bodies[s], n_blocks, Dest::contiguous(plane), kernels, tables)?;
            crc.cover(bodies[s]);
        }
        list.check(lo_plane, hi_plane)?;
        rank_planes = [lo_plane, hi_plane];
    }
    let mut parts: Vec<&[u8]> = Vec::with_capacity(widths.len());
    // Raw staged streams (width, bytes): checksummed as they are reassembled.
    let mut raws: Vec<(usize, &[u8])> = Vec::new();
    // Staged streams first: the tiled direct stream reassembles them as it goes.
    for (s, ((runs, &w), body)) in layout.streams.iter().zip(&widths).zip(&bodies).enumerate() {
        if direct(runs).is_some() {
            parts.push(&[]);
            continue;
        }
        if let Some(((lo, _), _, _)) = ranked.filter(|_| is_rank(s)) {
            parts.push(rank_planes[usize::from(s != lo)]);
            continue;
        }
        let n = n_blocks * w;
        if let Some(raw) = stream::raw_bytes(body, n) {
            // Raw bytes (Q5_0's high bits, F16's low bytes) are reassembled
            // straight from the payload: no copy into `field` first.
            parts.push(raw);
            raws.push((w, raw));
        } else {
            let (part, tail) = core::mem::take(&mut rest).split_at_mut(n);
            stream::decode(body, n, Dest::contiguous(&mut *part), kernels, tables)?;
            parts.push(part);
            rest = tail;
            crc.cover(body);
        }
    }
    // After blocks `a..b` are reassembled: their raw bytes, just read, are checksummed.
    let cover_raw = |crc: &mut RunningCrc<'_>, a: usize, b: usize| {
        for &(w, raw) in &raws {
            crc.cover(&raw[a * w..b * w]);
        }
    };
    // The widest direct stream is tiled (the most symbols per kernel call). A
    // fold is undone where a tile's blocks are whole: in the tiled stream's
    // tiles when it is the only direct stream, else after every stream. Where
    // the bytes the fold reads are a stream of their own, the unfold puts that
    // stream in place itself and the reassembly leaves it out.
    let directs = layout.streams.iter().filter(|runs| direct(runs).is_some()).count();
    let tiled = (0..widths.len()).filter(|&s| direct(&layout.streams[s]).is_some()).max_by_key(|&s| widths[s]);
    let undo_in_tiles = tiled.is_some() && directs == 1;
    let fold_source = layout.fold.filter(|_| undo_in_tiles).and_then(|f| f.source(&layout));
    let staged_moves: Vec<Move> = moves(&layout)
        .into_iter()
        .filter(|m| direct(&layout.streams[m.stream]).is_none() && fold_source.is_none_or(|(s, _)| m.stream != s) && !is_rank(m.stream))
        .collect();
    let mut ops = plan(&staged_moves, &widths);
    if let Some(((lo, hi), at, list)) = ranked {
        ops.push(Op::Ranked { streams: [lo, hi], to: at, list });
    }
    for (s, ((runs, &w), body)) in layout.streams.iter().zip(&widths).zip(&bodies).enumerate() {
        let Some((row_log2, offset)) = direct(runs) else { continue };
        let n = n_blocks * w;
        let dest = Dest { out: &mut *out, row_log2, stride: block, offset };
        if Some(s) != tiled {
            stream::decode(body, n, dest, kernels, tables)?;
            crc.cover(body);
            continue;
        }
        // Blocks whose staged bytes are in place, and body bytes checksummed:
        // the last call reports the whole body read.
        let (mut done, mut covered) = (0, 0);
        let tile = (TILE_BYTES / block).max(1) * w;
        stream::decode_tiled(body, n, dest, kernels, tables, tile, |out, symbols, read| {
            let upto = (symbols / w).min(n_blocks);
            if upto > done {
                let blocks = &mut out[done * block..upto * block];
                if !ops.is_empty() {
                    interleave(kernels, &parts, &widths, &ops, block, done, blocks);
                }
                if let Some(fold) = layout.fold.filter(|_| undo_in_tiles) {
                    let source = fold_source.map(|(s, w)| &parts[s][done * w..upto * w]);
                    fold.apply(kernels, blocks, block, source);
                }
                cover_raw(crc, done, upto);
            }
            done = done.max(upto);
            if let Some(piece) = body.get(covered..read) {
                crc.cover(piece);
                covered = read;
            }
        })?;
    }
    if tiled.is_none() {
        // A tile at a time, so that each raw tile is checksummed while in cache.
        let tile = (TILE_BYTES / block).max(1);
        for a in (0..n_blocks).step_by(tile) {
            let b = (a + tile).min(n_blocks);
            interleave(kernels, &parts, &widths, &ops, block, a, &mut out[a * block..b * block]);
            cover_raw(crc, a, b);
            if let Some(fold) = layout.fold {
                fold.apply(kernels, &mut out[a * block..b * block], block, None);
            }
        }
    } else if let Some(fold) = layout.fold.filter(|_| !undo_in_tiles) {
        // Several direct streams: the blocks are whole once all are decoded.
        for blocks in out.chunks_mut((TILE_BYTES / block).max(1) * block) {
            fold.apply(kernels, blocks, block, None);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each stream's bytes of every block of `src`, gathered on `k`.
    fn split(k: &Kernels, src: &[u8], layout: &Layout, widths: &[usize]) -> Vec<Vec<u8>> {
        let block = usize::from(layout.block_size);
        let n_blocks = src.len() / block;
        layout
            .streams
            .iter()
            .zip(widths)
            .map(|(runs, &w)| {
                let mut f = vec![0u8; n_blocks * w];
                gather(k, src, block, runs, &mut f);
                f
            })
            .collect()
    }

    #[test]
    fn folds_are_read_back_and_checked() {
        let q5 = Layout::from_runs(22, &[&[(0, 1)], &[(1, 1)], &[(2, 4)], &[(6, 16)]]).folded(Fold::Quants5 { at: 2 });
        let mut wire = Vec::new();
        q5.write(&mut wire, None);
        assert_eq!(Layout::read(&mut ByteReader::new(&wire)).expect("reads").0, q5);
        assert_eq!(wire[2], 4 | FOLD_FLAG);
        // An unknown fold, and one reaching past the block, are corrupt.
        let mut unknown = wire.clone();
        unknown[3] = 2;
        assert!(matches!(Layout::read(&mut ByteReader::new(&unknown)), Err(Error::Corrupt)));
        let mut past = wire.clone();
        past[4] = 3;
        assert!(matches!(Layout::read(&mut ByteReader::new(&past)), Err(Error::Corrupt)));
        // Without the fold, the same bytes are the layout of before.
        let plain = Layout { fold: None, ..q5 };
        let mut old = Vec::new();
        plain.write(&mut old, None);
        assert_eq!(old.len() + 3, wire.len());
    }

    /// Q8_0-like blocks: a 16-bit scale taking one of 40 scattered values
    /// (skewed; 8 under Miri, where ranks then pay on fewer blocks), then quants.
    fn scaled_blocks(n: usize, block: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let k = if cfg!(miri) { 8 } else { 40 };
        let values: Vec<u16> = (0..k).map(|_| next() as u16).collect();
        (0..n)
            .flat_map(|_| {
                let r = next();
                let d = values[(r % k).min((r >> 8) % k) as usize];
                let mut b = vec![0u8; block];
                b[..2].copy_from_slice(&d.to_le_bytes());
                for x in &mut b[2..] {
                    *x = (next() % 9) as u8;
                }
                b
            })
            .collect()
    }

    #[test]
    fn ranked_fields_roundtrip_on_every_isa_and_code_smaller() {
        let q8 = Layout::from_runs(34, &[&[(0, 1)], &[(1, 1)], &[(2, 32)]]);
        let layouts = [
            q8.clone().ranked(0),
            // Beside a fold (Q5_1-like), the scale not first.
            Layout::from_runs(24, &[&[(2, 1)], &[(3, 1)], &[(0, 2)], &[(4, 4)], &[(8, 16)]]).folded(Fold::Quants5 { at: 4 }).ranked(2),
        ];
        let scalar = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        let (mut tables, mut field) = (StreamScratch::default(), Vec::new());
        for layout in &layouts {
            let block = usize::from(layout.block_size);
            let at = usize::from(layout.ranks.unwrap());
            // Under Miri (scripts/miri.sh): short runs and one where ranks pay.
            let (counts, pays): (&[usize], usize) = if cfg!(miri) { (&[1, 2, 150], 150) } else { (&[1, 2, 40, 600, 3 * TILE_BYTES / block + 5, 20_000], 600) };
            for &n in counts {
                let mut src = scaled_blocks(n, block, n as u64 * 77 + block as u64);
                if at != 0 {
                    // Move the scale to `at`.
                    for b in src.chunks_exact_mut(block) {
                        let (d0, d1) = (b[0], b[1]);
                        b.copy_within(2..at + 2, 0);
                        b[at..at + 2].copy_from_slice(&[d0, d1]);
                    }
                }
                let mut want = Vec::new();
                encode_chunk(&src, layout, None, scalar, &mut want).expect("encodes");
                let ranked = want[2] & RANKS_FLAG != 0;
                if n >= pays {
                    assert!(ranked, "block {block} n {n}: ranks are smaller here");
                    let mut plain = Vec::new();
                    encode_chunk(&src, &Layout { ranks: None, ..layout.clone() }, None, scalar, &mut plain).expect("encodes");
                    assert!(want.len() < plain.len(), "block {block} n {n}: {} >= {}", want.len(), plain.len());
                }
                for isa in crate::isa::supported() {
                    let k = Kernels::get(isa).expect("supported");
                    let mut payload = Vec::new();
                    encode_chunk(&src, layout, None, k, &mut payload).expect("encodes");
                    assert_eq!(payload, want, "{isa:?} block {block} n {n}: same bytes");
                    let mut out = vec![0u8; src.len()];
                    decode_chunk(&payload, &mut out, k, &mut tables, &mut field, &mut RunningCrc::off()).expect("decodes");
                    assert!(out == src, "{isa:?} block {block} n {n}: roundtrip");
                }
            }
        }
    }

    #[test]
    fn damaged_rank_lists_are_corrupt() {
        let layout = Layout::from_runs(34, &[&[(0, 1)], &[(1, 1)], &[(2, 32)]]).ranked(0);
        let src = scaled_blocks(if cfg!(miri) { 150 } else { 600 }, 34, 5);
        let k = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        let mut payload = Vec::new();
        encode_chunk(&src, &layout, None, k, &mut payload).expect("encodes");
        assert_ne!(payload[2] & RANKS_FLAG, 0);
        // Layout: block u16, count, then at u16, n u16 and the values.
        let n_at = 5;
        let n = usize::from(u16::from_le_bytes([payload[n_at], payload[n_at + 1]]));
        assert!(n > 1);
        let (mut tables, mut field) = (StreamScratch::default(), Vec::new());
        let mut decode = |p: &[u8]| decode_chunk(p, &mut vec![0u8; src.len()], k, &mut tables, &mut field, &mut RunningCrc::off());
        decode(&payload).expect("intact");
        // A shorter list than the ranks need, an empty one (the values cut
        // out, so that the rest still parses), a list past the payload.
        for keep in [1usize, 0] {
            let mut p = payload.clone();
            p[n_at..n_at + 2].copy_from_slice(&(keep as u16).to_le_bytes());
            p.drain(n_at + 2 + 2 * keep..n_at + 2 + 2 * n);
            assert!(matches!(decode(&p), Err(Error::Corrupt)), "{keep} values kept");
        }
        let mut p = payload.clone();
        p[n_at..n_at + 2].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(decode(&p).is_err(), "a list past the payload");
        // The field elsewhere than its streams, or over a fold.
        for (at, fold) in [(1u16, None), (2, None), (0, Some(Fold::Quants5 { at: 0 }))] {
            let l = Layout { ranks: Some(at), fold, ..layout.clone() };
            assert!(matches!(l.validate(), Err(Error::Corrupt)), "at {at}");
        }
    }

    #[test]
    fn quant_folds_match_the_oracle_on_every_isa() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        for (block, at) in [(22usize, 2usize), (24, 4), (20, 0), (32, 12), (40, 3)] {
            // Under Miri (scripts/miri.sh): short runs, the tails and one whole step.
            let counts: &[usize] = if cfg!(miri) { &[0, 1, 5] } else { &[0, 1, 3, 4, 5, 9, 64, 301] };
            for &n in counts {
                let src: Vec<u8> = (0..n * block)
                    .map(|_| {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        s as u8
                    })
                    .collect();
                let mut want = src.clone();
                for blk in want.chunks_exact_mut(block) {
                    crate::format::quant_fold::fold((&mut blk[at..at + FOLDED_BYTES]).try_into().expect("20 bytes"));
                }
                assert!(n == 0 || want != src, "block {block} at {at} n {n}: folded");
                // The qh the kernels put in place: the blocks' own, or other bytes.
                let own: Vec<u8> = src.chunks_exact(block).flat_map(|b| b[at..at + 4].iter().copied()).collect();
                let other: Vec<u8> = own.iter().map(|b| b.rotate_left(3) ^ 0x5a).collect();
                let mut want_other = src.clone();
                for (blk, h) in want_other.chunks_exact_mut(block).zip(other.chunks_exact(4)) {
                    blk[at..at + 4].copy_from_slice(h);
                    crate::format::quant_fold::fold((&mut blk[at..at + FOLDED_BYTES]).try_into().expect("20 bytes"));
                }
                for isa in crate::isa::supported() {
                    let k = Kernels::get(isa).expect("supported");
                    let mut got = src.clone();
                    k.fold_quants5(&mut got, block, at, &own);
                    assert_eq!(got, want, "{isa:?} block {block} at {at} n {n}");
                    k.fold_quants5(&mut got, block, at, &own);
                    assert_eq!(got, src, "{isa:?} block {block} at {at} n {n}: folded back");
                    k.fold_quants5(&mut got, block, at, &other);
                    assert_eq!(got, want_other, "{isa:?} block {block} at {at} n {n}: qh from the stream");
                }
            }
        }
    }

    /// Folded layouts through every decode path (from an independent review):
    /// the fold undone in tiles with its source stream raw or rANS-coded, in
    /// tiles without a source (qh split, or inside a wider stream), with no
    /// direct stream, with one whole-block stream, with two direct streams, and
    /// with a direct stream over qh; encoded alike on every ISA.
    #[test]
    fn folds_roundtrip_through_every_decode_path() {
        let f = |b, at: u16, s: &[&[(u16, u16)]]| (Layout::from_runs(b, s).folded(Fold::Quants5 { at }), usize::from(at));
        let layouts = [
            f(22, 2, &[&[(0, 1)], &[(1, 1)], &[(2, 2)], &[(4, 2)], &[(6, 16)]]),
            f(22, 2, &[&[(0, 6)], &[(6, 16)]]),
            f(22, 2, &[&[(0, 2)], &[(2, 4)], &[(6, 16)]]),
            f(32, 12, &[&[(0, 32)]]),
            f(22, 2, &[&[(0, 22)]]),
            f(48, 16, &[&[(0, 16)], &[(16, 4)], &[(20, 8)], &[(28, 4)], &[(32, 16)]]),
            f(40, 0, &[&[(0, 4)], &[(4, 32)], &[(36, 4)]]),
            f(36, 14, &[&[(0, 2)], &[(2, 32)], &[(34, 2)]]),
            f(52, 30, &[&[(30, 4)], &[(0, 2)], &[(34, 2)], &[(36, 16)], &[(2, 28)]]),
            f(20, 0, &[&[(0, 4)], &[(4, 16)]]),
            f(21, 1, &[&[(0, 1)], &[(1, 4)], &[(5, 16)]]),
        ];
        let scalar = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        let (mut tables, mut field) = (StreamScratch::default(), Vec::new());
        for (li, (layout, at)) in layouts.iter().enumerate() {
            let block = usize::from(layout.block_size);
            let counts = if cfg!(miri) { vec![3] } else { vec![1, 3, 7, 40, 3 * TILE_BYTES / block + 5] };
            for n in counts {
                // qh skewed (coded with rANS) or not (stored raw).
                for skew in [false, true] {
                    let mut s = (li * 1000 + n) as u64 ^ 0x9e37_79b9_7f4a_7c15 | 1;
                    let src: Vec<u8> = (0..n * block)
                        .map(|i| {
                            s ^= s << 13;
                            s ^= s >> 7;
                            s ^= s << 17;
                            let p = i % block;
                            if skew && (*at..at + 4).contains(&p) {
                                if s.is_multiple_of(5) { 0xff } else { (s >> 8) as u8 & 0x11 }
                            } else {
                                (s % 7 + (s >> 8) % 5) as u8
                            }
                        })
                        .collect();
                    let mut want = Vec::new();
                    encode_chunk(&src, layout, None, scalar, &mut want).expect("encodes");
                    for isa in crate::isa::supported() {
                        let k = Kernels::get(isa).expect("supported");
                        let mut payload = Vec::new();
                        encode_chunk(&src, layout, None, k, &mut payload).expect("encodes");
                        assert!(payload == want, "layout {li} n {n} skew {skew} {isa:?}: the same bytes");
                        let mut got = vec![0u8; src.len()];
                        let mut crc = RunningCrc::new(&payload);
                        decode_chunk(&payload, &mut got, k, &mut tables, &mut field, &mut crc).expect("decodes");
                        assert_eq!(crc.finish(), Some(crate::format::checksum::crc32c(&payload)), "layout {li} n {n} {isa:?}");
                        assert!(got == src, "layout {li} n {n} skew {skew} {isa:?}");
                    }
                }
            }
        }
    }

    /// Every value of a folded layout's count, kind and offset bytes: an error
    /// or the oracle's bytes, alike on every ISA, never a panic.
    #[test]
    fn damaged_fold_headers_fail_alike() {
        let layout = Layout::from_runs(22, &[&[(0, 1)], &[(1, 1)], &[(2, 4)], &[(6, 16)]]).folded(Fold::Quants5 { at: 2 });
        let src: Vec<u8> = (0..22 * 40).map(|i| (i * 7 % 11 + i / 22 % 5) as u8).collect();
        let scalar = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        let (mut tables, mut field) = (StreamScratch::default(), Vec::new());
        let mut payload = Vec::new();
        encode_chunk(&src, &layout, None, scalar, &mut payload).expect("encodes");
        let values = if cfg!(miri) { 0..=3u8 } else { 0..=255u8 };
        for pos in 2..6 {
            for v in values.clone() {
                let mut p = payload.clone();
                p[pos] = v;
                let mut want = vec![0u8; src.len()];
                let w = decode_chunk(&p, &mut want, scalar, &mut tables, &mut field, &mut RunningCrc::off());
                for isa in crate::isa::supported() {
                    let mut got = vec![0u8; src.len()];
                    let g = decode_chunk(&p, &mut got, Kernels::get(isa).expect("supported"), &mut tables, &mut field, &mut RunningCrc::off());
                    assert_eq!(g.is_ok(), w.is_ok(), "byte {pos} = {v} {isa:?}");
                    assert!(g.is_err() || got == want, "byte {pos} = {v} {isa:?}");
                }
            }
        }
    }

    #[test]
    fn layouts_must_tile_the_block() {
        assert!(Layout::planes(4).validate().is_ok());
        assert!(Layout::from_runs(34, &[&[(0, 2)], &[(2, 32)]]).validate().is_ok());
        assert!(Layout::from_runs(34, &[&[(0, 2)], &[(2, 31)]]).validate().is_err(), "gap");
        assert!(Layout::from_runs(34, &[&[(0, 3)], &[(2, 32)]]).validate().is_err(), "overlap");
        assert!(Layout::from_runs(4, &[&[(0, 0), (0, 4)]]).validate().is_err(), "empty run");
        assert!(Layout::from_runs(4, &[&[(3, 2)]]).validate().is_err(), "past the end");
    }

    #[test]
    fn fused_reassembly_matches_block_layouts() {
        // Byte planes (fused 2 and 4), fp16 scales beside runs, five adjacent single
        // bytes (a four and a one), pairs split by a run, and a single byte alone;
        // block counts below, at and past a tile.
        let layouts = [
            Layout::planes(2),
            Layout::planes(4),
            Layout::planes(5),
            Layout::planes(8),
            Layout::from_runs(34, &[&[(0, 1)], &[(1, 1)], &[(2, 32)]]),
            Layout::from_runs(24, &[&[(0, 1)], &[(1, 1)], &[(2, 1)], &[(3, 1)], &[(4, 4)], &[(8, 16)]]),
            Layout::from_runs(9, &[&[(0, 1)], &[(1, 2)], &[(3, 1)], &[(4, 1)], &[(5, 1), (8, 1)], &[(6, 1)], &[(7, 1)]]),
        ];
        for layout in &layouts {
            let block = usize::from(layout.block_size);
            let widths: Vec<usize> = (0..layout.streams.len()).map(|s| layout.stream_width(s)).collect();
            // Under Miri (scripts/miri.sh): one tile edge, not three (minutes there).
            let counts = if cfg!(miri) { vec![1, 7, TILE_BYTES / block + 3] } else { vec![1, 7, TILE_BYTES / block, TILE_BYTES / block + 3, 3 * TILE_BYTES / block + 1] };
            for n_blocks in counts {
                let src: Vec<u8> = (0..n_blocks * block).map(|i| (i * 7 + i / 13) as u8).collect();
                for isa in crate::isa::supported() {
                    let k = Kernels::get(isa).expect("supported");
                    let fields = split(k, &src, layout, &widths);
                    let parts: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
                    let mut back = vec![0u8; src.len()];
                    interleave(k, &parts, &widths, &plan(&moves(layout), &widths), block, 0, &mut back);
                    assert_eq!(src, back, "{isa:?} block {block} n {n_blocks}");
                }
            }
        }
    }

    /// Whole chunks through encode and decode on every ISA: Q8_0-, Q5_0- and
    /// Q6_K-like layouts (one or three direct streams beside staged ones, the
    /// widest decoded in tiles), byte planes (no direct stream) and one byte
    /// plane (decoded in place), over one and several tiles; damaged payloads
    /// give the oracle's answer or its error.
    /// Each layout but the rANS-coded plane has a run of uniform bytes, so one
    /// stream is stored raw: a direct one (rows of 32 or 16), a staged one
    /// (reassembled from the payload) or the whole plane.
    #[test]
    fn chunks_roundtrip_in_tiles_on_every_isa() {
        let layouts = [
            (Layout::from_runs(34, &[&[(0, 1)], &[(1, 1)], &[(2, 32)]]), 2..34),
            (Layout::from_runs(22, &[&[(0, 1)], &[(1, 1)], &[(2, 4)], &[(6, 16)]]), 2..6),
            (Layout::from_runs(210, &[&[(0, 128)], &[(128, 64)], &[(192, 16)], &[(208, 1)], &[(209, 1)]]), 192..208),
            (Layout::planes(4), 3..4),
            // Folded 5-bit quants (Q5_0, Q5_1) with qh raw: undone tile by tile;
            // with no direct stream, and with two (undone after every stream).
            (Layout::from_runs(22, &[&[(0, 1)], &[(1, 1)], &[(2, 4)], &[(6, 16)]]).folded(Fold::Quants5 { at: 2 }), 2..6),
            (Layout::from_runs(24, &[&[(0, 1)], &[(1, 1)], &[(2, 1)], &[(3, 1)], &[(4, 4)], &[(8, 16)]]).folded(Fold::Quants5 { at: 4 }), 4..8),
            (Layout::from_runs(22, &[&[(0, 1)], &[(1, 1)], &[(2, 4)], &[(6, 8)], &[(14, 8)]]).folded(Fold::Quants5 { at: 2 }), 2..6),
            (Layout::from_runs(52, &[&[(0, 2)], &[(2, 4)], &[(6, 16)], &[(22, 16)], &[(38, 14)]]).folded(Fold::Quants5 { at: 2 }), 2..6),
            // One stream that is the whole content, decoded straight into place:
            // rANS-coded, and raw.
            (Layout::planes(1), 0..0),
            (Layout::planes(1), 0..1),
        ];
        let scalar = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        let mut tables = StreamScratch::default();
        let mut field = Vec::new();
        for (layout, uniform) in &layouts {
            let block = usize::from(layout.block_size);
            // Under Miri (scripts/miri.sh): one small chunk.
            let counts = if cfg!(miri) { vec![40] } else { vec![1, 40, 3 * TILE_BYTES / block + 5] };
            for n_blocks in counts {
                let mut seed = 0x9e37_79b9u32 ^ n_blocks as u32;
                let src: Vec<u8> = (0..n_blocks * block)
                    .map(|i| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        // Skewed bytes, so most streams are rANS-coded; one run raw.
                        if uniform.contains(&(i % block)) {
                            (seed >> 8) as u8
                        } else if i % block < 2 {
                            (seed % 3) as u8
                        } else {
                            (seed % 7 + seed % 5) as u8
                        }
                    })
                    .collect();
                let mut payload = Vec::new();
                encode_chunk(&src, layout, None, scalar, &mut payload).expect("encodes");
                // The uniform run's stream is stored raw (mode 0 leads its body).
                let mut r = ByteReader::new(&payload);
                Layout::read(&mut r).expect("a layout");
                let modes: Vec<u8> = layout
                    .streams
                    .iter()
                    .map(|_| {
                        let len = r.u32().expect("len") as usize;
                        r.take(len).expect("body")[0]
                    })
                    .collect();
                assert!(n_blocks < 40 || uniform.is_empty() || modes.contains(&stream::STREAM_RAW), "block {block} n {n_blocks}: modes {modes:?}");
                // Without a uniform run, large chunks code every stream.
                assert!(src.len() < 4096 || !uniform.is_empty() || modes.iter().all(|&m| m != stream::STREAM_RAW), "block {block} n {n_blocks}: modes {modes:?}");
                let mut cut = payload.clone();
                let at = cut.len() - 5;
                cut[at] ^= 0x21;
                for bad in [None, Some(cut)] {
                    let p = bad.as_deref().unwrap_or(&payload);
                    let mut want = vec![0u8; src.len()];
                    let w = decode_chunk(p, &mut want, scalar, &mut tables, &mut field, &mut RunningCrc::off());
                    if bad.is_none() {
                        assert!(w.is_ok() && want == src, "oracle, block {block} n {n_blocks}");
                    }
                    for isa in crate::isa::supported() {
                        let k = Kernels::get(isa).expect("supported");
                        let mut got = vec![0u8; src.len()];
                        let mut crc = RunningCrc::new(p);
                        let g = decode_chunk(p, &mut got, k, &mut tables, &mut field, &mut crc);
                        assert_eq!(crc.finish(), Some(crate::format::checksum::crc32c(p)), "{isa:?} block {block} n {n_blocks}: checksum");
                        assert_eq!(g.is_ok(), w.is_ok(), "{isa:?} block {block} n {n_blocks} damaged {}", bad.is_some());
                        if w.is_ok() {
                            assert_eq!(got, want, "{isa:?} block {block} n {n_blocks} damaged {}", bad.is_some());
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gather_interleave_roundtrip_on_every_isa() {
        let layout = Layout::from_runs(10, &[&[(0, 1)], &[(1, 3), (7, 3)], &[(4, 3)]]);
        let src: Vec<u8> = (0..100).collect();
        let widths: Vec<usize> = (0..3).map(|s| layout.stream_width(s)).collect();
        for isa in crate::isa::supported() {
            let k = Kernels::get(isa).expect("supported");
            let fields = split(k, &src, &layout, &widths);
            let parts: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
            let mut back = vec![0u8; 100];
            interleave(k, &parts, &widths, &plan(&moves(&layout), &widths), 10, 0, &mut back);
            assert_eq!(src, back, "{isa:?}");
        }
    }
}
