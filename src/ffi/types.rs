//! Types shared with C. Status and ISA values cross the boundary as `uint32_t`
//! and are validated on the way in, never transmuted into Rust enums.

// `llmc_status`, `llmc_isa`, `llmc_codec` and `llmc_dtype` are the enums of
// `error.rs`, `isa.rs`, `format/abi.rs` and the safetensors dtypes (cbindgen
// exports them under these names; see cbindgen.toml). Values cross the boundary
// as `uint32_t` and are validated on the way in, never transmuted.

/// A status code: `LLMC_STATUS_OK` (0) or one of `llmc_status`'s values.
pub type llmc_status = u32;

/// An instruction-set selector: `LLMC_ISA_AUTO` (0) or one of `llmc_isa`'s values.
pub type llmc_isa = u32;

/// The ABI version (bumped on any incompatible change to this header); compare
/// with `llmc_abi_version()` at startup.
pub const LLMC_ABI_VERSION: u32 = 1;

/// Compression parameters. Extensible: `struct_size` comes first; always start
/// from `llmc_params_init()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct llmc_params {
    /// `sizeof(llmc_params)`; set by `llmc_params_init`.
    pub struct_size: u32,
    /// The zstd level of a container's metadata: 0 = the defaults (19, and 12 for
    /// GGUF string arrays), else 1 to 22 for all of it (values outside are
    /// clamped to that range). The bf16 and Q4_K codecs take no level.
    pub level: i32,
    /// 0 or 1 = calling thread only; more = chunks coded in parallel. The output
    /// is identical for every thread count.
    pub n_threads: u32,
    /// Uncompressed bytes per chunk; 0 = the codec's default (1 MiB; about 4 MiB
    /// for Q4_K; a last chunk under a quarter of that is spread over the ones
    /// before it, which grow by at most a quarter). A size given is used
    /// exactly; it must be a multiple of the element size (2 for bf16, 144 for
    /// Q4_K) within [1 KiB, 256 MiB].
    pub chunk_size: u32,
    /// 0 = newest; otherwise within [LLMC_FORMAT_VERSION_MIN, LLMC_FORMAT_VERSION_MAX].
    pub format_version: u32,
    /// `LLMC_FLAG_*` bits; unknown bits give `LLMC_STATUS_INVALID_ARGUMENT`.
    pub flags: u32,
}

/// Store a CRC32C of the whole content after the chunks (chunks always carry their own).
pub const LLMC_FLAG_CONTENT_CHECKSUM: u32 = 1;

/// Code every chunk with one table, never with row classes, bf16 chunks with
/// lanes that do not carry raw bytes (payload mode 1), Q5_0/Q5_1 blocks
/// unfolded and GGUF numeric arrays as they are (no word differences): tensors
/// encode and decode faster, a fraction of a percent larger (5 % on Q5_0 and
/// Q5_1 tensors), and containers keep the version that readers from before row
/// classes accept. A GGUF with a large numeric array (a vocabulary's scores)
/// compresses slower with it: the array as it is costs zstd -19 far more time
/// than its differences. Tiny tensors then keep a frame each and the index is
/// stored as it is (no container version 10).
pub const LLMC_FLAG_NO_ROW_CLASSES: u32 = 2;

const _: () = assert!(LLMC_FLAG_CONTENT_CHECKSUM == crate::params::PARAM_FLAG_CONTENT_CHECKSUM && LLMC_FLAG_NO_ROW_CLASSES == crate::params::PARAM_FLAG_NO_ROW_CLASSES);

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
