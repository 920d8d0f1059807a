//! The engine: frames of chunks, the worker pool, file I/O, and the decoded-
//! chunk cache with its read-ahead. Codecs below it code one chunk; containers
//! and sources above it arrange frames.

pub mod chunk_cache;
pub mod frames;
pub mod io;
pub mod pool;
pub mod input;
pub mod output;
pub mod pipeline;
pub mod push;
pub mod stream;
pub mod readahead;
pub mod workers;
