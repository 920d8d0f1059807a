//! # libllmc
//!
//! Lossless compression of LLM weights with decoding at memory speed on CPUs.
//!
//! * [`compress_bf16`] / [`decompress`]: raw bf16 tensors (exponent + top mantissa
//!   bits rANS-coded, the rest packed), in self-describing chunked frames.
//! * [`isa`]: runtime kernel selection (scalar, AVX2, AVX-512) and its overrides.
//! * `ffi`: the stable C ABI declared in `include/llmc.h`.
//!
//! Every decoder returns the input byte for byte; every SIMD kernel matches the
//! scalar code bit for bit; encoding is deterministic across ISAs and thread counts.

pub mod codec;
pub mod container;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod format;
pub mod frames;
pub mod gguf;
pub mod io;
pub mod isa;
pub mod kernels;
pub mod params;
pub mod rans;
pub mod safetensors;

pub use error::{Error, Result};
pub use format::frame::CodecId;
pub use frames::{frame_info, FrameInfo};
pub use isa::Isa;
pub use params::{CompressParams, DecodeOptions};

/// Library version (semver of the crate).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Compresses a little-endian bf16 array (even number of bytes).
pub fn compress_bf16(src: &[u8], params: &CompressParams) -> Result<Vec<u8>> {
    frames::compress(&codec::Method::Bf16, src, params)
}

/// Compresses an array of GGUF `block_q4_K` (a multiple of 144 bytes).
pub fn compress_q4k(src: &[u8], params: &CompressParams) -> Result<Vec<u8>> {
    frames::compress(&codec::Method::Q4k, src, params)
}

/// Decompresses any `llmc` frame into a new vector.
pub fn decompress(src: &[u8], opts: &DecodeOptions) -> Result<Vec<u8>> {
    frames::decompress(src, opts)
}

/// Decompresses any `llmc` frame into `dst`; returns the content size.
pub fn decompress_into(src: &[u8], dst: &mut [u8], opts: &DecodeOptions) -> Result<usize> {
    frames::decompress_into(src, dst, opts)
}
