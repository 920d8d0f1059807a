//! GGUF files to containers (reading them back is format-agnostic: see
//! [`crate::container::file`]).

use crate::container::build::{build, Progress};
use crate::container::SourceKind;
use crate::error::Result;
use crate::params::CompressParams;
use std::path::Path;

pub use crate::container::file::{decompress, decompress_file};

/// Compresses a GGUF file held in memory into a container. `params.level` is
/// the zstd level of the metadata (0 = 19).
pub fn compress(file: &[u8], params: &CompressParams, progress: Option<Progress<'_>>) -> Result<Vec<u8>> {
    let g = super::parse(file)?;
    let spans = super::decompose::spans(&g, metadata_level(params))?;
    build(SourceKind::Gguf, file, &spans, params, progress)
}

/// The zstd level of metadata for `params.level` (0 = the default, 19).
pub fn metadata_level(params: &CompressParams) -> i32 {
    if params.level == 0 {
        crate::container::plan::DEFAULT_METADATA_LEVEL
    } else {
        params.level.clamp(1, 22)
    }
}

pub fn compress_file(input: &Path, output: &Path, params: &CompressParams, progress: Option<Progress<'_>>) -> Result<()> {
    let file = crate::io::map(input)?;
    let container = compress(&file, params, progress)?;
    crate::io::write_atomic(output, &container)
}
