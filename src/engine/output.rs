//! Where a stream's output goes. A regular file (new or existing) is written to
//! a temporary name in its directory and renamed over the target only when the
//! whole output is complete ([`Output::commit`]); dropping an uncommitted output
//! removes the temporary file, so a failed or cut stream never leaves anything
//! under the final name. A symbolic link is followed (the file it points to is
//! replaced, the link stays). Anything that is not a regular file — a character
//! device such as `/dev/null`, a FIFO, a socket, standard output — is written
//! through, as zstd does: the node is left as it was and receives the bytes.

use super::io::{sync_parent, temp_name, track_temp, untrack_temp};
use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const BUFFER: usize = 1 << 20;
/// Writes at least this large bypass the buffer.
const DIRECT_WRITE: usize = BUFFER / 4;

enum Target {
    /// A temporary file renamed to `path` on commit.
    Atomic { file: File, tmp: PathBuf, path: PathBuf },
    /// A node written in place (device, FIFO, socket).
    Through(File),
    Stdout(std::io::Stdout),
    /// A buffer in memory (seekable).
    Memory(Vec<u8>),
}

/// A sequential output with an optional seek-back for regular files.
pub struct Output {
    target: Option<Target>,
    buf: Vec<u8>,
    /// Bytes handed to `write` so far.
    position: u64,
    /// The first write error, kept for messages (callers see `Error::Io`).
    error: Option<std::io::Error>,
    /// Permission bits and modification time given to a regular-file output
    /// when it is committed ([`Output::create_like`]).
    keep: Option<(u32, Option<std::time::SystemTime>)>,
}

impl Output {
    /// Standard output (written through).
    pub fn stdout() -> Output {
        Output::new(Target::Stdout(std::io::stdout()))
    }

    /// A buffer in memory, returned by [`Output::into_vec`].
    pub fn memory() -> Output {
        Output { target: Some(Target::Memory(Vec::new())), buf: Vec::new(), position: 0, error: None, keep: None }
    }

    /// The bytes of a memory output (empty for any other).
    pub fn into_vec(mut self) -> Vec<u8> {
        match self.target.take() {
            Some(Target::Memory(v)) => v,
            _ => Vec::new(),
        }
    }

    /// `path`, as the module docs say: atomic for regular files (the link
    /// target for a symbolic link), written through for other nodes.
    pub fn create(path: &Path) -> std::io::Result<Output> {
        Output::create_with(path, None)
    }

    /// [`Output::create`] for an output that takes the permission bits
    /// (`rwx` for owner, group and others; not set-id or sticky), the group
    /// and the modification time of the regular file `source`, as zstd and
    /// gzip do, so that a private model does not come out readable by others.
    /// The temporary file is created readable by its owner alone; the bits
    /// and the time are set at [`Output::commit`], after the last write. Where
    /// the group cannot be given (not a member), the group bits are dropped
    /// rather than granted to another group. Best effort otherwise: a file
    /// system that refuses them keeps its defaults. For any other source or
    /// output this is [`Output::create`].
    pub fn create_like(path: &Path, source: &std::fs::Metadata) -> std::io::Result<Output> {
        Output::create_with(path, Some(source).filter(|m| m.is_file()))
    }

    fn create_with(path: &Path, source: Option<&std::fs::Metadata>) -> std::io::Result<Output> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
        match std::fs::metadata(path) {
            Ok(m) if !m.file_type().is_file() && !m.is_dir() => {
                let f = std::fs::OpenOptions::new().write(true).open(path)?;
                return Ok(Output::new(Target::Through(f)));
            }
            _ => {}
        }
        let path = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path)?,
            _ => path.to_path_buf(),
        };
        let tmp = temp_name(&path);
        // Tracked before it exists, so that an interrupted process removes it.
        track_temp(&tmp);
        let mut open = std::fs::OpenOptions::new();
        open.write(true).create_new(true);
        if source.is_some() {
            // Owner only until commit: never more open than the source.
            open.mode(0o600);
        }
        let file = open.open(&tmp).inspect_err(|_| untrack_temp(&tmp))?;
        let mut out = Output::new(Target::Atomic { file, tmp, path });
        if let (Some(src), Some(Target::Atomic { file, .. })) = (source, &out.target) {
            let mut mode = src.permissions().mode() & 0o777;
            if std::os::unix::fs::fchown(file, None, Some(src.gid())).is_err() {
                mode &= !0o070;
            }
            out.keep = Some((mode, src.modified().ok()));
        }
        Ok(out)
    }

    fn new(target: Target) -> Output {
        Output { target: Some(target), buf: Vec::with_capacity(BUFFER), position: 0, error: None, keep: None }
    }

    /// True when earlier bytes can be rewritten ([`Output::patch`]).
    pub fn seekable(&self) -> bool {
        matches!(self.target, Some(Target::Atomic { .. } | Target::Memory(_)))
    }

    /// The temporary file of a regular-file output (to read it back before
    /// [`Output::commit`] gives it its final name).
    pub fn temp_path(&mut self) -> Option<&Path> {
        self.flush_buf().ok()?;
        match &self.target {
            Some(Target::Atomic { tmp, .. }) => Some(tmp),
            _ => None,
        }
    }

    /// The file of a regular-file output, for workers that write their bytes
    /// at their own offsets (`pwrite`); see [`Output::set_len`].
    pub fn direct_file(&self) -> Option<&File> {
        match &self.target {
            Some(Target::Atomic { file, .. }) if self.buf.is_empty() && self.position == 0 => Some(file),
            _ => None,
        }
    }

    /// After direct writes: sets the file's length (the bytes never written
    /// read as zeros) and the output's position.
    pub fn set_len(&mut self, len: u64) -> std::io::Result<()> {
        self.flush_buf()?;
        let r = match &self.target {
            Some(Target::Atomic { file, .. }) => file.set_len(len),
            _ => Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "output is not a regular file")),
        };
        let r = self.keep(r);
        self.position = len;
        r
    }

    /// Drops everything written from `len` on (seekable outputs only): the
    /// next write continues there.
    pub fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        let r = self.truncate_inner(len);
        self.keep(r)
    }

    fn truncate_inner(&mut self, len: u64) -> std::io::Result<()> {
        use std::io::Seek;
        self.flush_buf()?;
        if len > self.position {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        match &mut self.target {
            Some(Target::Atomic { file, .. }) => {
                file.set_len(len)?;
                file.seek(std::io::SeekFrom::Start(len))?;
            }
            Some(Target::Memory(v)) => v.truncate(len as usize),
            _ => return Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "output cannot seek")),
        }
        self.position = len;
        Ok(())
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The first write error this output met, if any (for messages).
    pub fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }

    fn keep<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            if self.error.is_none() {
                // A copy that keeps the OS error number (`llmc_last_os_error`).
                self.error = Some(match e.raw_os_error() {
                    Some(code) => std::io::Error::from_raw_os_error(code),
                    None => std::io::Error::new(e.kind(), e.to_string()),
                });
            }
        }
        r
    }

    pub fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        let r = self.write_inner(data);
        self.keep(r)
    }

    fn write_inner(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.position += data.len() as u64;
        if let Some(Target::Memory(v)) = self.target.as_mut() {
            v.extend_from_slice(data);
            return Ok(());
        }
        if self.buf.len() + data.len() > BUFFER {
            self.flush_buf()?;
        }
        // Large pieces (decoded chunks: block-aligned, so just under 1 MiB) go
        // out as they are; the buffer only gathers small ones, and copying a
        // whole file through it cost 3 % of `decompress -T 1`.
        if data.len() >= DIRECT_WRITE {
            self.flush_buf()?;
            return self.raw()?.write_all(data);
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Writes `len` zero bytes.
    pub fn write_zeros(&mut self, mut len: u64) -> std::io::Result<()> {
        static ZEROS: [u8; 1 << 16] = [0; 1 << 16];
        while len > 0 {
            let n = len.min(ZEROS.len() as u64) as usize;
            self.write(&ZEROS[..n])?;
            len -= n as u64;
        }
        Ok(())
    }

    /// Rewrites bytes written earlier at `offset` (seekable outputs only).
    pub fn patch(&mut self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let r = self.patch_inner(offset, data);
        self.keep(r)
    }

    fn patch_inner(&mut self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        // Bytes still in the buffer (its bytes are the last ones written) are
        // patched there: a container of tiny tensors back-patched each record
        // with a flush and a `pwrite` per tensor.
        let buffered_from = self.position - self.buf.len() as u64;
        if matches!(self.target, Some(Target::Atomic { .. })) && offset >= buffered_from && offset.checked_add(data.len() as u64).is_some_and(|end| end <= self.position) {
            let at = (offset - buffered_from) as usize;
            self.buf[at..at + data.len()].copy_from_slice(data);
            return Ok(());
        }
        self.flush_buf()?;
        match &mut self.target {
            Some(Target::Atomic { file, .. }) => file.write_all_at(data, offset),
            Some(Target::Memory(v)) => {
                let at = usize::try_from(offset).ok().filter(|&a| a <= v.len() && data.len() <= v.len() - a).ok_or(std::io::ErrorKind::InvalidInput)?;
                v[at..at + data.len()].copy_from_slice(data);
                Ok(())
            }
            _ => Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "output cannot seek")),
        }
    }

    fn raw(&mut self) -> std::io::Result<&mut dyn Write> {
        match self.target.as_mut() {
            Some(Target::Atomic { file, .. }) | Some(Target::Through(file)) => Ok(file),
            Some(Target::Stdout(s)) => Ok(s),
            Some(Target::Memory(v)) => Ok(v),
            None => Err(std::io::Error::other("output already finished")),
        }
    }

    fn flush_buf(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            let r = self.raw()?.write_all(&buf);
            self.buf = buf;
            self.buf.clear();
            r?;
        }
        Ok(())
    }

    /// Completes the output: flushes, and for a regular file syncs it and
    /// renames it to its final name.
    pub fn commit(mut self) -> std::io::Result<()> {
        self.flush_buf()?;
        match self.target.take() {
            Some(Target::Atomic { file, tmp, path }) => {
                if let Some((mode, modified)) = self.keep {
                    use std::os::unix::fs::PermissionsExt;
                    // After the last write (a write would move the time on).
                    let _ = file.set_permissions(std::fs::Permissions::from_mode(mode));
                    if let Some(t) = modified {
                        let _ = file.set_modified(t);
                    }
                }
                let r = file.sync_all().and_then(|()| std::fs::rename(&tmp, &path));
                if r.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                } else {
                    sync_parent(&path);
                }
                untrack_temp(&tmp);
                r
            }
            Some(Target::Through(mut f)) => f.flush(),
            Some(Target::Stdout(mut s)) => s.flush(),
            Some(Target::Memory(_)) | None => Ok(()),
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Some(Target::Atomic { tmp, .. }) = &self.target {
            let _ = std::fs::remove_file(tmp);
            untrack_temp(tmp);
        }
    }
}

/// Writes a whole buffer to `path` with [`Output`]'s rules (the C file
/// functions and the CLI's in-memory paths).
pub fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    let mut out = Output::create(path).map_err(|_| Error::Io)?;
    out.write(data).map_err(|_| Error::Io)?;
    out.commit().map_err(|_| Error::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("llmc-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn nothing_appears_under_the_final_name_before_commit() {
        let d = dir("atomic");
        let p = d.join("out");
        let mut o = Output::create(&p).unwrap();
        o.write(b"hello").unwrap();
        assert!(!p.exists());
        drop(o);
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0, "temporary file removed");
        let mut o = Output::create(&p).unwrap();
        o.write(b"hello world").unwrap();
        o.patch(0, b"J").unwrap();
        o.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"Jello world");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn temporaries_in_progress_are_removed_on_request() {
        // What the CLI does on Ctrl-C (run in a child process: the call leaves
        // the list locked for good).
        if std::env::var_os("LLMC_TEST_PENDING_CHILD").is_none() {
            let d = dir("pending");
            let exe = std::env::current_exe().unwrap();
            let st = std::process::Command::new(exe)
                .args(["--exact", "engine::output::tests::temporaries_in_progress_are_removed_on_request", "--nocapture"])
                .env("LLMC_TEST_PENDING_CHILD", &d)
                .output()
                .unwrap();
            assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stdout));
            assert_eq!(std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>(), vec![std::ffi::OsString::from("done")], "only the committed output is left");
            std::fs::remove_dir_all(&d).unwrap();
            return;
        }
        let d = PathBuf::from(std::env::var_os("LLMC_TEST_PENDING_CHILD").unwrap());
        let mut done = Output::create(&d.join("done")).unwrap();
        done.write(b"x").unwrap();
        done.commit().unwrap();
        let mut a = Output::create(&d.join("a")).unwrap();
        a.write(b"partial").unwrap();
        a.flush_buf().unwrap();
        let staged = temp_name(&d.join("dir"));
        std::fs::create_dir_all(staged.join("sub")).unwrap();
        std::fs::write(staged.join("sub/f"), b"y").unwrap();
        crate::engine::io::track_temp(&staged);
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 3);
        assert_eq!(crate::engine::io::remove_pending_temps(), 2);
        std::mem::forget(a);
    }

    #[test]
    fn a_symlink_is_followed_not_replaced() {
        let d = dir("link");
        std::fs::write(d.join("target"), b"old").unwrap();
        std::os::unix::fs::symlink(d.join("target"), d.join("link")).unwrap();
        write_file(&d.join("link"), b"new").unwrap();
        assert!(std::fs::symlink_metadata(d.join("link")).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(d.join("target")).unwrap(), b"new");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
