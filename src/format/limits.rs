//! Hard limits applied to every size read from untrusted input, before anything
//! is allocated or indexed, and the bound on what decoding allocates beyond its
//! output ([`decode_overhead`]; `tests/resource_limits.rs` measures it: about
//! 50 KiB for bf16 (100 KiB with two row classes, 400 KiB with eight), 1.5 MiB for Q4_K's 4 MiB chunks, per thread).

/// Largest content a single frame may declare (1 TiB).
pub const MAX_CONTENT_SIZE: u64 = 1 << 40;

/// Largest uncompressed chunk (256 MiB). Keeps per-chunk scratch bounded.
pub const MAX_CHUNK_SIZE: u32 = 1 << 28;

/// Smallest chunk a frame may declare (keeps the chunk table proportional to content).
pub const MIN_CHUNK_SIZE: u32 = 1 << 10;

/// Default uncompressed chunk size for frames (1 MiB): small enough for random
/// access and parallel decode, large enough that per-chunk tables cost < 0.05 %.
pub const DEFAULT_CHUNK_SIZE: u32 = 1 << 20;

/// Most worker threads one call starts, whatever it is asked for (it also
/// never starts more than it has chunks).
pub const MAX_THREADS: u32 = 256;

/// Default cap on the declared output size of `decompress_to_vec`-style calls
/// that allocate (64 GiB); callers can raise or lower it.
/// Largest chunk (decoded bytes) a streaming decode accepts by default. A chunk
/// in flight is held whole, so this bounds a stream's memory whatever its
/// declared sizes (zstd's `--memory` idea); `DecodeOptions::max_chunk` and
/// `llmc decompress --memory` raise it. Writers keep their chunks within it
/// (metadata frames included) unless told otherwise.
pub const DEFAULT_MAX_STREAM_CHUNK: u64 = super::abi::LLMC_MAX_STREAM_CHUNK;
pub const DEFAULT_MAX_OUTPUT: u64 = 64 << 30;

/// Heap a decoding thread keeps beyond its output whatever the chunk size: the
/// boxed rANS decode tables (bf16 and byte streams; with row classes, up to
/// four of each: 4 × 49 KiB for bf16 and 4 × 32 KiB for byte streams) and
/// small per-payload vectors (alphabets, layouts).
pub const DECODE_TABLES_PER_THREAD: u64 = 512 << 10;

/// Bookkeeping per chunk of the frames being decoded (parsed chunk references,
/// job lists). The chunk tables these come from are in the input.
pub const DECODE_BYTES_PER_CHUNK: u64 = 128;

/// Upper bound of the heap a decode allocates beyond its output (the declared
/// content size, itself checked against the caller's cap before allocating).
/// Each of `n_threads` threads holds its tables and stages at most one chunk
/// (`chunk_size`, the largest in the input; Q4_K stages a third of one, field
/// splits up to a whole one), plus, for row classes, a class per row and per
/// step of a chunk (rows and steps are at least 32 symbols: a sixteenth of a
/// chunk of byte symbols); every chunk costs a little bookkeeping; a
/// container's parsed index takes at most four times its `index_size` (as laid
/// out in FORMAT.md §10.3: decoded, in version 10, where it is stored coded;
/// at most 64 times the coded size plus 1 MiB).
/// Not counted: libzstd's decompression context (about 100 KiB, malloc'd by
/// libzstd for each zstd chunk and freed after it) and thread stacks.
pub fn decode_overhead(n_threads: u32, chunk_size: u64, n_chunks: u64, index_size: u64) -> u64 {
    let per_thread = DECODE_TABLES_PER_THREAD + chunk_size + chunk_size / 16;
    u64::from(n_threads.max(1)) * per_thread + n_chunks * DECODE_BYTES_PER_CHUNK + 4 * index_size
}
