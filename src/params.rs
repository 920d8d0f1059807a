//! Compression parameters and decoding options.

use crate::error::{Error, Result};
use crate::format::frame::{FLAG_CONTENT_CHECKSUM, FORMAT_VERSION_MAX};
use crate::format::limits::{DEFAULT_MAX_OUTPUT, DEFAULT_MAX_STREAM_CHUNK, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
use crate::isa::Isa;

/// `LLMC_FLAG_CONTENT_CHECKSUM`: store a CRC32C of the whole content.
pub const PARAM_FLAG_CONTENT_CHECKSUM: u32 = 1 << 0;
/// `LLMC_FLAG_NO_ROW_CLASSES`: code every chunk with one table, never with
/// row classes, and bf16 lanes that do not carry raw bytes (faster to encode
/// and decode, slightly larger; containers then keep the version older readers
/// accept: no batches of tiny tensors and no coded index either).
pub const PARAM_FLAG_NO_ROW_CLASSES: u32 = 1 << 1;
const KNOWN_PARAM_FLAGS: u32 = PARAM_FLAG_CONTENT_CHECKSUM | PARAM_FLAG_NO_ROW_CLASSES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressParams {
    /// 0 = default. The bf16 codec has one operating point and ignores it.
    pub level: i32,
    /// 0 or 1 = calling thread only; chunks are coded in parallel otherwise.
    /// The output is identical for every thread count.
    pub n_threads: u32,
    /// Uncompressed bytes per chunk; 0 = the codec's default (1 MiB, about 4 MiB for
    /// Q4_K; rounded down to whole elements).
    pub chunk_size: u32,
    /// 0 = newest; otherwise a version in the supported window.
    pub format_version: u32,
    /// `PARAM_FLAG_*` bits; unknown bits are rejected.
    pub flags: u32,
    /// Kernels used for encoding (`None` = the process-wide setting). The output
    /// does not depend on it.
    pub isa: Option<Isa>,
}

impl Default for CompressParams {
    fn default() -> Self {
        CompressParams { level: 0, n_threads: 1, chunk_size: 0, format_version: 0, flags: 0, isa: None }
    }
}

impl CompressParams {
    /// Checks the parameters for content made of `elem`-byte elements and
    /// resolves the chunk size (`default` when none was given).
    pub fn resolve_chunk_size(&self, elem: u32, default: u32) -> Result<u32> {
        if self.flags & !KNOWN_PARAM_FLAGS != 0 {
            return Err(Error::InvalidArgument);
        }
        if self.format_version != 0 && self.format_version != u32::from(FORMAT_VERSION_MAX) {
            return Err(Error::VersionUnsupported);
        }
        if self.chunk_size == 0 {
            return Ok(default);
        }
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&self.chunk_size) || !self.chunk_size.is_multiple_of(elem) {
            return Err(Error::InvalidArgument);
        }
        Ok(self.chunk_size)
    }

    /// Whether row classes may be used (see [`PARAM_FLAG_NO_ROW_CLASSES`]).
    pub fn row_classes(&self) -> bool {
        self.flags & PARAM_FLAG_NO_ROW_CLASSES == 0
    }

    pub fn frame_flags(&self) -> u8 {
        if self.flags & PARAM_FLAG_CONTENT_CHECKSUM != 0 {
            FLAG_CONTENT_CHECKSUM
        } else {
            0
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// `None` = the process-wide setting (see [`crate::isa`]).
    pub isa: Option<Isa>,
    /// 0 or 1 = calling thread only.
    pub n_threads: u32,
    /// Check each chunk's checksum before decoding it.
    pub verify_checksums: bool,
    /// Largest content an allocating decode accepts.
    pub max_output: u64,
    /// Largest chunk a streaming decode accepts (each chunk in flight is held
    /// whole); decodes into a caller's buffer are not limited by it.
    pub max_chunk: u64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { isa: None, n_threads: 1, verify_checksums: true, max_output: DEFAULT_MAX_OUTPUT, max_chunk: DEFAULT_MAX_STREAM_CHUNK }
    }
}
