//! Payload mode 2: the block headers as fields (FORMAT.md §7). `d` and `dmin`
//! keep their low bytes raw; their high bytes and the sixteen 6-bit scales and
//! mins are one rANS stream in 18 segments of `n` symbols (one field of every
//! block each), every symbol coded with the table of its context — which the
//! decoder computes from the block's fields decoded before it
//! ([`crate::format::q4k_block::fields`]). Contexts map to a few tables per
//! family; the encoder picks the map by merging the contexts whose tables
//! would cost more than they save.
//!
//! Segment layout: `d` hi, `dmin` hi, `sc_0..8`, `m_0..8`. Within the fields
//! scratch (16 rows of `n`): row `j` is `sc_j`, row `8 + j` is `m_j`.

use crate::error::{Error, Result};
use crate::format::bytes::{put_u16s, put_u32, ByteReader};
use crate::format::q4k_block::fields::{
    dmin_context, f16_to_f32_branchless, family, m_bucket, m_factor, max_tables, CONTEXTS, FAMILIES, MAX_TABLES, M_LAST, SC_FIRST, SC_LAST, SEGMENTS,
};
use crate::format::q4k_block::HEADER;
use crate::kernels::{portable, ByteStream, CtxKind, CtxModel, CtxPack, Dest, Kernels, CTX_CONTEXTS};
use crate::rans::alphabet::Alphabet;
use crate::rans::encode::{EncTable, EncTables};
use crate::rans::estimate::log2_below;
use crate::rans::{self, PROB_SCALE, RANS_L};

/// Bytes of the packed context maps: one nibble per context of families 1..4.
const MAP_BYTES: usize = (CONTEXTS[1] + CONTEXTS[2] + CONTEXTS[3]).div_ceil(2);

/// Tables the encoder allows each family (fewer where merging saves bytes).
const ENCODER_TABLES: [usize; FAMILIES] = [1, 4, 4, 6];

/// Lanes for a chunk of `n` blocks.
fn lanes_for(n: usize) -> usize {
    if n >= 2048 {
        128
    } else if n >= 512 {
        64
    } else {
        32
    }
}

portable! {
/// Every block's [`m_factor`] from the bytes of `d` and `dmin` (`headers` rows 0..4).
fn m_factors(headers: &[u8], n: usize, out: &mut [u16]) {
    let row = |i: usize| &headers[i * n..(i + 1) * n];
    let (d_lo, d_hi, m_lo, m_hi, out) = (row(0), row(1), row(2), row(3), &mut out[..n]);
    let f16 = |l: u8, h: u8| f16_to_f32_branchless(u16::from(l) | u16::from(h) << 8);
    for k in 0..n {
        out[k] = m_factor(f16(d_lo[k], d_hi[k]), f16(m_lo[k], m_hi[k]));
    }
}
}

portable! {
/// Contexts of `dmin`'s high bytes.
fn dmin_contexts(d_hi: &[u8], ctx: &mut [u8]) {
    for (c, &h) in ctx.iter_mut().zip(d_hi) {
        *c = dmin_context(h);
    }
}
}

portable! {
/// Contexts of `sc_j` (`j > 0`) from `prev` = `sc_{j-1}` (below 64); `seen`
/// (whether a 63 came before `sc_{j-1}`) is brought up to date first.
fn sc_contexts(last: bool, prev: &[u8], seen: &mut [u8], ctx: &mut [u8]) {
    for ((c, s), &p) in ctx.iter_mut().zip(seen.iter_mut()).zip(prev) {
        *s |= u8::from(p == 63);
        let plain = (p >> 3) * 2 + *s;
        *c = if last && *s == 0 { SC_LAST } else { plain };
    }
}
}

portable! {
/// Contexts of `m_j` from the blocks' [`m_factor`]s, `sc` = `sc_j` and (`j > 0`)
/// `prev` = `m_{j-1}` (below 64), which first brings `seen` up to date.
#[allow(clippy::too_many_arguments)]
fn m_contexts(first: bool, last: bool, prev: &[u8], sc: &[u8], factor: &[u16], seen: &mut [u8], ctx: &mut [u8]) {
    let n = ctx.len();
    let (prev, sc, factor, seen) = (&prev[..n], &sc[..n], &factor[..n], &mut seen[..n]);
    for k in 0..n {
        let s = if first { 0 } else { seen[k] | u8::from(prev[k] == 63) };
        seen[k] = s;
        let plain = m_bucket(factor[k], sc[k]) * 2 + s;
        ctx[k] = if last && s == 0 { M_LAST } else { plain };
    }
}
}

portable! {
/// The scales and mins (`fields` rows 0..8 and 8..16) from the 12 scale bytes
/// (header rows 4..16, `rows[p * n + k]`), as llama.cpp's `get_scale_min_k4`.
fn unpack(rows: &[u8], n: usize, fields: &mut [u8]) {
    let row = |p: usize| &rows[p * n..(p + 1) * n];
    let (scs, ms) = fields.split_at_mut(8 * n);
    for j in 0..4 {
        let (a, b, c) = (row(j), row(4 + j), row(8 + j));
        let (sc_lo, sc_hi) = scs.split_at_mut(4 * n);
        let (m_lo, m_hi) = ms.split_at_mut(4 * n);
        for k in 0..n {
            sc_lo[j * n + k] = a[k] & 63;
            m_lo[j * n + k] = b[k] & 63;
            sc_hi[j * n + k] = (c[k] & 15) | (a[k] >> 6) << 4;
            m_hi[j * n + k] = (c[k] >> 4) | (b[k] >> 6) << 4;
        }
    }
}
}

/// Computes the contexts of segment `s` into `ctx` (`n` bytes) from the fields
/// decoded before it: `headers` rows 0..4 (`d`, `dmin`), `fields` rows (scales,
/// mins); `seen` and `factor` carry state from one segment to the next.
#[allow(clippy::too_many_arguments)]
fn contexts(kernels: &Kernels, s: usize, n: usize, headers: &[u8], fields: &[u8], seen: &mut [u8], factor: &mut [u16], ctx: &mut [u8]) {
    fn row(buf: &[u8], n: usize, i: usize) -> &[u8] {
        &buf[i * n..(i + 1) * n]
    }
    match s {
        0 => ctx.fill(0),
        1 => dmin_contexts(kernels, row(headers, n, 1), ctx),
        2 => {
            seen.fill(0);
            ctx.fill(SC_FIRST);
        }
        3..=9 => sc_contexts(kernels, s == 9, row(fields, n, s - 3), seen, ctx),
        _ => {
            let j = s - 10;
            if j == 0 {
                m_factors(kernels, headers, n, factor);
            }
            let prev = if j == 0 { row(fields, n, 8) } else { row(fields, n, 8 + j - 1) };
            m_contexts(kernels, j == 0, j == 7, prev, row(fields, n, j), factor, seen, ctx);
        }
    }
}

// ---------------------------------------------------------------- encoder

/// Elias-gamma length of `x >= 1`, in bits.
fn gamma_bits(x: u64) -> u64 {
    2 * (63 - u64::from(x.max(1).leading_zeros())) + 1
}

/// What the encoder charges each table for the decoder's time to build it (a
/// 4096-slot fill and its cache footprint), in bits: a table must save about
/// this many bytes to be kept. Without it, a small tensor's chunk kept up to 15
/// tables and decoded at 0.8x of payload mode 1.
const TABLE_DECODE_BITS: u64 = 512 * 8;

/// Estimated cost of coding histogram `h` (over `bins` values) with its own
/// table, table included, in 1/65536 bits.
fn cost(h: &[u32]) -> u64 {
    let total: u64 = h.iter().map(|&c| u64::from(c)).sum();
    if total == 0 {
        return 0;
    }
    let lt = log2_below(total);
    let (mut bits, mut table, mut last) = (0u64, 19u64 + TABLE_DECODE_BITS, None);
    for (v, &c) in h.iter().enumerate().filter(|(_, &c)| c > 0) {
        bits += u64::from(c) * (lt - log2_below(u64::from(c)));
        let f = (u64::from(c) * u64::from(PROB_SCALE) / total).max(1);
        table += gamma_bits(f) + last.map_or(0, |l| gamma_bits((v - l) as u64));
        last = Some(v);
    }
    bits + (table << 16)
}

/// One table of a family while merging: its histogram and contexts.
struct Cluster {
    hist: Vec<u32>,
    cost: u64,
    contexts: Vec<u8>,
}

/// Merges each family's contexts into tables: while a family has more than its
/// allowance, or the chunk more than it may carry, the cheapest merge; then
/// every merge that saves bytes. Returns the clusters per family.
#[allow(clippy::needless_range_loop)]
fn cluster(hists: &[Vec<Vec<u32>>; FAMILIES], cap: usize) -> [Vec<Cluster>; FAMILIES] {
    let mut fam: [Vec<Cluster>; FAMILIES] = Default::default();
    for (f, hs) in hists.iter().enumerate() {
        for (c, h) in hs.iter().enumerate() {
            if h.iter().any(|&x| x > 0) {
                fam[f].push(Cluster { hist: h.clone(), cost: cost(h), contexts: vec![c as u8] });
            }
        }
        if fam[f].is_empty() {
            fam[f].push(Cluster { hist: vec![0; hs[0].len()], cost: 0, contexts: vec![0] });
        }
    }
    let merged = |a: &Cluster, b: &Cluster| -> Vec<u32> { a.hist.iter().zip(&b.hist).map(|(x, y)| x + y).collect() };
    // delta[f][a][b] (a < b): the change in cost when a and b merge.
    let mut delta: [Vec<Vec<i64>>; FAMILIES] = Default::default();
    for f in 0..FAMILIES {
        let cs = &fam[f];
        delta[f] = (0..cs.len()).map(|a| (0..cs.len()).map(|b| if a < b { cost(&merged(&cs[a], &cs[b])) as i64 - cs[a].cost as i64 - cs[b].cost as i64 } else { 0 }).collect()).collect();
    }
    loop {
        let total: usize = fam.iter().map(Vec::len).sum();
        let over: Vec<bool> = (0..FAMILIES).map(|f| fam[f].len() > ENCODER_TABLES[f]).collect();
        let forced = over.iter().any(|&o| o) || total > cap;
        let mut best: Option<(i64, usize, usize, usize)> = None;
        for f in (0..FAMILIES).filter(|&f| !over.iter().any(|&o| o) || over[f]) {
            for a in 0..fam[f].len() {
                for b in a + 1..fam[f].len() {
                    let d = delta[f][a][b];
                    if best.is_none_or(|(bd, ..)| d < bd) {
                        best = Some((d, f, a, b));
                    }
                }
            }
        }
        let Some((d, f, a, b)) = best else { break };
        if !forced && d >= 0 {
            break;
        }
        let gone = fam[f].remove(b);
        let h = merged(&fam[f][a], &gone);
        fam[f][a].cost = cost(&h);
        fam[f][a].hist = h;
        fam[f][a].contexts.extend(gone.contexts);
        for row in delta[f].iter_mut() {
            row.remove(b);
        }
        delta[f].remove(b);
        for o in 0..fam[f].len() {
            if o != a {
                let (x, y) = (o.min(a), o.max(a));
                delta[f][x][y] = cost(&merged(&fam[f][x], &fam[f][y])) as i64 - fam[f][x].cost as i64 - fam[f][y].cost as i64;
            }
        }
    }
    fam
}

/// Appends the mode-2 header part of a chunk of `n` blocks (after the mode
/// byte) from its headers by byte position (`headers[p * n + k]`).
pub fn encode(headers: &[u8], n: usize, kernels: &Kernels, out: &mut Vec<u8>) {
    debug_assert!(n > 0 && headers.len() == HEADER * n);
    let row = |i: usize| &headers[i * n..(i + 1) * n];
    let mut fields = vec![0u8; 16 * n];
    unpack(kernels, &headers[4 * n..], n, &mut fields);
    let seg = |s: usize| -> &[u8] {
        match s {
            0 => row(1),
            1 => row(3),
            _ => &fields[(s - 2) * n..(s - 1) * n],
        }
    };
    // Contexts, as the decoder will compute them.
    let mut ctx = vec![0u8; SEGMENTS * n];
    let (mut seen, mut factor) = (vec![0u8; n], vec![0u16; n]);
    for s in 0..SEGMENTS {
        contexts(kernels, s, n, headers, &fields, &mut seen, &mut factor, &mut ctx[s * n..(s + 1) * n]);
    }
    let bins = |f: usize| if f < 2 { 256 } else { 64 };
    // Counted flat (context-major), one index per symbol, then cut per context.
    let mut flat: [Vec<u32>; FAMILIES] = core::array::from_fn(|f| vec![0u32; CONTEXTS[f] * bins(f)]);
    for s in 0..SEGMENTS {
        let (f, h) = (family(s), &mut flat[family(s)]);
        for (&v, &c) in seg(s).iter().zip(&ctx[s * n..(s + 1) * n]) {
            h[usize::from(c) * bins(f) + usize::from(v)] += 1;
        }
    }
    let hists: [Vec<Vec<u32>>; FAMILIES] = core::array::from_fn(|f| flat[f].chunks_exact(bins(f)).map(<[u32]>::to_vec).collect());
    let fam = cluster(&hists, max_tables(n));
    // Table index (global) of every context, tables in family order.
    let mut map = [[0u8; CTX_CONTEXTS]; FAMILIES];
    let mut alphabets = Vec::new();
    for (f, clusters) in fam.iter().enumerate() {
        for (t, c) in clusters.iter().enumerate() {
            for &x in &c.contexts {
                map[f][usize::from(x)] = t as u8;
            }
            alphabets.push(Alphabet::from_histogram(&c.hist));
        }
    }
    let base: Vec<usize> = (0..FAMILIES).map(|f| fam[..f].iter().map(Vec::len).sum()).collect();
    let enc: Vec<EncTable> = alphabets.iter().map(|a| EncTable::new(&a.freqs).indexed_by(&a.values)).collect();
    let enc = EncTables::concat(&enc);
    let lanes = lanes_for(n);
    let mut states = vec![RANS_L; lanes];
    let mut buf = vec![0u16; SEGMENTS * n + 1];
    let mut pos = buf.len();
    // Each symbol as its entry in the tables end to end: its context's table, its value.
    let mut idx = vec![0u32; n];
    for s in (0..SEGMENTS).rev() {
        let (f, syms, cx) = (family(s), seg(s), &ctx[s * n..(s + 1) * n]);
        let first: [u32; CTX_CONTEXTS] = core::array::from_fn(|c| ((base[f] + usize::from(map[f][c])) * rans::MAX_SYMBOLS) as u32);
        for ((e, &v), &c) in idx.iter_mut().zip(syms).zip(cx) {
            *e = first[usize::from(c)] + u32::from(v);
        }
        pos = kernels.rans_encode_indexed(&idx, lanes, &enc, &mut states, &mut buf, pos);
    }
    let words = &buf[pos..];
    out.push(lanes.trailing_zeros() as u8);
    for clusters in &fam[1..] {
        out.push(clusters.len() as u8);
    }
    let nibbles: Vec<u8> = (1..FAMILIES).flat_map(|f| map[f][..CONTEXTS[f]].to_vec()).collect();
    out.extend(nibbles.chunks(2).map(|p| p[0] | p.get(1).map_or(0, |h| h << 4)));
    let tables: Vec<Vec<u8>> = alphabets.iter().map(|a| a.write(8)).collect();
    for t in &tables {
        out.extend_from_slice(&(t.len() as u16).to_le_bytes());
    }
    put_u32(out, words.len() as u32);
    for t in &tables {
        out.extend_from_slice(t);
    }
    for &x in &states {
        put_u32(out, x);
    }
    put_u16s(out, words);
    out.extend_from_slice(row(0));
    out.extend_from_slice(row(2));
}

// ---------------------------------------------------------------- decoder

/// The first `len` elements of `v`, grown (never shrunk: the decoder writes
/// every element it reads, so reuse costs no zero fill).
fn grown<T: Copy + Default>(v: &mut Vec<T>, len: usize) -> &mut [T] {
    if v.len() < len {
        v.resize(len, T::default());
    }
    &mut v[..len]
}

/// A decoding thread's buffers, reused across chunks.
#[derive(Default)]
struct Scratch {
    tables: Vec<u32>,
    seen: Vec<u8>,
    factor: Vec<u16>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Decodes the mode-2 header part of a chunk of `n` blocks (`r` after the mode
/// byte) into `headers` (`16 n` bytes, `headers[p * n + k]`), with the scales
/// and mins staged in `fields` (`16 n` bytes: `sc_j` at `fields[j * n + k]`,
/// `m_j` at `fields[(8 + j) * n + k]`).
pub fn decode(r: &mut ByteReader<'_>, n: usize, headers: &mut [u8], fields: &mut [u8], kernels: &Kernels) -> Result<()> {
    SCRATCH.with(|s| decode_with(r, n, headers, fields, kernels, &mut s.borrow_mut()))
}

fn decode_with(r: &mut ByteReader<'_>, n: usize, headers: &mut [u8], fields: &mut [u8], kernels: &Kernels, sc: &mut Scratch) -> Result<()> {
    if n == 0 || headers.len() != HEADER * n || fields.len() != 16 * n {
        return Err(Error::Corrupt);
    }
    let lanes = 1usize << r.u8()?.min(31);
    if !rans::LANE_CHOICES.contains(&lanes) {
        return Err(Error::Corrupt);
    }
    let mut counts = [1usize; FAMILIES];
    for c in &mut counts[1..] {
        *c = usize::from(r.u8()?);
        if !(1..=MAX_TABLES).contains(c) {
            return Err(Error::Corrupt);
        }
    }
    let n_tables: usize = counts.iter().sum();
    if n_tables > max_tables(n) {
        return Err(Error::Corrupt);
    }
    let packed = r.take(MAP_BYTES)?;
    let mut map = [[0u8; CTX_CONTEXTS]; FAMILIES];
    let mut at = 0;
    for f in 1..FAMILIES {
        for m in &mut map[f][..CONTEXTS[f]] {
            let t = (packed[at / 2] >> (4 * (at % 2))) & 15;
            if usize::from(t) >= counts[f] {
                return Err(Error::Corrupt);
            }
            *m = t;
            at += 1;
        }
    }
    let mut lens = [0usize; FAMILIES * MAX_TABLES];
    for l in &mut lens[..n_tables] {
        *l = usize::from(r.u16()?);
    }
    let n_words = r.u32()? as usize;
    let scale = PROB_SCALE as usize;
    let tables = grown(&mut sc.tables, n_tables * scale);
    let mut t = 0;
    for (f, &count) in counts.iter().enumerate() {
        for _ in 0..count {
            let a = Alphabet::read(r.take(lens[t])?, 8)?;
            if (a.has_escape && a.values.len() != 1) || (f >= 2 && a.values.iter().any(|&v| v >= 64)) {
                return Err(Error::Corrupt);
            }
            let table: &mut [u32; PROB_SCALE as usize] = (&mut tables[t * scale..(t + 1) * scale]).try_into().map_err(|_| Error::Corrupt)?;
            kernels.load_canonical_bytes(&a, table);
            t += 1;
        }
    }
    let states = rans::read_states(r.take(4 * lanes)?, lanes)?;
    let words = r.take(n_words.checked_mul(2).ok_or(Error::Corrupt)?)?;
    headers[..n].copy_from_slice(r.take(n)?);
    headers[2 * n..3 * n].copy_from_slice(r.take(n)?);

    let tables = &sc.tables[..n_tables * scale];
    let (seen, factor) = (grown(&mut sc.seen, n), grown(&mut sc.factor, n));
    let (mut states, mut word_pos) = (states, 0);
    // Header rows 0..4 (`d`, `dmin`) and 4..16 (the packed scales, written by
    // the segments of m_4..m_7).
    let (head, packed) = headers.split_at_mut(4 * n);
    let (pk0, pk) = packed.split_at_mut(4 * n);
    let (pk1, pk2) = pk.split_at_mut(4 * n);
    for s in 0..SEGMENTS {
        if s == 10 {
            m_factors(kernels, head, n, factor);
        }
        let f = family(s);
        let base = counts[..f].iter().sum::<usize>();
        let offsets: [u32; CTX_CONTEXTS] = core::array::from_fn(|c| ((base + usize::from(map[f][c])) * scale) as u32);
        let mut model = CtxModel { tables, offsets, kind: CtxKind::Const, konst: 0, fresh: false, last: false, prev: &[], sc: &[], factor: &[], seen: &mut *seen, pack: None };
        let out: &mut [u8] = match s {
            0 => &mut head[n..2 * n],
            1 => {
                let (lo, hi) = head.split_at_mut(3 * n);
                (model.kind, model.prev) = (CtxKind::Dmin, &lo[n..2 * n]);
                &mut hi[..n]
            }
            2 => {
                model.konst = SC_FIRST;
                &mut fields[..n]
            }
            3..=9 => {
                let j = s - 2;
                let (lo, hi) = fields.split_at_mut(j * n);
                (model.kind, model.prev, model.fresh, model.last) = (CtxKind::Scale, &lo[(j - 1) * n..], j == 1, j == 7);
                &mut hi[..n]
            }
            _ => {
                let j = s - 10;
                let (lo, hi) = fields.split_at_mut((8 + j) * n);
                let lo = &*lo;
                (model.kind, model.sc, model.factor, model.fresh, model.last) = (CtxKind::Min, &lo[j * n..(j + 1) * n], &*factor, j == 0, j == 7);
                if j > 0 {
                    model.prev = &lo[(7 + j) * n..];
                }
                if j >= 4 {
                    let i = j - 4;
                    model.pack = Some(CtxPack {
                        sc_lo: &lo[i * n..(i + 1) * n],
                        m_lo: &lo[(8 + i) * n..(9 + i) * n],
                        out: [&mut pk0[i * n..(i + 1) * n], &mut pk1[i * n..(i + 1) * n], &mut pk2[i * n..(i + 1) * n]],
                    });
                }
                &mut hi[..n]
            }
        };
        let mut seg = ByteStream { lanes, states, words, word_pos, dest: Dest::contiguous(out), n, step: 0 };
        kernels.decode_ctx_segment(&mut model, &mut seg, s == SEGMENTS - 1)?;
        (states, word_pos) = (seg.states, seg.word_pos);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::q4k_block::fields::pack_scales;
    use crate::isa::{self, Isa};

    /// Headers of `n` blocks, stream-major: llama.cpp-like (largest scale and
    /// min 63, d and dmin of a few exponents) with every `weird`-th block
    /// arbitrary bytes (NaN, infinite, subnormal, negative scales included).
    fn headers(n: usize, seed: u32, weird: usize) -> Vec<u8> {
        let mut s = seed.wrapping_mul(2_654_435_761) | 1;
        let mut r = move || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        let mut h = vec![0u8; HEADER * n];
        for k in 0..n {
            let mut b = [0u8; HEADER];
            if weird > 0 && k % weird == 0 {
                b.iter_mut().for_each(|x| *x = r() as u8);
            } else {
                let d = 0x1000 + (r() % 0x0c00) as u16;
                let dmin = 0x1400 + (r() % 0x0c00) as u16;
                let mut sc: [u8; 8] = core::array::from_fn(|_| (r() % 64) as u8);
                let mut m: [u8; 8] = core::array::from_fn(|_| (r() % 40) as u8);
                sc[(r() % 8) as usize] = 63;
                m[(r() % 8) as usize] = 63;
                b[..2].copy_from_slice(&d.to_le_bytes());
                b[2..4].copy_from_slice(&dmin.to_le_bytes());
                b[4..].copy_from_slice(&pack_scales(&sc, &m));
            }
            for (p, &x) in b.iter().enumerate() {
                h[p * n + k] = x;
            }
        }
        h
    }

    fn decode_on(isa: Isa, payload: &[u8], n: usize) -> Result<Vec<u8>> {
        let k = Kernels::get(isa).expect("supported");
        let mut h = vec![0u8; HEADER * n];
        let mut f = vec![0u8; 16 * n];
        let mut r = ByteReader::new(payload);
        decode(&mut r, n, &mut h, &mut f, k)?;
        if r.remaining() != 0 {
            return Err(Error::Corrupt);
        }
        // The decoder packs the scale bytes itself (header rows 4..16).
        Ok(h)
    }

    fn encode_on(isa: Isa, h: &[u8], n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        encode(h, n, Kernels::get(isa).expect("supported"), &mut out);
        out
    }

    #[test]
    fn fields_roundtrip_on_every_isa_with_identical_encoding() {
        for (i, &n) in [1usize, 2, 15, 16, 17, 31, 33, 100, 129, 511, 600, 2047, 3000].iter().enumerate() {
            for weird in [0, 1, 7] {
                let h = headers(n, i as u32 * 3 + weird as u32, weird);
                let payload = encode_on(Isa::Scalar, &h, n);
                // Every encoder (both AVX2 lookups among them) writes the same bytes.
                for k in Kernels::all_variants() {
                    let mut out = Vec::new();
                    encode(&h, n, k, &mut out);
                    assert!(out == payload, "{:?} n {n} weird {weird} encodes differently", k.isa());
                }
                for isa in isa::supported() {
                    assert_eq!(encode_on(isa, &h, n), payload, "{isa:?} n {n} weird {weird} encodes differently");
                    assert_eq!(decode_on(isa, &payload, n).expect("decodes"), h, "{isa:?} n {n} weird {weird}");
                }
            }
        }
    }

    #[test]
    fn contexts_cluster_within_the_limits() {
        for n in [1usize, 50, 200, 5000] {
            let h = headers(n, 9, 0);
            let p = encode_on(Isa::Scalar, &h, n);
            let counts = [1, usize::from(p[1]), usize::from(p[2]), usize::from(p[3])];
            assert!(counts.iter().zip(ENCODER_TABLES).all(|(&c, cap)| (1..=cap).contains(&c)), "n {n}: {counts:?}");
            assert!(counts.iter().sum::<usize>() <= max_tables(n), "n {n}: {counts:?}");
        }
    }

    /// Truncations, flipped bits and trailing bytes: an error or some headers,
    /// never a panic, and every ISA agrees with the scalar oracle.
    #[test]
    fn damaged_payloads_fail_cleanly_and_alike() {
        let n = 300;
        let h = headers(n, 5, 0);
        let payload = encode_on(Isa::Scalar, &h, n);
        let mut damaged: Vec<Vec<u8>> = (0..payload.len()).step_by(3).map(|len| payload[..len].to_vec()).collect();
        damaged.push([payload.clone(), vec![0]].concat());
        for bit in (0..payload.len() * 8).step_by(5) {
            let mut p = payload.clone();
            p[bit / 8] ^= 1 << (bit % 8);
            damaged.push(p);
        }
        // Table counts past the limits, and a map entry naming a missing table.
        for (at, v) in [(1, 0u8), (1, 17), (2, 200), (4, 0xff)] {
            let mut p = payload.clone();
            p[at] = v;
            damaged.push(p);
        }
        for bad in &damaged {
            let want = decode_on(Isa::Scalar, bad, n);
            for isa in isa::supported() {
                assert_eq!(decode_on(isa, bad, n), want, "{isa:?}: {} bytes", bad.len());
            }
        }
        assert!(decode_on(Isa::Scalar, &payload[..payload.len() - 1], n).is_err());
        assert!(decode_on(Isa::Scalar, &payload, 0).is_err());
    }

    /// Other lane counts than the encoder's, and word streams cut short so that
    /// the last segments run out mid-step (the kernels' tail copy and rollback):
    /// every ISA returns what the scalar oracle returns.
    #[test]
    fn other_lane_counts_and_short_word_streams_agree_with_the_oracle() {
        for (i, &n) in [1usize, 33, 40, 100, 600].iter().enumerate() {
            let h = headers(n, 40 + i as u32, 0);
            let payload = encode_on(Isa::Scalar, &h, n);
            let mut variants = Vec::new();
            for lanes_log2 in 5..=7u8 {
                let mut p = payload.clone();
                p[0] = lanes_log2;
                variants.push(p);
            }
            // n_words follows the lanes, table counts, maps and table lengths;
            // the words end where the 2n low bytes begin.
            let t = 1 + payload[1..4].iter().map(|&c| usize::from(c)).sum::<usize>();
            let at = 4 + MAP_BYTES + 2 * t;
            let n_words = u32::from_le_bytes(payload[at..at + 4].try_into().expect("4 bytes")) as usize;
            let end = payload.len() - 2 * n;
            for k in [1, 2, 7, 33, 130].into_iter().filter(|&k| k <= n_words) {
                let mut p = [&payload[..end - 2 * k], &payload[end..]].concat();
                p[at..at + 4].copy_from_slice(&((n_words - k) as u32).to_le_bytes());
                variants.push(p);
            }
            for v in &variants {
                let want = decode_on(Isa::Scalar, v, n);
                for isa in isa::supported() {
                    assert_eq!(decode_on(isa, v, n), want, "{isa:?} n {n}");
                }
            }
        }
    }
}
