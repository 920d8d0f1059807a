//! File helpers shared by the C API and the CLI.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Reads into `buf` at `offset` of `f` until it is full or the file ends
/// (`pread`, retried when interrupted); returns the count read.
pub fn read_at_full(f: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Writes `data` to `path` through a temporary file in the same directory that is
/// synced and then renamed: an interrupted write (disk full, killed process) never
/// leaves a partial file under the final name. A failed write removes its
/// temporary file; only a killed process can leave one (`.NAME.llmc-tmp-*`).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    write_atomic_io(path, data).map_err(Error::from)
}

/// `write_atomic` keeping the operating system's error, for messages.
pub fn write_atomic_io(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = temp_name(path);
    track_temp(&tmp);
    let result = (|| -> std::io::Result<()> {
        let mut f = create_temp(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    untrack_temp(&tmp);
    match result {
        Ok(()) => {
            sync_parent(path);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Creates `tmp`, which must not exist. One that does is left by a killed
/// process that had our pid (our counter never repeats), so it is removed.
fn create_temp(tmp: &Path) -> std::io::Result<std::fs::File> {
    let open = || std::fs::OpenOptions::new().write(true).create_new(true).open(tmp);
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(tmp)?;
            open()
        }
        other => other,
    }
}

/// Temporary outputs (files, and staged directories) being written now, for a
/// command-line tool that is interrupted by a signal: see [`remove_pending_temps`].
static PENDING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records `path` as a temporary output in progress (before it is created).
pub fn track_temp(path: &Path) {
    pending().push(path.to_path_buf());
}

/// Creates `dir` and its parents while holding the list of temporaries in
/// progress. A signal's cleanup ([`remove_pending_temps`]) takes that list for
/// good, so a directory is made either before it (and removed by it) or not at
/// all: writing the next file of a staged output directory used to make the
/// directory again just after Ctrl-C had removed it, and left it behind.
pub fn create_dir_all_tracked(dir: &Path) -> std::io::Result<()> {
    let _list = pending();
    std::fs::create_dir_all(dir)
}

/// Forgets `path` (it was renamed into place or removed).
pub fn untrack_temp(path: &Path) {
    let mut g = pending();
    if let Some(i) = g.iter().rposition(|p| p == path) {
        g.swap_remove(i);
    }
}

/// Removes every temporary output still in progress (a directory with what it
/// holds) and returns how many there were. For a process about to end on a
/// signal (Ctrl-C): the list stays locked afterwards, so no writer starts
/// another one meanwhile. A process killed outright (SIGKILL) can still leave
/// its `.NAME.llmc-tmp-*` behind.
pub fn remove_pending_temps() -> usize {
    let g = pending();
    for p in g.iter() {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => {
                // Other threads may still be writing into a staged directory
                // (a file created while it is emptied makes the removal fail):
                // retry briefly until it is gone.
                for _ in 0..50 {
                    if std::fs::remove_dir_all(p).is_ok() || std::fs::symlink_metadata(p).is_err() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
            Ok(_) => {
                let _ = std::fs::remove_file(p);
            }
            Err(_) => {}
        }
    }
    let n = g.len();
    std::mem::forget(g);
    n
}

/// A name no other writer in this or another live process uses: the pid and a
/// per-process counter (`create_temp` never follows an existing file or link).
/// The target's name is cut so that the whole stays within the 255 bytes a
/// file name may have: a legal name of 240 bytes must not fail for its
/// temporary's sake (found by an outside test).
pub fn temp_name(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    const NAME_MAX: usize = 255;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let suffix = format!(".llmc-tmp-{}-{n}", std::process::id());
    let mut name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let room = NAME_MAX - 1 - suffix.len();
    if name.len() > room {
        let cut = (0..=room).rev().find(|&i| name.is_char_boundary(i)).unwrap_or(0);
        name.truncate(cut);
    }
    path.with_file_name(format!(".{name}{suffix}"))
}

/// Makes a rename durable. Best effort: some filesystems refuse to sync a
/// directory, and the data itself is already synced.
pub fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
}

/// Maps a file read-only (an empty file maps to an empty slice).
pub fn map(path: &Path) -> Result<Mapped> {
    let f = std::fs::File::open(path).map_err(|e| Error::from_io(&e))?;
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

/// Copies the rest of `input` (at most `cap` bytes, else `LimitExceeded`) to a
/// temporary file that has no name (unlinked at once: nothing is left behind),
/// for a reader that needs offsets a stream does not give.
pub fn spool(input: &mut super::input::Input<'_>, cap: u64) -> Result<std::fs::File> {
    use std::io::Write;
    let dir = std::env::temp_dir();
    let path = dir.join(format!(".llmc-spool-{}-{}", std::process::id(), SPOOLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    let mut file = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).map_err(|e| Error::from_io(&e))?;
    let _ = std::fs::remove_file(&path);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = input.read_full(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > cap {
            return Err(Error::LimitExceeded);
        }
        file.write_all(&buf[..n]).map_err(|e| Error::from_io(&e))?;
    }
    Ok(file)
}

static SPOOLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
