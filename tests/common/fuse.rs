//! Running `llmc mount` in tests: start it in the background, wait for the
//! mount, unmount it (also when a test fails: `Drop`), and the Python readers
//! the tests drive.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a mount or an unmount may take before the test gives up (a guard
/// against hangs on a loaded machine, not a measurement).
const PATIENCE: Duration = Duration::from_secs(120);

pub fn llmc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_llmc"))
}

/// A fresh, empty directory under the cargo target's scratch space (what an
/// earlier run left there, a stale mount included, is removed first).
pub fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mount-tests").join(name);
    if is_mounted(&d.join("mnt")) {
        let _ = Command::new("fusermount3").arg("-u").arg("-z").arg(d.join("mnt")).output();
    }
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compresses `input` to `output` with the CLI unless a container newer than
/// the CLI itself is already there.
pub fn compressed(input: &Path, output: &Path) -> PathBuf {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let current = modified(output).is_some_and(|t| Some(t) > modified(Path::new(env!("CARGO_BIN_EXE_llmc"))));
    if !current {
        let out = llmc().arg("compress").arg(input).arg("-o").arg(output).arg("--force").output().unwrap();
        assert!(out.status.success(), "compress {}: {}", input.display(), String::from_utf8_lossy(&out.stderr));
    }
    output.to_path_buf()
}

fn is_mounted(dir: &Path) -> bool {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()).to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default().lines().any(|l| l.split(' ').nth(4) == Some(dir.as_str()))
}

/// `llmc mount SRC MOUNTPOINT ARGS...`, running in the background.
pub struct Mounted {
    pub dir: PathBuf,
    child: Option<Child>,
    log: PathBuf,
}

impl Mounted {
    pub fn start(src: &Path, scratch: &Path, args: &[&str]) -> Mounted {
        let dir = scratch.join("mnt");
        std::fs::create_dir_all(&dir).unwrap();
        let dir = dir.canonicalize().unwrap();
        let log = scratch.join("mount.log");
        let child = llmc()
            .arg("mount")
            .arg(src)
            .arg(&dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut m = Mounted { dir, child: Some(child), log };
        let start = Instant::now();
        while !is_mounted(&m.dir) {
            if let Some(status) = m.child.as_mut().unwrap().try_wait().unwrap() {
                m.child = None;
                panic!("llmc mount exited with {status} before mounting:\n{}", m.log());
            }
            assert!(start.elapsed() < PATIENCE, "no mount after {PATIENCE:?}:\n{}", m.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        m
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// What the daemon printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The daemon's resident set and peak resident set, in KiB (VmRSS, VmHWM).
    pub fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |k: &str| status.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap();
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Waits for the daemon to exit after something unmounted it; its status and log.
    pub fn wait(mut self) -> (ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > PATIENCE {
                let _ = child.kill();
                panic!("llmc mount still running {PATIENCE:?} after the unmount:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(!is_mounted(&self.dir), "{} still mounted after the daemon exited", self.dir.display());
        (status, self.log())
    }

    /// `fusermount3 -u`, then waits for the daemon to exit. A file closed just
    /// before is released to the daemon asynchronously, so the mount can still
    /// be busy for a moment (seen once in CI after eight readers closed their
    /// files): "busy" is retried for a few seconds, any other failure is not.
    pub fn unmount(self) -> (ExitStatus, String) {
        let start = Instant::now();
        loop {
            let out = Command::new("fusermount3").arg("-u").arg(&self.dir).output().expect("run fusermount3");
            let err = String::from_utf8_lossy(&out.stderr);
            if out.status.success() {
                break;
            }
            assert!(err.contains("busy") && start.elapsed() < Duration::from_secs(5), "fusermount3 -u: {err}");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.wait()
    }

    /// Sends `signal` (a `kill` name: TERM, INT) to the daemon.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill").arg(format!("-{signal}")).arg(self.pid().to_string()).status().unwrap().success();
        assert!(ok, "kill -{signal} failed");
    }
}

impl Drop for Mounted {
    /// A failed test must not leave a mount behind: detach it and stop the daemon.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("fusermount3").arg("-u").arg("-z").arg(&self.dir).output();
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The python of a virtual environment with gguf, safetensors and numpy
/// (`scripts/pyenv.sh` creates it once).
pub fn python() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pyenv.sh");
    let out = Command::new("bash").arg(script).output().unwrap();
    assert!(out.status.success(), "scripts/pyenv.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Runs a Python program with the given arguments; its stdout, or a panic with
/// both streams.
pub fn run_python(code: &str, args: &[&Path]) -> String {
    let out = Command::new(python()).arg("-c").arg(code).args(args).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

pub fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap().to_string()
}
