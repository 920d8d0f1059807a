//! The encoder's choice of row classes (payload mode 2): rows ranked by their
//! mean value and split into two classes at the band boundary (of four
//! equal-count bands by rank) with the lowest order-0 entropy on both sides,
//! used when the estimated size (code, tables and class array) is below one
//! table's. Integer arithmetic only, so every machine picks the same.
//!
//! Two classes, not more: measured on the MiniLM fixtures (one thread),
//! quartiles add 0.03–0.16 % of ratio but decode 6–18 % slower than two
//! classes, which already cost 4–11 % against one table. The format allows 2
//! or 4. Where the two classes meet matters too ([`crate::codec::rows::split_bands`]
//! against the median): 0.03–0.07 % of ratio on three of the four MiniLM
//! fixtures, no decoder change, 2–7 % more encoding time with rows (eight bands
//! gained another 0.01 % for about 10 %).

use super::rows::FIXED_HEADER;
use crate::codec::rows::{add_into, bands_by_rank, class_bits, rank_key, RowShape, BANDS};
use crate::format::bf16_split::{NUM_VALUES, VALUE_BITS};
use crate::rans::alphabet::Alphabet;
use crate::kernels::{count_bf16_values, PartialCounts, NO_COUNTS, SUM_BLOCK};
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

/// The band of every row the chunk touches, from the value sums of its
/// 32-word blocks (`Kernels::bf16_pack_sums`): rows ranked by mean value (a
/// fixed-point mean: partial rows are shorter), band `b` holding ranks
/// `n_rows·b/BANDS .. n_rows·(b+1)/BANDS`. Keys are distinct (the row number
/// breaks ties), so selections, not a sort, decide it.
pub fn rank_rows(sums: &[u32], n: usize, shape: RowShape) -> Vec<u8> {
    let n_rows = shape.rows(n);
    let mut keys: Vec<u64> = (0..n_rows)
        .map(|r| {
            let (a, b) = shape.row_span(r, n);
            // Rows start and end on block boundaries (or at the chunk's end).
            debug_assert!(a.is_multiple_of(SUM_BLOCK));
            let sum: u64 = sums[a / SUM_BLOCK..b.div_ceil(SUM_BLOCK)].iter().map(|&s| u64::from(s)).sum();
            // A mean value below 1024 in 16.16 fixed point: below 2^26.
            rank_key((sum << 16) / (b - a) as u64, r)
        })
        .collect();
    bands_by_rank(&mut keys)
}

/// Partial value histograms (see `count_bf16_values`), one set per band.
pub type BandCounts = [PartialCounts; BANDS];

/// The value histogram of each band's rows, counted in one pass over the
/// chunk in row order (`parts` is scratch space, 130 KiB: counting band by band
/// kept less of it hot but jumped between rows, 10 % slower).
pub fn count_bands(src: &[u8], shape: RowShape, band: &[u8], parts: &mut BandCounts) -> [[u32; NUM_VALUES]; BANDS] {
    let n = src.len() / 2;
    for p in parts.iter_mut() {
        *p = NO_COUNTS;
    }
    for (r, &b) in band.iter().enumerate() {
        let (a, e) = shape.row_span(r, n);
        count_bf16_values(&src[2 * a..2 * e], &mut parts[usize::from(b)]);
    }
    let mut hists = [[0u32; NUM_VALUES]; BANDS];
    for (hist, part) in hists.iter_mut().zip(parts.iter()) {
        for h in part {
            add_into(hist, h[..NUM_VALUES].try_into().expect("a part holds every value"));
        }
    }
    hists
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
        // permutation), so row r has rank r * 5 % 8, and two ranks share a band.
        let shape = RowShape { row: 64, first_col: 0 };
        let n = 8 * 64;
        let sums: Vec<u32> = (0..n / SUM_BLOCK).map(|b| (100 + 10 * ((b / 2) * 5 % 8) as u32) * SUM_BLOCK as u32).collect();
        let want: Vec<u8> = (0..8).map(|r| (r * 5 % 8 * BANDS / 8) as u8).collect();
        assert_eq!(rank_rows(&sums, n, shape), want);
        // A chunk that starts mid-row: its first row is shorter, ranked by its mean.
        let shape = RowShape { row: 64, first_col: 32 };
        let n = 7 * 64 + 32;
        let sums: Vec<u32> = (0..n / SUM_BLOCK).map(|b| if b == 0 { 1000 * 32 } else { 5 * 32 }).collect();
        assert_eq!(rank_rows(&sums, n, shape)[0], BANDS as u8 - 1);
    }

    /// The bands before block sums: each row's exact value sum, ranked by a sort.
    fn exact_bands(src: &[u8], shape: RowShape) -> Vec<u8> {
        let n = src.len() / 2;
        let n_rows = shape.rows(n);
        let value = |i: usize| u64::from(crate::format::bf16_split::value_of(u16::from_le_bytes([src[2 * i], src[2 * i + 1]])));
        let mut keys: Vec<(u64, u32)> = (0..n_rows)
            .map(|r| {
                let (a, b) = shape.row_span(r, n);
                (((a..b).map(value).sum::<u64>() << 16) / (b - a) as u64, r as u32)
            })
            .collect();
        keys.sort_unstable();
        let mut band = vec![0u8; n_rows];
        for (rank, &(_, r)) in keys.iter().enumerate() {
            band[r as usize] = (0..BANDS).rfind(|&b| n_rows * b / BANDS <= rank).unwrap() as u8;
        }
        band
    }

    #[test]
    fn block_sum_ranking_equals_exact_row_sums_on_every_isa() {
        // Review: rows of 32..4096 values (2880 and 160 fit only 64 / 32
        // lanes), chunks starting mid-row at every lane multiple, lengths that
        // end mid-row, mid-block and one word into a block, on every ISA.
        use crate::kernels::{Kernels, RAW_SLACK};
        use crate::format::bf16_split::raw_len;
        let kernels: Vec<&Kernels> = crate::isa::supported().into_iter().filter_map(Kernels::get).collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut checked = 0;
        for row in [32usize, 64, 96, 128, 160, 384, 2880, 4096] {
            for first_col in (0..row).step_by(32).filter(|c| c % 96 == 0 || *c == row - 32) {
                for n in [16 * row + 1, 16 * row - first_col, 17 * row + 31, 20 * row + 33, 40 * row - 7, 16 * 64 + 1] {
                    let shape = RowShape { row, first_col };
                    if !worth_ranking(shape, n) || crate::rans::lanes_within(128, |l| shape.fits(l)).is_none() {
                        continue;
                    }
                    // Rows with scales that differ little (near-ties) and a few wild words.
                    let src: Vec<u8> = (0..n)
                        .flat_map(|i| {
                            let r = (i + first_col) / row;
                            let x = next();
                            let exp = 120 + (r % 5) as u16 + u16::from(x % 4 == 0);
                            let w = if x % 97 == 0 { (x >> 8) as u16 } else { ((x >> 20) as u16 & 0x807f) | exp << 7 };
                            w.to_le_bytes()
                        })
                        .collect();
                    let want = exact_bands(&src, shape);
                    let mut want_hist = [0u32; NUM_VALUES];
                    let mut raw0 = vec![0u8; raw_len(n) + RAW_SLACK];
                    kernels[0].bf16_scan(&src, &mut want_hist, &mut raw0);
                    for k in &kernels {
                        let mut raw = vec![0xa5u8; raw_len(n) + RAW_SLACK];
                        let mut sums = vec![0u32; n.div_ceil(SUM_BLOCK)];
                        k.bf16_pack_sums(&src, &mut raw, &mut sums);
                        assert_eq!(raw[..raw_len(n)], raw0[..raw_len(n)], "{:?} row {row} col {first_col} n {n}", k.isa());
                        let got = rank_rows(&sums, n, shape);
                        assert_eq!(got, want, "{:?} row {row} col {first_col} n {n}", k.isa());
                        let mut parts = Box::new([NO_COUNTS; BANDS]);
                        let hists = count_bands(&src, shape, &got, &mut parts);
                        let sum: Vec<u32> = (0..NUM_VALUES).map(|v| hists.iter().map(|h| h[v]).sum()).collect();
                        assert_eq!(sum[..], want_hist[..], "{:?} row {row} col {first_col} n {n}: bands miss values", k.isa());
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 50, "{checked}");
    }
}
