//! Whole model files to and from containers, whatever their source format.

use crate::container::build::Progress;
use crate::container::read::Index;
use crate::container::SourceKind;
use crate::error::{Error, Result};
use crate::params::{CompressParams, DecodeOptions};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The source format of a file, from its first bytes.
pub fn detect(file: &[u8]) -> Option<SourceKind> {
    if file.starts_with(b"GGUF") {
        Some(SourceKind::Gguf)
    } else if crate::sources::safetensors::looks_like(file) {
        Some(SourceKind::Safetensors)
    } else {
        None
    }
}

/// Compresses a GGUF or safetensors file held in memory into a container.
pub fn compress(file: &[u8], params: &CompressParams, progress: Option<Progress<'_>>) -> Result<Vec<u8>> {
    match detect(file) {
        Some(SourceKind::Gguf) => crate::sources::gguf::codec::compress(file, params, progress),
        Some(SourceKind::Safetensors) => crate::sources::safetensors::codec::compress(file, params, progress),
        _ => Err(Error::BadMagic),
    }
}

/// Rebuilds the original file from a container held in memory, checking it
/// against the stored SHA-256 (`opts.n_threads` decode chunks in parallel).
pub fn decompress(container: &[u8], opts: &DecodeOptions) -> Result<Vec<u8>> {
    let index = Index::open(container)?;
    if index.original_size > opts.max_output {
        return Err(Error::LimitExceeded);
    }
    let size = usize::try_from(index.original_size).map_err(|_| Error::SizeOverflow)?;
    let mut out = crate::engine::frames::zeroed_output(size)?;
    index.decompress_all(container, &mut out, opts)?;
    verify_sha256(&index, &out)?;
    Ok(out)
}

/// Checks a rebuilt file against the digest its container stores.
pub fn verify_sha256(index: &Index, original: &[u8]) -> Result<()> {
    let digest: [u8; 32] = Sha256::digest(original).into();
    if digest[..28] == index.sha256_prefix {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch)
    }
}

/// Compresses the GGUF or safetensors file at `input` into a container at
/// `output` (written to a temporary name, then renamed).
pub fn compress_file(input: &Path, output: &Path, params: &CompressParams, progress: Option<Progress<'_>>) -> Result<()> {
    let file = crate::engine::io::map(input)?;
    let container = compress(&file, params, progress)?;
    crate::engine::io::write_atomic(output, &container)
}

/// Rebuilds the original file of the container at `input` into `output`.
pub fn decompress_file(input: &Path, output: &Path, opts: &DecodeOptions) -> Result<()> {
    let container = crate::engine::io::map(input)?;
    let file = decompress(&container, opts)?;
    crate::engine::io::write_atomic(output, &file)
}
