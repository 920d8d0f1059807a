//! Types shared with C. Status and ISA values cross the boundary as `uint32_t`
//! and are validated on the way in, never transmuted into Rust enums.

/// A status code: 0 on success, otherwise one of `llmc_status_code`.
pub type llmc_status = u32;

/// An instruction-set selector: one of `llmc_isa_code`.
pub type llmc_isa = u32;

/// Status codes. The numbers are stable and never reused.
#[repr(u32)]
#[derive(Debug, Clone, Copy)]
pub enum llmc_status_code {
    LLMC_STATUS_OK = 0,
    LLMC_STATUS_GENERIC = 1,
    LLMC_STATUS_NULL_POINTER = 2,
    /** e.g. odd bf16 size, unknown flag bits, chunk size out of range */
    LLMC_STATUS_INVALID_ARGUMENT = 3,
    LLMC_STATUS_ALLOCATION = 4,
    /** internal bug caught at the boundary; please report */
    LLMC_STATUS_PANIC = 5,
    LLMC_STATUS_DST_TOO_SMALL = 10,
    LLMC_STATUS_SRC_TRUNCATED = 11,
    LLMC_STATUS_SIZE_OVERFLOW = 12,
    /** a declared size exceeds a hard limit or what the input can justify */
    LLMC_STATUS_LIMIT_EXCEEDED = 13,
    LLMC_STATUS_BAD_MAGIC = 20,
    LLMC_STATUS_VERSION_UNSUPPORTED = 21,
    LLMC_STATUS_CODEC_UNSUPPORTED = 22,
    LLMC_STATUS_CORRUPT = 23,
    LLMC_STATUS_CHECKSUM_MISMATCH = 24,
    LLMC_STATUS_GGUF_INVALID = 25,
    LLMC_STATUS_SAFETENSORS_INVALID = 26,
    LLMC_STATUS_ISA_UNSUPPORTED = 30,
    LLMC_STATUS_IO = 40,
    LLMC_STATUS_NOT_FOUND = 41,
}

/// Instruction sets (`LLMC_ISA_AUTO` = let detection choose).
#[repr(u32)]
#[derive(Debug, Clone, Copy)]
pub enum llmc_isa_code {
    LLMC_ISA_AUTO = 0,
    LLMC_ISA_SCALAR = 1,
    LLMC_ISA_AVX2 = 2,
    LLMC_ISA_AVX512 = 3,
}

/// Codec ids, as stored in frames (1 to 5), and `LLMC_CODEC_ZERO` for a
/// container region stored without a frame because it is all zero bytes.
#[repr(u32)]
#[derive(Debug, Clone, Copy)]
pub enum llmc_codec {
    LLMC_CODEC_BF16 = 1,
    LLMC_CODEC_Q4K = 2,
    LLMC_CODEC_ZSTD = 3,
    LLMC_CODEC_STORED = 4,
    /// Fixed-size blocks split into byte streams (GGUF quantisation blocks, float planes).
    LLMC_CODEC_FIELDS = 5,
    /// No frame: the region is all zero bytes (alignment padding only; a tensor
    /// of a container that opens always has a frame). Not a frame codec id:
    /// frames store 8 bits.
    LLMC_CODEC_ZERO = 256,
}

/// Compression parameters. Extensible: `struct_size` comes first; always start
/// from `llmc_params_init()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct llmc_params {
    /// `sizeof(llmc_params)`; set by `llmc_params_init`.
    pub struct_size: u32,
    /// 0 = default.
    pub level: i32,
    /// 0 or 1 = calling thread only; more = chunks coded in parallel. The output
    /// is identical for every thread count.
    pub n_threads: u32,
    /// Uncompressed bytes per chunk; 0 = the codec's default (1 MiB; about 4 MiB for
    /// Q4_K). Must be a multiple of the element size (2 for bf16, 144 for Q4_K)
    /// within [1 KiB, 256 MiB].
    pub chunk_size: u32,
    /// 0 = newest; otherwise within [LLMC_FORMAT_VERSION_MIN, LLMC_FORMAT_VERSION_MAX].
    pub format_version: u32,
    /// `LLMC_FLAG_*` bits; unknown bits give `LLMC_STATUS_INVALID_ARGUMENT`.
    pub flags: u32,
}

/// Store a CRC32C of the whole content after the chunks (chunks always carry their own).
pub const LLMC_FLAG_CONTENT_CHECKSUM: u32 = 1;

/// What a frame header says.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct llmc_frame_info {
    /// Set to `sizeof(llmc_frame_info)` before calling `llmc_frame_info_get`.
    pub struct_size: u32,
    /// One of `llmc_codec`.
    pub codec: u32,
    pub format_version: u32,
    /// 1 if a whole-content CRC32C is stored (every chunk always carries its own).
    pub has_checksum: u32,
    /// Uncompressed bytes.
    pub content_size: u64,
    /// Bytes of this frame in `src`.
    pub frame_size: u64,
}
