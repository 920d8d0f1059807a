//! Whole GGUF files to and from containers.

use crate::container::build::{build, Progress};
use crate::container::read::Index;
use crate::container::SourceKind;
use crate::error::{Error, Result};
use crate::params::{CompressParams, DecodeOptions};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Compresses a GGUF file held in memory into a container. `params.level` is
/// the zstd level of the metadata (0 = 19).
pub fn compress(file: &[u8], params: &CompressParams, progress: Option<Progress<'_>>) -> Result<Vec<u8>> {
    let g = super::parse(file)?;
    let level = if params.level == 0 { super::decompose::DEFAULT_METADATA_LEVEL } else { params.level.clamp(1, 22) };
    let spans = super::decompose::spans(&g, level)?;
    build(SourceKind::Gguf, file, &spans, params, progress)
}

/// Rebuilds the original file from a container held in memory, checking it
/// against the stored SHA-256.
pub fn decompress(container: &[u8], opts: &DecodeOptions) -> Result<Vec<u8>> {
    let index = Index::open(container)?;
    if index.original_size > opts.max_output {
        return Err(Error::LimitExceeded);
    }
    let mut out = Vec::new();
    out.try_reserve_exact(index.original_size as usize).map_err(|_| Error::Allocation)?;
    out.resize(index.original_size as usize, 0);
    index.decompress_all(container, &mut out, opts)?;
    let digest: [u8; 32] = Sha256::digest(&out).into();
    if digest[..28] != index.sha256_prefix {
        return Err(Error::ChecksumMismatch);
    }
    Ok(out)
}

pub fn compress_file(input: &Path, output: &Path, params: &CompressParams, progress: Option<Progress<'_>>) -> Result<()> {
    let file = crate::io::map(input)?;
    let container = compress(&file, params, progress)?;
    crate::io::write_atomic(output, &container)
}

pub fn decompress_file(input: &Path, output: &Path, opts: &DecodeOptions) -> Result<()> {
    let container = crate::io::map(input)?;
    let file = decompress(&container, opts)?;
    crate::io::write_atomic(output, &file)
}
