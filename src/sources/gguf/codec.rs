//! GGUF files to containers (reading them back is format-agnostic: see
//! [`crate::sources::file`]).

use crate::container::build::{build, Progress};
use crate::container::SourceKind;
use crate::error::Result;
use crate::params::CompressParams;

/// Compresses a GGUF file held in memory into a container. `params.level` is
/// the zstd level of the metadata (0 = 19).
pub fn compress(file: &[u8], params: &CompressParams, progress: Option<Progress<'_>>) -> Result<Vec<u8>> {
    let g = super::parse(file)?;
    let spans = super::decompose::spans(&g, crate::sources::plan::metadata_levels(params))?;
    build(SourceKind::Gguf, file, &spans, params, progress)
}
