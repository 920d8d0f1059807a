//! Per-chunk lookup tables, in the layouts each kernel family reads. Codecs ask
//! the dispatcher ([`super::Kernels`]) to load them and never name a layout.

use super::buckets::Buckets;
use super::byte_buckets::ByteBuckets;
use super::{portable, Kernels};
use crate::format::bf16_split::VALUE_SHIFT;
use crate::rans::alphabet::Alphabet;
use crate::rans::table::{self, DecodeTable};
use crate::rans::{MAX_SYMBOLS, PROB_SCALE};

portable! {
/// The canonical slot table for `freqs`, symbol `s` carrying `ids[s]`, compiled
/// for the kernels' ISA (block stores of 16 entries).
fn fill_canonical(freqs: &[u32], ids: &[u8], table: &mut DecodeTable) {
    table::fill_blocks(freqs, table, |s, f| table::canonical_base(f, ids[s]));
}
}

portable! {
/// The AVX2-layout slot table for `freqs`, symbol `s` carrying `ids[s]`.
fn fill_avx2(freqs: &[u32], ids: &[u8], table: &mut DecodeTable) {
    table::fill_blocks(freqs, table, |s, f| table::avx2_base(f, ids[s]));
}
}

/// bf16 chunk tables.
pub(crate) struct Bf16Tables {
    pub dec: DecodeTable,
    /// Symbol -> value bits already shifted into place (escape: 0, patched later).
    pub value16: [u16; MAX_SYMBOLS],
    /// Value bits per probability slot, for AVX2 on wide alphabets: gathered with
    /// the same index as the slot entry, so the two gathers do not wait on each
    /// other. Filled only for tables that are not `dense`.
    pub value_by_slot: [u32; PROB_SCALE as usize],
    /// The AVX2 slot table (`table::build_avx2` layout), where the id is
    /// `value - value_base` when the alphabet's values span at most 256 (the usual
    /// case: one gather yields everything) and 0 otherwise (the value comes from
    /// `value_by_slot`). Frequency in the top bits costs one shift to extract.
    pub dec_by_value: DecodeTable,
    pub value_base: u16,
    pub dense: bool,
    /// Low and high bytes, for AVX-512 VBMI byte permutes.
    pub value_lo: [u8; MAX_SYMBOLS],
    pub value_hi: [u8; MAX_SYMBOLS],
    pub n_symbols: usize,
    /// For the permute kernels; built only for them (`usable` false otherwise).
    pub buckets: Buckets,
}

impl Bf16Tables {
    pub fn new_boxed() -> Box<Bf16Tables> {
        Box::new(Bf16Tables {
            dec: [0; PROB_SCALE as usize],
            value16: [0; MAX_SYMBOLS],
            value_by_slot: [0; PROB_SCALE as usize],
            dec_by_value: [0; PROB_SCALE as usize],
            value_base: 0,
            dense: false,
            value_lo: [0; MAX_SYMBOLS],
            value_hi: [0; MAX_SYMBOLS],
            n_symbols: 0,
            buckets: Buckets::new(),
        })
    }

    /// Builds the canonical table and, with `by_value`, the AVX2 layouts, with
    /// `buckets` the permute kernels' tables.
    pub(super) fn load(&mut self, k: &Kernels, a: &Alphabet, by_value: bool, buckets: bool) {
        self.buckets.usable = false;
        if buckets {
            self.buckets.load(&a.freqs);
        }
        fill_canonical(k, &a.freqs, &IDENTITY, &mut self.dec);
        self.value16 = [0; MAX_SYMBOLS];
        for (i, &v) in a.values.iter().enumerate() {
            self.value16[i] = v << VALUE_SHIFT;
        }
        for i in 0..MAX_SYMBOLS {
            let v = self.value16[i];
            self.value_lo[i] = v as u8;
            self.value_hi[i] = (v >> 8) as u8;
        }
        self.n_symbols = a.n_symbols();
        self.value_base = a.values[0];
        self.dense = by_value && a.values[a.values.len() - 1] - a.values[0] < 256;
        if by_value {
            // The escape symbol maps to the base value; it is patched afterwards.
            let (values, base, dense) = (&self.value16, self.value_base, self.dense);
            let offset = |s: usize| if dense { (values[s] >> VALUE_SHIFT).saturating_sub(base) as u8 } else { 0 };
            let ids: [u8; MAX_SYMBOLS] = core::array::from_fn(|s| if s < a.freqs.len() { offset(s) } else { 0 });
            fill_avx2(k, &a.freqs, &ids, &mut self.dec_by_value);
            // Only the kernel's sparse path (values spanning more than 256) reads it.
            if !self.dense {
                for (slot, &e) in self.dec.iter().enumerate() {
                    self.value_by_slot[slot] = u32::from(self.value16[(e >> 24) as usize]);
                }
            }
        }
    }
}

/// The tables a stream decodes with: `tables[0]` for every step, or, with row
/// classes, `tables[class[step]]` for step `step` (a step never crosses a row,
/// so one class serves all its lanes).
#[derive(Clone, Copy)]
pub(crate) struct StepModel<'a, T: Copy> {
    pub tables: &'a [T],
    /// Empty (one table) or one class per step, each `< tables.len()`.
    pub class: &'a [u8],
}

/// A bf16 stream's tables.
pub(crate) type Bf16Model<'a> = StepModel<'a, &'a Bf16Tables>;
/// A byte stream's tables.
pub(crate) type BytesModel<'a> = StepModel<'a, TableRef<'a>>;

impl<'a, T: Copy> StepModel<'a, T> {
    /// One table for every step.
    pub fn single(t: &'a T) -> Self {
        StepModel { tables: core::slice::from_ref(t), class: &[] }
    }

    /// The table of step `step`.
    #[inline(always)]
    pub fn at(&self, step: usize) -> T {
        match self.class.get(step) {
            Some(&c) => self.tables[usize::from(c)],
            None => self.tables[0],
        }
    }

    /// The table of step `step` and the end of its run: the first step at or
    /// below `full` with another table (`step < full`).
    pub fn run(&self, step: usize, full: usize) -> (T, usize) {
        if self.class.is_empty() {
            return (self.tables[0], full);
        }
        let c = self.class[step];
        let end = self.class[step + 1..full].iter().position(|&d| d != c).map_or(full, |i| step + 1 + i);
        (self.tables[usize::from(c)], end)
    }

    /// Whether the model covers `steps` steps (partial last step included), as
    /// the kernels' unchecked class reads need.
    pub fn covers(&self, steps: usize) -> bool {
        !self.tables.is_empty()
            && (self.class.is_empty() || (self.class.len() >= steps && self.class.iter().copied().max().is_none_or(|c| usize::from(c) < self.tables.len())))
    }
}

/// Symbol ids that are the symbols' indices.
static IDENTITY: [u8; MAX_SYMBOLS] = {
    let mut a = [0u8; MAX_SYMBOLS];
    let mut i = 0;
    while i < MAX_SYMBOLS {
        a[i] = i as u8;
        i += 1;
    }
    a
};

/// Slot tables for byte streams: the id in each entry is the byte value itself.
pub(crate) struct ByteTables {
    /// The canonical layout, where `canonical` says it was built.
    pub dec: DecodeTable,
    /// Whether `dec` holds this alphabet's table: a stream the permute kernels
    /// decode reads only the buckets (the scalar oracle finishes it on them), and
    /// 16 KiB of table per stream is a few per cent of a GGUF's decode time.
    pub canonical: bool,
    /// `table::build_avx2` layout, for the AVX2 kernels.
    pub dec_avx2: DecodeTable,
    /// For the permute kernels (built only for them).
    pub buckets: ByteBuckets,
}

impl ByteTables {
    pub fn new_boxed() -> Box<ByteTables> {
        Box::new(ByteTables { dec: [0; PROB_SCALE as usize], canonical: false, dec_avx2: [0; PROB_SCALE as usize], buckets: ByteBuckets::new() })
    }

    /// Builds, for `alphabet` (its symbols stand for their byte values), with
    /// `avx2` the AVX2 layout, with `buckets` the permute kernels' one, with
    /// `canonical` the canonical one (which the scalar oracle reads where there
    /// are no buckets).
    pub(super) fn load(&mut self, k: &Kernels, alphabet: &Alphabet, avx2: bool, buckets: bool, canonical: bool) {
        debug_assert!(buckets || canonical, "the oracle needs one of the two");
        let mut ids = [0u8; MAX_SYMBOLS];
        for (d, &v) in ids.iter_mut().zip(&alphabet.values) {
            *d = v as u8;
        }
        if buckets {
            self.buckets.load(&alphabet.freqs, |s| ids[s]);
        }
        if avx2 {
            fill_avx2(k, &alphabet.freqs, &ids, &mut self.dec_avx2);
        }
        self.canonical = canonical;
        if canonical {
            fill_canonical(k, &alphabet.freqs, &ids, &mut self.dec);
        }
    }

    /// Builds every layout: for tables shared by all ISAs (built-in profiles).
    pub fn load_all(&mut self, alphabet: &Alphabet) {
        let id = |s: usize| alphabet.values[s] as u8;
        table::build_avx2(&alphabet.freqs, id, &mut self.dec_avx2);
        table::build(&alphabet.freqs, id, &mut self.dec);
        self.canonical = true;
        self.buckets.load(&alphabet.freqs, id);
    }

    pub fn view(&self) -> TableRef<'_> {
        TableRef { dec: &self.dec, canonical: self.canonical, dec_avx2: &self.dec_avx2, buckets: &self.buckets }
    }
}

impl super::Kernels {
    /// Fills `table` (canonical layout, the layout every ISA's Q4_K field
    /// kernel reads) for `alphabet`, whose symbols stand for their byte values
    /// (an escape symbol for 0).
    pub(crate) fn load_canonical_bytes(&self, alphabet: &Alphabet, table: &mut DecodeTable) {
        let mut ids = [0u8; MAX_SYMBOLS];
        for (d, &v) in ids.iter_mut().zip(&alphabet.values) {
            *d = v as u8;
        }
        fill_canonical(self, &alphabet.freqs, &ids, table);
    }
}

/// The tables a byte-stream kernel reads (owned per call, or a profile's cached ones).
#[derive(Clone, Copy)]
pub(crate) struct TableRef<'a> {
    pub dec: &'a DecodeTable,
    /// Whether `dec` was built (else the scalar oracle steps on `buckets`).
    pub canonical: bool,
    pub dec_avx2: &'a DecodeTable,
    pub buckets: &'a ByteBuckets,
}
