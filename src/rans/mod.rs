//! Interleaved rANS: 32-bit states, 16-bit renormalisation words, 12-bit probabilities.
//!
//! * State `x` lives in `[L, 2^32)` with `L = 2^16`; a decode step consumes at most
//!   one 16-bit word, so SIMD lanes renormalise with one masked expand-load.
//! * Probabilities are quantised to `PROB_BITS = 12`: the decoder resolves a symbol
//!   with one lookup in a 4096-entry table (one gather per 16 lanes with AVX-512).
//!   On our fixtures the quantisation costs 0.004–0.017 bit per bf16 value.
//! * `lanes` states are interleaved (32, 64 or 128, chosen per chunk): value `i`
//!   belongs to lane `i % lanes`; step `t` decodes values `t*lanes ..` in lane
//!   order, and each lane that drops below `L` reads the next word of one shared
//!   word stream. That order is the format, so every decoder reads every encoder.
//! * The encoder starts every lane at `L`; a decoder that ends with any lane not at
//!   `L`, or with words left over, has been fed corrupt data.
//! * Or, where a payload says so, every lane starts at `CARRY_BASE + d`, `d` being
//!   three bytes of the payload's raw data that are then not stored: a decoder gets
//!   them back from its final states ([`carry_states`], [`carried_bytes`]). A
//!   start costs the encoder `log2(x)` bits: `L` 16 carrying nothing, `2^24 + d`
//!   about 24.5 carrying 24, so a lane's overhead falls from about 3 bytes to 1
//!   and small chunks can afford more lanes.

pub mod alphabet;
pub mod encode;
pub mod estimate;
pub mod freq;
pub mod table;

/// Probability precision in bits.
pub const PROB_BITS: u32 = 12;
/// Sum of all symbol frequencies.
pub const PROB_SCALE: u32 = 1 << PROB_BITS;
/// Lower bound of the normalised state interval.
pub const RANS_L: u32 = 1 << 16;
/// Largest alphabet one table can describe (symbol ids are 8 bits in table entries).
pub const MAX_SYMBOLS: usize = 256;
/// Lane counts a chunk may use.
pub const LANE_CHOICES: [usize; 3] = [32, 64, 128];
pub const MAX_LANES: usize = 128;

/// A carrying lane starts at `CARRY_BASE + d` with `d < 2^24`; its top byte is
/// the decoder's check that the lane came back.
pub const CARRY_BASE: u32 = 1 << 24;
/// Raw bytes each lane carries.
pub const CARRY_BYTES: usize = 3;

/// The start states of `lanes` carrying lanes: lane `j` carries
/// `bytes[3j..3j + 3]` (little-endian; `bytes.len() == CARRY_BYTES * lanes`).
pub fn carry_states(bytes: &[u8], lanes: usize) -> Vec<u32> {
    debug_assert_eq!(bytes.len(), CARRY_BYTES * lanes);
    bytes.chunks_exact(CARRY_BYTES).map(|b| CARRY_BASE | u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16).collect()
}

/// The bytes carried by the final states of carrying lanes (the inverse of
/// [`carry_states`]), written to `out` (`CARRY_BYTES` per state). The decoder
/// has checked that each state is `CARRY_BASE + d`.
pub fn carried_bytes(states: &[u32], out: &mut [u8]) {
    debug_assert_eq!(out.len(), CARRY_BYTES * states.len());
    for (&x, b) in states.iter().zip(out.chunks_exact_mut(CARRY_BYTES)) {
        debug_assert_eq!(x >> 24, CARRY_BASE >> 24);
        b.copy_from_slice(&x.to_le_bytes()[..CARRY_BYTES]);
    }
}

/// Lane count for a chunk of `n` bf16 values whose lanes carry raw bytes: at
/// about one byte of overhead a lane instead of three, each count is taken where
/// the non-carrying choice (`lanes_for`) took half as many, so no chunk pays more
/// for its states than before, and chunks of 64 K values decode with 128 lanes
/// (a 64-lane stream is latency-bound: 4.5 against 6.2 GB/s on Zen 4).
pub fn lanes_for_carrying(n: usize) -> usize {
    if n >= 1 << 16 {
        128
    } else if n >= 1 << 13 {
        64
    } else {
        32
    }
}

/// Lane count for a byte stream of `n` symbols. Byte streams code ~4-8 bits per
/// symbol, so 128 lanes' states (512 bytes) are a small price from 32K symbols on,
/// and 32 lanes would leave the decoder waiting on latency.
pub fn lanes_for_bytes(n: usize) -> usize {
    if n >= 1 << 15 {
        128
    } else if n >= 1 << 13 {
        64
    } else {
        32
    }
}

/// Lane count for a chunk of `n` bf16 values: enough lanes for SIMD throughput on
/// large chunks, few enough that final states (4 bytes per lane) stay a small
/// fraction of small chunks.
pub fn lanes_for(n: usize) -> usize {
    if n >= 1 << 18 {
        128
    } else if n >= 1 << 16 {
        64
    } else {
        32
    }
}

/// The lanes for row classes in a chunk that would take `preferred` lanes:
/// `preferred` if `fits` accepts it, else 64 of 128 (row classes need steps
/// that stay inside a row, so a row length such as 2880 = 45 × 64 takes 64
/// lanes), else none. Not fewer: 32 lanes on a large chunk halve the decode
/// speed (3.1 against 6.2 GB/s on word_embeddings) for 0.15 % of ratio.
pub fn lanes_within(preferred: usize, fits: impl Fn(usize) -> bool) -> Option<usize> {
    LANE_CHOICES.iter().rev().copied().find(|&l| (l == preferred || (2 * l == preferred && l >= 64)) && fits(l))
}

/// A payload's `lanes` initial states (u32 each, little-endian), each at least
/// `RANS_L`; anything else is corrupt.
pub fn read_states(bytes: &[u8], lanes: usize) -> crate::error::Result<[u32; MAX_LANES]> {
    let mut states = [0u32; MAX_LANES];
    for (j, x) in states[..lanes].iter_mut().enumerate() {
        *x = crate::format::bytes::le_u32(bytes, 4 * j);
        if *x < RANS_L {
            return Err(crate::error::Error::Corrupt);
        }
    }
    Ok(states)
}
