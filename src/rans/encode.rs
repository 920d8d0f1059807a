//! The interleaved rANS encoder (scalar: the compressed bytes never depend on the ISA).

use super::{MAX_LANES, MAX_SYMBOLS, PROB_BITS, PROB_SCALE, RANS_L};

/// Per-symbol encoder constants.
#[derive(Clone, Copy, Debug, Default)]
pub struct EncSymbol {
    /// Renormalise (emit a word) while `x >= x_max = freq << (32 - PROB_BITS)`.
    x_max: u32,
    /// `floor(2^44 / freq) + 1`: `(x * rcp) >> 44 == x / freq` for every
    /// `x < 2^32` and `freq < 2^12` (the error is below `x / 2^44 < 1 / freq`).
    rcp: u64,
    cum: u32,
    /// `PROB_SCALE - freq`: `C(x) = x + cum + (x / freq) * (PROB_SCALE - freq)`.
    cmpl: u32,
}

impl EncSymbol {
    pub fn new(freq: u32, cum: u32) -> Self {
        debug_assert!((1..PROB_SCALE).contains(&freq));
        EncSymbol { x_max: freq << (32 - PROB_BITS), rcp: (1u64 << 44) / u64::from(freq) + 1, cum, cmpl: PROB_SCALE - freq }
    }

    #[inline(always)]
    fn div(&self, x: u32) -> u32 {
        ((u128::from(x) * u128::from(self.rcp)) >> 44) as u32
    }
}

/// Encoder table built from normalised frequencies, indexed by symbol (padded to
/// `N` entries so a symbol below `N` indexes it without a bounds check). `N` is
/// 256 for symbol or byte streams, 1024 for bf16 values (see [`EncTable::fill_from_map`]).
pub struct EncTable<const N: usize = MAX_SYMBOLS> {
    pub syms: [EncSymbol; N],
    /// For SIMD encoders: `freq | cum << 12`, one gather per vector (they
    /// divide as [`div_f32`] does).
    pub packed: [u32; N],
}

impl<const N: usize> EncTable<N> {
    fn empty() -> Self {
        EncTable { syms: [EncSymbol::default(); N], packed: [0; N] }
    }

    fn set(&mut self, at: usize, from: &EncTable<MAX_SYMBOLS>, sym: usize) {
        self.syms[at] = from.syms[sym];
        self.packed[at] = from.packed[sym];
    }

    /// [`EncTable::fill_from_map`] into a new table.
    #[cfg(test)]
    pub fn from_map(symbols: &EncTable<MAX_SYMBOLS>, map: &[u8; N]) -> Self {
        let mut t = Self::empty();
        t.fill_from_map(symbols, map);
        t
    }

    /// Makes this the table indexed by the values of a stream: entry `v` is
    /// symbol `map[v]`'s (e.g. a bf16 value's symbol, the escape symbol for
    /// values outside the alphabet), so the values are coded without a separate
    /// symbol pass. Every entry is written.
    pub fn fill_from_map(&mut self, symbols: &EncTable<MAX_SYMBOLS>, map: &[u8; N]) {
        for (v, &s) in map.iter().enumerate() {
            self.set(v, symbols, usize::from(s));
        }
    }

    /// A table to fill, on the heap (tables of wide alphabets are tens of KiB).
    pub fn boxed() -> Box<Self> {
        Box::new(Self::empty())
    }
}

impl EncTable<MAX_SYMBOLS> {
    pub fn new(freqs: &[u32]) -> Self {
        let mut t = Self::empty();
        let mut cum = 0;
        for (i, &f) in freqs.iter().enumerate() {
            t.syms[i] = EncSymbol::new(f, cum);
            t.packed[i] = f | cum << PROB_BITS;
            cum += f;
        }
        t
    }

    /// The same table re-indexed by the value each symbol stands for
    /// (`values[i]` for symbol `i`), so a stream of values can be coded directly.
    pub fn indexed_by(&self, values: &[u16]) -> EncTable {
        let mut t = EncTable::empty();
        for (i, &v) in values.iter().enumerate() {
            t.set(usize::from(v), self, i);
        }
        t
    }
}

/// Several tables end to end, for symbols coded each with its own table: entry
/// `t · N + s` is symbol `s` of table `t` (SIMD encoders gather by that index).
pub struct EncTables {
    pub syms: Vec<EncSymbol>,
    pub packed: Vec<u32>,
}

impl EncTables {
    pub fn concat<const N: usize>(tables: &[EncTable<N>]) -> EncTables {
        EncTables {
            syms: tables.iter().flat_map(|t| t.syms).collect(),
            packed: tables.iter().flat_map(|t| t.packed).collect(),
        }
    }
}

/// The SIMD encoders' `x / freq` (scalar model, for tests): an f32 division,
/// truncated, then corrected by one step on the exact remainder. No table of
/// reciprocals to gather, and every step is exact integer or IEEE arithmetic,
/// so every CPU gets the same quotient, `x / freq` exactly.
///
/// After renormalisation `x < freq · 2^20`, so `x / freq < 2^20`. Rounding `x` to
/// f32 and the rounded division each add a relative error of at most 2^-24 (2^-23
/// under any rounding mode), which keeps the f32 quotient within 3/8 of `x / freq`:
/// the truncation is `x / freq` or one off, and the remainder `x − q · freq` (in
/// `(−freq, 2 · freq)`, exact in wrapping 32-bit arithmetic) says which way.
#[cfg(test)]
fn div_f32(x: u32, freq: u32) -> u32 {
    let q = (x as f32 / freq as f32) as u32;
    let r = x.wrapping_sub(q.wrapping_mul(freq)) as i32;
    if r < 0 {
        q - 1
    } else if r as u32 >= freq {
        q + 1
    } else {
        q
    }
}

/// Encodes `syms` over `lanes` interleaved states (a power of two). Returns the
/// decoder's initial states; the word stream, in decoder reading order, is
/// `buf[start..]` where `start` is the second value returned.
///
/// Steps are encoded last to first, lanes high to low, so the decoder reads them
/// first to last; words are written backwards from the end of `buf` (grown to
/// hold at least one word per symbol; its old contents do not matter), which
/// leaves them in reading order.
///
/// `kernel` encodes the whole steps (any ISA's kernel gives the same bytes); the
/// partial last step, which is encoded first, always goes through the scalar code.
pub fn encode(syms: &[u8], lanes: usize, table: &EncTable, buf: &mut Vec<u16>, kernel: impl FnOnce(&[u8], usize, &EncTable, &mut [u32], &mut [u16], usize) -> usize) -> (Vec<u32>, usize) {
    let full = syms.len() / lanes * lanes;
    run(
        syms.len(),
        &[RANS_L; MAX_LANES][..lanes],
        buf,
        |states, buf, pos| encode_steps_by(syms.len() - full, lanes, &table.syms, |i| usize::from(syms[full + i]), states, buf, pos, 1),
        |states, buf, pos| kernel(&syms[..full], lanes, table, states, buf, pos),
    )
}

/// [`encode`] with a table per step: step `i` (symbols `i * lanes ..`) codes
/// with `tables[class[i]]` (`class` has one entry per step, the partial last
/// one included). Runs of steps with one class go to `kernel` together.
pub fn encode_by_steps(
    syms: &[u8],
    lanes: usize,
    tables: &[EncTable],
    class: &[u8],
    buf: &mut Vec<u16>,
    mut kernel: impl FnMut(&[u8], usize, &EncTable, &mut [u32], &mut [u16], usize) -> usize,
) -> (Vec<u32>, usize) {
    let full = syms.len() / lanes;
    debug_assert!(class.len() == syms.len().div_ceil(lanes));
    run(
        syms.len(),
        &[RANS_L; MAX_LANES][..lanes],
        buf,
        |states, buf, pos| {
            let t = &tables[usize::from(class[full])];
            encode_steps_by(syms.len() - full * lanes, lanes, &t.syms, |i| usize::from(syms[full * lanes + i]), states, buf, pos, 1)
        },
        |states, buf, pos| by_runs(&class[..full], pos, |steps, c, pos| kernel(&syms[steps.start * lanes..steps.end * lanes], lanes, &tables[c], states, buf, pos)),
    )
}

/// Calls `code(steps, class, pos)` for each run of steps of one class in
/// `class`, last run first (the decoder reads the words of step 0 first), and
/// returns the final `pos`.
fn by_runs(class: &[u8], mut pos: usize, mut code: impl FnMut(core::ops::Range<usize>, usize, usize) -> usize) -> usize {
    let mut end = class.len();
    while end > 0 {
        let c = class[end - 1];
        let start = class[..end].iter().rposition(|&k| k != c).map_or(0, |i| i + 1);
        pos = code(start..end, usize::from(c), pos);
        end = start;
    }
    pos
}

/// [`encode`] for the values of little-endian bf16 words (`src`, even length):
/// value `(w & 0x7fff) >> 5` of word `w` is coded with entry `value` of `table`
/// (see [`EncTable::fill_from_map`]). `kernel` encodes the whole steps of its words.
/// The lanes start at `start` (`lanes` states: `RANS_L`, or [`super::carry_states`]).
pub fn encode_bf16_values(
    src: &[u8],
    start: &[u32],
    table: &EncTable<BF16_VALUES>,
    buf: &mut Vec<u16>,
    kernel: impl FnOnce(&[u8], usize, &EncTable<BF16_VALUES>, &mut [u32], &mut [u16], usize) -> usize,
) -> (Vec<u32>, usize) {
    let n = src.len() / 2;
    let lanes = start.len();
    let full = n / lanes * lanes;
    let tail = &src[2 * full..];
    run(
        n,
        start,
        buf,
        |states, buf, pos| encode_steps_by(n - full, lanes, &table.syms, |i| bf16_value(tail, i), states, buf, pos, 1),
        |states, buf, pos| kernel(&src[..2 * full], lanes, table, states, buf, pos),
    )
}

/// [`encode_bf16_values`] with a table per step: step `i` (values `i * lanes ..`)
/// codes with `tables[class[i]]` (`class` has one entry per step, the partial
/// last one included). Runs of steps with one class go to `kernel` together,
/// with the class (whose table the caller may keep in other forms too).
pub fn encode_bf16_steps(
    src: &[u8],
    start: &[u32],
    tables: &[&EncTable<BF16_VALUES>],
    class: &[u8],
    buf: &mut Vec<u16>,
    mut kernel: impl FnMut(&[u8], usize, usize, &mut [u32], &mut [u16], usize) -> usize,
) -> (Vec<u32>, usize) {
    let n = src.len() / 2;
    let lanes = start.len();
    let full = n / lanes;
    debug_assert!(class.len() == n.div_ceil(lanes));
    let tail = &src[2 * full * lanes..];
    run(
        n,
        start,
        buf,
        |states, buf, pos| {
            let t = tables[usize::from(class[full])];
            encode_steps_by(n - full * lanes, lanes, &t.syms, |i| bf16_value(tail, i), states, buf, pos, 1)
        },
        |states, buf, pos| by_runs(&class[..full], pos, |steps, c, pos| kernel(&src[2 * steps.start * lanes..2 * steps.end * lanes], lanes, c, states, buf, pos)),
    )
}

/// Values of bf16 words: `(w & 0x7fff) >> 5`.
pub const BF16_VALUES: usize = 1024;

#[inline(always)]
fn bf16_value(src: &[u8], i: usize) -> usize {
    usize::from(u16::from_le_bytes([src[2 * i], src[2 * i + 1]]) & 0x7fff) >> 5
}

/// The driver of [`encode`]: `n` symbols, the partial last step (if any) by
/// `partial`, then the whole steps by `whole`, every lane from its `start` state.
fn run(
    n: usize,
    start: &[u32],
    buf: &mut Vec<u16>,
    partial: impl FnOnce(&mut [u32], &mut [u16], usize) -> usize,
    whole: impl FnOnce(&mut [u32], &mut [u16], usize) -> usize,
) -> (Vec<u32>, usize) {
    let lanes = start.len();
    debug_assert!(lanes.is_power_of_two());
    let mut states = start.to_vec();
    // Grown, never shrunk or cleared: every word from the returned start on is
    // written here, so reuse costs no zero fill.
    if buf.len() < n + 1 {
        buf.resize(n + 1, 0);
    }
    let mut pos = buf.len();
    if !n.is_multiple_of(lanes) {
        pos = partial(&mut states, buf, pos);
    }
    let pos = whole(&mut states, buf, pos);
    (states, pos)
}

/// Encodes whole steps (`syms.len()` a multiple of `lanes`), last first, below
/// `pos` (which must be at least `syms.len()`); returns the new `pos`. The
/// scalar form of the kernels' `RansEncode`.
pub fn encode_full_steps(syms: &[u8], lanes: usize, table: &EncTable, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    encode_steps(syms, lanes, table, states, buf, pos, syms.len() / lanes)
}

/// [`encode_full_steps`] for the values of bf16 words (`src.len() / 2` a
/// multiple of `lanes`): the scalar form of the kernels' `Bf16ValuesEncode`.
pub fn encode_bf16_full_steps(src: &[u8], lanes: usize, table: &EncTable<BF16_VALUES>, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    let n = src.len() / 2;
    encode_steps_by(n, lanes, &table.syms, |i| bf16_value(src, i), states, buf, pos, n / lanes)
}

/// Encodes the first `steps` steps of `syms` (last step first) into `buf` below
/// `pos`; returns the new `pos`. The scalar specification of every SIMD encoder.
pub fn encode_steps(syms: &[u8], lanes: usize, table: &EncTable, states: &mut [u32], buf: &mut [u16], pos: usize, steps: usize) -> usize {
    encode_steps_by(syms.len(), lanes, &table.syms, |i| usize::from(syms[i]), states, buf, pos, steps)
}

/// Encodes all steps of `n` symbols (the partial last one included), last step
/// first, each symbol `i` with its own table entry `sym_at(i)` (a table per
/// context), below `pos`; returns the new `pos`. For streams in segments (Q4_K
/// header fields), the segments are encoded last first, one call each.
pub fn encode_steps_with<'t>(n: usize, lanes: usize, sym_at: impl Fn(usize) -> &'t EncSymbol, states: &mut [u32], buf: &mut [u16], mut pos: usize) -> usize {
    for t in (0..n.div_ceil(lanes)).rev() {
        let base = t * lanes;
        let len = lanes.min(n - base);
        for (j, x) in states[..len].iter_mut().enumerate().rev() {
            let sym = sym_at(base + j);
            let emit = *x >= sym.x_max;
            pos -= 1;
            buf[pos] = *x as u16;
            pos += usize::from(!emit);
            let v = if emit { *x >> 16 } else { *x };
            *x = v + sym.cum + sym.div(v) * sym.cmpl;
        }
    }
    pos
}

/// [`encode_steps`] over `n` symbols whose `i`-th is `table[sym_at(i)]`
/// (`sym_at` is only called below `n`; an index past `table` panics).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn encode_steps_by<const N: usize>(
    n: usize,
    lanes: usize,
    table: &[EncSymbol; N],
    sym_at: impl Fn(usize) -> usize,
    states: &mut [u32],
    buf: &mut [u16],
    mut pos: usize,
    steps: usize,
) -> usize {
    for t in (0..steps.min(n.div_ceil(lanes))).rev() {
        let base = t * lanes;
        let len = lanes.min(n - base);
        for (j, x) in states[..len].iter_mut().enumerate().rev() {
            let sym = &table[sym_at(base + j)];
            // Branch-free renormalisation: always store, keep the word only if emitted.
            let emit = *x >= sym.x_max;
            // At most one word per symbol and one spare slot: pos stays >= 1 here.
            debug_assert!(pos >= 1);
            pos -= 1;
            // SAFETY: pos < buf.len() (it starts at len and drops by at most one per symbol, never below 0).
            unsafe { *buf.get_unchecked_mut(pos) = *x as u16 };
            pos += usize::from(!emit);
            let v = if emit { *x >> 16 } else { *x };
            *x = v + sym.cum + sym.div(v) * sym.cmpl;
        }
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_precision_division_is_exact_below_the_renormalisation_bound() {
        for f in 1..4096u32 {
            let x_max = u64::from(f) << 20;
            let mut probes: Vec<u64> = vec![0, 1, x_max - 1, x_max - 2, x_max / 2, x_max / 3];
            for k in [1u64, 7, 1000, (1 << 20) - 1] {
                let m = k * u64::from(f);
                probes.extend([m - 1, m, m + 1]);
            }
            for x in probes.into_iter().filter(|&x| x < x_max) {
                assert_eq!(div_f32(x as u32, f), x as u32 / f, "x={x} f={f}");
            }
        }
    }

    #[test]
    fn reciprocal_division_is_exact() {
        let xs = [0u32, 1, 4095, 4096, 65535, 65536, 1 << 20, (1 << 31) - 1, 1 << 31, u32::MAX - 1, u32::MAX];
        for f in 1..4096u32 {
            let s = EncSymbol::new(f, 0);
            for &x in &xs {
                assert_eq!(s.div(x), x / f, "x={x} f={f}");
            }
            // Values just below and at multiples of f are where rounding would slip.
            for k in [1u32, 2, 1000, u32::MAX / f] {
                let m = k.saturating_mul(f);
                assert_eq!(s.div(m), m / f);
                assert_eq!(s.div(m - 1), (m - 1) / f);
            }
        }
    }
}
