//! Compiling and running the C examples against the library cargo just built.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where cargo put the static and shared libraries for this test build.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().expect("deps directory").to_path_buf();
    assert!(dir.join("libllmc.a").exists(), "libllmc.a not found in {}", dir.display());
    dir
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Scratch directory for C binaries.
pub fn out_dir() -> PathBuf {
    let d = lib_dir().join("c_examples");
    std::fs::create_dir_all(&d).expect("create c_examples output dir");
    d
}

pub fn compiler(cpp: bool) -> cc::Tool {
    cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .opt_level(2)
        .target(env!("LLMC_BUILD_TARGET"))
        .host(env!("LLMC_BUILD_HOST"))
        .cpp(cpp)
        .get_compiler()
}

/// Native libraries a Rust staticlib needs (`--print native-static-libs`).
pub const NATIVE_LIBS: [&str; 7] = ["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

pub enum Link {
    Static,
    Shared,
}

/// The binary records the soname (libllmc.so.N, set by build.rs), which cargo does not
/// create beside libllmc.so; the link is what an install would make.
fn soname_link(lib: &Path) {
    let Some(soname) = option_env!("LLMC_SONAME") else { return };
    let link = lib.join(soname);
    // Tests link in parallel: a link another test made first is fine.
    match std::os::unix::fs::symlink("libllmc.so", &link) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("symlink {}: {e}", link.display()),
    }
}

/// Compiles `sources` (relative to the repo root) into an executable.
pub fn build(name: &str, sources: &[&str], std: &str, cpp: bool, link: Link, extra: &[&str]) -> PathBuf {
    let tool = compiler(cpp);
    let out = out_dir().join(name);
    let mut cmd: Command = tool.to_command();
    cmd.args(["-Wall", "-Wextra", "-Werror", "-pedantic", std])
        .arg("-I")
        .arg(root().join("include"))
        .arg("-I")
        .arg(root().join("c_examples"));
    if cpp {
        cmd.args(["-x", "c++"]);
    }
    for s in sources {
        cmd.arg(root().join(s));
    }
    if cpp {
        cmd.args(["-x", "none"]);
    }
    cmd.args(extra).arg("-o").arg(&out);
    let lib = lib_dir();
    match link {
        Link::Static => {
            cmd.arg(lib.join("libllmc.a")).args(NATIVE_LIBS);
        }
        Link::Shared => {
            soname_link(&lib);
            cmd.arg("-L").arg(&lib).arg("-lllmc").arg(format!("-Wl,-rpath,{}", lib.display()));
        }
    }
    let output = cmd.output().expect("run the C compiler");
    assert!(
        output.status.success(),
        "compiling {name} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Runs a binary; returns (success, stdout).
pub fn run(bin: &Path, args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run C example");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        eprintln!("{} failed:\n{stdout}\n{}", bin.display(), String::from_utf8_lossy(&out.stderr));
    }
    (out.status.success(), stdout)
}
