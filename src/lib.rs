//! # libllmc
//!
//! Lossless compression of LLM weights with decoding at memory speed on CPUs.
//!
//! The public Rust API is this facade; everything below it is private to the crate.
//!
//! * [`compress_bf16`], [`compress_q4k`], [`decompress`]: single tensors in
//!   self-describing chunked frames; [`frame`] for any codec and for inspection.
//! * [`model`]: whole GGUF and safetensors files as `.llmc` containers, with
//!   random access by tensor or byte range, and the paper's per-stream baseline.
//! * [`isa`]: runtime kernel selection (scalar, AVX2, AVX-512) and its overrides.
//! * [`io`]: the file helpers the CLI and the C file functions use (atomic writes, maps).
//! * `ffi`: the stable C ABI declared in `include/llmc.h`, callable from Rust too.
//!
//! Every decoder returns the input byte for byte; every SIMD kernel matches the
//! scalar code bit for bit; encoding is deterministic across ISAs and thread counts.
//!
//! Layers (imports run one way, down): `ffi` → `sources` (gguf, safetensors,
//! baseline) → `container` → `engine` (frames, pool, io) → `params` → `codec`
//! → `kernels` → `rans` → `format` → `isa` → `error` (`tests/layers.rs` checks it).
//!
//! ## What stays private
//!
//! The kernels, their table layouts and the codecs' internals are not part of the
//! API: code outside the crate cannot reach them, so it cannot hand a kernel a
//! stream that breaks its contract. These examples must not compile:
//!
//! ```compile_fail,E0603
//! use llmc::kernels; // the kernel tables
//! ```
//! ```compile_fail,E0603
//! use llmc::rans::table::DecodeTable; // a slot-table layout
//! ```
//! ```compile_fail,E0603
//! use llmc::codec::bf16::decode_chunk; // a codec's chunk decoder, which takes kernels
//! ```
//! ```compile_fail,E0603
//! use llmc::engine::frames::decode_chunk; // the engine's per-chunk entry
//! ```
//! while the facade does:
//!
//! ```
//! let src = [0x80u8, 0x3f, 0x00, 0x40]; // bf16 1.0, 2.0
//! let frame = llmc::compress_bf16(&src, &Default::default()).unwrap();
//! assert_eq!(llmc::decompress(&frame, &Default::default()).unwrap(), src);
//! let info = llmc::frame::frame_info(&frame).unwrap();
//! assert_eq!((info.codec, info.content_size), (llmc::CodecId::Bf16, 4));
//! ```

mod codec;
mod container;
mod engine;
pub mod error;
pub mod ffi;
mod format;
pub mod isa;
mod kernels;
mod params;
mod rans;
mod sources;

pub use error::{Error, Result};
pub use format::frame::CodecId;
pub use isa::Isa;
pub use params::{CompressParams, DecodeOptions, PARAM_FLAG_CONTENT_CHECKSUM, PARAM_FLAG_NO_ROW_CLASSES};

/// Library version (semver of the crate).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Compresses a little-endian bf16 array (even number of bytes).
pub fn compress_bf16(src: &[u8], params: &CompressParams) -> Result<Vec<u8>> {
    engine::frames::compress(&codec::Method::Bf16, src, params)
}

/// Compresses a little-endian bf16 matrix stored row after row, `row_len`
/// values per row (its last dimension): rows fall into classes by magnitude
/// and each class codes with its own table where that is smaller (the output
/// decodes with [`decompress`] like any frame). `row_len` 0 is
/// [`compress_bf16`]. Only chunks of at least 16 rows whose row length is a
/// multiple of their lane count (128 values for chunks of 2^18 values or more,
/// as the default 1 MiB; 64 from 2^16; else 32) can use row classes; others,
/// and those where classes would not pay, code as with [`compress_bf16`].
pub fn compress_bf16_rows(src: &[u8], row_len: u32, params: &CompressParams) -> Result<Vec<u8>> {
    engine::frames::compress(&codec::Method::Bf16.with_rows(Some(u64::from(row_len))), src, params)
}

/// Compresses an array of GGUF `block_q4_K` (a multiple of 144 bytes).
pub fn compress_q4k(src: &[u8], params: &CompressParams) -> Result<Vec<u8>> {
    engine::frames::compress(&codec::Method::Q4k, src, params)
}

/// Decompresses any `llmc` frame into a new vector.
pub fn decompress(src: &[u8], opts: &DecodeOptions) -> Result<Vec<u8>> {
    engine::frames::decompress(src, opts)
}

/// Decompresses any `llmc` frame into `dst`; returns the content size.
pub fn decompress_into(src: &[u8], dst: &mut [u8], opts: &DecodeOptions) -> Result<usize> {
    engine::frames::decompress_into(src, dst, opts)
}

pub use frame::{frame_info, FrameInfo};

/// Frames: one buffer coded by one codec, in independently decodable chunks.
pub mod frame {
    pub use crate::codec::fields::{Fold as FieldFold, Layout as FieldLayout};
    pub use crate::codec::Method;
    pub use crate::engine::frames::{compress, compress_bound, compress_to, decompress, decompress_into, frame_info, parse, FrameInfo};
    pub use crate::format::checksum::crc32c;
    pub use crate::format::frame::{ChunkRef, CodecId, Frame, FrameHeader, CHUNK_ENTRY_SIZE, FORMAT_VERSION, HEADER_SIZE};
    /// Smallest payload of a field-split chunk (a constant stream per field).
    pub const FIELDS_MIN_PAYLOAD: usize = crate::codec::fields::MIN_PAYLOAD;
}

/// Whole model files: `.llmc` containers made from GGUF or safetensors files
/// (the original rebuilt byte for byte, any tensor or byte range decoded alone),
/// and the paper's per-stream baseline.
pub mod model {
    pub use crate::container::build::Progress;
    pub use crate::container::load::read_all as read_container;
    pub use crate::container::outline::{read_outline, Outline};
    pub use crate::container::read::Index;
    pub use crate::container::reader::{ContainerBytes, ReadEngine, ReadFailure, Reader, DEFAULT_CACHE_SIZE};
    pub use crate::container::{write, Entry, Region, Role, SourceKind};
    pub use crate::container::entries::{Entries, EntryRef};
    pub use crate::sources::file::{chunk_size_conflicts, compress, compress_file, decompress, decompress_file, detect, unfit, verify_sha256};
    pub use crate::sources::plan::{DEFAULT_METADATA_LEVEL, TENSOR_ZSTD_LEVEL};
    /// The codec value (`LLMC_CODEC_ZERO`) tensor info reports for a region
    /// stored without a frame (all zeros; padding only). No frame codec id.
    pub const CODEC_ZERO: u32 = crate::format::abi::LLMC_CODEC_ZERO;

    /// What a container can record: one definition of each limit for the
    /// writer and the reader, and why a file cannot be written as a container.
    pub mod limits {
        pub use crate::container::limits::*;
    }

    /// GGUF files: the parser and ggml's type table.
    pub mod gguf {
        pub use crate::sources::gguf::methods::for_type as methods_for_type;
        pub use crate::sources::gguf::*;
    }

    /// safetensors files: the header parser and dtypes.
    pub mod safetensors {
        pub use crate::sources::safetensors::codec::compress;
        pub use crate::sources::safetensors::dtypes::Dtype;
        pub use crate::sources::safetensors::*;
    }

    /// The paper's `decomp_perstream_zstd19_bg` method, kept for comparison.
    pub use crate::sources::baseline::perstream;
}

/// Streams: compress and decompress in one pass, a window of chunks at a
/// time, from any reader or file and to any writer or file.
pub mod stream {
    pub use crate::container::stream::Summary as ContainerSummary;
    pub use crate::engine::input::Input;
    pub use crate::engine::output::{write_file, Output};
    pub use crate::engine::pipeline::Window;
    pub use crate::engine::stream::{compress_frame, Decoder, Sink};
    pub use crate::sources::file::compress_stream as compress_model;
    pub use crate::sources::file::compress_from_stream as compress_model_from_stream;
    pub use crate::container::build::MAX_STREAM_TAIL;
    pub use crate::sources::stream::{decode, decode_with, Decoded, Held};
}

/// Hard limits on what a decoder accepts and allocates, and on worker threads.
pub mod limits {
    pub use crate::format::limits::*;
}

/// The worker pool's thread count for a call: at most the jobs, and at most
/// [`limits::MAX_THREADS`].
pub use engine::pool::thread_count;

/// File helpers: atomic writes (temp + fsync + rename), read-only maps, and
/// sources read at offsets (`ReadAt`: a slice or a file).
pub mod io {
    pub use crate::codec::zstd_reader::{FileAt, ReadAt, SliceAt};
    pub use crate::engine::io::*;
}

/// How many kernel calls ran on `isa` in this process (decode, encode and the
/// portable loops all go through one dispatcher). For tests and diagnostics:
/// with `LLMC_ISA=scalar`, only the scalar count grows.
pub fn kernel_calls(isa: Isa) -> u64 {
    kernels::calls(isa)
}
