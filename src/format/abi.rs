//! The numbers of the format that the C header exports, defined here once
//! (cbindgen reads this file): format versions, codec ids, block sizes.

/// Oldest frame format version this library reads.
pub const LLMC_FORMAT_VERSION_MIN: u32 = 1;
/// Newest frame format version this library reads and the one it writes.
pub const LLMC_FORMAT_VERSION_MAX: u32 = 1;
/// The largest chunk (decoded bytes) a streaming decode holds by default:
/// streams declaring larger chunks are refused, so memory stays bounded on
/// hostile input (`llmc decompress --memory` raises it).
pub const LLMC_MAX_STREAM_CHUNK: u64 = 32 << 20;
/// Bytes of one ggml `block_q4_K` (256 weights).
pub const LLMC_Q4K_BLOCK_BYTES: u32 = 144;

/// What `llmc_tensor_info.codec` says for a container region stored without a
/// frame because it is all zero bytes: alignment padding only (a tensor of a
/// container that opens always has a frame). No frame codec id: frames store 8 bits.
pub const LLMC_CODEC_ZERO: u32 = 256;

/// Codec ids stored in frames (`llmc_codec`, `LLMC_CODEC_*` in C).
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecId {
    Bf16 = 1,
    Q4k = 2,
    Zstd = 3,
    Stored = 4,
    Fields = 5,
}

impl CodecId {
    pub fn from_u8(v: u8) -> Option<CodecId> {
        Self::from_code(u32::from(v))
    }

    /// Validates a number (from a frame or from C); never transmutes.
    pub fn from_code(v: u32) -> Option<CodecId> {
        match v {
            1 => Some(CodecId::Bf16),
            2 => Some(CodecId::Q4k),
            3 => Some(CodecId::Zstd),
            4 => Some(CodecId::Stored),
            5 => Some(CodecId::Fields),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            CodecId::Bf16 => "bf16",
            CodecId::Q4k => "q4k",
            CodecId::Zstd => "zstd",
            CodecId::Stored => "stored",
            CodecId::Fields => "fields",
        }
    }

    /// Chunk sizes and content sizes must be multiples of this.
    pub const fn element_size(self) -> u32 {
        match self {
            CodecId::Bf16 => 2,
            CodecId::Q4k => 144,
            CodecId::Zstd | CodecId::Stored | CodecId::Fields => 1,
        }
    }
}
