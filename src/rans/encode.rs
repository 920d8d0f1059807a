//! The interleaved rANS encoder (scalar: the compressed bytes never depend on the ISA).

use super::{MAX_SYMBOLS, PROB_BITS, PROB_SCALE, RANS_L};

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
        debug_assert!(freq >= 1 && freq < PROB_SCALE);
        EncSymbol { x_max: freq << (32 - PROB_BITS), rcp: (1u64 << 44) / u64::from(freq) + 1, cum, cmpl: PROB_SCALE - freq }
    }

    #[inline(always)]
    fn div(&self, x: u32) -> u32 {
        ((u128::from(x) * u128::from(self.rcp)) >> 44) as u32
    }
}

/// Encoder table built from normalised frequencies (padded to 256 entries so a
/// `u8` symbol indexes it without a bounds check).
pub struct EncTable {
    pub syms: [EncSymbol; MAX_SYMBOLS],
    /// For SIMD encoders: `freq | cum << 12`, one gather per vector.
    pub packed: [u32; MAX_SYMBOLS],
    /// For SIMD encoders: `1 / freq` (see [`div_by_reciprocal`]).
    pub rinv: [f64; MAX_SYMBOLS],
}

impl EncTable {
    pub fn new(freqs: &[u32]) -> Self {
        let mut t = EncTable { syms: [EncSymbol::default(); MAX_SYMBOLS], packed: [0; MAX_SYMBOLS], rinv: [0.0; MAX_SYMBOLS] };
        let mut cum = 0;
        for (i, &f) in freqs.iter().enumerate() {
            t.syms[i] = EncSymbol::new(f, cum);
            t.packed[i] = f | cum << PROB_BITS;
            t.rinv[i] = 1.0 / f64::from(f);
            cum += f;
        }
        t
    }
}

impl EncTable {
    /// The same table re-indexed by the value each symbol stands for
    /// (`values[i]` for symbol `i`), so a stream of values can be coded directly.
    pub fn indexed_by(&self, values: &[u16]) -> EncTable {
        let mut t = EncTable { syms: [EncSymbol::default(); MAX_SYMBOLS], packed: [0; MAX_SYMBOLS], rinv: [0.0; MAX_SYMBOLS] };
        for (i, &v) in values.iter().enumerate() {
            let v = usize::from(v);
            t.syms[v] = self.syms[i];
            t.packed[v] = self.packed[i];
            t.rinv[v] = self.rinv[i];
        }
        t
    }
}

/// Bias added before truncating `x * (1/freq)` in double precision.
///
/// After renormalisation `x < freq * 2^20`, so `q = x / freq < 2^20`. The rounded
/// reciprocal and the fused multiply-add put the computed value within 2^-32 of
/// `x / freq + DIV_BIAS`; the fractional part of `x / freq` is 0 or lies in
/// `[1/freq, 1 - 1/freq]` with `1/freq >= 2^-12`, so truncation gives exactly `q`.
pub const DIV_BIAS: f64 = 1.0 / 16384.0;

/// Scalar model of the SIMD division (used in tests).
#[cfg(test)]
fn div_by_reciprocal(x: u32, rinv: f64) -> u32 {
    f64::from(x).mul_add(rinv, DIV_BIAS) as u32
}

/// Encodes `syms` over `lanes` interleaved states (a power of two). Returns the
/// decoder's initial states; the word stream, in decoder reading order, is
/// `buf[start..]` where `start` is the second value returned.
///
/// Steps are encoded last to first, lanes high to low, so the decoder reads them
/// first to last; words are written backwards from the end of `buf` (resized to
/// hold one word per symbol), which leaves them in reading order.
///
/// `kernel` encodes the whole steps (any ISA's kernel gives the same bytes); the
/// partial last step, which is encoded first, always goes through the scalar code.
pub fn encode(syms: &[u8], lanes: usize, table: &EncTable, buf: &mut Vec<u16>, kernel: impl FnOnce(&[u8], usize, &EncTable, &mut [u32], &mut [u16], usize) -> usize) -> (Vec<u32>, usize) {
    debug_assert!(lanes.is_power_of_two());
    let mut states = vec![RANS_L; lanes];
    buf.clear();
    buf.resize(syms.len() + 1, 0);
    let full = syms.len() / lanes * lanes;
    let mut pos = buf.len();
    if full < syms.len() {
        pos = encode_steps(&syms[full..], lanes, table, &mut states, buf, pos, 1);
    }
    let pos = kernel(&syms[..full], lanes, table, &mut states, buf, pos);
    (states, pos)
}

/// Encodes whole steps (`syms.len()` a multiple of `lanes`), last first, below
/// `pos` (which must be at least `syms.len()`); returns the new `pos`. The
/// scalar form of the kernels' `RansEncode`.
pub fn encode_full_steps(syms: &[u8], lanes: usize, table: &EncTable, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
    encode_steps(syms, lanes, table, states, buf, pos, syms.len() / lanes)
}

/// Encodes the first `steps` steps of `syms` (last step first) into `buf` below
/// `pos`; returns the new `pos`. The scalar specification of every SIMD encoder.
pub fn encode_steps(
    syms: &[u8],
    lanes: usize,
    table: &EncTable,
    states: &mut [u32],
    buf: &mut [u16],
    mut pos: usize,
    steps: usize,
) -> usize {
    for group in syms.chunks(lanes).take(steps).rev() {
        for (x, &s) in states[..group.len()].iter_mut().zip(group).rev() {
            let sym = &table.syms[usize::from(s)];
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
    fn double_precision_division_is_exact_below_the_renormalisation_bound() {
        for f in 1..4096u32 {
            let r = 1.0 / f64::from(f);
            let x_max = u64::from(f) << 20;
            let mut probes: Vec<u64> = vec![0, 1, x_max - 1, x_max - 2, x_max / 2, x_max / 3];
            for k in [1u64, 7, 1000, (1 << 20) - 1] {
                let m = k * u64::from(f);
                probes.extend([m - 1, m, m + 1]);
            }
            for x in probes.into_iter().filter(|&x| x < x_max) {
                assert_eq!(div_by_reciprocal(x as u32, r), x as u32 / f, "x={x} f={f}");
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
