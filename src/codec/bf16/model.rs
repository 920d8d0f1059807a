//! The encoder's choice of row classes (payload mode 2): rows ranked by their
//! mean value split into two equal-count classes, used when the estimated size
//! (code, tables and class array) is below one table's. Integer arithmetic
//! only, so every machine picks the same.
//!
//! Two classes, not more: measured on the MiniLM fixtures (one thread),
//! quartiles add 0.03–0.16 % of ratio but decode 6–18 % slower than two
//! classes, which already cost 4–11 % against one table. The format allows 2
//! or 4.

use super::rows::FIXED_HEADER;
use crate::codec::rows::{class_bits, RowShape};
use crate::format::bf16_split::{value_of, NUM_VALUES, VALUE_BITS};
use crate::rans::alphabet::Alphabet;
use crate::kernels::count_bf16_values;
use crate::rans::estimate::{fixed_bits, Estimate};

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
        // The upper half by rank is class 1 (keys are distinct: a selection, not a
        // sort, decides it). Only its histogram is counted: class 0's is the
        // chunk's minus it.
        keys.select_nth_unstable(n_rows / 2);
        let mut row_class = vec![0u8; n_rows];
        for &(_, r) in &keys[n_rows / 2..] {
            row_class[r as usize] = 1;
        }
        let mut part = Box::new([[0u32; NUM_VALUES]; 4]);
        for (r, _) in row_class.iter().enumerate().filter(|(_, &c)| c == 1) {
            let (a, b) = shape.row_span(r, n);
            count_bf16_values(&src[2 * a..2 * b], &mut part);
        }
        let upper: [u32; NUM_VALUES] = core::array::from_fn(|v| part[0][v] + part[1][v] + part[2][v] + part[3][v]);
        let mut lower = [0u32; NUM_VALUES];
        for ((l, &h), &u) in lower.iter_mut().zip(hist).zip(&upper) {
            *l = h - u;
        }
        let parts = [Estimate::of(&lower, VALUE_BITS), Estimate::of(&upper, VALUE_BITS)];
        // Header growth over mode 1 (24 + 2·2 vs 16 bytes) and the class array.
        let side = fixed_bits(8 * (FIXED_HEADER + 2 * TABLES - super::RANS_HEADER_SIZE) + n_rows * class_bits(TABLES));
        if parts.iter().map(|e| e.bits).sum::<u64>() + side >= Estimate::of(hist, VALUE_BITS).bits {
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

}
