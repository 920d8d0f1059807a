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
use crate::format::bf16_split::{NUM_VALUES, VALUE_BITS};
use crate::rans::alphabet::Alphabet;
use crate::kernels::{count_bf16_values, SUM_BLOCK};
use crate::rans::estimate::{fixed_bits, Estimate};

/// Fewest rows a chunk needs before classes are considered: below it, the
/// tables cost more than classes could save.
const MIN_ROWS: usize = 16;
/// Classes (and tables) per chunk.
const TABLES: usize = 2;

/// Whether the rows of a chunk of `n` values at `shape` are worth ranking.
pub fn worth_ranking(shape: RowShape, n: usize) -> bool {
    shape.rows(n) >= MIN_ROWS
}

/// The class of every row the chunk touches, from the value sums of its
/// 32-word blocks (`Kernels::bf16_pack_sums`): rows ranked by mean value (a
/// fixed-point mean: partial rows are shorter), the upper half by rank is
/// class 1. Keys are distinct (the row number breaks ties), so a selection, not
/// a sort, decides it.
pub fn rank_rows(sums: &[u32], n: usize, shape: RowShape) -> Vec<u8> {
    let n_rows = shape.rows(n);
    let mut keys: Vec<(u64, u32)> = (0..n_rows)
        .map(|r| {
            let (a, b) = shape.row_span(r, n);
            // Rows start and end on block boundaries (or at the chunk's end).
            debug_assert!(a.is_multiple_of(SUM_BLOCK));
            let sum: u64 = sums[a / SUM_BLOCK..b.div_ceil(SUM_BLOCK)].iter().map(|&s| u64::from(s)).sum();
            ((sum << 16) / (b - a) as u64, r as u32)
        })
        .collect();
    keys.select_nth_unstable(n_rows / 2);
    let mut row_class = vec![0u8; n_rows];
    for &(_, r) in &keys[n_rows / 2..] {
        row_class[r as usize] = 1;
    }
    row_class
}

/// Partial value histograms (see `count_bf16_values`), one set per class.
pub type ClassCounts = [[[u32; NUM_VALUES]; 4]; TABLES];

/// The value histogram of each class's rows, counted in one pass over the
/// chunk (`parts` is scratch space).
pub fn count_classes(src: &[u8], shape: RowShape, row_class: &[u8], parts: &mut ClassCounts) -> [[u32; NUM_VALUES]; TABLES] {
    let n = src.len() / 2;
    for p in parts.iter_mut() {
        *p = [[0; NUM_VALUES]; 4];
    }
    for (r, &c) in row_class.iter().enumerate() {
        let (a, b) = shape.row_span(r, n);
        count_bf16_values(&src[2 * a..2 * b], &mut parts[usize::from(c)]);
    }
    core::array::from_fn(|c| core::array::from_fn(|v| parts[c].iter().map(|h| h[v]).sum()))
}

/// Row classes and a table per class for one chunk.
pub struct RowModel {
    pub shape: RowShape,
    /// One class per row the chunk touches.
    pub row_class: Vec<u8>,
    pub alphabets: Vec<Alphabet>,
}

impl RowModel {
    /// The model for rows classed as `row_class` whose classes count
    /// `class_hists`, or `None` when one table for the chunk (mode 1, whose
    /// histogram is `hist`) is estimated smaller.
    pub fn choose(shape: RowShape, row_class: Vec<u8>, class_hists: &[[u32; NUM_VALUES]; TABLES], hist: &[u32; NUM_VALUES]) -> Option<RowModel> {
        let parts = class_hists.map(|h| Estimate::of(&h, VALUE_BITS));
        // Header growth over mode 1 (24 + 2·2 vs 16 bytes) and the class array.
        let side = fixed_bits(8 * (FIXED_HEADER + 2 * TABLES - super::RANS_HEADER_SIZE) + row_class.len() * class_bits(TABLES));
        if parts.iter().map(|e| e.bits).sum::<u64>() + side >= Estimate::of(hist, VALUE_BITS).bits {
            return None;
        }
        Some(RowModel { shape, row_class, alphabets: parts.into_iter().map(|e| e.alphabet).collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_rank_by_their_mean_value() {
        // Eight rows of 64 values; row r's values are 100 + 10 * (r * 5 % 8) (a
        // permutation), so the four largest means are rows whose r * 5 % 8 >= 4.
        let shape = RowShape { row: 64, first_col: 0 };
        let n = 8 * 64;
        let sums: Vec<u32> = (0..n / SUM_BLOCK).map(|b| (100 + 10 * ((b / 2) * 5 % 8) as u32) * SUM_BLOCK as u32).collect();
        let want: Vec<u8> = (0..8).map(|r| u8::from(r * 5 % 8 >= 4)).collect();
        assert_eq!(rank_rows(&sums, n, shape), want);
        // A chunk that starts mid-row: its first row is shorter, ranked by its mean.
        let shape = RowShape { row: 64, first_col: 32 };
        let n = 7 * 64 + 32;
        let sums: Vec<u32> = (0..n / SUM_BLOCK).map(|b| if b == 0 { 1000 * 32 } else { 5 * 32 }).collect();
        assert_eq!(rank_rows(&sums, n, shape)[0], 1);
    }
}
