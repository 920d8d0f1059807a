//! `llmc mount` with unmodified outside readers: llama.cpp's gguf-py
//! (`GGUFReader`, which np.memmaps the file), Hugging Face `safetensors`
//! (`safe_open`, mmap), `sha256sum`, and concurrent `pread`s. Needs /dev/fuse
//! and fusermount3 (`.ci/run` installs fuse3); not skipped without them.

mod common;
use common::fuse::{compressed, llmc, run_python, scratch, sha256sum, Mounted};
use common::fetched;
use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const GEMMA: &str = "gemma-3-270m-q4_k_m.gguf";
const GEMMA_SHA256: &str = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";

/// The gemma GGUF and its container, compressed once per test run.
fn gemma() -> &'static (PathBuf, PathBuf) {
    static C: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    C.get_or_init(|| {
        let original = fetched("gemma");
        // Kept between runs (232 MB, 15 s to make); remade when the CLI changes.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mount-tests");
        std::fs::create_dir_all(&dir).unwrap();
        let container = compressed(&original, &dir.join(format!("{GEMMA}.llmc")));
        (original, container)
    })
}

const GGUF_COMPARE: &str = r#"
import sys
import numpy as np
from gguf import GGUFReader
mounted, original = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
assert type(mounted.data) is np.memmap, type(mounted.data)
assert len(mounted.tensors) == len(original.tensors) > 0
assert [f for f in mounted.fields] == [f for f in original.fields]
for a, b in zip(mounted.tensors, original.tensors):
    assert (a.name, a.tensor_type, list(a.shape)) == (b.name, b.tensor_type, list(b.shape)), a.name
    assert a.data.tobytes() == b.data.tobytes(), a.name
print("tensors", len(mounted.tensors))
"#;

#[test]
fn gguf_reader_reads_every_tensor_of_the_mounted_gemma() {
    let (original, container) = gemma();
    let dir = scratch("gguf-reader");
    let m = Mounted::start(container, &dir, &[]);
    let names: Vec<_> = std::fs::read_dir(&m.dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, [GEMMA]);
    let file = m.path(GEMMA);
    assert_eq!(std::fs::metadata(&file).unwrap().len(), std::fs::metadata(original).unwrap().len());
    assert_eq!(sha256sum(&file), GEMMA_SHA256);
    let out = run_python(GGUF_COMPARE, &[&file, original]);
    assert!(out.contains("tensors 236"), "{out}");
    // The whole file was read twice (sha256sum, then every tensor): the
    // daemon's peak resident set stays within the cache budget plus a margin.
    let (rss, peak) = m.rss_kib();
    eprintln!("daemon VmRSS {rss} KiB, VmHWM {peak} KiB");
    assert!(peak <= 384 << 10, "peak RSS {peak} KiB > 384 MiB");
    let (status, log) = m.unmount();
    assert!(status.success(), "exit {status}:\n{log}");
}

const SAFETENSORS_COMPARE: &str = r#"
import sys
import numpy as np
from safetensors import safe_open
n = 0
with safe_open(sys.argv[1], "numpy") as a, safe_open(sys.argv[2], "numpy") as b:
    assert sorted(a.keys()) == sorted(b.keys()) and a.metadata() == b.metadata()
    for k in b.keys():
        x, y = a.get_tensor(k), b.get_tensor(k)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), k
        n += 1
print("tensors", n)
"#;

#[test]
fn safetensors_reads_every_tensor_of_a_mounted_container_and_sigterm_unmounts() {
    let original = fetched("minilm");
    let dir = scratch("safetensors");
    let name = original.file_name().unwrap().to_str().unwrap().to_string();
    let container = compressed(&original, &dir.join(format!("{name}.llmc")));
    let m = Mounted::start(&container, &dir, &["-T", "1", "--cache-size", "32M"]);
    let file = m.path(&name);
    let out = run_python(SAFETENSORS_COMPARE, &[&file, &original]);
    assert!(out.contains("tensors 104"), "{out}");
    assert_eq!(sha256sum(&file), sha256sum(&original));
    m.signal("TERM");
    let (status, log) = m.wait();
    assert!(status.success(), "exit {status} after SIGTERM:\n{log}");
}

/// Every regular file under `dir`: relative path -> size.
fn listing(dir: &Path) -> BTreeMap<PathBuf, u64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.insert(e.path().strip_prefix(dir).unwrap().to_path_buf(), meta.len());
            }
        }
    }
    out
}

#[test]
fn a_compressed_directory_mounts_as_the_original_tree_and_sigint_unmounts() {
    let dir = scratch("tree");
    let tree = dir.join("checkpoint");
    std::fs::create_dir_all(tree.join("gguf")).unwrap();
    std::fs::copy(fetched("minilm"), tree.join("model.safetensors")).unwrap();
    std::fs::copy(common::fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf"), tree.join("gguf/blk0.gguf")).unwrap();
    std::fs::write(tree.join("config.json"), b"{\"architectures\": [\"BertModel\"]}\n").unwrap();
    std::fs::write(tree.join("gguf/empty.txt"), b"").unwrap();
    let packed = dir.join("checkpoint.llmc");
    let out = llmc().arg("compress").arg(&tree).arg("-o").arg(&packed).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(packed.join("model.safetensors.llmc").exists() && packed.join("gguf/blk0.gguf.llmc").exists());
    let m = Mounted::start(&packed, &dir, &[]);
    let want = listing(&tree);
    assert_eq!(listing(&m.dir), want);
    for rel in want.keys() {
        assert_eq!(sha256sum(&m.dir.join(rel)), sha256sum(&tree.join(rel)), "{}", rel.display());
    }
    m.signal("INT");
    let (status, log) = m.wait();
    assert!(status.success(), "exit {status} after SIGINT:\n{log}");
}

/// A small deterministic generator (xorshift64*).
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed | 1;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn eight_concurrent_readers_at_random_offsets_get_the_right_bytes() {
    let (original, container) = gemma();
    let dir = scratch("concurrent");
    // A small cache, so that chunks are evicted and decoded again under load;
    // through the page cache (the other tests use the default, direct I/O).
    let m = Mounted::start(container, &dir, &["-T", "2", "--cache-size", "8M", "--page-cache"]);
    let size = std::fs::metadata(original).unwrap().len();
    std::thread::scope(|s| {
        for t in 0..8u64 {
            let (mounted, original) = (m.path(GEMMA), original.clone());
            s.spawn(move || {
                let (a, b) = (std::fs::File::open(mounted).unwrap(), std::fs::File::open(original).unwrap());
                let mut next = rng(t + 1);
                let (mut x, mut y) = (Vec::new(), Vec::new());
                for i in 0..150 {
                    let len = (next() % (3 << 20)) as usize + 1;
                    // Some reads run past the end: both files give the same short read.
                    let offset = if i % 10 == 0 { size - (next() % 4096) } else { next() % size };
                    x.resize(len, 0);
                    y.resize(len, 0);
                    let n = read_full(&a, &mut x, offset);
                    assert_eq!(n, read_full(&b, &mut y, offset), "reader {t}: length at {offset}+{len}");
                    assert!(x[..n] == y[..n], "reader {t}: bytes at {offset}+{len}");
                }
            });
        }
    });
    let (status, log) = m.unmount();
    assert!(status.success(), "exit {status}:\n{log}");
}

/// `pread` until `buf` is full or the file ends.
fn read_full(f: &std::fs::File, buf: &mut [u8], offset: u64) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], offset + done as u64).unwrap() {
            0 => break,
            n => done += n,
        }
    }
    done
}

#[test]
fn missing_fusermount3_says_what_to_install() {
    let dir = scratch("no-fusermount");
    std::fs::create_dir_all(dir.join("mnt")).unwrap();
    let out = llmc().arg("mount").arg(dir.join("x.llmc")).arg(dir.join("mnt")).env("PATH", dir.join("empty-path")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("fusermount3 not found") && err.contains("apt-get install fuse3"), "{err}");
}

#[test]
fn a_file_that_is_not_a_container_is_refused_by_name() {
    let dir = scratch("not-container");
    let input = common::fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    std::fs::create_dir_all(dir.join("mnt")).unwrap();
    let out = llmc().arg("mount").arg(&input).arg(dir.join("mnt")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("is not an llmc container"), "{err}");
}

#[test]
fn a_second_mount_on_the_same_point_is_refused_and_the_first_keeps_working() {
    let dir = scratch("mount-twice");
    let input = common::fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let container = compressed(&input, &dir.join("blk0.gguf.llmc"));
    let m = Mounted::start(&container, &dir, &["-T", "1"]);
    let out = llmc().arg("mount").arg(&container).arg(&m.dir).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("mounted there already"), "{err}");
    assert_eq!(sha256sum(&m.path("blk0.gguf")), sha256sum(&input));
    let (status, log) = m.unmount();
    assert!(status.success(), "{log}");
}

/// Reads `file` as user `nobody`; its sha256 or the error.
fn sha256_as_nobody(file: &Path) -> Result<String, String> {
    let out = std::process::Command::new("setpriv").args(["--reuid=65534", "--regid=65534", "--clear-groups", "sha256sum"]).arg(file).output().unwrap();
    let text = String::from_utf8_lossy(if out.status.success() { &out.stdout } else { &out.stderr }).into_owned();
    if out.status.success() {
        Ok(text.split_whitespace().next().unwrap_or_default().to_string())
    } else {
        Err(text)
    }
}

#[test]
fn other_users_read_the_files_only_with_allow_other() {
    let original = common::fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    for allow in [false, true] {
        // Under the system's temporary directory: `nobody` must be able to
        // reach the mount point (a clone under /root would stop it earlier).
        let dir = std::env::temp_dir().join(format!("llmc-mount-test-allow-other-{allow}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let container = compressed(&original, &dir.join("blk0.gguf.llmc"));
        let args: &[&str] = if allow { &["--allow-other"] } else { &[] };
        let m = Mounted::start(&container, &dir, args);
        match sha256_as_nobody(&m.path("blk0.gguf")) {
            Ok(sum) => assert!(allow && sum == sha256sum(&original), "allow_other={allow}: {sum}"),
            Err(e) => assert!(!allow && e.contains("Permission denied"), "allow_other={allow}: {e}"),
        }
        let (status, log) = m.unmount();
        assert!(status.success(), "exit {status}:\n{log}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_private_container_stays_private_under_allow_other() {
    // An outside test: every file showed as 0444, so `--allow-other` let any
    // user read a 0600 model. The mount now shows the sources' read bits, and
    // the kernel checks them.
    let original = common::fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let dir = std::env::temp_dir().join(format!("llmc-mount-test-private-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let container = compressed(&original, &dir.join("blk0.gguf.llmc"));
    std::fs::set_permissions(&container, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let m = Mounted::start(&container, &dir, &["--allow-other"]);
    let e = sha256_as_nobody(&m.path("blk0.gguf")).unwrap_err();
    assert!(e.contains("Permission denied"), "{e}");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(m.path("blk0.gguf")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o400);
    // Its owner still reads it.
    assert!(std::fs::read(m.path("blk0.gguf")).unwrap() == std::fs::read(&original).unwrap());
    let (status, log) = m.unmount();
    assert!(status.success(), "exit {status}:\n{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
