//! What a file *is*: GGUF, safetensors, and the paper's per-stream baseline.
//! Each source parses its own format and plans the container's regions; the
//! container below knows no source format.

pub mod baseline;
pub mod file;
pub mod gguf;
pub mod plan;
pub mod safetensors;
