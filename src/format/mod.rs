//! On-disk formats: frames, byte and bit I/O, checksums, hard limits, and how
//! a bf16 word and a `block_q4_K` split into coded fields (shared by the codecs,
//! which encode, and the kernels, which decode).
//! `FORMAT.md` at the repository root is the prose specification.

pub mod abi;
pub mod bf16_split;
pub mod bitio;
pub mod bytes;
pub mod checksum;
pub mod frame;
pub mod limits;
pub mod q4k_block;
pub mod quant_fold;
