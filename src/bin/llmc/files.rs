//! File helpers: whole-file reads and crash-safe writes.

use std::io::Write;
use std::path::{Path, PathBuf};

pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes `data` to `path` through a temporary file in the same directory that is
/// synced and then renamed, so an interrupted write never leaves a partial file
/// under the final name.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), String> {
    let tmp = temp_name(path);
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.llmc-tmp-{}", std::process::id()))
}
