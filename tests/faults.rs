//! Faults while writing: a write that fails part-way (file size limit, as a full
//! disk would), a rename onto a directory, a process killed mid-work or
//! mid-write, and damaged inputs to `decompress --verify`. None may leave a file
//! under the final name; only a killed process may leave its hidden temporary.

mod common;
use common::*;
use llmc::model::Index;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const LLMC: &str = env!("CARGO_BIN_EXE_llmc");

/// A fresh, empty scratch directory per test.
fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("llmc-faults-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn llmc(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(LLMC).args(args).output().unwrap()
}

/// `llmc ARGS` with writes limited to 32 KiB (`ulimit -f`; SIGXFSZ ignored, so
/// the write fails with EFBIG part-way through the file, as on a full disk).
fn llmc_with_small_fsize(args: &[&std::ffi::OsStr]) -> Output {
    Command::new("sh").arg("-c").arg("trap '' XFSZ; ulimit -f 64; exec \"$0\" \"$@\"").arg(LLMC).args(args).output().unwrap()
}

fn blk0() -> PathBuf {
    fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_write_failing_part_way_leaves_nothing_behind() {
    let dir = scratch("fsize");
    let out = dir.join("blk0.gguf.llmc");
    let o = llmc_with_small_fsize(&["compress".as_ref(), blk0().as_os_str(), "-o".as_ref(), out.as_os_str(), "--level".as_ref(), "3".as_ref()]);
    assert!(!o.status.success(), "the size limit did not bite");
    assert!(stderr(&o).contains("cannot write") && stderr(&o).contains("too large"), "{}", stderr(&o));
    assert_eq!(entries(&dir), Vec::<String>::new(), "neither the output nor its temporary may remain");

    // Decompressing: the frame is small, the output is not.
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let frame = dir.join("q.llmc");
    assert!(llmc(&["compress".as_ref(), "--codec".as_ref(), "bf16".as_ref(), input.as_os_str(), "-o".as_ref(), frame.as_os_str()]).status.success());
    let back = dir.join("q.bf16");
    let o = llmc_with_small_fsize(&["decompress".as_ref(), frame.as_os_str(), "-o".as_ref(), back.as_os_str()]);
    assert!(!o.status.success() && stderr(&o).contains("cannot write"), "{}", stderr(&o));
    assert_eq!(entries(&dir), vec!["q.llmc"]);

    // Many chunks on two workers: the workers write the file themselves (one
    // writes while the other decodes), and the failure still stops the run.
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.word_embeddings.bf16");
    let frame = dir.join("w.llmc");
    assert!(llmc(&["compress".as_ref(), "--codec".as_ref(), "bf16".as_ref(), input.as_os_str(), "-o".as_ref(), frame.as_os_str()]).status.success());
    let back = dir.join("w.bf16");
    let o = llmc_with_small_fsize(&["decompress".as_ref(), "-T".as_ref(), "2".as_ref(), frame.as_os_str(), "-o".as_ref(), back.as_os_str()]);
    assert!(!o.status.success() && stderr(&o).contains("cannot write"), "{}", stderr(&o));
    assert_eq!(entries(&dir), vec!["q.llmc", "w.llmc"]);
}

#[test]
fn a_directory_failing_part_way_leaves_no_output_directory() {
    let dir = scratch("fsize-dir");
    let ckpt = dir.join("ckpt");
    std::fs::create_dir_all(ckpt.join("sub")).unwrap();
    std::fs::write(ckpt.join("config.json"), b"{}").unwrap();
    std::fs::copy(blk0(), ckpt.join("sub/model.gguf")).unwrap();
    let out = dir.join("ckpt.llmc");
    let o = llmc_with_small_fsize(&["compress".as_ref(), ckpt.as_os_str(), "-o".as_ref(), out.as_os_str(), "--level".as_ref(), "3".as_ref()]);
    assert!(!o.status.success() && stderr(&o).contains("cannot write"), "{}", stderr(&o));
    assert_eq!(entries(&dir), vec!["ckpt"], "no output directory, no staging directory");
    // Without the limit the same command works and leaves exactly the output.
    let o = llmc(&["compress".as_ref(), ckpt.as_os_str(), "-o".as_ref(), out.as_os_str(), "--level".as_ref(), "3".as_ref()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(entries(&dir), vec!["ckpt", "ckpt.llmc"]);
    assert_eq!(entries(&out.join("sub")), vec!["model.gguf.llmc"]);
}

#[test]
fn a_rename_onto_a_directory_fails_cleanly() {
    let dir = scratch("rename");
    let taken = dir.join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("keep"), b"x").unwrap();
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let o = llmc(&["compress".as_ref(), "--codec".as_ref(), "bf16".as_ref(), input.as_os_str(), "-o".as_ref(), taken.as_os_str()]);
    assert!(!o.status.success() && stderr(&o).contains("cannot write"), "{}", stderr(&o));
    assert_eq!(entries(&dir), vec!["taken"], "no temporary left");
    assert_eq!(entries(&taken), vec!["keep"]);

    // The C API's file functions go through the same writer.
    let path = |p: &Path| std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    let (src, dst) = (path(&blk0()), path(&taken));
    // SAFETY: NUL-terminated paths; NULL params means defaults.
    let status = unsafe { llmc::ffi::container::llmc_container_compress_file(src.as_ptr(), dst.as_ptr(), std::ptr::null()) };
    assert_eq!(status, llmc::Error::Io.code());
    assert_eq!(entries(&dir), vec!["taken"]);
}

/// Starts `llmc compress` on the block-0 fixture (about 0.8 s with zstd
/// level 22 on its 6.5 MB of metadata) and SIGKILLs it when `when` says so.
fn kill_compress(test: &str, when: impl Fn(&Path, Duration) -> bool) -> (PathBuf, Vec<String>) {
    let dir = scratch(test);
    let out = dir.join("blk0.gguf.llmc");
    let mut child = Command::new(LLMC).args(["compress".as_ref(), blk0().as_os_str(), "-o".as_ref(), out.as_os_str(), "-T".as_ref(), "1".as_ref(), "--level".as_ref(), "22".as_ref()]).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while !when(&dir, start.elapsed()) {
        assert!(child.try_wait().unwrap().is_none(), "llmc finished before it could be killed");
        assert!(start.elapsed() < Duration::from_secs(120), "gave up waiting");
        std::thread::sleep(Duration::from_micros(200));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "llmc finished before it was killed: {status}");
    assert!(!out.exists(), "a killed compress left {}", out.display());
    (dir.clone(), entries(&dir))
}

#[test]
fn a_killed_compress_leaves_nothing_under_the_final_name() {
    // Mid-work: the output streams into its temporary from the start, so at
    // most that temporary is left, never the final name.
    let (_, left) = kill_compress("kill-work", |_, t| t > Duration::from_millis(100));
    assert!(left.len() <= 1 && left.iter().all(|l| l.starts_with(".blk0.gguf.llmc.llmc-tmp-")), "{left:?}");
    // Mid-write: killed as soon as the temporary appears.
    let (_, left) = kill_compress("kill-write", |dir, _| !entries(dir).is_empty());
    assert!(left.len() == 1 && left[0].starts_with(".blk0.gguf.llmc.llmc-tmp-"), "{left:?}");
}

/// Starts `llmc ARGS`, waits until its temporary output shows
/// up in `watch`, sends `sig` and returns how it ended and what is left there.
fn signal_llmc(args: &[&std::ffi::OsStr], watch: &Path, sig: i32) -> (std::process::ExitStatus, Vec<String>) {
    signal_llmc_fed(args, None, watch, sig)
}

/// [`signal_llmc`] with `feed` written to the child's standard input, which is
/// then held open: the child waits there for the rest (a compress cannot end
/// before the signal, however fast it is).
fn signal_llmc_fed(args: &[&std::ffi::OsStr], feed: Option<&[u8]>, watch: &Path, sig: i32) -> (std::process::ExitStatus, Vec<String>) {
    let mut cmd = Command::new(LLMC);
    cmd.args(args).stderr(Stdio::null());
    if feed.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    let stdin = feed.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        std::io::Write::write_all(&mut pipe, bytes).unwrap();
        pipe
    });
    let start = Instant::now();
    while !entries(watch).iter().any(|e| e.contains(".llmc-tmp-")) {
        assert!(child.try_wait().unwrap().is_none(), "llmc finished before the signal");
        assert!(start.elapsed() < Duration::from_secs(120), "gave up waiting");
        std::thread::sleep(Duration::from_micros(200));
    }
    // SAFETY: a plain signal to our own child, which has not been waited for.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
    let status = child.wait().unwrap();
    drop(stdin);
    (status, entries(watch))
}

#[test]
fn ctrl_c_or_sigterm_removes_the_temporary_output() {
    use std::os::unix::process::ExitStatusExt;
    for (sig, name) in [(libc::SIGINT, "int"), (libc::SIGTERM, "term")] {
        // A file: the hidden temporary goes too, and the process ends by the
        // signal. The model arrives on a pipe, its second half never (the
        // file itself compressed before the signal landed, under load).
        let dir = scratch(&format!("signal-file-{name}"));
        let out = dir.join("blk0.gguf.llmc");
        let model = std::fs::read(blk0()).unwrap();
        let (status, left) = signal_llmc_fed(&["compress".as_ref(), "-".as_ref(), "-o".as_ref(), out.as_os_str(), "-T".as_ref(), "1".as_ref()], Some(&model[..model.len() / 2]), &dir, sig);
        assert_eq!(status.signal(), Some(sig), "{status}");
        assert!(left.is_empty(), "left after signal {sig}: {left:?}");
        // A directory: the staged output folder, with what it holds.
        let input = scratch(&format!("signal-dir-in-{name}"));
        std::fs::copy(blk0(), input.join("a.gguf")).unwrap();
        std::fs::copy(blk0(), input.join("b.gguf")).unwrap();
        let parent = scratch(&format!("signal-dir-out-{name}"));
        let (status, left) = signal_llmc(&["compress".as_ref(), input.as_os_str(), "-o".as_ref(), parent.join("out").as_os_str(), "-T".as_ref(), "1".as_ref()], &parent, sig);
        assert_eq!(status.signal(), Some(sig), "{status}");
        assert!(left.is_empty(), "left after signal {sig}: {left:?}");
        for d in [dir, input, parent] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}

/// Compresses the block-0 fixture into `dir` and returns the container's path and bytes.
fn container(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = dir.join("blk0.gguf.llmc");
    let o = llmc(&["compress".as_ref(), blk0().as_os_str(), "-o".as_ref(), path.as_os_str(), "--level".as_ref(), "3".as_ref()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn decompress(input: &Path, output: &Path, verify: bool) -> Output {
    decompress_t(input, output, verify, "2")
}

/// With one decoding thread the worker reads its payloads and the caller writes;
/// with two the workers also write (unless verifying): both paths are checked.
fn decompress_t(input: &Path, output: &Path, verify: bool, threads: &str) -> Output {
    let mut args = vec!["decompress".as_ref(), input.as_os_str(), "-o".as_ref(), output.as_os_str(), "-T".as_ref(), threads.as_ref()];
    if verify {
        args.push("--verify".as_ref());
    }
    llmc(&args)
}

#[test]
fn decompress_verify_names_the_damaged_chunk_and_writes_nothing() {
    let dir = scratch("verify-chunk");
    let (path, mut bytes) = container(&dir);
    let index = Index::open(&bytes).unwrap();
    let entry = index.entries.iter().find(|e| index.regions[e.region as usize].frame_size > 4096).unwrap();
    let r = index.regions[entry.region as usize];
    bytes[(r.frame_offset + r.frame_size / 2) as usize] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let back = dir.join("back.gguf");
    for (verify, threads) in [(true, "1"), (true, "2"), (false, "1"), (false, "2")] {
        let o = decompress_t(&path, &back, verify, threads);
        let err = stderr(&o);
        assert!(!o.status.success(), "verify={verify} -T {threads}: a damaged chunk decoded");
        assert!(err.contains("checksum mismatch in chunk") && err.contains(&format!("of tensor {}", entry.name)), "verify={verify} -T {threads}: {err}");
        assert!(!back.exists(), "verify={verify} -T {threads}: output written");
    }

    // A frame: the message names the chunk (1 MiB chunks asked for: by
    // default this 1.125 MiB tensor is one chunk).
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.3.output.bf16");
    let frame = dir.join("o.llmc");
    let args = ["compress".as_ref(), "--codec".as_ref(), "bf16".as_ref(), "--chunk-size".as_ref(), "1M".as_ref(), input.as_os_str(), "-o".as_ref(), frame.as_os_str()];
    assert!(llmc(&args).status.success());
    let mut bytes = std::fs::read(&frame).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 1;
    std::fs::write(&frame, &bytes).unwrap();
    let o = decompress(&frame, &back, true);
    assert!(!o.status.success() && stderr(&o).contains("checksum mismatch in chunk 1 of 2 (bytes 1048576..1179648)"), "{}", stderr(&o));
    assert!(!back.exists());
}

#[test]
fn decompress_verify_checks_the_whole_file_sha256() {
    let dir = scratch("verify-sha");
    let (path, mut bytes) = container(&dir);
    // Change the stored SHA-256 (in the version-2 trailer) and re-seal, so only
    // that check can object.
    let sha_at = bytes.len() - 64 + 28 + 3;
    bytes[sha_at] ^= 1;
    common::hostile::reseal_container_header(&mut bytes);
    std::fs::write(&path, &bytes).unwrap();
    let back = dir.join("back.gguf");
    let o = decompress(&path, &back, true);
    assert!(!o.status.success() && stderr(&o).contains("does not match the container's SHA-256"), "{}", stderr(&o));
    assert!(!back.exists());
    let o = decompress(&path, &back, false);
    assert!(o.status.success(), "without --verify only chunk checksums are checked: {}", stderr(&o));
    assert!(std::fs::read(&back).unwrap() == std::fs::read(blk0()).unwrap());
}

#[test]
fn a_stale_temporary_with_our_name_does_not_block_the_write() {
    let dir = scratch("stale");
    let out = dir.join("x.bin");
    // The next temporary names this process will use, as a killed process with
    // our pid would have left them. Four, because another test in this process
    // may take a number meanwhile; exactly one of them is ours.
    let probe = llmc::io::temp_name(&out).to_string_lossy().into_owned();
    let (stem, n) = probe.rsplit_once('-').unwrap();
    let n: u64 = n.parse().unwrap();
    for k in 1..=4 {
        std::fs::write(format!("{stem}-{}", n + k), b"stale").unwrap();
    }
    llmc::io::write_atomic(&out, b"fresh").unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"fresh");
    let left = entries(&dir);
    assert_eq!(left.len(), 4, "the stale temporary in the way was replaced: {left:?}");
    assert!(left.contains(&"x.bin".to_string()));
}
