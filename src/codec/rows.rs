//! Row classes, shared by the codecs that use them (bf16 payload mode 2, byte
//! stream mode 4): the rows a chunk touches each get a class, and each class
//! codes with its own table. Rows of one tensor differ in scale — a token's
//! embedding, an output channel — so a table per class codes below the chunk's
//! order-0 entropy.
//!
//! Here: where a chunk sits in its rows, the packed class array (one class per
//! row the chunk touches) and the class of each decoder step. A step (`lanes`
//! consecutive symbols) never crosses a row: the row length and the chunk's
//! first column are multiples of `lanes`. And the encoders' choice of classes:
//! rows ranked into equal-count bands ([`bands_by_rank`]) and split into two
//! classes at the cheapest band boundary ([`split_bands`]).

use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use crate::rans::estimate::entropy_floor_of;

/// Class (and table) counts a chunk may use. At most four: each table is
/// 16 KiB of slots (tens of KiB with every layout), and a decoding thread keeps
/// a chunk's tables (see `format::limits::DECODE_TABLES_PER_THREAD`).
pub const TABLE_CHOICES: [usize; 2] = [2, 4];
/// The most tables a chunk may use.
pub const MAX_TABLES: usize = 4;

/// Where a chunk's values sit in the rows of their tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowShape {
    /// Values per row.
    pub row: usize,
    /// Column of the chunk's first value.
    pub first_col: usize,
}

impl RowShape {
    /// Rows the chunk's `n` values touch (the first and last may be partial).
    pub fn rows(&self, n: usize) -> usize {
        (self.first_col + n).div_ceil(self.row)
    }

    /// Values `start..end` of the chunk that lie in row `r` of the chunk.
    pub fn row_span(&self, r: usize, n: usize) -> (usize, usize) {
        ((r * self.row).saturating_sub(self.first_col), ((r + 1) * self.row - self.first_col).min(n))
    }

    /// Whether row contexts apply with `lanes` lanes: steps must not cross rows.
    pub fn fits(&self, lanes: usize) -> bool {
        self.row >= lanes && self.row.is_multiple_of(lanes) && self.first_col < self.row && self.first_col.is_multiple_of(lanes)
    }

    /// The class of every step of `n` values (partial last step included).
    pub fn step_classes(&self, n: usize, lanes: usize, row_class: &[u8], out: &mut Vec<u8>) {
        // Row by row: a row holds row / lanes steps (the first one fewer).
        let steps = n.div_ceil(lanes);
        out.clear();
        out.resize(steps, 0);
        for (r, &c) in row_class.iter().enumerate() {
            let (a, b) = self.row_span(r, n);
            out[a / lanes..b.div_ceil(lanes).min(steps)].fill(c);
        }
    }
}

/// Equal-count bands of rows by rank: a chunk's two classes meet at a band
/// boundary ([`split_bands`]).
pub const BANDS: usize = 4;

/// A row's ranking key: its key (below 2^32) above its row number, which
/// breaks ties, in one integer (selections on it ran in 60 % of the time of
/// selections on pairs).
pub fn rank_key(key: u64, row: usize) -> u64 {
    debug_assert!(key >> 32 == 0 && row >> 32 == 0);
    key << 32 | row as u64
}

/// The band of every row from its ranking key (`keys[r] = rank_key(_, r)`,
/// distinct): band `b` holds ranks `n·b/BANDS .. n·(b+1)/BANDS` of the `n`
/// rows. Selections, not a sort, decide it.
pub fn bands_by_rank(keys: &mut [u64]) -> Vec<u8> {
    let mut band = vec![0u8; keys.len()];
    let n_rows = keys.len();
    band_range(keys, 0, 0..BANDS, n_rows, &mut band);
    band
}

/// Gives the rows of `keys` (ranks `first..`, of `n_rows` in all) their bands
/// among `bands`: one selection at the middle boundary, then each side.
fn band_range(keys: &mut [u64], first: usize, bands: std::ops::Range<usize>, n_rows: usize, band: &mut [u8]) {
    if bands.len() == 1 {
        for &k in keys.iter() {
            band[k as u32 as usize] = bands.start as u8;
        }
        return;
    }
    let mid = (bands.start + bands.end) / 2;
    let cut = n_rows * mid / BANDS - first;
    if cut > 0 && cut < keys.len() {
        keys.select_nth_unstable(cut);
    }
    let (lower, upper) = keys.split_at_mut(cut);
    band_range(lower, first, bands.start..mid, n_rows, band);
    band_range(upper, first + cut, mid..bands.end, n_rows, band);
}

/// `into += h`, element by element (a loop the compiler vectorises).
pub fn add_into<const N: usize>(into: &mut [u32; N], h: &[u32; N]) {
    for (a, &b) in into.iter_mut().zip(h) {
        *a += b;
    }
}

/// Two classes from the rows' bands and each band's histogram (`N` symbols):
/// class 0 below the band boundary whose two sides have the lowest order-0
/// entropy together, class 1 from it on (the middle boundary unless another is
/// strictly lower, and the lowest boundary on other ties); returns each row's
/// class and the two classes' histograms. Integer arithmetic only, so every
/// machine splits alike.
pub fn split_bands<const N: usize>(band: &[u8], hists: &[[u32; N]; BANDS]) -> (Vec<u8>, [[u32; N]; 2]) {
    const { assert!(N <= 1 << 16, "symbols are listed as u16") };
    let mut total = [0u32; N];
    for h in hists {
        add_into(&mut total, h);
    }
    // Only the symbols the chunk holds (a few hundred of 1024 bf16 values) enter the costs.
    let mut live = [0u16; N];
    let mut n_live = 0;
    for (v, &c) in total.iter().enumerate() {
        live[n_live] = v as u16;
        n_live += usize::from(c > 0);
    }
    let live = &live[..n_live];
    let mut lower = [0u32; N];
    let mut best = (u64::MAX, BANDS / 2);
    for t in 1..BANDS {
        add_into(&mut lower, &hists[t - 1]);
        let below = entropy_floor_of(live.iter().map(|&v| lower[usize::from(v)]));
        let above = entropy_floor_of(live.iter().map(|&v| total[usize::from(v)] - lower[usize::from(v)]));
        if below + above < best.0 || (below + above == best.0 && t == BANDS / 2) {
            best = (below + above, t);
        }
    }
    let t = best.1;
    let mut lower = [0u32; N];
    for h in &hists[..t] {
        add_into(&mut lower, h);
    }
    for (u, &l) in total.iter_mut().zip(&lower) {
        *u -= l;
    }
    let class = band.iter().map(|&b| u8::from(usize::from(b) >= t)).collect();
    (class, [lower, total])
}

/// A decoding thread's tables for one codec (allocated on first use, reused
/// across chunks) and the class arrays of a chunk with row classes.
pub struct RowScratch<T> {
    tables: Vec<Box<T>>,
    pub row_class: Vec<u8>,
    pub step_class: Vec<u8>,
}

impl<T> Default for RowScratch<T> {
    fn default() -> Self {
        RowScratch { tables: Vec::new(), row_class: Vec::new(), step_class: Vec::new() }
    }
}

impl<T> RowScratch<T> {
    /// Table `i`, made by `new` on first use.
    pub fn table(&mut self, i: usize, new: fn() -> Box<T>) -> &mut T {
        while self.tables.len() <= i {
            self.tables.push(new());
        }
        &mut self.tables[i]
    }

    /// The first `k` tables (made already, `1 <= k <= MAX_TABLES`), in an
    /// array whose entries past `k` repeat the last (no allocation per chunk).
    pub fn tables(&self, k: usize) -> [&T; MAX_TABLES] {
        core::array::from_fn(|i| &*self.tables[i.min(k - 1)])
    }

    /// Reads a chunk's packed classes (`k` tables, `n` symbols at `shape`, which
    /// fits `lanes`) from `r` into `row_class`, and derives `step_class`.
    pub fn read_classes(&mut self, r: &mut ByteReader<'_>, shape: RowShape, n: usize, lanes: usize, k: usize) -> Result<()> {
        let n_rows = shape.rows(n);
        let bits = class_bits(k);
        let bytes = n_rows.checked_mul(bits).ok_or(Error::Corrupt)?.div_ceil(8);
        unpack_classes(r.take(bytes)?, n_rows, bits, &mut self.row_class)?;
        shape.step_classes(n, lanes, &self.row_class, &mut self.step_class);
        Ok(())
    }
}

/// Bits per class for `k` tables (a power of two).
pub fn class_bits(k: usize) -> usize {
    k.trailing_zeros() as usize
}

/// Packs `classes` (each below `2^bits`) LSB first.
pub fn pack_classes(classes: &[u8], bits: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.resize(start + (classes.len() * bits).div_ceil(8), 0);
    for (i, &c) in classes.iter().enumerate() {
        let at = i * bits;
        // A 3-bit class may straddle two bytes.
        let v = u16::from(c) << (at % 8);
        out[start + at / 8] |= v as u8;
        if let Some(b) = out.get_mut(start + at / 8 + 1).filter(|_| at % 8 + bits > 8) {
            *b |= (v >> 8) as u8;
        }
    }
}

/// Unpacks `rows` classes of `bits` bits from `packed` (exactly their bytes, with
/// the unused high bits of the last byte zero).
pub fn unpack_classes(packed: &[u8], rows: usize, bits: usize, out: &mut Vec<u8>) -> Result<()> {
    if packed.len() != (rows * bits).div_ceil(8) {
        return Err(Error::Corrupt);
    }
    let used = rows * bits;
    if !used.is_multiple_of(8) && packed[used / 8] >> (used % 8) != 0 {
        return Err(Error::Corrupt);
    }
    let mask = (1u16 << bits) - 1;
    out.clear();
    out.extend((0..rows).map(|i| {
        let at = i * bits;
        let lo = u16::from(packed[at / 8]);
        let hi = u16::from(packed.get(at / 8 + 1).copied().unwrap_or(0));
        ((lo | hi << 8) >> (at % 8) & mask) as u8
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_pack_and_unpack_for_every_width() {
        for bits in 1..=3 {
            for rows in [1usize, 2, 7, 8, 9, 100, 1365] {
                let classes: Vec<u8> = (0..rows).map(|i| ((i * 7 + i / 3) % (1 << bits)) as u8).collect();
                let mut packed = Vec::new();
                pack_classes(&classes, bits, &mut packed);
                let mut back = Vec::new();
                unpack_classes(&packed, rows, bits, &mut back).unwrap();
                assert_eq!(back, classes, "bits {bits} rows {rows}");
            }
        }
    }

    #[test]
    fn bands_hold_equal_counts_of_rows_by_rank() {
        for n_rows in [16usize, 17, 23, 100, 1365] {
            // Row r's key is a permutation of the ranks.
            let mut keys: Vec<u64> = (0..n_rows).map(|r| rank_key(((r * 37) % n_rows) as u64, r)).collect();
            let band = bands_by_rank(&mut keys);
            for (r, &got) in band.iter().enumerate() {
                let rank = (r * 37) % n_rows;
                let want = (0..BANDS).rfind(|&b| n_rows * b / BANDS <= rank).unwrap();
                assert_eq!(usize::from(got), want, "rows {n_rows}, row {r}");
            }
        }
    }

    #[test]
    fn the_split_takes_the_lowest_entropy_boundary_or_the_median() {
        let mut hists = [[0u32; 1024]; BANDS];
        // The lowest band holds value 1, the others value 2: the split belongs at 1.
        for (b, h) in hists.iter_mut().enumerate() {
            h[if b < 1 { 1 } else { 2 }] = 100;
        }
        let band: Vec<u8> = (0..BANDS as u8).chain(0..BANDS as u8).collect();
        let (class, sides) = split_bands(&band, &hists);
        assert_eq!(class, [0, 1, 1, 1, 0, 1, 1, 1]);
        assert_eq!((sides[0][1], sides[0][2], sides[1][1], sides[1][2]), (100, 0, 0, 300));
        // Every band alike: no boundary is lower, so the median.
        let hists = [[7u32; 1024]; BANDS];
        let (class, sides) = split_bands(&band, &hists);
        assert_eq!(class, [0, 0, 1, 1, 0, 0, 1, 1]);
        assert_eq!((sides[0][5], sides[1][5]), (14, 14));
    }

    #[test]
    fn split_histograms_match_the_classes_and_the_boundary_is_the_brute_force_one() {
        use crate::rans::estimate::entropy_floor;
        let mut s = 0x2545_f491u32;
        let mut rnd = move || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        let mut off_median = 0;
        for _ in 0..500 {
            let n_rows = 16 + (rnd() % 60) as usize;
            // Keys with many duplicates (the row number breaks ties).
            let mut keys: Vec<u64> = (0..n_rows).map(|r| rank_key(u64::from(rnd() % 5), r)).collect();
            let key_of: Vec<u64> = keys.iter().map(|k| k >> 32).collect();
            let band = bands_by_rank(&mut keys);
            // Rows of 1..8 symbols, their alphabet leaning on the key.
            let rows: Vec<Vec<usize>> = (0..n_rows)
                .map(|r| (0..1 + rnd() % 8).map(|_| (key_of[r] as usize * 3 + (rnd() % 4) as usize) % 16).collect())
                .collect();
            let mut hists = [[0u32; 16]; BANDS];
            for (r, row) in rows.iter().enumerate() {
                for &x in row {
                    hists[usize::from(band[r])][x] += 1;
                }
            }
            let (class, sides) = split_bands(&band, &hists);
            // The histograms are those of the classes returned.
            let mut want = [[0u32; 16]; 2];
            for (r, row) in rows.iter().enumerate() {
                for &x in row {
                    want[usize::from(class[r])][x] += 1;
                }
            }
            assert_eq!(sides, want);
            // The boundary: class 1 from band t on, t the cheapest (the median on ties with it).
            let side = |bands: std::ops::Range<usize>| {
                let mut h = [0u32; 16];
                for b in bands {
                    add_into(&mut h, &hists[b]);
                }
                entropy_floor(&h)
            };
            let cost = |t: usize| side(0..t) + side(t..BANDS);
            let best = (1..BANDS).map(cost).min().unwrap();
            let want_t = if cost(BANDS / 2) == best { BANDS / 2 } else { (1..BANDS).find(|&t| cost(t) == best).unwrap() };
            for (r, &c) in class.iter().enumerate() {
                assert_eq!(usize::from(c), usize::from(usize::from(band[r]) >= want_t), "row {r} of {n_rows}");
            }
            off_median += usize::from(want_t != BANDS / 2);
        }
        assert!(off_median > 10, "only {off_median} off-median splits");
    }

    #[test]
    fn stray_bits_after_the_last_class_are_corrupt() {
        let mut back = Vec::new();
        assert_eq!(unpack_classes(&[0b0100_0000], 3, 2, &mut back), Err(Error::Corrupt));
        assert_eq!(unpack_classes(&[0, 0], 3, 2, &mut back), Err(Error::Corrupt));
        assert!(unpack_classes(&[0b0011_1001], 3, 2, &mut back).is_ok());
    }

    #[test]
    fn rows_and_spans_follow_the_first_column() {
        let s = RowShape { row: 384, first_col: 128 };
        assert!(s.fits(128) && s.fits(32) && !s.fits(256));
        let mut steps = Vec::new();
        s.step_classes(1000, 128, &[0, 1, 0], &mut steps);
        assert_eq!(steps, [0, 0, 1, 1, 1, 0, 0, 0]);
        assert_eq!(s.rows(256), 1);
        assert_eq!(s.rows(257), 2);
        assert_eq!(s.row_span(0, 1000), (0, 256));
        assert_eq!(s.row_span(1, 1000), (256, 640));
        assert_eq!(s.rows(1000), 3);
        assert_eq!(s.row_span(2, 1000), (640, 1000));
    }
}
