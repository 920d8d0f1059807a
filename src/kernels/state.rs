//! Decoder positions: where a kernel stands inside one coded stream. A SIMD
//! kernel advances a position by whole steps while it can do so safely; the
//! scalar oracle finishes the rest and checks the final states.

use crate::format::bf16_split::RAW_BITS;
use crate::rans::MAX_LANES;

/// Decoder position inside one bf16 chunk.
pub(crate) struct Bf16Stream<'a> {
    pub lanes: usize,
    pub states: [u32; MAX_LANES],
    /// Renormalisation words, little-endian u16.
    pub words: &'a [u8],
    /// Next word to read.
    pub word_pos: usize,
    /// Packed raw fields: `raw_len(n)` bytes, or fewer when the lanes carry the
    /// last ones (`carrying`); the values whose fields are cut short are decoded
    /// with those bits zero, for the caller to complete.
    pub raw: &'a [u8],
    /// Output: exactly `2 * n` bytes.
    pub out: &'a mut [u8],
    pub n: usize,
    /// Next step (group of `lanes` values) to decode.
    pub step: usize,
    /// The lanes started at `CARRY_BASE + d` (`rans::carry_states`) instead of `RANS_L`.
    pub carrying: bool,
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

/// Where a byte stream's symbols land: symbol `i` goes to
/// `out[(i >> row_log2) * stride + offset + (i & (2^row_log2 - 1))]` — rows of a
/// power-of-two width placed `stride` bytes apart (a field inside each block), or
/// one contiguous run.
pub(crate) struct Dest<'a> {
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

    pub fn is_contiguous(&self) -> bool {
        self.row_log2 == usize::BITS - 1 && self.offset == 0
    }

    #[inline(always)]
    pub fn at(&self, i: usize) -> usize {
        let row_mask = (1usize << self.row_log2) - 1;
        (i >> self.row_log2) * self.stride + self.offset + (i & row_mask)
    }

    /// Whether every symbol `i < n` lands inside `out`, rows do not overlap, and
    /// rows are contiguous or at least 16 wide (the SIMD kernels store 32 symbols
    /// as one row piece, or two 16-byte pieces).
    pub fn holds(&self, n: usize) -> bool {
        if n == 0 {
            return true;
        }
        if self.is_contiguous() {
            return n <= self.out.len();
        }
        if !(4..usize::BITS - 1).contains(&self.row_log2) || self.stride < 1 << self.row_log2 {
            return false;
        }
        let last = n - 1;
        let row_mask = (1usize << self.row_log2) - 1;
        (last >> self.row_log2)
            .checked_mul(self.stride)
            .and_then(|v| v.checked_add(self.offset))
            .and_then(|v| v.checked_add(row_mask.min(last)))
            .is_some_and(|max| max < self.out.len())
    }
}

/// Decoder position inside one byte stream.
pub(crate) struct ByteStream<'a> {
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
