//! The bf16 codec: raw little-endian bf16 arrays.
//!
//! Chunk payloads start with a mode byte:
//! * `0` stored: the chunk's bytes verbatim (chosen when coding would not help);
//! * `1` rANS: a 16-byte header `{mode, lanes_log2, u16 table_len, u32 n_words,
//!   u32 esc_count, u32 esc_len}`, the alphabet, the escape list, `lanes` u32
//!   states, `n_words` u16 words, and the packed 6-bit raw fields;
//! * `2` rANS with row contexts: rows in classes, a table per class (see [`rows`]);
//! * `3` and `4`: modes 1 and 2 whose lanes carry the raw fields' last bytes
//!   (`rans::carry_states`), which the payload then does not store: about two
//!   bytes saved per lane, so that small chunks can take more lanes.
//!
//! See [`crate::format::bf16_split`] for the split and FORMAT.md for the byte-level description.

pub mod decode;
pub mod encode;
mod model;
pub mod rows;

pub use decode::decode_chunk;
pub use encode::encode_chunk;

use crate::kernels::Bf16Tables;

pub const MODE_STORED: u8 = 0;
pub const MODE_RANS: u8 = 1;
pub const MODE_ROWS: u8 = 2;
pub const MODE_RANS_CARRYING: u8 = 3;
pub const MODE_ROWS_CARRYING: u8 = 4;
pub const RANS_HEADER_SIZE: usize = 16;

/// A decoding thread's bf16 tables and class arrays, reused across chunks.
pub type DecodeScratch = crate::codec::rows::RowScratch<Bf16Tables>;

/// Smallest payload that can hold `content_len` bytes: a rANS chunk needs at
/// least its raw fields (6 of every 16 bits; lanes that carry 3 of them store a
/// 4-byte state each, so carrying never makes a payload shorter than that), a
/// stored chunk all of them.
pub fn min_payload(content_len: usize) -> usize {
    1 + crate::format::bf16_split::raw_len(content_len / 2).min(content_len)
}
