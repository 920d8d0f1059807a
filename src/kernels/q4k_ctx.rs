//! Q4_K header fields (payload mode 2): one rANS stream in segments, each symbol
//! coded with the table of its own context. This file is the scalar oracle of
//! the segment decode; `x86/q4k_ctx_*.rs` advance whole steps the same way.
//!
//! The contexts are computed while decoding, from the block's fields decoded in
//! earlier segments (FORMAT.md §7.1): no pass over memory between segments. The
//! segments of `m_4..m_7` also write the packed scale bytes (header bytes
//! `4 + j`, `8 + j`, `12 + j`), so the block assembly reads header rows as in
//! payload mode 1.
//!
//! A segment of `n` symbols restarts at lane 0 (symbol `i` in lane `i % lanes`);
//! the states and the word stream run on from one segment to the next, and only
//! the last segment ends with the final-state check.

use super::state::ByteStream;
use crate::error::{Error, Result};
use crate::format::q4k_block::fields::{m_bucket, M_LAST, SC_LAST};
use crate::rans::{PROB_BITS, PROB_SCALE, RANS_L};

/// Contexts a segment's symbols may name (their low five bits).
pub(crate) const CONTEXTS: usize = 32;

/// How a segment's contexts are computed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum CtxKind {
    /// Every symbol has context `konst`.
    Const,
    /// `min(prev[k], 31)` (`dmin` hi from `d` hi).
    Dmin,
    /// A scale `sc_j`, `j ≥ 1`: `prev` = `sc_{j−1}`.
    Scale,
    /// A min `m_j`: `prev` = `m_{j−1}` (unused when `fresh`), `sc` = `sc_j`, `factor`.
    Min,
}

/// Where the `m_{4+j}` segment (`j < 4`) writes the packed scale bytes: header
/// rows `4 + j`, `8 + j`, `12 + j` (`out`), from `sc_j` (`sc_lo`), `sc_{4+j}`
/// (the model's `sc`), `m_j` (`m_lo`) and the decoded `m_{4+j}`.
pub(crate) struct Pack<'a> {
    pub sc_lo: &'a [u8],
    pub m_lo: &'a [u8],
    pub out: [&'a mut [u8]; 3],
}

/// The tables and context rule of one segment: symbol `i` decodes with the
/// canonical slot table starting at entry `offsets[ctx(i)]` of `tables`.
pub(crate) struct CtxModel<'a> {
    /// Canonical slot tables (`rans::table` layout, symbol ids = byte values),
    /// `PROB_SCALE` entries each, one after the other.
    pub tables: &'a [u32],
    /// Entry offset of each context's table: a multiple of `PROB_SCALE` below
    /// `tables.len()` and below `256 · PROB_SCALE`.
    pub offsets: [u32; CONTEXTS],
    pub kind: CtxKind,
    /// The context of `CtxKind::Const`.
    pub konst: u8,
    /// Scales and mins: `seen` starts from 0 (`sc_1`, `m_0`) instead of `seen[k]`.
    pub fresh: bool,
    /// Scales and mins: the field is `sc_7` / `m_7` (its own context where nothing was 63).
    pub last: bool,
    /// The earlier field the context reads (see [`CtxKind`]); below 64 for scales and mins.
    pub prev: &'a [u8],
    /// `sc_j` for the mins (below 64).
    pub sc: &'a [u8],
    /// Each block's `m_factor`, for the mins.
    pub factor: &'a [u16],
    /// Per block, whether an earlier field of the kind was 63 (0 or 1): read
    /// (unless `fresh`) and written by scale and min segments.
    pub seen: &'a mut [u8],
    pub pack: Option<Pack<'a>>,
}

impl CtxModel<'_> {
    /// Whether every context's table lies inside `tables` and the rows the kind
    /// reads and writes cover `n` symbols: what the kernels' unchecked accesses rely on.
    pub(super) fn covers(&self, n: usize) -> bool {
        let tables = self.offsets.iter().all(|&o| o < 256 * PROB_SCALE && (o as usize).checked_add(PROB_SCALE as usize).is_some_and(|end| end <= self.tables.len()) && o % PROB_SCALE == 0);
        let rows = match self.kind {
            CtxKind::Const => self.konst < CONTEXTS as u8,
            CtxKind::Dmin => self.prev.len() >= n,
            CtxKind::Scale => self.prev.len() >= n && self.seen.len() >= n,
            CtxKind::Min => (self.fresh || self.prev.len() >= n) && self.sc.len() >= n && self.factor.len() >= n && self.seen.len() >= n,
        };
        let pack = self.pack.as_ref().is_none_or(|p| self.kind == CtxKind::Min && p.sc_lo.len() >= n && p.m_lo.len() >= n && p.out.iter().all(|o| o.len() >= n));
        tables && rows && pack
    }

    /// The context of symbol `k` (updating `seen[k]`); `k < n` where `covers(n)`.
    #[inline(always)]
    fn context(&mut self, k: usize) -> u8 {
        match self.kind {
            CtxKind::Const => self.konst,
            CtxKind::Dmin => self.prev[k].min(31),
            CtxKind::Scale => {
                let p = self.prev[k];
                let s = if self.fresh { 0 } else { self.seen[k] } | u8::from(p == 63);
                self.seen[k] = s;
                if self.last && s == 0 {
                    SC_LAST
                } else {
                    (p >> 3) * 2 + s
                }
            }
            CtxKind::Min => {
                let s = if self.fresh { 0 } else { self.seen[k] | u8::from(self.prev[k] == 63) };
                self.seen[k] = s;
                if self.last && s == 0 {
                    M_LAST
                } else {
                    m_bucket(self.factor[k], self.sc[k]) * 2 + s
                }
            }
        }
    }

    /// Writes the packed scale bytes of block `k` once its `m_{4+j}` is `v`.
    #[inline(always)]
    fn pack(&mut self, k: usize, v: u8) {
        if let Some(p) = &mut self.pack {
            let (sc4, lo, m) = (self.sc[k], p.sc_lo[k], p.m_lo[k]);
            p.out[0][k] = lo | (sc4 >> 4) << 6;
            p.out[1][k] = m | (v >> 4) << 6;
            p.out[2][k] = (sc4 & 15) | (v & 15) << 4;
        }
    }
}

#[inline(always)]
fn next_word(words: &[u8], q: &mut usize) -> Result<u32> {
    let w = words.get(2 * *q..2 * *q + 2).ok_or(Error::Corrupt)?;
    *q += 1;
    Ok(u32::from(u16::from_le_bytes([w[0], w[1]])))
}

/// Decodes the remaining steps of a segment one symbol at a time (into
/// `s.dest.out[..n]`, contiguous); with `last`, then checks that every word was
/// consumed and every lane is back at `RANS_L`. `m.covers(s.n)` holds.
pub(super) fn finish(m: &mut CtxModel<'_>, s: &mut ByteStream<'_>, last: bool) -> Result<()> {
    let n = s.n;
    let mut q = s.word_pos;
    let mask = (1u32 << PROB_BITS) - 1;
    while s.step * s.lanes < n {
        let base = s.step * s.lanes;
        for j in 0..s.lanes.min(n - base) {
            let k = base + j;
            let at = m.offsets[usize::from(m.context(k)) & (CONTEXTS - 1)] as usize;
            let x = s.states[j];
            let e = *m.tables.get(at + (x & mask) as usize).ok_or(Error::Corrupt)?;
            let mut x = ((e >> PROB_BITS) & mask) * (x >> PROB_BITS) + (e & mask);
            if x < RANS_L {
                x = (x << 16) | next_word(s.words, &mut q)?;
            }
            s.states[j] = x;
            let v = (e >> 24) as u8;
            *s.dest.out.get_mut(k).ok_or(Error::Corrupt)? = v;
            m.pack(k, v);
        }
        s.step += 1;
    }
    s.word_pos = q;
    if last && (q != s.n_words() || s.states[..s.lanes].iter().any(|&x| x != RANS_L)) {
        return Err(Error::Corrupt);
    }
    Ok(())
}

/// # Safety
/// None beyond the table contract (it touches nothing): the oracle decodes every step.
pub(super) unsafe fn ctx_none(_: &mut CtxModel<'_>, _: &mut ByteStream<'_>) {}
