//! The engine: frames of chunks, the worker pool, and file I/O. Codecs below it
//! code one chunk; containers and sources above it arrange frames.

pub mod frames;
pub mod io;
pub mod pool;
