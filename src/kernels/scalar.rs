//! The scalar oracle: the specification every SIMD kernel must match bit for bit.
//! Decoders here finish whatever steps a SIMD kernel left and check the final
//! states; with the scalar ISA they decode everything.

use super::state::{Bf16Stream, ByteStream};
use super::tables::{Bf16Model, BytesModel};
use crate::error::{Error, Result};
use crate::format::bf16_split::{assemble, raw_field};
use crate::format::quant_fold::FOLDED_BYTES;
use crate::format::q4k_block::{merge, sub_block, windows, BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES, QS};
use crate::rans::table;
use crate::rans::{CARRY_BASE, RANS_L};

#[inline(always)]
fn next_word(words: &[u8], q: &mut usize) -> Result<u32> {
    let w = words.get(2 * *q..2 * *q + 2).ok_or(Error::Corrupt)?;
    *q += 1;
    Ok(u32::from(u16::from_le_bytes([w[0], w[1]])))
}

/// Decodes every remaining step of `s` one value at a time, then checks that all
/// words were consumed and every lane returned to its start: `RANS_L`, or for
/// carrying lanes `CARRY_BASE + d` (the caller takes `d` from `s.states`).
pub(super) fn finish_bf16(m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) -> Result<()> {
    let mut q = s.word_pos;
    while s.step * s.lanes < s.n {
        let t = m.at(s.step);
        let base = s.step * s.lanes;
        let count = s.lanes.min(s.n - base);
        for j in 0..count {
            let (sym, mut x) = table::step(&t.dec, s.states[j]);
            if x < RANS_L {
                x = (x << 16) | next_word(s.words, &mut q)?;
            }
            s.states[j] = x;
            let i = base + j;
            let w = assemble(t.value16[usize::from(sym)], raw_field(s.raw, i));
            s.out[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
        }
        s.step += 1;
    }
    s.word_pos = q;
    let returned = |x: u32| if s.carrying { x >> 24 == CARRY_BASE >> 24 } else { x == RANS_L };
    if q != s.n_words() || !s.states[..s.lanes].iter().all(|&x| returned(x)) {
        return Err(Error::Corrupt);
    }
    Ok(())
}

/// Decodes the remaining steps of a byte stream one symbol at a time and checks
/// the final state.
pub(super) fn finish_bytes(m: &BytesModel<'_>, s: &mut ByteStream<'_>) -> Result<()> {
    let n = s.n;
    let mut q = s.word_pos;
    while s.step * s.lanes < n {
        let t = m.at(s.step);
        let base = s.step * s.lanes;
        for j in 0..s.lanes.min(n - base) {
            let (sym, mut x) = if t.canonical { table::step(t.dec, s.states[j]) } else { t.buckets.step(s.states[j]) };
            if x < RANS_L {
                x = (x << 16) | next_word(s.words, &mut q)?;
            }
            s.states[j] = x;
            let at = s.dest.at(base + j);
            *s.dest.out.get_mut(at).ok_or(Error::Corrupt)? = sym;
        }
        s.step += 1;
    }
    s.word_pos = q;
    if q != s.n_words() || s.states[..s.lanes].iter().any(|&x| x != RANS_L) {
        return Err(Error::Corrupt);
    }
    Ok(())
}

/// Decoded pieces of a Q4_K chunk, ready for assembly.
pub(crate) struct Q4kParts<'a> {
    /// Header byte `p` of block `k` at `headers[p * stride + k]`: the chunk's
    /// 16 header rows, starting at the first block assembled.
    pub headers: &'a [u8],
    /// Blocks per header row (the chunk's blocks), so that a chunk can be
    /// assembled a group of blocks at a time.
    pub stride: usize,
    pub flags: &'a [u8],
    pub planes: &'a [u8],
}

impl Q4kParts<'_> {
    /// Whether the parts hold `n` blocks (`n <= stride`) and `out` is exactly `n` blocks.
    pub(super) fn fit(&self, n: usize, out: &[u8]) -> bool {
        let holds = |len: usize, per: usize| n.checked_mul(per).is_some_and(|need| len >= need);
        let rows = (HEADER - 1).checked_mul(self.stride).and_then(|r| r.checked_add(n));
        n <= self.stride && rows.is_some_and(|need| self.headers.len() >= need) && holds(self.flags.len(), FLAG_BYTES) && holds(self.planes.len(), PLANE_BYTES) && n.checked_mul(BLOCK) == Some(out.len())
    }
}

/// Assembles blocks `first..` of `out` (whole blocks) from `parts`.
pub(super) fn q4k_assemble_from(parts: &Q4kParts<'_>, first: usize, out: &mut [u8]) {
    for (i, block) in out.chunks_exact_mut(BLOCK).enumerate() {
        let k = first + i;
        for (p, byte) in block[..HEADER].iter_mut().enumerate() {
            *byte = parts.headers[p * parts.stride + k];
        }
        let lo = windows(&block[..HEADER]);
        let f = &parts.flags[FLAG_BYTES * k..][..FLAG_BYTES];
        let pl = &parts.planes[PLANE_BYTES * k..][..PLANE_BYTES];
        for b in 0..QS {
            let mut byte = 0u8;
            for h in 0..2 {
                let (at, bit) = (16 * h + b / 8, b % 8);
                let flag = (f[at] >> bit) & 1 == 1;
                let index = ((pl[at] >> bit) & 1) | (((pl[32 + at] >> bit) & 1) << 1) | (((pl[64 + at] >> bit) & 1) << 2);
                byte |= merge(flag, index, lo[sub_block(b, h)]) << (4 * h);
            }
            block[HEADER + b] = byte;
        }
    }
}

// The scalar family's table entries. The decode "kernels" do nothing: the
// oracle above then decodes every step.

/// # Safety
/// None beyond the table contract (it touches nothing).
pub(super) unsafe fn bf16_none(_: &Bf16Model<'_>, _: &mut Bf16Stream<'_>) {}

/// # Safety
/// None beyond the table contract (it touches nothing).
pub(super) unsafe fn bytes_none(_: &BytesModel<'_>, _: &mut ByteStream<'_>) {}

/// # Safety
/// As [`super::Q4kAssemble`]: `parts` hold `n` blocks and `out` is `n` blocks.
pub(super) unsafe fn q4k_assemble(parts: &Q4kParts<'_>, _n: usize, out: &mut [u8]) {
    q4k_assemble_from(parts, 0, out);
}

/// # Safety
/// As [`super::RansEncode`] (the scalar code checks its own bounds).
pub(super) unsafe fn rans_encode(syms: &[u8], lanes: usize, t: &crate::rans::encode::EncTable, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    crate::rans::encode::encode_full_steps(syms, lanes, t, states, buf, pos)
}

/// Puts `qh` (4 bytes a block) at `at` of every `block`-byte block and folds
/// (or unfolds) its `qs` by it (`format::quant_fold::fold`, the oracle of the
/// SIMD kernels).
pub(super) fn fold_quants5_from(blocks: &mut [u8], block: usize, at: usize, qh: &[u8]) {
    for (blk, h) in blocks.chunks_exact_mut(block).zip(qh.chunks_exact(4)) {
        let g: &mut [u8; FOLDED_BYTES] = (&mut blk[at..at + FOLDED_BYTES]).try_into().expect("20 bytes");
        g[..4].copy_from_slice(h);
        crate::format::quant_fold::fold(g);
    }
}

/// # Safety
/// The `FoldQuants5` contract (`kernels/mod.rs`); nothing more is needed here.
pub(super) unsafe fn fold_quants5(blocks: &mut [u8], block: usize, at: usize, qh: &[u8]) {
    fold_quants5_from(blocks, block, at, qh);
}
