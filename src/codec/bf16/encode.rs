//! bf16 chunk encoder. Everything here is integer code, and every kernel it calls
//! matches its scalar specification, so the output is identical on every ISA.

use crate::format::bf16_split::{raw_len, value_of, NUM_VALUES, VALUE_BITS};
use crate::rans::alphabet::Alphabet;
use super::{model, rows};
use crate::codec::rows::{class_bits, pack_classes, split_bands, RowShape, BANDS};
use super::{MODE_RANS, MODE_RANS_CARRYING, MODE_STORED, RANS_HEADER_SIZE};
use crate::format::bytes::{put_u16, put_u16s, put_u32, put_varint};
use crate::kernels::{value_window, Kernels, ValueWindow, NO_COUNTS, RAW_SLACK, SUM_BLOCK};
use crate::rans::encode::{EncTable, BF16_VALUES};
use crate::rans;

#[inline(always)]
fn word(src: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([src[2 * i], src[2 * i + 1]])
}

/// Per-thread buffers reused across chunks (fresh pages per chunk cost more than coding).
#[derive(Default)]
struct Scratch {
    raw: Vec<u8>,
    words: Vec<u16>,
    /// Value-indexed encoder tables, one per class (36 KiB each).
    tables: Vec<Box<EncTable<BF16_VALUES>>>,
    /// Value sums of 32-word blocks, for ranking rows.
    sums: Vec<u32>,
    /// Partial histograms of the row bands (130 KiB), made on first use.
    band_counts: Option<Box<model::BandCounts>>,
}

/// The first `k` of a thread's value-indexed tables, made on first use.
fn enc_tables(tables: &mut Vec<Box<EncTable<BF16_VALUES>>>, k: usize) -> &mut [Box<EncTable<BF16_VALUES>>] {
    while tables.len() < k {
        tables.push(EncTable::boxed());
    }
    &mut tables[..k]
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Appends the payload of one chunk of little-endian bf16 words (even length, at
/// least 2 bytes) to `out`. With the chunk's `shape`, rows may fall into classes
/// with a table each (mode 2) where that is smaller. Wherever the raw fields
/// are long enough, the lanes carry their last bytes (modes 3 and 4) if
/// `carry` allows it. Falls back to storing when coding would not save space.
pub fn encode_chunk(src: &[u8], shape: Option<RowShape>, carry: bool, kernels: &Kernels, out: &mut Vec<u8>) {
    SCRATCH.with(|s| encode_with(src, shape, carry, &mut s.borrow_mut(), kernels, out))
}

/// Lanes for a chunk of `n` values: carrying lanes where `carry` allows them
/// and the raw fields are long enough (see [`lane_starts`]), else as many as without.
fn lanes_for(n: usize, carry: bool) -> usize {
    let carrying = rans::lanes_for_carrying(n);
    if carry && raw_len(n) >= rans::CARRY_BYTES * carrying {
        carrying
    } else {
        rans::lanes_for(n)
    }
}

/// The lanes' start states and the raw bytes the payload stores: where `carry`
/// allows it and the raw fields hold `CARRY_BYTES` a lane, the lanes carry the
/// last ones (modes 3 and 4), else they start at `RANS_L` and every byte is stored.
fn lane_starts(raw: &[u8], lanes: usize, carry: bool) -> (Vec<u32>, &[u8], bool) {
    match raw.len().checked_sub(rans::CARRY_BYTES * lanes).filter(|_| carry) {
        Some(kept) => (rans::carry_states(&raw[kept..], lanes), &raw[..kept], true),
        None => (vec![rans::RANS_L; lanes], raw, false),
    }
}

/// The escape list: every position whose value is outside the alphabet.
fn escape_list(src: &[u8], map: &[u8; NUM_VALUES], esc: u8) -> (Vec<u8>, u32) {
    let mut escapes = Vec::new();
    let mut count = 0u32;
    let mut prev = 0usize;
    for i in 0..src.len() / 2 {
        let v = value_of(word(src, i));
        if map[usize::from(v)] == esc {
            put_varint(&mut escapes, (i - prev) as u64);
            put_u16(&mut escapes, v);
            prev = i + 1;
            count += 1;
        }
    }
    (escapes, count)
}

fn encode_with(src: &[u8], shape: Option<RowShape>, carry: bool, scratch: &mut Scratch, kernels: &Kernels, out: &mut Vec<u8>) {
    debug_assert!(src.len().is_multiple_of(2) && !src.is_empty());
    let n = src.len() / 2;
    // The pass that reads the chunk first also packs its raw fields: with the
    // value counts for one table, or with block sums for ranking rows.
    let raw = &mut scratch.raw;
    // Grown, never shrunk: the scan writes every byte of the packed string.
    if raw.len() < raw_len(n) + RAW_SLACK {
        raw.resize(raw_len(n) + RAW_SLACK, 0);
    }
    let mut hist = [0u32; NUM_VALUES];
    let lanes = lanes_for(n, carry);
    // Rows may take fewer lanes than one table would (see `lanes_within`).
    let ranked = shape.filter(|s| model::worth_ranking(*s, n)).and_then(|s| Some((s, rans::lanes_within(lanes, |l| s.fits(l))?)));
    let Some((shape, row_lanes)) = ranked else {
        kernels.bf16_scan(src, &mut hist, raw);
        return encode_one_table(src, &raw[..raw_len(n)], &hist, (lanes, carry), (&mut scratch.words, &mut scratch.tables), kernels, out);
    };
    // Rows are ranked before any value is counted, so the one counting pass
    // gives each class's histogram (and their sum, mode 1's).
    scratch.sums.resize(n.div_ceil(SUM_BLOCK), 0);
    kernels.bf16_pack_sums(src, raw, &mut scratch.sums);
    let band = model::rank_rows(&scratch.sums, n, shape);
    let counts = scratch.band_counts.get_or_insert_with(|| Box::new([NO_COUNTS; BANDS]));
    let band_hists = model::count_bands(src, shape, &band, counts);
    let (row_class, class_hists) = split_bands(&band, &band_hists);
    for (h, (&a, &b)) in hist.iter_mut().zip(class_hists[0].iter().zip(&class_hists[1])) {
        *h = a + b;
    }
    let raw = &scratch.raw[..raw_len(n)];
    if let Some(model) = model::RowModel::choose(shape, row_class, &class_hists, &hist) {
        if encode_rows(src, raw, &model, value_window(&hist), (row_lanes, carry), (&mut scratch.words, &mut scratch.tables), kernels, out) {
            return;
        }
    }
    encode_one_table(src, raw, &hist, (lanes, carry), (&mut scratch.words, &mut scratch.tables), kernels, out);
}

/// Appends a mode-1 or 3 payload (one table for the chunk, histogram `hist`), or a
/// stored one when coding would not save space.
fn encode_one_table(
    src: &[u8],
    raw: &[u8],
    hist: &[u32; NUM_VALUES],
    (lanes, carry): (usize, bool),
    (words, tables): (&mut Vec<u16>, &mut Vec<Box<EncTable<BF16_VALUES>>>),
    kernels: &Kernels,
    out: &mut Vec<u8>,
) {
    let alphabet = Alphabet::from_histogram(hist);
    let map: [u8; NUM_VALUES] = alphabet.symbol_map(NUM_VALUES).try_into().expect("one entry per value");
    let (escapes, esc_count) = match alphabet.escape_symbol() {
        Some(esc) => escape_list(src, &map, esc),
        None => (Vec::new(), 0),
    };

    // The values are coded straight from the words, through a value-indexed table.
    let table = &mut enc_tables(tables, 1)[0];
    table.fill_from_map(&EncTable::new(&alphabet.freqs), &map);
    let window = ValueWindow::new(table, value_window(hist));
    let (starts, raw, carrying) = lane_starts(raw, lanes, carry);
    let (states, start) = rans::encode::encode_bf16_values(src, &starts, table, words, |s, l, t, x, b, p| kernels.bf16_values_encode(s, l, t, &window, x, b, p));
    let words = &words[start..];
    let table = alphabet.write(VALUE_BITS);
    let total = RANS_HEADER_SIZE + table.len() + escapes.len() + 4 * lanes + 2 * words.len() + raw.len();
    if total > src.len() {
        out.push(MODE_STORED);
        out.extend_from_slice(src);
        return;
    }
    let start = out.len();
    out.reserve(total);
    out.push(if carrying { MODE_RANS_CARRYING } else { MODE_RANS });
    out.push(lanes.trailing_zeros() as u8);
    put_u16(out, table.len() as u16);
    put_u32(out, words.len() as u32);
    put_u32(out, esc_count);
    put_u32(out, escapes.len() as u32);
    out.extend_from_slice(&table);
    put_tail(out, &escapes, &states, words, raw);
    debug_assert_eq!(out.len() - start, total);
}

/// The part every rANS payload ends with: escape list, states, words, raw fields.
fn put_tail(out: &mut Vec<u8>, escapes: &[u8], states: &[u32], words: &[u16], raw: &[u8]) {
    out.extend_from_slice(escapes);
    for s in states {
        put_u32(out, *s);
    }
    put_u16s(out, words);
    out.extend_from_slice(raw);
}

/// Appends a mode-2 or 4 payload (row classes, a table each) for `model`;
/// returns false, appending nothing, when it would not be smaller than storing.
#[allow(clippy::too_many_arguments)]
fn encode_rows(
    src: &[u8],
    raw: &[u8],
    model: &super::model::RowModel,
    window: u16,
    (lanes, carry): (usize, bool),
    (words, tables): (&mut Vec<u16>, &mut Vec<Box<EncTable<BF16_VALUES>>>),
    kernels: &Kernels,
    out: &mut Vec<u8>,
) -> bool {
    let n = src.len() / 2;
    let shape = model.shape;
    let maps: Vec<[u8; NUM_VALUES]> = model.alphabets.iter().map(|a| a.symbol_map(NUM_VALUES).try_into().expect("one entry per value")).collect();
    // Escapes: positions whose value is outside their row's table.
    let mut escapes = Vec::new();
    let mut esc_count = 0u32;
    let mut prev = 0usize;
    for (r, &c) in model.row_class.iter().enumerate() {
        let Some(esc) = model.alphabets[usize::from(c)].escape_symbol() else { continue };
        let map = &maps[usize::from(c)];
        let (a, b) = shape.row_span(r, n);
        for i in a..b {
            let v = value_of(word(src, i));
            if map[usize::from(v)] == esc {
                put_varint(&mut escapes, (i - prev) as u64);
                put_u16(&mut escapes, v);
                prev = i + 1;
                esc_count += 1;
            }
        }
    }
    let tables = enc_tables(tables, maps.len());
    for ((t, a), map) in tables.iter_mut().zip(&model.alphabets).zip(&maps) {
        t.fill_from_map(&EncTable::new(&a.freqs), map);
    }
    let tables: Vec<&EncTable<BF16_VALUES>> = tables.iter().map(|t| &**t).collect();
    // Each class's window, made once: the runs of steps that share a table are short.
    let windows: Vec<ValueWindow> = tables.iter().map(|t| ValueWindow::new(t, window)).collect();
    let mut step_class = Vec::new();
    shape.step_classes(n, lanes, &model.row_class, &mut step_class);
    let (starts, raw, carrying) = lane_starts(raw, lanes, carry);
    let (states, start) = rans::encode::encode_bf16_steps(src, &starts, &tables, &step_class, words, |s, l, c, x, b, p| kernels.bf16_values_encode(s, l, tables[c], &windows[c], x, b, p));
    let words = &words[start..];
    let alphabets: Vec<Vec<u8>> = model.alphabets.iter().map(|a| a.write(VALUE_BITS)).collect();
    let header = rows::Header {
        carrying,
        lanes_log2: lanes.trailing_zeros() as u8,
        shape,
        n_words: words.len(),
        esc_count: esc_count as usize,
        esc_len: escapes.len(),
        table_lens: alphabets.iter().map(Vec::len).collect(),
    };
    let mut classes = Vec::new();
    pack_classes(&model.row_class, class_bits(model.alphabets.len()), &mut classes);
    let total = header.size() + classes.len() + alphabets.iter().map(Vec::len).sum::<usize>() + escapes.len() + 4 * lanes + 2 * words.len() + raw.len();
    if total > src.len() {
        return false;
    }
    let start = out.len();
    out.reserve(total);
    header.write(out);
    out.extend_from_slice(&classes);
    for a in &alphabets {
        out.extend_from_slice(a);
    }
    put_tail(out, &escapes, &states, words, raw);
    debug_assert_eq!(out.len() - start, total);
    true
}
