//! File helpers for the CLI: whole-file reads with readable errors, detection of
//! what a file is, and default output names.

use std::path::{Path, PathBuf};

pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub fn write(path: &Path, data: &[u8]) -> Result<(), String> {
    llmc::io::write_atomic_io(path, data).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gguf,
    Safetensors,
    Frame,
    Container,
    /// The paper's five-stream format (`--mode perstream`).
    PerStream,
    Other,
}

pub fn kind(bytes: &[u8]) -> Kind {
    match bytes.get(..4) {
        Some(b"GGUF") => Kind::Gguf,
        Some(b"LLMF") => Kind::Frame,
        Some(b"LLMC") => Kind::Container,
        Some(b"LLMS") => Kind::PerStream,
        _ if llmc::model::safetensors::looks_like(bytes) => Kind::Safetensors,
        _ => Kind::Other,
    }
}

/// `model.gguf` -> `model.gguf.llmc`.
pub fn compressed_name(input: &Path) -> PathBuf {
    let mut s = input.as_os_str().to_owned();
    s.push(".llmc");
    PathBuf::from(s)
}

/// `model.gguf.llmc` -> `model.gguf`; anything else needs an explicit `-o`.
pub fn decompressed_name(input: &Path) -> Result<PathBuf, String> {
    match input.to_str().and_then(|s| s.strip_suffix(".llmc")) {
        Some(stem) if !stem.is_empty() => Ok(PathBuf::from(stem)),
        _ => Err(format!("{}: name does not end in .llmc; pass -o OUTPUT", input.display())),
    }
}
