//! Encoder-side size estimates: what coding a histogram with its own table
//! would cost, tables included, in 1/65536 bits. Integer arithmetic only, so
//! every machine makes the same choices from them.

use super::alphabet::Alphabet;
use super::PROB_BITS;

/// An alphabet for a histogram and the estimated size of coding with it, in
/// 1/65536 bits: ideal code lengths under the quantised frequencies, escapes
/// (about three bytes each in the list) and the serialised alphabet.
pub struct Estimate {
    pub alphabet: Alphabet,
    pub bits: u64,
}

impl Estimate {
    /// The estimate for `hist` (indexed by value, `value_bits`-bit values).
    pub fn of(hist: &[u32], value_bits: u32) -> Estimate {
        if hist.iter().all(|&c| c == 0) {
            // An empty class (only possible with fewer rows than classes) costs nothing.
            return Estimate { alphabet: Alphabet { values: vec![0], has_escape: true, freqs: vec![4095, 1] }, bits: 0 };
        }
        let alphabet = Alphabet::from_histogram(hist);
        let map = alphabet.symbol_map(hist.len());
        let esc = alphabet.escape_symbol();
        let mut bits = fixed_bits(8 * alphabet.write(value_bits).len());
        for (v, &c) in hist.iter().enumerate().filter(|(_, &c)| c > 0) {
            let s = map[v];
            let f = alphabet.freqs[usize::from(s)];
            bits += u64::from(c) * (u64::from(PROB_BITS) << 16).saturating_sub(u64::from(LOG2[f as usize]));
            if Some(s) == esc && alphabet.values.binary_search(&(v as u16)).is_err() {
                bits += u64::from(c) * fixed_bits(24);
            }
        }
        Estimate { alphabet, bits }
    }
}

/// A lower bound on the bits that any static code (rANS with any table, raw,
/// constant) gives the symbols counted in `hist`, in the estimates' unit: their
/// empirical order-0 entropy, `n·log2 n − Σ c·log2 c`, rounded down. No table
/// beats it (Gibbs' inequality); rANS's rounding can, by under `log2(16/15)`
/// bits a symbol (its state never drops below 2^16 and a frequency is at most
/// 2^12), which callers subtract.
pub fn entropy_floor(hist: &[u32]) -> u64 {
    entropy_floor_of(hist.iter().copied())
}

/// [`entropy_floor`] of the counts `counts` yields (empty counts may be among
/// them: `0 · log2(0)` counts as 0).
pub fn entropy_floor_of(counts: impl Iterator<Item = u32> + Clone) -> u64 {
    let n: u64 = counts.clone().map(u64::from).sum();
    if n == 0 {
        return 0;
    }
    let whole = n * log2_below(n);
    // No filter for empty counts (`log2_above(0)` is finite, times 0): a branch
    // on each count costs more than the product.
    let parts: u64 = counts.map(|c| u64::from(c) * log2_above(u64::from(c))).sum();
    whole.saturating_sub(parts)
}

/// `log2(x) · 2^16` for `x >= 1`, rounded down and at most 2^-11 bits low,
/// from [`LOG2`]: `x` cut to its top 12 bits `m`, `log2(x) >= log2(m) + shift`.
/// Integer only: every machine makes the same choices from it.
pub(crate) fn log2_below(x: u64) -> u64 {
    let shift = u64::from(64 - x.leading_zeros()).saturating_sub(12);
    u64::from(LOG2[(x >> shift) as usize]) + (shift << 16)
}

/// `log2(x) · 2^16` rounded up (at least): `log2(x) < log2(m + 1) + shift`.
fn log2_above(x: u64) -> u64 {
    let shift = u64::from(64 - x.leading_zeros()).saturating_sub(12);
    let m = (x >> shift) + u64::from(shift > 0);
    u64::from(LOG2[m as usize]) + 1 + (shift << 16)
}

/// `bits` in the estimates' unit.
pub fn fixed_bits(bits: usize) -> u64 {
    (bits as u64) << 16
}

/// `floor(log2(f) · 2^16)` for `f` in `0..=4096` (entry 0 unused), by integer
/// squaring: the same on every machine.
pub(crate) static LOG2: [u32; 4097] = log2_table();

const fn log2_table() -> [u32; 4097] {
    let mut t = [0u32; 4097];
    let mut f = 1;
    while f <= 4096 {
        t[f] = log2_fixed(f as u32);
        f += 1;
    }
    t
}

const fn log2_fixed(x: u32) -> u32 {
    let int = 31 - x.leading_zeros();
    // y = x / 2^int in [1, 2), as a Q31 fixed-point number.
    let mut y = (x as u64) << (31 - int);
    let mut frac = 0u32;
    let mut i = 0;
    while i < 16 {
        y = (y * y) >> 31;
        if y >= 2 << 31 {
            y >>= 1;
            frac |= 1 << (15 - i);
        }
        i += 1;
    }
    int << 16 | frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_bounds_bracket_the_float_one() {
        for x in (1..70_000u64).chain([1 << 20, (1 << 20) + 1, 3_000_001, u64::from(u32::MAX), 1 << 40]) {
            let exact = (x as f64).log2() * 65536.0;
            let (below, above) = (log2_below(x) as f64, log2_above(x) as f64);
            assert!(below <= exact + 1e-6 && exact - below < 64.0, "{x}");
            assert!(above >= exact - 1e-6 && above - exact < 64.0, "{x}");
        }
    }

    #[test]
    fn fixed_point_log2_matches_the_float_one() {
        for f in 1..=4096u32 {
            let want = (f64::from(f).log2() * 65536.0).floor();
            assert!((f64::from(LOG2[f as usize]) - want).abs() <= 1.0, "f {f}: {} vs {want}", LOG2[f as usize]);
        }
        assert_eq!(LOG2[1], 0);
        assert_eq!(LOG2[4096], 12 << 16);
    }
}
