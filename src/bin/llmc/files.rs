//! File helpers for the CLI: whole-file reads with readable errors, detection of
//! what a file is, and default output names.

use llmc::stream::Output;
use std::fs::File;
use std::io::Seek;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

pub fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes `data` to `path` (`-` = standard output) with the output rules of
/// `llmc::stream`: regular files atomically, other nodes written through; a
/// regular file takes the permissions and time of `like` (see
/// `Output::create_like`).
pub fn write(path: &Path, data: &[u8], like: Option<&std::fs::Metadata>) -> Result<(), String> {
    let mut out = create_output(path, like)?;
    out.write(data).and_then(|()| out.commit()).map_err(|e| format!("cannot write {}: {e}", output_name(path)))
}

/// Copies the file `from` to `to` with `write`'s rules (atomically, taking
/// `from`'s permissions and time), in pieces: memory stays flat however large
/// the file. Returns the bytes copied.
pub fn copy(from: &Path, to: &Path) -> Result<u64, String> {
    use std::io::Read;
    let read_err = |e: std::io::Error| format!("cannot read {}: {e}", from.display());
    let write_err = |e: std::io::Error| format!("cannot write {}: {e}", output_name(to));
    let mut src = std::fs::File::open(from).map_err(read_err)?;
    let mut out = create_output(to, src.metadata().ok().as_ref())?;
    let n = match out.direct_file() {
        // A regular file: the kernel copies (copy_file_range), no bytes pass through here.
        Some(mut file) => {
            let n = std::io::copy(&mut src, &mut file).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), output_name(to)))?;
            out.set_len(n).map_err(write_err)?;
            n
        }
        None => {
            let mut buf = vec![0u8; 1 << 20];
            let mut n = 0u64;
            loop {
                let got = src.read(&mut buf).map_err(read_err)?;
                if got == 0 {
                    break n;
                }
                out.write(&buf[..got]).map_err(write_err)?;
                n += got as u64;
            }
        }
    };
    out.commit().map_err(write_err)?;
    Ok(n)
}

/// Why binary output to a terminal is refused.
pub const STDOUT_IS_TERMINAL: &str = "standard output is a terminal: redirect it (`> FILE`, `| ...`) or name a file with -o";

/// The output for `path`; `-` is standard output. A regular file takes the
/// permissions, group and modification time of `like`, the input's metadata.
pub fn create_output(path: &Path, like: Option<&std::fs::Metadata>) -> Result<Output, String> {
    if path == Path::new("-") {
        // Like zstd: binary data on a terminal is never what was meant.
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            return Err(STDOUT_IS_TERMINAL.into());
        }
        grow_pipe(std::io::stdout().as_fd());
        return Ok(Output::stdout());
    }
    match like {
        Some(m) => Output::create_like(path, m),
        None => Output::create(path),
    }
    .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Pipe buffer asked for on standard input and output when they are pipes:
/// with the default 64 KiB, a 1 MiB chunk crosses a pipe in sixteen rounds of
/// wake-ups between the two processes. 1 MiB is what an unprivileged process may
/// set by default (`/proc/sys/fs/pipe-max-size`).
const PIPE_BUFFER: libc::c_int = 1 << 20;

/// Enlarges the buffer of `fd` if it is a pipe (best effort: a refusal, or a
/// file that is not a pipe, leaves it as it is).
pub fn grow_pipe(fd: std::os::fd::BorrowedFd<'_>) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor we borrow for the call; F_GETPIPE_SZ and
    // F_SETPIPE_SZ take and return plain integers and fail with EBADF on
    // anything that is not a pipe, changing nothing.
    unsafe {
        let now = libc::fcntl(fd.as_raw_fd(), libc::F_GETPIPE_SZ);
        if now > 0 && now < PIPE_BUFFER {
            libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BUFFER);
        }
    }
}

/// Is standard input redirected from a regular file (read from its start)?
pub fn stdin_is_file() -> bool {
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else { return false };
    let mut f = File::from(fd);
    f.metadata().is_ok_and(|m| m.is_file()) && f.stream_position().is_ok_and(|p| p == 0)
}

/// An input file to compress. Standard input that is a pipe is first copied to
/// an unlinked temporary file (a raw frame's header needs its length, and
/// `--verify` and the per-stream method read it twice: GGUF and safetensors
/// from a pipe are compressed in one pass instead, without this copy);
/// standard input redirected from a file is used as it is.
pub fn open_input(path: &Path) -> Result<File, String> {
    if path != Path::new("-") {
        let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return match f.metadata() {
            Ok(m) if m.is_file() => Ok(f),
            Ok(m) if !m.is_dir() => Err(format!("cannot read {}: not a regular file (pipe it to standard input instead: `… | llmc compress - …`)", path.display())),
            Ok(_) => Err(format!("cannot read {}: not a regular file", path.display())),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        };
    }
    let fd = std::io::stdin().as_fd().try_clone_to_owned().map_err(|e| format!("cannot read standard input: {e}"))?;
    let mut stdin = File::from(fd);
    if stdin.metadata().is_ok_and(|m| m.is_file()) && stdin.stream_position().is_ok_and(|p| p == 0) {
        return Ok(stdin);
    }
    let spool_path = std::env::temp_dir().join(format!(".llmc-stdin-{}", std::process::id()));
    let mut spool = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&spool_path).map_err(|e| format!("cannot create a temporary file in {}: {e}", std::env::temp_dir().display()))?;
    let _ = std::fs::remove_file(&spool_path);
    std::io::copy(&mut std::io::stdin().lock(), &mut spool).map_err(|e| format!("cannot read standard input: {e}"))?;
    spool.rewind().map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(spool)
}

/// A named input to decode: a regular file (read with `pread`), or a pipe, a
/// character device or a socket (`<(cat m.llmc)`, a FIFO, `/dev/stdin` on a
/// pipe), read front to back as standard input is. Opened once: a FIFO
/// opened twice lets its writer see no reader in between (EPIPE).
pub enum Named {
    File(File),
    Stream(File),
}

pub fn open_named(path: &Path) -> Result<Named, String> {
    use std::os::unix::fs::FileTypeExt;
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let t = f.metadata().map_err(|e| format!("cannot read {}: {e}", path.display()))?.file_type();
    if t.is_file() {
        Ok(Named::File(f))
    } else if t.is_fifo() || t.is_char_device() || t.is_socket() {
        Ok(Named::Stream(f))
    } else {
        Err(format!("cannot read {}: not a regular file", path.display()))
    }
}

/// The first `len` bytes of a file (fewer if it is shorter).
pub fn head(f: &File, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let n = llmc::io::read_at_full(f, &mut buf, 0)?;
    buf.truncate(n);
    Ok(buf)
}

/// A whole file (`len` bytes) in memory, read with `pread`: a file truncated
/// meanwhile is an error, not a bus error.
pub fn read_all(f: &File, len: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; usize::try_from(len).map_err(|_| std::io::ErrorKind::OutOfMemory)?];
    if llmc::io::read_at_full(f, &mut buf, 0)? != buf.len() {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the file shrank while it was read"));
    }
    Ok(buf)
}

/// The whole input again, for error messages, when it is at most 1 GiB.
pub fn read_small(f: &File, len: u64) -> Option<Vec<u8>> {
    if len > 1 << 30 {
        return None;
    }
    read_all(f, len).ok()
}

/// What a file of `len` bytes starting with `head` is. A safetensors header
/// longer than `head` is recognised by its length field and opening brace.
pub fn kind_of_file(head: &[u8], len: u64) -> Kind {
    match kind(head) {
        Kind::Other if head.len() >= 9 && head[8] == b'{' && u64::from_le_bytes(head[..8].try_into().expect("8 bytes")).checked_add(8).is_some_and(|end| end <= len) => Kind::Safetensors,
        k => k,
    }
}

/// An error, in words, for messages.
pub fn explain(e: llmc::Error) -> String {
    match e {
        llmc::Error::SrcTruncated => format!("{e}: the input ends too early"),
        llmc::Error::Io => format!("{e}: a read or write failed"),
        e => e.to_string(),
    }
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gguf,
    Safetensors,
    Frame,
    Container,
    /// The paper's five-stream format (`--mode perstream`).
    PerStream,
    Other,
}

pub fn kind(bytes: &[u8]) -> Kind {
    match bytes.get(..4) {
        Some(b"GGUF") => Kind::Gguf,
        Some(b"LLMF") => Kind::Frame,
        Some(b"LLMC") => Kind::Container,
        Some(b"LLMS") => Kind::PerStream,
        _ if llmc::model::safetensors::looks_like(bytes) => Kind::Safetensors,
        _ => Kind::Other,
    }
}

/// How messages name an output: `-` is standard output.
pub fn output_name(path: &Path) -> String {
    if path == Path::new("-") { "standard output".into() } else { path.display().to_string() }
}

/// How messages name an input: `-` is standard input.
pub fn input_name(path: &Path) -> String {
    if path == Path::new("-") { "standard input".into() } else { path.display().to_string() }
}

/// `model.gguf` -> `model.gguf.llmc`.
pub fn compressed_name(input: &Path) -> PathBuf {
    let mut s = input.as_os_str().to_owned();
    s.push(".llmc");
    PathBuf::from(s)
}

/// `model.gguf.llmc` -> `model.gguf` (any bytes before `.llmc`, UTF-8 or not);
/// anything else needs an explicit `-o`.
pub fn decompressed_name(input: &Path) -> Result<PathBuf, String> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = input.as_os_str().as_bytes();
    match bytes.strip_suffix(b".llmc") {
        Some(stem) if !stem.is_empty() && !stem.ends_with(b"/") => Ok(PathBuf::from(std::ffi::OsStr::from_bytes(stem))),
        // A missing file is reported as missing, not as a name to fix.
        _ if std::fs::symlink_metadata(input).is_err() => Err(format!("cannot read {}: no such file", input.display())),
        _ => Err(format!("{}: name does not end in .llmc; pass -o OUTPUT", input.display())),
    }
}

/// Are `a` and `b` the same existing file (links followed)?
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => false,
    }
}
