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
    /// Q4_K; rounded down to whole elements; a short last chunk folded into the
    /// others, see `fold_short_tail`). A size given is used exactly.
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
    /// Checks the parameters for `len` bytes of content made of `elem`-byte
    /// elements and resolves the chunk size: the one given, exactly, or else
    /// `default` with a short last chunk folded in ([`fold_short_tail`]).
    pub fn resolve_chunk_size(&self, elem: u32, default: u32, len: u64) -> Result<u32> {
        if self.flags & !KNOWN_PARAM_FLAGS != 0 {
            return Err(Error::InvalidArgument);
        }
        if self.format_version != 0 && self.format_version != u32::from(FORMAT_VERSION_MAX) {
            return Err(Error::VersionUnsupported);
        }
        if self.chunk_size == 0 {
            return Ok(fold_short_tail(default, elem, len));
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

/// The default chunk size for `len` bytes: `default`, unless the last chunk
/// would hold less than a quarter of it; then its bytes are spread over the
/// chunks before it (at most 1.25 × `default` each, whole `elem`s). A short
/// last chunk costs a table, a header and a decoder start of its own, and codes
/// with fewer lanes: 2 % of a 1.1 MiB bf16 tensor's decode time, and more bytes.
/// Depends only on `len`, so files, pipes and thread counts agree.
fn fold_short_tail(default: u32, elem: u32, len: u64) -> u32 {
    let size = u64::from(default);
    let n = len.div_ceil(size);
    if n < 2 || 4 * (len - (n - 1) * size) >= size {
        return default;
    }
    // At most `size + size / 4` (plus `elem`), far below `MAX_CHUNK_SIZE`.
    len.div_ceil(n - 1).next_multiple_of(u64::from(elem.max(1))) as u32
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// `None` = the process-wide setting (see [`crate::isa`]).
    pub isa: Option<Isa>,
    /// 0 or 1 = calling thread only.
    pub n_threads: u32,
    /// Check each chunk's checksum (as it decodes; a chunk's output counts only
    /// once its checksum passes).
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

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn chunks(size: u32, len: u64) -> u64 {
        len.div_ceil(u64::from(size))
    }

    #[test]
    fn a_short_last_chunk_is_folded_into_the_others() {
        let d = 1 << 20;
        // 1.125 MiB (two MiniLM bf16 fixtures): one chunk instead of 1 MiB + 128 KiB.
        assert_eq!(fold_short_tail(d, 2, 1_179_648), 1_179_648);
        // A last chunk of a quarter or more stays.
        assert_eq!(fold_short_tail(d, 2, MIB + MIB / 4), d);
        assert_eq!(fold_short_tail(d, 2, 22 * MIB + 367_616), d);
        // Nothing to fold: empty, one chunk, whole chunks.
        for len in [0, 1, MIB - 2, MIB, 7 * MIB] {
            assert_eq!(fold_short_tail(d, 2, len), d, "{len}");
        }
        // Ten chunks and a sliver: ten chunks a little larger, whole elements.
        let s = fold_short_tail(d, 144, 10 * MIB + 1440);
        assert_eq!((chunks(s, 10 * MIB + 1440), s % 144), (10, 0));
        assert!(u64::from(s) <= MIB + MIB / 40 + 144);
    }

    #[test]
    fn folded_chunks_stay_within_a_quarter_and_the_limits() {
        let d = 4_194_288; // Q4_K's default, 144-byte blocks.
        for n in 1..40u64 {
            for tail in [144, 144 * 7, u64::from(d) / 4 - 144, u64::from(d) / 4] {
                let len = n * u64::from(d) + tail;
                let s = fold_short_tail(d, 144, len);
                assert_eq!(s % 144, 0);
                assert!((MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&s));
                assert!(u64::from(s) <= u64::from(d) + u64::from(d) / 4 + 144, "{n} {tail}");
                let expect = if 4 * tail < u64::from(d) { n } else { n + 1 };
                assert_eq!(chunks(s, len), expect, "{n} {tail}");
            }
        }
    }

    #[test]
    fn a_chunk_size_given_is_used_exactly() {
        let p = CompressParams { chunk_size: 1 << 20, ..Default::default() };
        assert_eq!(p.resolve_chunk_size(2, 1 << 20, 1_179_648).unwrap(), 1 << 20);
        let p = CompressParams::default();
        assert_eq!(p.resolve_chunk_size(2, 1 << 20, 1_179_648).unwrap(), 1_179_648);
    }
}
