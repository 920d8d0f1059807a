//! Kernels, private to the crate. One table of entry points per ISA, reachable
//! only through [`Kernels::get`], which returns nothing when the CPU lacks the
//! ISA — so holding a `&Kernels` proves the CPU can run its code. Table entries
//! are `unsafe fn`s; the safe methods here are the only callers, and they check
//! the bounds each kernel's `# Safety` contract relies on before calling it.
//!
//! * `scalar.rs` is the oracle: every SIMD kernel produces the same bytes.
//! * `x86/` holds the hand-written AVX2 and AVX-512 kernels, one file per ISA
//!   and job; [`portable!`] compiles the portable loops (histograms, splits,
//!   gathers) once per ISA, dispatched by the same table.
//! * A SIMD decode kernel advances a stream as far as it safely can (whole steps,
//!   with input left for its wide loads); the scalar oracle finishes and checks.
//!
//! Every call is counted per ISA ([`calls`]), so tests can show that a forced
//! ISA (`LLMC_ISA`, `llmc_set_isa`) governs every SIMD path, encode and decode.

mod buckets;
mod byte_buckets;
mod encode;
mod q4k_ctx;
mod scalar;
mod state;
mod tables;
#[cfg(target_arch = "x86_64")]
mod x86;

#[cfg(test)]
pub(crate) use byte_buckets::ValueMap;
pub(crate) use encode::{count_values as count_bf16_values, value_window, PartialCounts, ValueWindow, NO_COUNTS, RAW_SLACK, SUM_BLOCK};
pub(crate) use q4k_ctx::{CtxKind, CtxModel, Pack as CtxPack, CONTEXTS as CTX_CONTEXTS};
pub(crate) use scalar::Q4kParts;
pub(crate) use state::{Bf16Stream, ByteStream, Dest};
pub(crate) use tables::{Bf16Model, Bf16Tables, ByteTables, BytesModel, TableRef};

use crate::error::{Error, Result};
use crate::format::bf16_split::raw_len;
use crate::format::quant_fold::FOLDED_BYTES;
use crate::isa::{self, Isa};
use crate::rans::alphabet::Alphabet;
use crate::rans::encode::{encode_steps_with, EncTable, EncTables};
use crate::rans::LANE_CHOICES;
use std::sync::atomic::{AtomicU64, Ordering};

/// Advances a bf16 stream by whole steps.
///
/// # Safety
/// The CPU supports the kernel's ISA; `s.lanes` is one of `LANE_CHOICES`;
/// `s.out.len() == 2 * s.n`; `s.raw.len() <= raw_len(s.n)`;
/// `s.word_pos <= s.n_words()`; `s.step <= s.full_steps()`;
/// `m.covers(s.n.div_ceil(s.lanes))`. A kernel decodes only steps whose raw
/// fields `s.raw` holds whole.
type Bf16Decode = unsafe fn(&Bf16Model<'_>, &mut Bf16Stream<'_>);

/// Advances a byte stream by whole steps.
///
/// # Safety
/// The CPU supports the kernel's ISA; `s.lanes` is one of `LANE_CHOICES`;
/// `s.dest.holds(s.n)`; `s.word_pos <= s.n_words()`; `s.step <= s.full_steps()`;
/// `m.covers(s.full_steps())`.
type BytesDecode = unsafe fn(&BytesModel<'_>, &mut ByteStream<'_>);

/// Encodes whole steps (`syms.len()` a multiple of `lanes`), last first, below
/// `pos`; returns the new `pos`.
///
/// # Safety
/// The CPU supports the kernel's ISA; `lanes % 16 == 0`; `syms.len() % lanes == 0`;
/// `states.len() >= lanes`; `syms.len() <= pos <= buf.len()`.
type RansEncode = unsafe fn(&[u8], usize, &EncTable, &mut [u32], &mut [u16], usize) -> usize;

/// Encodes whole steps (`idx.len()` a multiple of `lanes`), last first, below
/// `pos`, each symbol given as its index into `packed` (a table per
/// symbol, [`EncTables`]); returns the new `pos`.
///
/// # Safety
/// The CPU supports the kernel's ISA; `lanes % 16 == 0`; `idx.len() % lanes == 0`;
/// every index is below `packed.len()`; `states.len() >= lanes`;
/// `idx.len() <= pos <= buf.len()`.
type RansEncodeIndexed = unsafe fn(&[u32], usize, &[u32], &mut [u32], &mut [u16], usize) -> usize;

/// Builds `n` Q4_K blocks into `out` from decoded parts.
///
/// # Safety
/// The CPU supports the kernel's ISA; `parts.fit(n, out)`.
type Q4kAssemble = unsafe fn(&Q4kParts<'_>, usize, &mut [u8]);

/// Puts `qh` (4 bytes a block) at `at` of every block of `block` bytes in
/// `blocks` and folds the block's `qs` (the 16 bytes after it) by it
/// (`format::quant_fold::fold`): unfolds them where they were folded by the
/// same `qh`.
///
/// # Safety
/// The CPU supports the kernel's ISA; `blocks.len()` is a multiple of `block`,
/// `at + FOLDED_BYTES <= block` and `qh` holds 4 bytes for each block.
type FoldQuants5 = unsafe fn(&mut [u8], usize, usize, &[u8]);

/// Advances one segment of a Q4_K field stream (`q4k_ctx.rs`) by whole steps.
///
/// # Safety
/// The CPU supports the kernel's ISA; `s.lanes` is one of `LANE_CHOICES`;
/// `s.dest` is contiguous and `s.dest.out.len() >= s.n`; `m.covers(s.n)`;
/// `s.word_pos <= s.n_words()`; `s.step <= s.full_steps()`. (Memory safety needs
/// no more; agreeing with the scalar oracle also needs the rows' values below
/// 64, which the decoder's alphabets guarantee.)
type CtxDecode = unsafe fn(&mut CtxModel<'_>, &mut ByteStream<'_>);

/// One ISA's kernels. Fields are private: only the checked methods call them.
pub(crate) struct Kernels {
    isa: Isa,
    bf16_decode: Bf16Decode,
    bytes_decode: BytesDecode,
    rans_encode: RansEncode,
    /// `None`: the scalar loop (`encode_steps_with`).
    rans_encode_indexed: Option<RansEncodeIndexed>,
    q4k_assemble: Q4kAssemble,
    ctx_decode: CtxDecode,
    fold_quants5: FoldQuants5,
    /// Whether the decode kernels read the AVX2-layout slot tables.
    avx2_tables: bool,
    /// Whether the bf16 and byte kernels read slot buckets (`buckets.rs`, `byte_buckets.rs`).
    bucket_tables: bool,
    /// Whether the AVX2 kernels look tables up with scalar loads, not gathers
    /// (`x86::shared::lookup8`).
    lookup_loads: bool,
}

static SCALAR: Kernels = Kernels {
    isa: Isa::Scalar,
    bf16_decode: scalar::bf16_none,
    bytes_decode: scalar::bytes_none,
    rans_encode: scalar::rans_encode,
    rans_encode_indexed: None,
    q4k_assemble: scalar::q4k_assemble,
    ctx_decode: q4k_ctx::ctx_none,
    fold_quants5: scalar::fold_quants5,
    avx2_tables: false,
    bucket_tables: false,
    lookup_loads: false,
};

#[cfg(target_arch = "x86_64")]
static AVX2: Kernels = Kernels {
    isa: Isa::Avx2,
    bf16_decode: x86::avx2::bf16_decode,
    bytes_decode: x86::avx2::bytes_decode,
    rans_encode: x86::encode_avx2::rans_encode,
    rans_encode_indexed: Some(x86::encode_avx2::rans_encode_indexed),
    q4k_assemble: x86::q4k_avx2::q4k_assemble,
    ctx_decode: x86::q4k_ctx_avx2::ctx_decode,
    fold_quants5: x86::quant_fold::fold_quants5_avx2,
    avx2_tables: true,
    bucket_tables: false,
    lookup_loads: false,
};

/// `AVX2` with the decoders' and encoders' table lookups as scalar loads, for
/// CPUs whose gathers are slow (AMD; `isa::slow_gathers`). Same bytes.
#[cfg(target_arch = "x86_64")]
static AVX2_LOADS: Kernels = Kernels {
    bf16_decode: x86::avx2::bf16_decode_loads,
    bytes_decode: x86::avx2::bytes_decode_loads,
    ctx_decode: x86::q4k_ctx_avx2::ctx_decode_loads,
    rans_encode: x86::encode_avx2::rans_encode_loads,
    rans_encode_indexed: Some(x86::encode_avx2::rans_encode_indexed_loads),
    lookup_loads: true,
    ..AVX2
};

#[cfg(target_arch = "x86_64")]
static AVX512: Kernels = Kernels {
    isa: Isa::Avx512,
    bf16_decode: x86::avx512::bf16_decode,
    bytes_decode: x86::avx512::bytes_decode,
    rans_encode: x86::avx512::rans_encode,
    rans_encode_indexed: Some(x86::avx512::rans_encode_indexed),
    q4k_assemble: x86::q4k_avx512::q4k_assemble,
    ctx_decode: x86::q4k_ctx_avx512::ctx_decode,
    fold_quants5: x86::quant_fold::fold_quants5_avx512,
    avx2_tables: false,
    bucket_tables: false,
    lookup_loads: false,
};

/// `AVX512` with the bf16 and byte decoders that look symbols up with byte
/// permutes (and need BITALG's byte popcount).
#[cfg(target_arch = "x86_64")]
static AVX512_PERMUTE: Kernels = Kernels {
    isa: Isa::Avx512Permute,
    bf16_decode: x86::avx512::bf16_decode_permute,
    bytes_decode: x86::avx512::bytes_decode_permute,
    bucket_tables: true,
    ..AVX512
};

/// Calls per ISA (indexed by the ISA's number), for tests and diagnostics.
static CALLS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

/// How many kernel calls (decode, encode, portable loops) ran on `isa` in this process.
pub(crate) fn calls(isa: Isa) -> u64 {
    CALLS[isa as usize].load(Ordering::Relaxed)
}

impl Kernels {
    /// The table for `isa`, or `None` if this CPU cannot run it.
    pub(crate) fn get(isa: Isa) -> Option<&'static Kernels> {
        if !isa.is_supported() {
            return None;
        }
        match isa {
            Isa::Scalar => Some(&SCALAR),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Some(if crate::isa::slow_gathers() { &AVX2_LOADS } else { &AVX2 }),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Some(&AVX512),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Permute => Some(&AVX512_PERMUTE),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Every table this CPU can run, both AVX2 lookups included (`get` gives
    /// one of them per CPU): for tests that hold each to the scalar oracle.
    #[cfg(test)]
    pub(crate) fn all_variants() -> Vec<&'static Kernels> {
        let mut all: Vec<&'static Kernels> = crate::isa::supported().into_iter().filter_map(Kernels::get).collect();
        #[cfg(target_arch = "x86_64")]
        if Isa::Avx2.is_supported() {
            all.retain(|k| k.isa != Isa::Avx2);
            all.extend([&AVX2, &AVX2_LOADS]);
        }
        all
    }

    /// The table for a per-call request (`None` = the process-wide setting).
    pub(crate) fn resolve(request: Option<Isa>) -> Result<&'static Kernels> {
        Kernels::get(isa::resolve(request)?).ok_or(Error::IsaUnsupported)
    }

    pub(crate) fn isa(&self) -> Isa {
        self.isa
    }

    /// Whether this is one of the AVX-512 families (which share every kernel
    /// but the bf16 decoder).
    pub(crate) fn avx512(&self) -> bool {
        matches!(self.isa, Isa::Avx512 | Isa::Avx512Permute)
    }

    /// Records one call on this table's ISA.
    #[inline]
    pub(crate) fn record(&self) {
        CALLS[self.isa as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Loads `t` for `alphabet` in the layouts this ISA's bf16 kernel reads.
    pub(crate) fn load_bf16_tables(&self, t: &mut Bf16Tables, alphabet: &Alphabet) {
        t.load(self, alphabet, self.avx2_tables, self.bucket_tables);
    }

    /// Loads `t` for `alphabet` in the layouts this ISA's byte kernel reads for
    /// a stream of `lanes` lanes.
    pub(crate) fn load_byte_tables(&self, t: &mut ByteTables, alphabet: &Alphabet, lanes: usize) {
        // The permute kernels find 64- and 128-lane streams' symbols in the
        // buckets only (32 lanes gather from the canonical table).
        let canonical = !(self.bucket_tables && (lanes == 64 || lanes == 128));
        t.load(self, alphabet, self.avx2_tables, self.bucket_tables, canonical);
    }

    /// Decodes every remaining value of `s` with the tables of `m` and checks the
    /// final states.
    pub(crate) fn decode_bf16(&self, m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) -> Result<()> {
        self.record();
        let fits = LANE_CHOICES.contains(&s.lanes)
            && s.n.checked_mul(2) == Some(s.out.len())
            && s.raw.len() <= raw_len(s.n)
            && s.word_pos <= s.n_words()
            && s.step <= s.full_steps();
        // A model that does not cover the stream is a caller's bug, not corrupt input.
        assert!(m.covers(s.n.div_ceil(s.lanes.max(1))), "bf16 model does not cover the stream");
        debug_assert!(fits, "bf16 stream violates the kernel contract");
        debug_assert!(s.carrying || s.raw.len() == raw_len(s.n), "only carrying lanes leave raw bytes out");
        if fits {
            // SAFETY: `self` exists only for an ISA this CPU runs (`Kernels::get`),
            // and `fits` plus the assertion are the rest of the `Bf16Decode` contract.
            unsafe { (self.bf16_decode)(m, s) };
            if s.carrying {
                self.bf16_past_the_stored_raw(m, s);
            }
        }
        scalar::finish_bf16(m, s)
    }

    /// Carrying lanes (`s.carrying`) leave the last few steps without their raw
    /// bytes, where a kernel stops: runs those steps on a zero-padded copy of the
    /// raw bytes left (the caller ORs in the carried ones), so that the scalar
    /// oracle is left only what it would be left anyway.
    fn bf16_past_the_stored_raw(&self, m: &Bf16Model<'_>, s: &mut Bf16Stream<'_>) {
        const PADDED: usize = 2 * crate::rans::CARRY_BYTES * crate::rans::MAX_LANES;
        let (step, per_step) = (s.step, s.raw_per_step());
        let from = step * per_step;
        let left = s.raw.len().saturating_sub(from);
        // Only where the remaining steps (the partial last one included) fit
        // the copy, and for a kernel (the scalar ISA's is the oracle's loop).
        // A kernel stopped by the words stops again at once; AVX2's, which
        // needs a few bytes past a step, stops one step before the raw bytes'
        // end, so `left` may be a whole step.
        if (s.n.div_ceil(s.lanes) - step) * per_step > PADDED || self.isa == Isa::Scalar {
            return;
        }
        let mut raw = [0u8; PADDED];
        raw[..left].copy_from_slice(&s.raw[from..]);
        let lanes = s.lanes;
        let class = m.class.get(step..).unwrap_or(&[]);
        let model = Bf16Model { tables: m.tables, class };
        let mut rest = Bf16Stream {
            lanes,
            states: s.states,
            words: s.words,
            word_pos: s.word_pos,
            raw: &raw[..raw_len(s.n - step * lanes)],
            out: &mut s.out[2 * step * lanes..],
            n: s.n - step * lanes,
            step: 0,
            carrying: true,
        };
        // SAFETY: as in `decode_bf16`: the same stream from step `step` on (a step
        // starts on a whole raw byte: lanes are multiples of 32, 24 bytes a 32 values),
        // whose raw bytes are all there (`raw_len` of its values), and the model's
        // classes from that step on.
        unsafe { (self.bf16_decode)(&model, &mut rest) };
        let (states, word_pos, done) = (rest.states, rest.word_pos, rest.step);
        s.states = states;
        s.word_pos = word_pos;
        s.step = step + done;
    }

    /// Decodes every remaining symbol of `s` with the tables of `m` and checks
    /// the final states.
    pub(crate) fn decode_bytes(&self, m: &BytesModel<'_>, s: &mut ByteStream<'_>) -> Result<()> {
        self.advance_bytes(m, s, usize::MAX);
        scalar::finish_bytes(m, s)
    }

    /// Advances `s` by whole SIMD steps, no further than step `until`, and leaves
    /// the rest (and the final check) to [`Kernels::decode_bytes`], which must
    /// follow. Steps decode the same whatever `until` is, so a stream advanced in
    /// pieces gives the bytes of one advanced at once. The scalar table advances
    /// nothing; the AVX2 kernel stops where fewer words than it reads per step remain.
    pub(crate) fn advance_bytes(&self, m: &BytesModel<'_>, s: &mut ByteStream<'_>, until: usize) {
        self.record();
        let n = s.n;
        // A model that does not cover the stream is a caller's bug, not corrupt input.
        assert!(m.covers(n.div_ceil(s.lanes.max(1))), "byte model does not cover the stream");
        // The kernels run while `step < full_steps() = n / lanes`: a shorter `n`
        // stops them at `until` (lanes > 0 is part of `fits`).
        s.n = n.min(until.saturating_mul(s.lanes));
        let fits = LANE_CHOICES.contains(&s.lanes) && s.dest.holds(s.n) && s.word_pos <= s.n_words() && s.step <= s.full_steps();
        debug_assert!(fits, "byte stream violates the kernel contract");
        if fits {
            // SAFETY: the CPU runs this ISA (`Kernels::get`) and `fits` plus the
            // assertion are the rest of the `BytesDecode` contract for the
            // shortened stream.
            unsafe { (self.bytes_decode)(m, s) };
        }
        s.n = n;
    }

    /// Encodes whole steps below `pos` (see [`RansEncode`]); returns the new `pos`.
    pub(crate) fn rans_encode(&self, syms: &[u8], lanes: usize, t: &EncTable, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
        self.record();
        let fits = lanes > 0 && lanes.is_multiple_of(16) && syms.len().is_multiple_of(lanes) && states.len() >= lanes && syms.len() <= pos && pos <= buf.len();
        assert!(fits, "rANS encoder called outside its contract");
        // SAFETY: the CPU runs this ISA (`Kernels::get`); the assertion is the rest
        // of the `RansEncode` contract.
        unsafe { (self.rans_encode)(syms, lanes, t, states, buf, pos) }
    }

    /// Encodes every step of `idx.len()` symbols (the partial last one included),
    /// last first, below `pos`, symbol `i` with entry `idx[i]` of `t`; returns
    /// the new `pos`. The same words on every ISA.
    pub(crate) fn rans_encode_indexed(&self, idx: &[u32], lanes: usize, t: &EncTables, states: &mut [u32], buf: &mut [u16], pos: usize) -> usize {
        self.record();
        let full = idx.len() / lanes.max(1) * lanes;
        // Steps go last first: the partial one, then the whole ones.
        let pos = encode_steps_with(idx.len() - full, lanes, |i| &t.syms[idx[full + i] as usize], states, buf, pos);
        let body = &idx[..full];
        let Some(kernel) = self.rans_encode_indexed else {
            return encode_steps_with(full, lanes, |i| &t.syms[body[i] as usize], states, buf, pos);
        };
        let entries = t.packed.len();
        let fits = lanes > 0 && lanes.is_multiple_of(16) && states.len() >= lanes && full <= pos && pos <= buf.len() && body.iter().all(|&i| (i as usize) < entries);
        assert!(fits, "rANS encoder called outside its contract");
        // SAFETY: the CPU runs this ISA (`Kernels::get`); the assertion is the rest
        // of the `RansEncodeIndexed` contract.
        unsafe { kernel(body, lanes, &t.packed, states, buf, pos) }
    }

    /// Decodes every remaining symbol of segment `s` of a Q4_K field stream with
    /// the tables of `m` (SIMD steps, then the scalar oracle); the last segment
    /// (`last`) ends with the final-state check.
    pub(crate) fn decode_ctx_segment(&self, m: &mut CtxModel<'_>, s: &mut ByteStream<'_>, last: bool) -> Result<()> {
        self.record();
        let fits = LANE_CHOICES.contains(&s.lanes)
            && s.dest.is_contiguous()
            && s.dest.out.len() >= s.n
            && m.covers(s.n)
            && s.word_pos <= s.n_words()
            && s.step <= s.full_steps();
        if !fits {
            return Err(Error::Corrupt);
        }
        // SAFETY: the CPU runs this ISA (`Kernels::get`) and `fits` is the rest
        // of the `CtxDecode` contract.
        unsafe { (self.ctx_decode)(m, s) };
        q4k_ctx::finish(m, s, last)
    }

    /// Puts `qh` (4 bytes a block) at `at` of every block of `blocks` (whole
    /// blocks of `block` bytes) and folds the block's `qs` by it; `Fold::Quants5`.
    pub(crate) fn fold_quants5(&self, blocks: &mut [u8], block: usize, at: usize, qh: &[u8]) {
        self.record();
        let fits = block > 0 && blocks.len().is_multiple_of(block) && at + FOLDED_BYTES <= block && qh.len() >= 4 * (blocks.len() / block);
        assert!(fits, "quant fold called outside its contract");
        // SAFETY: the CPU runs this ISA (`Kernels::get`); the assertion is the rest
        // of the `FoldQuants5` contract.
        unsafe { (self.fold_quants5)(blocks, block, at, qh) }
    }

    /// Assembles `n` Q4_K blocks into `out` (exactly `n` blocks) from `parts`.
    pub(crate) fn q4k_assemble(&self, parts: &Q4kParts<'_>, n: usize, out: &mut [u8]) -> Result<()> {
        self.record();
        if !parts.fit(n, out) {
            return Err(Error::Corrupt);
        }
        // SAFETY: the CPU runs this ISA (`Kernels::get`) and the parts fit.
        unsafe { (self.q4k_assemble)(parts, n, out) };
        Ok(())
    }
}

/// Defines `fn NAME(kernels: &Kernels, ARGS) -> RET` running `BODY` compiled for
/// `kernels`' ISA: the portable loops the compiler vectorises once it knows the
/// target. Dispatch follows the same table as the hand-written kernels, so a
/// forced ISA governs these too.
macro_rules! portable {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name(kernels: &$crate::kernels::Kernels, $($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body

            /// # Safety
            /// The CPU supports AVX2, BMI2 and POPCNT.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,bmi2,popcnt")]
            unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                body($($arg),*)
            }

            /// # Safety
            /// The CPU supports the AVX-512 features `Isa::Avx512` requires.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,avx2,bmi2,popcnt")]
            unsafe fn avx512($($arg: $ty),*) $(-> $ret)? {
                body($($arg),*)
            }

            kernels.record();
            match kernels.isa() {
                // SAFETY: a `Kernels` of this ISA exists only when the CPU runs it.
                #[cfg(target_arch = "x86_64")]
                $crate::isa::Isa::Avx2 => unsafe { avx2($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::isa::Isa::Avx512 | $crate::isa::Isa::Avx512Permute => unsafe { avx512($($arg),*) },
                _ => body($($arg),*),
            }
        }
    };
}
pub(crate) use portable;
