//! The engine: pieces shared by the readers and writers above it.

pub mod chunk_cache;
pub mod readahead;
pub mod workers;
