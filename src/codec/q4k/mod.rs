//! The Q4_K codec: arrays of llama.cpp `block_q4_K` (144 bytes per 256 weights).
//! See [`crate::format::q4k_block`] for the modelling; FORMAT.md for the bytes.
//!
//! Chunk payload: a mode byte — `0` stored (the bytes verbatim), `1` windowed:
//! sixteen header streams (byte position `p` of every block's 16-byte header), each
//! `u32 length` + stream payload; the flag stream (`u32 length` + payload, 32 bytes
//! per block); then the index bit planes, 96 raw bytes per block. `2` fields:
//! the headers as fields with contexts ([`fields`]), then the flag stream and
//! the planes as in mode 1. The encoder writes whichever of 1 and 2 is smaller.

pub mod decode;
pub mod encode;
pub mod fields;

pub use decode::decode_chunk;
pub use encode::encode_chunk;

use crate::format::q4k_block::{BLOCK, PLANE_BYTES};

pub const MODE_STORED: u8 = 0;
pub const MODE_WINDOWED: u8 = 1;
pub const MODE_FIELDS: u8 = 2;

/// Smallest payload for `content_len` bytes: the raw index planes alone are 96 of
/// every 144 bytes.
pub fn min_payload(content_len: usize) -> usize {
    1 + (content_len / BLOCK * PLANE_BYTES).min(content_len)
}
