//! The encoder's choice of row classes (payload mode 2): rows ranked by their
//! mean value split into two equal-count classes, used when the estimated size
//! (code, tables and class array) is below one table's. Integer arithmetic
//! only, so every machine picks the same.
//!
//! Two classes, not more: measured on the MiniLM fixtures (AVX-512, one
//! thread), four classes add 0.04–0.16 % of ratio but their four 16 KiB slot
//! tables overflow L1 and cost a quarter of the decode speed (4.4 vs 5.8 GB/s
//! on word_embeddings); two cost 4–9 %. The format allows 2, 4 or 8.

use super::rows::{self, RowShape};
use crate::format::bf16_split::{value_of, NUM_VALUES};
use crate::rans::alphabet::Alphabet;
use crate::rans::PROB_BITS;

/// Fewest rows a chunk needs before classes are considered: below it, the
/// tables cost more than classes could save.
const MIN_ROWS: usize = 16;
/// Classes (and tables) per chunk.
const TABLES: usize = 2;

/// Row classes and a table per class for one chunk.
pub struct RowModel {
    pub shape: RowShape,
    /// One class per row the chunk touches.
    pub row_class: Vec<u8>,
    pub alphabets: Vec<Alphabet>,
}

impl RowModel {
    /// The row classes for `src` (its values at `shape`), or `None` when one
    /// table for the chunk (mode 1, whose histogram is `hist`) is estimated smaller.
    pub fn choose(src: &[u8], shape: RowShape, hist: &[u32; NUM_VALUES]) -> Option<RowModel> {
        let n = src.len() / 2;
        let n_rows = shape.rows(n);
        if n_rows < MIN_ROWS {
            return None;
        }
        // Rank rows by mean value (a fixed-point mean: partial rows are shorter).
        let mut keys: Vec<(u64, u32)> = (0..n_rows)
            .map(|r| {
                let (a, b) = shape.row_span(r, n);
                ((row_sum(&src[2 * a..2 * b]) << 16) / (b - a) as u64, r as u32)
            })
            .collect();
        keys.sort_unstable();
        // The upper half by rank is class 1. Only its histogram is counted: class
        // 0's is the chunk's minus it.
        let mut row_class = vec![0u8; n_rows];
        for &(_, r) in &keys[n_rows / 2..] {
            row_class[r as usize] = 1;
        }
        let mut upper = [0u32; NUM_VALUES];
        for (r, _) in row_class.iter().enumerate().filter(|(_, &c)| c == 1) {
            let (a, b) = shape.row_span(r, n);
            count_values(&src[2 * a..2 * b], &mut upper);
        }
        let mut lower = [0u32; NUM_VALUES];
        for ((l, &h), &u) in lower.iter_mut().zip(hist).zip(&upper) {
            *l = h - u;
        }
        let parts = [Estimate::of(&lower), Estimate::of(&upper)];
        // Header growth over mode 1 (24 + 2·2 vs 16 bytes) and the class array.
        let side = fixed_bits(8 * (rows::FIXED_HEADER + 2 * TABLES - super::RANS_HEADER_SIZE) + n_rows * rows::class_bits(TABLES));
        if parts.iter().map(|e| e.bits).sum::<u64>() + side >= Estimate::of(hist).bits {
            return None;
        }
        Some(RowModel { shape, row_class, alphabets: parts.into_iter().map(|e| e.alphabet).collect() })
    }
}

/// Sum of the values of the bf16 words in `src`.
fn row_sum(src: &[u8]) -> u64 {
    // Four words per u64: `(w >> 5) & 0x3ff` in each 16-bit lane at once (the
    // bits shifted in from the next word are masked off). A lane gathers at
    // most 64 values below 1024 before it is emptied, so it cannot overflow.
    const MASK: u64 = 0x03ff_03ff_03ff_03ff;
    let lanes_total = |acc: u64| (acc & 0xffff) + (acc >> 16 & 0xffff) + (acc >> 32 & 0xffff) + (acc >> 48);
    let mut sum = 0u64;
    let mut tail: &[u8] = &[];
    for block in src.chunks(64 * 8) {
        let mut quads = block.chunks_exact(8);
        let acc = quads.by_ref().fold(0u64, |acc, q| acc + (u64::from_le_bytes(q.try_into().expect("8 bytes")) >> 5 & MASK));
        sum += lanes_total(acc);
        tail = quads.remainder();
    }
    sum + tail.chunks_exact(2).map(|w| u64::from(value_of(u16::from_le_bytes([w[0], w[1]])))).sum::<u64>()
}

/// Adds the values of the bf16 words in `src` to `hist`.
fn count_values(src: &[u8], hist: &mut [u32; NUM_VALUES]) {
    // Two interleaved partial counts: runs of one value would serialise on one counter.
    let mut other = [0u32; NUM_VALUES];
    let mut pairs = src.chunks_exact(4);
    for p in &mut pairs {
        hist[usize::from(value_of(u16::from_le_bytes([p[0], p[1]])))] += 1;
        other[usize::from(value_of(u16::from_le_bytes([p[2], p[3]])))] += 1;
    }
    if let [a, b] = *pairs.remainder() {
        hist[usize::from(value_of(u16::from_le_bytes([a, b])))] += 1;
    }
    for (h, o) in hist.iter_mut().zip(other) {
        *h += o;
    }
}

/// An alphabet for a histogram and the estimated size of coding with it, in
/// 1/65536 bits: ideal code lengths under the quantised frequencies, escapes
/// (about three bytes each in the list) and the serialised alphabet.
struct Estimate {
    alphabet: Alphabet,
    bits: u64,
}

impl Estimate {
    fn of(hist: &[u32; NUM_VALUES]) -> Estimate {
        if hist.iter().all(|&c| c == 0) {
            // An empty class (only possible with fewer rows than classes) costs nothing.
            return Estimate { alphabet: Alphabet { values: vec![0], has_escape: true, freqs: vec![4095, 1] }, bits: 0 };
        }
        let alphabet = Alphabet::from_histogram(hist);
        let map = alphabet.symbol_map(NUM_VALUES);
        let esc = alphabet.escape_symbol();
        let mut bits = fixed_bits(8 * alphabet.write(crate::format::bf16_split::VALUE_BITS).len());
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

fn fixed_bits(bits: usize) -> u64 {
    (bits as u64) << 16
}

/// `floor(log2(f) · 2^16)` for `f` in `0..=4096` (entry 0 unused), by integer
/// squaring: the same on every machine.
static LOG2: [u32; 4097] = log2_table();

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
    fn row_sums_match_a_plain_sum() {
        let words: Vec<u8> = (0..5000u32).flat_map(|i| ((i.wrapping_mul(2_654_435_761) >> 7) as u16 | 0x7fe0).to_le_bytes()).collect();
        for len in [0, 2, 6, 8, 510, 512, 514, 1030, 9998, 10_000] {
            let want: u64 = words[..len].chunks_exact(2).map(|w| u64::from(value_of(u16::from_le_bytes([w[0], w[1]])))).sum();
            assert_eq!(row_sum(&words[..len]), want, "{len} bytes");
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
