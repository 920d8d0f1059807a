//! `llmc mount SRC MOUNTPOINT`: a read-only FUSE view of a container (or of a
//! directory made by `llmc compress DIR`) that unmodified programs open, read
//! and mmap by path, decoding only the chunks they touch. Runs in the
//! foreground until unmounted (`fusermount3 -u MOUNTPOINT`, SIGINT, SIGTERM).

mod fs;
mod tree;

use fuser::{Config, MountOption, Session, SessionACL};
use llmc::model::ReadEngine;
use llmc::DecodeOptions;
use std::path::{Path, PathBuf};

pub struct MountArgs {
    pub src: PathBuf,
    pub mountpoint: PathBuf,
    /// Read-ahead decoding threads.
    pub threads: usize,
    /// Bytes of decoded chunks kept.
    pub cache_size: usize,
    /// Serve read() through the kernel page cache rather than direct I/O.
    pub page_cache: bool,
    /// Let other users read the files (e.g. a model server's service account).
    pub allow_other: bool,
}

pub fn run(args: &MountArgs) -> Result<(), String> {
    check_prerequisites()?;
    if !args.mountpoint.is_dir() {
        return Err(format!("{}: the mount point must be an existing directory", args.mountpoint.display()));
    }
    if is_fuse_mount(&args.mountpoint) {
        return Err(format!("{}: a FUSE file system (another llmc mount?) is mounted there already; unmount it first (`fusermount3 -u {}`)", args.mountpoint.display(), args.mountpoint.display()));
    }
    if std::fs::read_dir(&args.mountpoint).is_ok_and(|mut d| d.next().is_some()) {
        eprintln!("llmc mount: warning: {} is not empty; its files are hidden while mounted", args.mountpoint.display());
    }
    // Before any thread starts, so that every thread inherits the mask and the
    // signals reach only the waiting thread below.
    let signals = block_termination_signals();
    let engine = ReadEngine::new(args.cache_size, args.threads).map_err(|e| format!("cannot start read-ahead threads: {e}"))?;
    let tree = tree::Tree::build(&args.src, &engine, &DecodeOptions::default())?;
    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::RO,
        MountOption::NoDev,
        MountOption::NoSuid,
        MountOption::FSName(args.src.display().to_string()),
        MountOption::Subtype("llmc".into()),
        MountOption::CUSTOM(format!("max_read={}", fs::MAX_READ)),
        // The kernel checks the permission bits shown (the sources' own).
        MountOption::DefaultPermissions,
    ];
    // Cache misses are decoded on the threads serving requests; read-ahead on the workers.
    config.n_threads = Some(args.threads.max(2));
    config.clone_fd = true;
    if args.allow_other {
        // Non-root users need `user_allow_other` in /etc/fuse.conf for this.
        config.acl = SessionACL::All;
    }
    let session = Session::new(fs::MountFs::new(tree, args.page_cache), &args.mountpoint, &config).map_err(|e| format!("cannot mount on {}: {e}", args.mountpoint.display()))?;
    let mountpoint = args.mountpoint.clone();
    std::thread::spawn(move || unmount_on_signal(signals, &mountpoint));
    let mountpoint = args.mountpoint.clone();
    std::thread::spawn(move || raise_kernel_readahead(&mountpoint));
    eprintln!(
        "llmc mount: {} on {} (cache {} MiB, {} read-ahead threads); unmount with `fusermount3 -u {}` or Ctrl-C",
        args.src.display(),
        args.mountpoint.display(),
        args.cache_size >> 20,
        args.threads,
        args.mountpoint.display()
    );
    session.run().map_err(|e| format!("{}: {e}", args.mountpoint.display()))?;
    eprintln!("llmc mount: {} unmounted", args.mountpoint.display());
    Ok(())
}

/// Is a FUSE file system (an `llmc mount`, or another) mounted on `dir`?
/// Stacking a second one there hides the first and leaves both hard to
/// unmount; any other file system there is fine (a volume bind-mounted into
/// a container is a mount point too). Read from /proc/self/mountinfo: field 5
/// is the mount point, the field after ` - ` the type (`fuse`, `fuse.llmc`).
fn is_fuse_mount(dir: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else { return false };
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return false };
    info.lines().any(|line| {
        let mut halves = line.splitn(2, " - ");
        let (Some(left), Some(right)) = (halves.next(), halves.next()) else { return false };
        let at = left.split(' ').nth(4).map(|p| p.replace("\\040", " "));
        at.as_deref() == dir.to_str() && right.split(' ').next().is_some_and(|t| t == "fuse" || t.starts_with("fuse."))
    })
}

fn check_prerequisites() -> Result<(), String> {
    if !Path::new("/dev/fuse").exists() {
        return Err("/dev/fuse is missing: load the FUSE kernel module (`modprobe fuse`), or run the container with `--device /dev/fuse --cap-add SYS_ADMIN`; the tools come with the fuse3 package (`apt-get install fuse3`)".into());
    }
    let in_path = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("fusermount3").is_file()));
    if !in_path {
        return Err("fusermount3 not found: install the fuse3 package (Debian/Ubuntu: `apt-get install fuse3`, Fedora: `dnf install fuse3`)".into());
    }
    Ok(())
}

/// Blocks SIGINT and SIGTERM in this thread (and the threads it starts later).
fn block_termination_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it before use, and
    // pthread_sigmask only reads it.
    unsafe {
        let mut set: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, core::ptr::null_mut());
        set
    }
}

/// Waits for SIGINT or SIGTERM, then detaches the mount: the session ends once
/// no process uses the files any more, and `run` returns.
fn unmount_on_signal(signals: libc::sigset_t, mountpoint: &Path) {
    let mut sig = 0;
    // SAFETY: `signals` is an initialised set, blocked in every thread.
    while unsafe { libc::sigwait(&signals, &mut sig) } != 0 {}
    eprintln!("llmc mount: signal {sig}, unmounting {}", mountpoint.display());
    let ok = std::process::Command::new("fusermount3").arg("-u").arg("-z").arg(mountpoint).status().is_ok_and(|s| s.success());
    if !ok {
        eprintln!("llmc mount: fusermount3 -u -z {} failed", mountpoint.display());
        std::process::exit(1);
    }
}

/// The kernel reads ahead of FUSE readers 128 KiB at a time unless the mount's
/// backing device allows more; 1 MiB requests cut the round trips eightfold.
/// Best effort: needs root, and changes only this mount's own device, which
/// goes away with it.
fn raise_kernel_readahead(mountpoint: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(mountpoint) else { return };
    let dev = meta.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let knob = format!("/sys/class/bdi/{major}:{minor}/read_ahead_kb");
    let _ = std::fs::write(knob, format!("{}", fs::MAX_READ >> 10));
}

/// `256M`, `1G`, `512MiB`, `1048576`: bytes (K, M, G, T in powers of 1024).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not a size (e.g. 256M, 1G)"))?;
    let shift = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{s:?}: unknown unit (use K, M, G or T)")),
    };
    n.checked_mul(1 << shift).and_then(|b| usize::try_from(b).ok()).ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(super::parse_size("256M"), Ok(256 << 20));
        assert_eq!(super::parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(super::parse_size("4096"), Ok(4096));
        assert_eq!(super::parse_size("0"), Ok(0));
        assert!(super::parse_size("12X").is_err() && super::parse_size("M").is_err());
    }
}
