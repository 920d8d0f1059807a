//! Q4_K header fields (payload mode 2): one rANS stream in segments, each symbol
//! coded with the table of its own context. This file is the scalar oracle of
//! the segment decode; `x86/q4k_ctx_*.rs` advance whole steps the same way.
//!
//! A segment of `n` symbols restarts at lane 0 (symbol `i` in lane `i % lanes`);
//! the states and the word stream run on from one segment to the next, and only
//! the last segment ends with the final-state check.

use super::state::ByteStream;
use crate::error::{Error, Result};
use crate::rans::{PROB_BITS, PROB_SCALE, RANS_L};

/// Contexts a segment's symbols may name (their low five bits).
pub(crate) const CONTEXTS: usize = 32;

/// The tables of one segment: symbol `i` decodes with the canonical slot table
/// starting at entry `offsets[ctx[i] & 31]` of `tables`.
pub(crate) struct CtxModel<'a> {
    /// Canonical slot tables (`rans::table` layout, symbol ids = byte values),
    /// `PROB_SCALE` entries each, one after the other.
    pub tables: &'a [u32],
    /// Entry offset of each context's table: a multiple of `PROB_SCALE` below `tables.len()`.
    pub offsets: [u32; CONTEXTS],
    /// Context of each symbol of the segment.
    pub ctx: &'a [u8],
}

impl CtxModel<'_> {
    /// Whether every context's table lies inside `tables` and `ctx` covers `n`
    /// symbols: what the kernels' unchecked reads rely on.
    pub(super) fn covers(&self, n: usize) -> bool {
        self.ctx.len() >= n && self.offsets.iter().all(|&o| (o as usize).checked_add(PROB_SCALE as usize).is_some_and(|end| end <= self.tables.len()) && o % PROB_SCALE == 0)
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
/// consumed and every lane is back at `RANS_L`.
pub(super) fn finish(m: &CtxModel<'_>, s: &mut ByteStream<'_>, last: bool) -> Result<()> {
    let n = s.n;
    let mut q = s.word_pos;
    let mask = (1u32 << PROB_BITS) - 1;
    while s.step * s.lanes < n {
        let base = s.step * s.lanes;
        for j in 0..s.lanes.min(n - base) {
            let at = *m.offsets.get(usize::from(*m.ctx.get(base + j).ok_or(Error::Corrupt)?) & (CONTEXTS - 1)).ok_or(Error::Corrupt)? as usize;
            let x = s.states[j];
            let e = *m.tables.get(at + (x & mask) as usize).ok_or(Error::Corrupt)?;
            let mut x = ((e >> PROB_BITS) & mask) * (x >> PROB_BITS) + (e & mask);
            if x < RANS_L {
                x = (x << 16) | next_word(s.words, &mut q)?;
            }
            s.states[j] = x;
            *s.dest.out.get_mut(base + j).ok_or(Error::Corrupt)? = (e >> 24) as u8;
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
pub(super) unsafe fn ctx_none(_: &CtxModel<'_>, _: &mut ByteStream<'_>) {}
