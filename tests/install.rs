//! The installed C library (`scripts/install.sh`), used from a clean prefix the way C
//! users do: a CMake project with `find_package(llmc)` and a pkg-config build compile a
//! C example against the installed copy, then run it on a fixture.
//!
//! cmake, pkg-config and readelf are required in CI (CI=true; .ci/run installs them);
//! on a dev machine without them a test prints why it skipped.
#![cfg(target_os = "linux")]

mod common;
use common::c_build;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const EXAMPLE: &str = "c_examples/bf16_roundtrip.c";
const FIXTURE: &str = "bf16/all-minilm-l6-v2.layer.0.query.bf16";
const SONAME: &str = env!("LLMC_SONAME");

fn shared_file() -> String {
    format!("libllmc.so.{}", env!("CARGO_PKG_VERSION"))
}

/// Whether `tool` runs; a missing tool fails the test in CI and skips it elsewhere.
fn have(tool: &str, package: &str) -> bool {
    if Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let why = format!("`{tool}` is not installed (Debian: apt-get install {package})");
    assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "{why}; .ci/run installs it");
    eprintln!("skipped: {why}");
    false
}

/// Runs `cmd`, failing with its output unless it succeeds; returns stdout.
fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{cmd:?} failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    stdout
}

/// An empty directory under the target dir, for this test binary's runs.
fn scratch(name: &str) -> PathBuf {
    let dir = c_build::lib_dir().join("install-test").join(name);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("remove {}: {e}", dir.display()),
        _ => {}
    }
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

fn install_script() -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(c_build::root().join("scripts/install.sh"));
    for var in ["PREFIX", "LIBDIR", "INCLUDEDIR", "PKGCONFIGDIR", "DESTDIR"] {
        cmd.env_remove(var);
    }
    cmd
}

/// The prefix the library was installed into, once per test binary. `--from` installs
/// the libraries this test build made: a nested `cargo build` would resolve dev-dependency
/// features differently and rebuild the crate over them on every run.
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let prefix = scratch("prefix");
        run_ok(install_script().arg("--from").arg(c_build::lib_dir()).arg("--prefix").arg(&prefix).args(["--libdir", "lib"]));
        prefix
    })
}

fn readelf_dynamic(file: &Path) -> String {
    run_ok(Command::new("readelf").arg("-d").arg(file))
}

/// The example must link the installed shared library by its soname, or not at all.
fn check_links(bin: &Path, shared: bool) {
    let dynamic = readelf_dynamic(bin);
    let needs_llmc: Vec<&str> = dynamic.lines().filter(|l| l.contains("(NEEDED)") && l.contains("libllmc")).collect();
    if shared {
        assert!(
            needs_llmc.len() == 1 && needs_llmc[0].contains(&format!("[{SONAME}]")),
            "{} should need {SONAME}:\n{dynamic}",
            bin.display()
        );
    } else {
        assert!(needs_llmc.is_empty(), "{} is linked statically but needs {needs_llmc:?}", bin.display());
    }
}

/// Runs the example on a fixture in `env` alone; a shared one must load the installed .so.
/// (cargo puts target/release/deps, where the c_api tests link libllmc.so.N, on the
/// test's LD_LIBRARY_PATH; a user's environment has no such entry.)
fn run_example(bin: &Path, shared: bool, env: &[(&str, &Path)]) {
    if shared {
        let mut ldd = Command::new("ldd");
        ldd.arg(bin).env_remove("LD_LIBRARY_PATH").envs(env.iter().copied());
        let resolved = run_ok(&mut ldd);
        let want = format!("{SONAME} => {}", prefix().join("lib").join(SONAME).display());
        assert!(resolved.contains(&want), "{} should load the installed library ({want}):\n{resolved}", bin.display());
    }
    let fixture = common::fixtures_dir().join(FIXTURE);
    let out = run_ok(Command::new(bin).arg(&fixture).env_remove("LD_LIBRARY_PATH").envs(env.iter().copied()));
    let isa_lines: Vec<&str> = out.lines().filter(|l| l.starts_with("isa=")).collect();
    assert!(!isa_lines.is_empty() && isa_lines.iter().all(|l| l.contains("roundtrip=ok")), "{}:\n{out}", bin.display());
    assert!(out.contains("errors: ok"), "{}:\n{out}", bin.display());
}

#[test]
fn cmake_find_package_builds_and_runs_an_example() {
    if !have("cmake", "cmake") || !have("readelf", "binutils") {
        return;
    }
    let prefix = prefix();
    let project = scratch("cmake");
    // find_package must refuse a version the install does not offer, then accept its own.
    let lists = r#"cmake_minimum_required(VERSION 3.10)
project(llmc_consumer C)
set(CMAKE_C_STANDARD 99)
set(CMAKE_C_EXTENSIONS OFF)
find_package(llmc 99 QUIET)
if(llmc_FOUND)
  message(FATAL_ERROR "find_package(llmc 99) accepted llmc ${llmc_VERSION}")
endif()
find_package(llmc ${WANT_VERSION} REQUIRED)
foreach(name example example_static)
  add_executable(${name} ${EXAMPLE})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -pedantic)
endforeach()
target_link_libraries(example PRIVATE llmc::llmc)
target_link_libraries(example_static PRIVATE llmc::llmc_static)
"#;
    std::fs::write(project.join("CMakeLists.txt"), lists).unwrap();
    let configure_and_build = |build: &Path, extra: &[&str], target: &str| {
        run_ok(
            Command::new("cmake")
                .arg("-S")
                .arg(&project)
                .arg("-B")
                .arg(build)
                .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
                .arg(format!("-DEXAMPLE={}", c_build::root().join(EXAMPLE).display()))
                .arg(concat!("-DWANT_VERSION=", env!("CARGO_PKG_VERSION_MAJOR"), ".", env!("CARGO_PKG_VERSION_MINOR")))
                .arg("-DCMAKE_BUILD_TYPE=Release")
                .args(extra),
        );
        run_ok(Command::new("cmake").arg("--build").arg(build).args(["--target", target]));
    };
    let build = project.join("build");
    configure_and_build(&build, &[], "all");
    // CMake gives the shared example an rpath to the installed lib directory.
    check_links(&build.join("example"), true);
    run_example(&build.join("example"), true, &[]);
    check_links(&build.join("example_static"), false);
    run_example(&build.join("example_static"), false, &[]);
    // The switch that makes llmc::llmc the static library.
    let build = project.join("build-static-option");
    configure_and_build(&build, &["-DLLMC_USE_STATIC_LIBS=ON"], "example");
    check_links(&build.join("example"), false);
}

#[test]
fn pkg_config_builds_and_runs_an_example_shared_and_static() {
    if !have("pkg-config", "pkg-config") || !have("readelf", "binutils") {
        return;
    }
    let prefix = prefix();
    let libdir = prefix.join("lib");
    let pkg_config = |args: &[&str]| -> Vec<String> {
        let out = run_ok(Command::new("pkg-config").args(args).arg("llmc").env("PKG_CONFIG_PATH", libdir.join("pkgconfig")));
        out.split_whitespace().map(str::to_owned).collect()
    };
    assert_eq!(pkg_config(&["--modversion"]), [env!("CARGO_PKG_VERSION")]);
    let out = scratch("pkg-config");
    let compile = |name: &str, flags: &[String]| -> PathBuf {
        let bin = out.join(name);
        let mut cc = c_build::compiler(false).to_command();
        cc.args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]).arg(c_build::root().join(EXAMPLE)).args(flags).arg("-o").arg(&bin);
        run_ok(&mut cc);
        bin
    };

    // cc example.c $(pkg-config --cflags --libs llmc), run with LD_LIBRARY_PATH.
    let shared = compile("example_shared", &pkg_config(&["--cflags", "--libs"]));
    check_links(&shared, true);
    run_example(&shared, true, &[("LD_LIBRARY_PATH", &libdir)]);

    // --static adds Libs.private; -l:libllmc.a picks the archive over the .so beside it
    // (what meson and CMake's pkg_check_modules do for a static dependency).
    let mut flags = pkg_config(&["--static", "--cflags", "--libs"]);
    let lib = flags.iter_mut().find(|f| *f == "-lllmc").expect("pkg-config --libs gives -lllmc");
    *lib = "-l:libllmc.a".into();
    let fully_static = compile("example_static", &flags);
    check_links(&fully_static, false);
    run_example(&fully_static, false, &[]);
}

#[test]
fn staged_install_has_cargo_c_layout_and_no_staging_paths() {
    if !have("readelf", "binutils") {
        return;
    }
    let stage = scratch("stage");
    run_ok(install_script().arg("--from").arg(c_build::lib_dir()).env("DESTDIR", &stage).env("PREFIX", "/usr").env("LIBDIR", "lib64"));
    let lib = stage.join("usr/lib64");
    let real = lib.join(shared_file());
    assert!(real.symlink_metadata().is_ok_and(|m| m.is_file()), "{} is not a regular file", real.display());
    assert_eq!(std::fs::read_link(lib.join(SONAME)).unwrap(), Path::new(&shared_file()));
    assert_eq!(std::fs::read_link(lib.join("libllmc.so")).unwrap(), Path::new(SONAME));
    let dynamic = readelf_dynamic(&real);
    assert!(dynamic.contains(&format!("Library soname: [{SONAME}]")), "{dynamic}");
    assert!(lib.join("libllmc.a").is_file());
    let header = std::fs::read(stage.join("usr/include/llmc.h")).unwrap();
    assert!(header == std::fs::read(c_build::root().join("include/llmc.h")).unwrap(), "installed header differs");

    let pc = std::fs::read_to_string(lib.join("pkgconfig/llmc.pc")).unwrap();
    for line in ["prefix=/usr", "libdir=${prefix}/lib64", "includedir=${prefix}/include", concat!("Version: ", env!("CARGO_PKG_VERSION"))] {
        assert!(pc.lines().any(|l| l == line), "llmc.pc lacks `{line}`:\n{pc}");
    }
    assert!(pc.lines().any(|l| l.starts_with("Libs.private: ") && l.contains("-lpthread")), "{pc}");
    for text in ["pkgconfig/llmc.pc", "cmake/llmc/llmcConfig.cmake", "cmake/llmc/llmcConfigVersion.cmake"] {
        let body = std::fs::read_to_string(lib.join(text)).unwrap();
        assert!(!body.contains(stage.to_str().unwrap()), "{text} names the staging directory:\n{body}");
        assert!(!body.contains('@'), "{text} has an unreplaced @placeholder@:\n{body}");
    }

    // Mistakes are refused with a reason, before anything is written.
    let out = install_script().args(["--no-build", "--prefix", "relative/dir"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("absolute"), "{out:?}");
}
