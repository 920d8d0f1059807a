//! File helpers shared by the C API and the CLI.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `data` to `path` through a temporary file in the same directory that is
/// synced and then renamed: an interrupted write (disk full, killed process) never
/// leaves a partial file under the final name.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = temp_name(path);
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|_| {
        let _ = std::fs::remove_file(&tmp);
        Error::Io
    })
}

fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.llmc-tmp-{}", std::process::id()))
}

/// Maps a file read-only (an empty file maps to an empty slice).
pub fn map(path: &Path) -> Result<Mapped> {
    let f = std::fs::File::open(path).map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { Error::NotFound } else { Error::Io })?;
    if f.metadata()?.len() == 0 {
        return Ok(Mapped(None));
    }
    // SAFETY: read-only map; like any mmap reader we rely on the file not being
    // truncated while mapped (documented for every path-taking function).
    Ok(Mapped(Some(unsafe { memmap2::Mmap::map(&f) }?)))
}

pub struct Mapped(Option<memmap2::Mmap>);

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.as_deref().unwrap_or(&[])
    }
}
