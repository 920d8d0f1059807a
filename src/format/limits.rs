//! Hard limits applied to every size read from untrusted input, before anything
//! is allocated or indexed.

/// Largest content a single frame may declare (1 TiB).
pub const MAX_CONTENT_SIZE: u64 = 1 << 40;

/// Largest uncompressed chunk (256 MiB). Keeps per-chunk scratch bounded.
pub const MAX_CHUNK_SIZE: u32 = 1 << 28;

/// Smallest chunk a frame may declare (keeps the chunk table proportional to content).
pub const MIN_CHUNK_SIZE: u32 = 1 << 10;

/// Default uncompressed chunk size for frames (1 MiB): small enough for random
/// access and parallel decode, large enough that per-chunk tables cost < 0.05 %.
pub const DEFAULT_CHUNK_SIZE: u32 = 1 << 20;

/// Default cap on the declared output size of `decompress_to_vec`-style calls
/// that allocate (64 GiB); callers can raise or lower it.
pub const DEFAULT_MAX_OUTPUT: u64 = 64 << 30;
