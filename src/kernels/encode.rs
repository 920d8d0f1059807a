//! Encode-side kernels: the bf16 scan (value histogram and packed raw fields), the
//! bf16 pack (the same raw fields and 32-word value sums, for ranking rows), the
//! bf16 value encoder and the Q4_K block split. Each has a scalar specification
//! here; the AVX-512 forms (`x86/encode_avx512.rs`) and the AVX2 value encoder
//! (`x86/encode_avx2.rs`) produce the same bytes, and the safe methods below
//! check the bounds their `# Safety` contracts rely on.

use super::{portable, Kernels};
use crate::format::bf16_split::{raw_len, raw_of, value_of, NUM_VALUES};
use crate::format::q4k_block::{split, sub_block, windows, BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES, QS};
use crate::rans::encode::{self as rans_encode, EncTable, BF16_VALUES};

/// Bytes `raw` needs beyond `raw_len(n)`: groups of eight fields are written as
/// one 8-byte store.
pub(crate) const RAW_SLACK: usize = 2;

/// Partial histograms [`count_values`] spreads its counts over.
const PARTS: usize = 8;

/// `PARTS` partial value histograms (33 KiB).
pub(crate) type PartialCounts = [[u32; PART_LEN]; PARTS];

/// Each part's length: 64 bytes beyond the values, so that a value's counters
/// in the parts fall in different L1 sets. Parts exactly 4 KiB apart put them
/// all in one set: eight parts then counted slower than four, and four (the
/// old layout) at 1.4 cycles a value on Zen 4, half of a bf16 chunk's encode
/// time. Eight offset parts: bf16 encode 6-7 % faster, rows 4 %.
const PART_LEN: usize = NUM_VALUES + 16;

/// Partial histograms with nothing counted. A const, not a static: each use
/// is a fresh zeroed array to count into.
#[allow(clippy::large_const_arrays)]
pub(crate) const NO_COUNTS: PartialCounts = [[0; PART_LEN]; PARTS];

/// Counts the values of `words` (little-endian bf16 words) into `PARTS`
/// partial histograms, word `i` into part `i % PARTS`: weights cluster on a few
/// values, and increments of one counter close together serialise on store
/// forwarding.
#[inline(always)]
pub(crate) fn count_values(words: &[u8], part: &mut PartialCounts) {
    let mut groups = words.chunks_exact(2 * PARTS);
    for c in &mut groups {
        for (q, half) in c.chunks_exact(8).enumerate() {
            let q64 = u64::from_le_bytes(half.try_into().expect("8 bytes"));
            for k in 0..4 {
                part[4 * q + k][usize::from(value_of((q64 >> (16 * k)) as u16))] += 1;
            }
        }
    }
    for c in groups.remainder().chunks_exact(2) {
        part[0][usize::from(value_of(u16::from_le_bytes([c[0], c[1]])))] += 1;
    }
}

/// Values in the AVX-512 bf16 value encoder's window.
pub(crate) const VALUE_WINDOW: usize = 128;

/// The first of the [`VALUE_WINDOW`] consecutive values that hold the most of
/// `hist`: the AVX-512 bf16 value encoder looks their table entries up with byte
/// permutes and gathers only for values outside (slow on AMD Zen 4). Any window
/// gives the same bytes.
pub(crate) fn value_window(hist: &[u32; NUM_VALUES]) -> u16 {
    let mut sum: u64 = hist[..VALUE_WINDOW].iter().map(|&c| u64::from(c)).sum();
    let (mut best, mut at) = (sum, 0);
    for b in 1..=NUM_VALUES - VALUE_WINDOW {
        sum = sum + u64::from(hist[b + VALUE_WINDOW - 1]) - u64::from(hist[b - 1]);
        if sum > best {
            (best, at) = (sum, b);
        }
    }
    at as u16
}

/// A value-indexed table's entries for the [`VALUE_WINDOW`] values from
/// `start` on, as the AVX-512 bf16 value encoder's byte permutes read them
/// (frequency and start, low and high bytes), made once per table: rows
/// encode in runs of a few steps per table, and building these for every run
/// cost a fifth of row-class encoding.
pub(crate) struct ValueWindow {
    pub start: u16,
    /// Frequency low, frequency high, start low, start high bytes of each value.
    pub bytes: [[u8; VALUE_WINDOW]; 4],
}

impl ValueWindow {
    /// The window of `t` from `start` (`start + VALUE_WINDOW <= BF16_VALUES`).
    pub fn new(t: &EncTable<BF16_VALUES>, start: u16) -> ValueWindow {
        let mut bytes = [[0u8; VALUE_WINDOW]; 4];
        for (i, &e) in t.packed[usize::from(start)..][..VALUE_WINDOW].iter().enumerate() {
            let (freq, cum) = (e & 0xfff, e >> 12);
            (bytes[0][i], bytes[1][i], bytes[2][i], bytes[3][i]) = (freq as u8, (freq >> 8) as u8, cum as u8, (cum >> 8) as u8);
        }
        ValueWindow { start, bytes }
    }
}

/// Sums the partial histograms into `hist`.
#[inline(always)]
pub(super) fn merge_counts(part: &PartialCounts, hist: &mut [u32; NUM_VALUES]) {
    for (v, h) in hist.iter_mut().enumerate() {
        *h = part.iter().map(|p| p[v]).sum();
    }
}

/// Packs the raw fields of words `8 * first_group ..` of `src` into `raw` (the
/// whole packed string of `src.len() / 2` fields, plus [`RAW_SLACK`] bytes).
#[inline(always)]
pub(super) fn pack_raw_from(src: &[u8], first_group: usize, raw: &mut [u8]) {
    let n = src.len() / 2;
    let groups = n / 8;
    for g in first_group..groups {
        let c = &src[16 * g..16 * g + 16];
        let lo = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
        let hi = u64::from_le_bytes(c[8..].try_into().expect("8 bytes"));
        let mut bits = 0u64;
        for j in 0..8 {
            let w = (if j < 4 { lo >> (16 * j) } else { hi >> (16 * (j - 4)) }) as u16;
            bits |= u64::from(raw_of(w)) << (6 * j);
        }
        raw[6 * g..6 * g + 8].copy_from_slice(&bits.to_le_bytes());
    }
    let tail = 6 * groups.max(first_group);
    raw[tail..raw_len(n)].fill(0);
    for i in (groups * 8).max(first_group * 8)..n {
        let w = u16::from_le_bytes([src[2 * i], src[2 * i + 1]]);
        let bit = 6 * i;
        let f = raw_of(w) << (bit % 8);
        raw[bit / 8] |= f as u8;
        if bit % 8 > 2 {
            raw[bit / 8 + 1] |= (f >> 8) as u8;
        }
    }
}

/// Words per block of the value sums [`Kernels::bf16_pack_sums`] writes: rows
/// and chunk starts fall on multiples of the lane count (at least 32), so a
/// row's sum is the sum of its blocks'.
pub(crate) const SUM_BLOCK: usize = 32;

/// `sums[i]` = the sum of the values of words `32 * i .. 32 * i + 32` of `src`
/// (fewer in the last block), for blocks `first_block ..`.
#[inline(always)]
pub(super) fn block_sums_from(src: &[u8], first_block: usize, sums: &mut [u32]) {
    for (b, s) in src.chunks(2 * SUM_BLOCK).zip(sums.iter_mut()).skip(first_block) {
        *s = b.chunks_exact(2).map(|w| u32::from(value_of(u16::from_le_bytes([w[0], w[1]])))).sum();
    }
}

portable! {
/// The scalar specification of the bf16 pack: the packed raw fields of `src`
/// and the value sums of its 32-word blocks.
fn bf16_pack_sums_portable(src: &[u8], raw: &mut [u8], sums: &mut [u32]) {
    pack_raw_from(src, 0, raw);
    block_sums_from(src, 0, sums);
}
}

portable! {
/// The scalar specification of the bf16 scan: the value histogram of `src` and its
/// packed raw fields.
fn bf16_scan_portable(src: &[u8], hist: &mut [u32; NUM_VALUES], raw: &mut [u8]) {
    let mut part = NO_COUNTS;
    count_values(src, &mut part);
    merge_counts(&part, hist);
    pack_raw_from(src, 0, raw);
}
}

/// The scalar specification of the Q4_K split of one block: its eight window
/// starts, then per nibble the flag and the index bits, gathered into the
/// block's 32 flag bytes and 96 plane bytes.
pub(super) fn q4k_split_block(block: &[u8], lo: &[u8; 8], f: &mut [u8], pl: &mut [u8]) {
    // Eight consecutive qs bytes share their sub-blocks: one flag byte and three
    // plane bytes per nibble half, accumulated in registers.
    for (g, group) in block[HEADER..].chunks_exact(8).enumerate().take(QS / 8) {
        for h in 0..2 {
            let window = lo[sub_block(8 * g, h)];
            let (mut flag_bits, mut plane_bits) = (0u8, [0u8; 3]);
            for (bit, &byte) in group.iter().enumerate() {
                let (flag, index) = split((byte >> (4 * h)) & 15, window);
                flag_bits |= u8::from(flag) << bit;
                for (p, pb) in plane_bits.iter_mut().enumerate() {
                    *pb |= ((index >> p) & 1) << bit;
                }
            }
            let at = 16 * h + g;
            f[at] = flag_bits;
            for (p, pb) in plane_bits.iter().enumerate() {
                pl[32 * p + at] = *pb;
            }
        }
    }
}

/// Moves byte `p` of block `k`'s header to `headers[p * n + k]`.
#[inline(always)]
pub(super) fn q4k_header(block: &[u8], k: usize, n: usize, headers: &mut [u8]) {
    for (p, &byte) in block[..HEADER].iter().enumerate() {
        headers[p * n + k] = byte;
    }
}

fn q4k_split_scalar(src: &[u8], headers: &mut [u8], flags: &mut [u8], planes: &mut [u8]) {
    let n = src.len() / BLOCK;
    for (k, block) in src.chunks_exact(BLOCK).enumerate() {
        q4k_header(block, k, n, headers);
        let lo = windows(&block[..HEADER]);
        q4k_split_block(block, &lo, &mut flags[FLAG_BYTES * k..][..FLAG_BYTES], &mut planes[PLANE_BYTES * k..][..PLANE_BYTES]);
    }
}

impl Kernels {
    /// The value histogram of `src` (little-endian bf16 words) and its raw fields,
    /// packed into `raw` (`raw_len(n)` bytes plus [`RAW_SLACK`]; every byte of the
    /// packed string is written, the slack may be too).
    pub(crate) fn bf16_scan(&self, src: &[u8], hist: &mut [u32; NUM_VALUES], raw: &mut [u8]) {
        assert!(src.len().is_multiple_of(2) && raw.len() >= raw_len(src.len() / 2) + RAW_SLACK, "bf16 scan called outside its contract");
        #[cfg(target_arch = "x86_64")]
        if self.avx512() {
            self.record();
            // SAFETY: a `Kernels` of this ISA exists only when the CPU runs it
            // (`Kernels::get`); the assertion is the rest of the contract.
            unsafe { super::x86::encode_avx512::bf16_scan(src, hist, raw) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.isa() == crate::isa::Isa::Avx2 {
            self.record();
            // SAFETY: as above.
            unsafe { super::x86::encode_avx2::bf16_scan(src, hist, raw) };
            return;
        }
        bf16_scan_portable(self, src, hist, raw);
    }

    /// The raw fields of `src` (little-endian bf16 words) packed into `raw`, as
    /// [`Kernels::bf16_scan`] packs them, and the value sum of every block of
    /// [`SUM_BLOCK`] words into `sums` (at least `n.div_ceil(SUM_BLOCK)` entries):
    /// the scan for chunks whose rows are ranked before their values are counted.
    pub(crate) fn bf16_pack_sums(&self, src: &[u8], raw: &mut [u8], sums: &mut [u32]) {
        let n = src.len() / 2;
        let fits = src.len().is_multiple_of(2) && raw.len() >= raw_len(n) + RAW_SLACK && sums.len() >= n.div_ceil(SUM_BLOCK);
        assert!(fits, "bf16 pack called outside its contract");
        #[cfg(target_arch = "x86_64")]
        if self.avx512() {
            self.record();
            // SAFETY: a `Kernels` of this ISA exists only when the CPU runs it
            // (`Kernels::get`); the assertion is the rest of the contract.
            unsafe { super::x86::encode_avx512::bf16_pack_sums(src, raw, sums) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.isa() == crate::isa::Isa::Avx2 {
            self.record();
            // SAFETY: as above.
            unsafe { super::x86::encode_avx2::bf16_pack_sums(src, raw, sums) };
            return;
        }
        bf16_pack_sums_portable(self, src, raw, sums);
    }

    /// Encodes the whole steps of the values of `src` (little-endian bf16 words,
    /// `src.len() / 2` a multiple of `lanes`) below `pos`; returns the new `pos`
    /// (see `rans::encode::encode_bf16_values`).
    /// `window` is `t`'s [`ValueWindow`] (from [`value_window`]); where it
    /// starts changes the speed, never the bytes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn bf16_values_encode(&self, src: &[u8], lanes: usize, t: &EncTable<BF16_VALUES>, window: &ValueWindow, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
        self.record();
        let n = src.len() / 2;
        let fits = src.len().is_multiple_of(2)
            && crate::rans::LANE_CHOICES.contains(&lanes)
            && n.is_multiple_of(lanes)
            && states.len() >= lanes
            && n <= pos
            && pos <= buf.len()
            && usize::from(window.start) + VALUE_WINDOW <= BF16_VALUES;
        debug_assert!(window.bytes[0][0] == t.packed[usize::from(window.start)] as u8, "a window of another table");
        assert!(fits, "bf16 value encoder called outside its contract");
        #[cfg(target_arch = "x86_64")]
        if self.avx512() {
            // SAFETY: the CPU runs this ISA (`Kernels::get`); the assertion is the
            // rest of the contract.
            return unsafe { super::x86::encode_avx512::bf16_values_encode(src, lanes, t, window, states, buf, pos) };
        }
        #[cfg(target_arch = "x86_64")]
        if self.isa() == crate::isa::Isa::Avx2 {
            // SAFETY: as above.
            return unsafe { super::x86::encode_avx2::bf16_values_encode(src, lanes, t, states, buf, pos, self.lookup_loads) };
        }
        rans_encode::encode_bf16_full_steps(src, lanes, t, states, buf, pos)
    }

    /// Splits `src` (whole Q4_K blocks) into the header bytes by position
    /// (`headers[p * n + k]`), the flag bytes and the index planes of every block.
    pub(crate) fn q4k_split(&self, src: &[u8], headers: &mut [u8], flags: &mut [u8], planes: &mut [u8]) {
        self.record();
        let n = src.len() / BLOCK;
        let fits = src.len().is_multiple_of(BLOCK) && headers.len() == HEADER * n && flags.len() == FLAG_BYTES * n && planes.len() == PLANE_BYTES * n;
        assert!(fits, "Q4_K split called outside its contract");
        #[cfg(target_arch = "x86_64")]
        if self.avx512() {
            // SAFETY: the CPU runs this ISA (`Kernels::get`); the assertion is the
            // rest of the contract.
            unsafe { super::x86::encode_avx512::q4k_split(src, headers, flags, planes) };
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.isa() == crate::isa::Isa::Avx2 {
            // SAFETY: as above.
            unsafe { super::x86::encode_avx2::q4k_split(src, headers, flags, planes) };
            return;
        }
        q4k_split_scalar(src, headers, flags, planes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::Isa;
    use crate::rans::encode::{encode_bf16_full_steps, encode_bf16_values};
    use crate::rans::{carry_states, CARRY_BYTES, RANS_L};

    /// Deterministic pseudo-random bytes (xorshift).
    fn noise(n: usize, mut seed: u64) -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect()
    }

    /// bf16-like words: a few exponents, random mantissas and signs.
    fn weights(n: usize, seed: u64) -> Vec<u8> {
        let r = noise(2 * n, seed);
        r.chunks_exact(2)
            .flat_map(|c| {
                let exp = 118 + u16::from(c[0] % 7) + u16::from(c[0] % 3);
                let w = u16::from(c[1] >> 7) << 15 | exp << 7 | u16::from(c[1] & 0x7f);
                w.to_le_bytes()
            })
            .collect()
    }

    fn all_kernels() -> Vec<&'static Kernels> {
        let ks = Kernels::all_variants();
        assert!(!ks.is_empty());
        ks
    }

    #[test]
    fn bf16_scan_matches_the_scalar_specification() {
        let scalar = Kernels::get(Isa::Scalar).expect("scalar runs everywhere");
        for n in [1usize, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000, 4099, 70_001] {
            for src in [weights(n, n as u64 + 1), noise(2 * n, n as u64 + 9)] {
                let mut want_hist = [0u32; NUM_VALUES];
                let mut want_raw = vec![0xa5u8; raw_len(n) + RAW_SLACK];
                scalar.bf16_scan(&src, &mut want_hist, &mut want_raw);
                // The histogram counts every value; the raw string is the fields in order.
                assert_eq!(want_hist.iter().sum::<u32>() as usize, n);
                for i in [0, n / 2, n - 1] {
                    let w = u16::from_le_bytes([src[2 * i], src[2 * i + 1]]);
                    let bits = u32::from(want_raw[6 * i / 8]) | u32::from(*want_raw.get(6 * i / 8 + 1).unwrap_or(&0)) << 8;
                    assert_eq!((bits >> (6 * i % 8)) & 63, raw_of(w), "n={n} i={i}");
                }
                for k in all_kernels() {
                    let mut hist = [7u32; NUM_VALUES];
                    let mut raw = vec![0x5au8; raw_len(n) + RAW_SLACK];
                    k.bf16_scan(&src, &mut hist, &mut raw);
                    assert_eq!(hist, want_hist, "{:?} n={n}", k.isa());
                    assert_eq!(raw[..raw_len(n)], want_raw[..raw_len(n)], "{:?} n={n}", k.isa());
                }
            }
        }
    }

    #[test]
    fn bf16_pack_matches_the_scan_and_plain_sums() {
        let scalar = Kernels::get(Isa::Scalar).expect("scalar runs everywhere");
        for n in [1usize, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4099, 70_001] {
            for src in [weights(n, n as u64 + 3), noise(2 * n, n as u64 + 11)] {
                let mut hist = [0u32; NUM_VALUES];
                let mut want_raw = vec![0u8; raw_len(n) + RAW_SLACK];
                scalar.bf16_scan(&src, &mut hist, &mut want_raw);
                let values: Vec<u32> = src.chunks_exact(2).map(|c| u32::from(value_of(u16::from_le_bytes([c[0], c[1]])))).collect();
                let want_sums: Vec<u32> = values.chunks(SUM_BLOCK).map(|b| b.iter().sum()).collect();
                for k in all_kernels() {
                    let mut raw = vec![0x5au8; raw_len(n) + RAW_SLACK];
                    let mut sums = vec![7u32; n.div_ceil(SUM_BLOCK) + 1];
                    k.bf16_pack_sums(&src, &mut raw, &mut sums);
                    assert_eq!(raw[..raw_len(n)], want_raw[..raw_len(n)], "{:?} n={n}", k.isa());
                    assert_eq!(sums[..want_sums.len()], want_sums[..], "{:?} n={n}", k.isa());
                    assert_eq!(sums[want_sums.len()], 7, "{:?} n={n}: wrote past the sums", k.isa());
                }
            }
        }
    }

    #[test]
    fn bf16_value_encoders_match_the_scalar_specification() {
        let scalar = Kernels::get(Isa::Scalar).expect("scalar runs everywhere");
        for (n, lanes) in [(32usize, 32usize), (33, 32), (1000, 32), (4096, 64), (70_001, 128), (3, 128)] {
            // One value taking 95 % of the weight: its frequency is above 2048,
            // so states reach 2^31 (the AVX2 division converts them in halves).
            let skewed: Vec<u8> = weights(n, n as u64).chunks_exact(2).enumerate().flat_map(|(i, c)| if i % 20 == 7 { [c[0], c[1]] } else { [0x80, 0x3f] }).collect();
            for src in [weights(n, 3 * n as u64), noise(2 * n, 5 * n as u64 + 1), skewed] {
                let mut hist = [0u32; NUM_VALUES];
                let mut raw = vec![0u8; raw_len(n) + RAW_SLACK];
                scalar.bf16_scan(&src, &mut hist, &mut raw);
                let alphabet = crate::rans::alphabet::Alphabet::from_histogram(&hist);
                let map: [u8; NUM_VALUES] = alphabet.symbol_map(NUM_VALUES).try_into().expect("one per value");
                let symbols = EncTable::new(&alphabet.freqs);
                let table = EncTable::<BF16_VALUES>::from_map(&symbols, &map);
                // The specification: the symbols of the values, coded as a symbol stream.
                let syms: Vec<u8> = src.chunks_exact(2).map(|c| map[usize::from(value_of(u16::from_le_bytes([c[0], c[1]])))]).collect();
                let mut want_buf = Vec::new();
                let (want_states, at) = crate::rans::encode::encode(&syms, lanes, &symbols, &mut want_buf, |s, l, t, x, b, p| {
                    crate::rans::encode::encode_full_steps(s, l, t, x, b, p)
                });
                let want_words = want_buf[at..].to_vec();
                // The best window, and two that leave most values to the gathers.
                for start in [value_window(&hist), 0, (BF16_VALUES - VALUE_WINDOW) as u16] {
                    let window = ValueWindow::new(&table, start);
                    for k in all_kernels() {
                        let mut buf = vec![0xffffu16; 3];
                        let (states, at) = encode_bf16_values(&src, &vec![RANS_L; lanes], &table, &mut buf, |s, l, t, x, b, p| k.bf16_values_encode(s, l, t, &window, x, b, p));
                        assert_eq!(states, want_states, "{:?} n={n} window={start}", k.isa());
                        assert_eq!(buf[at..], want_words[..], "{:?} n={n} window={start}", k.isa());
                    }
                }
                // Lanes that carry bytes start elsewhere: every kernel from there too.
                let carried: Vec<u8> = (0..CARRY_BYTES * lanes).map(|i| (i * 37 + 11) as u8).collect();
                let starts = carry_states(&carried, lanes);
                let mut want_buf = Vec::new();
                let (want_states, at) = encode_bf16_values(&src, &starts, &table, &mut want_buf, encode_bf16_full_steps);
                for k in all_kernels() {
                    let mut buf = vec![0xffffu16; 3];
                    let window = ValueWindow::new(&table, value_window(&hist));
                    let (states, got) = encode_bf16_values(&src, &starts, &table, &mut buf, |s, l, t, x, b, p| k.bf16_values_encode(s, l, t, &window, x, b, p));
                    assert_eq!(states, want_states, "{:?} n={n}, carrying", k.isa());
                    assert_eq!(buf[got..], want_buf[at..], "{:?} n={n}, carrying", k.isa());
                }
            }
        }
    }

    #[test]
    fn q4k_split_matches_the_scalar_specification() {
        let scalar = Kernels::get(Isa::Scalar).expect("scalar runs everywhere");
        for n in [1usize, 2, 5, 33, 2000] {
            let mut src = noise(BLOCK * n, 77 + n as u64);
            // Some blocks with finite, positive scales so that windows move.
            for (k, b) in src.chunks_exact_mut(BLOCK).enumerate() {
                if k % 2 == 0 {
                    b[1] = 0x2c + (b[1] & 3);
                    b[3] = 0x2c + (b[3] & 3);
                }
            }
            let mut want = (vec![0u8; HEADER * n], vec![0u8; FLAG_BYTES * n], vec![0u8; PLANE_BYTES * n]);
            scalar.q4k_split(&src, &mut want.0, &mut want.1, &mut want.2);
            assert_eq!((want.0[0], want.0[n]), (src[0], src[1]), "header bytes by position");
            for k in all_kernels() {
                let mut got = (vec![1u8; HEADER * n], vec![2u8; FLAG_BYTES * n], vec![3u8; PLANE_BYTES * n]);
                k.q4k_split(&src, &mut got.0, &mut got.1, &mut got.2);
                assert_eq!(got, want, "{:?} n={n}", k.isa());
            }
        }
    }
}
