//! The command-line tool against what an outside hostile-input and filesystem
//! test found (issue 16): directory mode (links, special files, clashes, a
//! Hugging Face cache snapshot), names a container cannot record, messages that
//! say what is wrong, a closed stdout, refused threads.

mod common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn llmc_env(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmc"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "llmc {args:?} panicked: {stderr}");
    (out.status.code(), stderr)
}

fn llmc(args: &[&str]) -> (Option<i32>, String) {
    llmc_env(args, &[])
}

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("llmc-hostile-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn corpus(file: &str) -> PathBuf {
    fixtures_dir().join("corrupt").join(file)
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Every regular file under `dir` (links followed), relative path -> bytes.
fn contents(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(dir.join(&rel)).unwrap() {
            let rel = rel.join(e.unwrap().file_name());
            let m = std::fs::metadata(dir.join(&rel)).unwrap();
            if m.is_dir() {
                stack.push(rel);
            } else {
                out.insert(rel.clone(), std::fs::read(dir.join(&rel)).unwrap());
            }
        }
    }
    out
}

#[test]
fn hugging_face_cache_snapshot_round_trips_byte_for_byte() {
    // models--org--name/{blobs/<hash>, snapshots/<rev>/FILE -> ../../blobs/<hash>}
    let root = scratch("hf").join("models--org--tiny");
    let (blobs, snap) = (root.join("blobs"), root.join("snapshots").join("0123abc"));
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::create_dir_all(snap.join("sub")).unwrap();
    let files: [(&str, Vec<u8>); 4] = [
        ("model.safetensors", fixture("corrupt/model.safetensors")),
        ("model.gguf", fixture("corrupt/model.gguf")),
        ("config.json", b"{\"hidden_size\": 384}\n".to_vec()),
        ("sub/tokenizer.json", b"{\"vocab\": {}}\n".to_vec()),
    ];
    for (i, (name, bytes)) in files.iter().enumerate() {
        let blob = format!("{i:064x}");
        std::fs::write(blobs.join(&blob), bytes).unwrap();
        let up = if name.contains('/') { "../../../blobs" } else { "../../blobs" };
        symlink(&format!("{up}/{blob}"), &snap.join(name));
    }
    let (packed, back) = (root.parent().unwrap().join("packed"), root.parent().unwrap().join("back"));
    let (code, err) = llmc(&["compress", s(&snap), "-o", s(&packed), "--verify"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("symbolic link to ../../blobs/") && err.contains("following it"), "links are followed and said so: {err}");
    assert!(packed.join("model.safetensors.llmc").is_file() && packed.join("model.gguf.llmc").is_file(), "{err}");
    let (code, err) = llmc(&["decompress", s(&packed), "-o", s(&back)]);
    assert_eq!(code, Some(0), "{err}");
    let got = contents(&back);
    assert_eq!(got.len(), files.len(), "{:?}", got.keys().collect::<Vec<_>>());
    for (name, bytes) in &files {
        assert!(got[Path::new(name)] == *bytes, "{name} differs after the round trip");
    }
    // The snapshot itself is untouched: still links.
    assert!(std::fs::symlink_metadata(snap.join("model.gguf")).unwrap().file_type().is_symlink());
}

#[test]
fn what_cannot_be_carried_is_named_and_fails_the_exit_status() {
    let d = scratch("skip");
    let input = d.join("in");
    std::fs::create_dir_all(input.join("deep")).unwrap();
    std::fs::write(input.join("config.json"), b"{}").unwrap();
    std::fs::copy(corpus("model.gguf"), input.join("model.gguf")).unwrap();
    mkfifo(&input.join("pipe"));
    symlink("missing-target", &input.join("dangling"));
    symlink("..", &input.join("deep").join("loop"));
    let (code, err) = llmc(&["compress", s(&input), "-o", s(&d.join("out"))]);
    assert_eq!(code, Some(1), "{err}");
    for (name, why) in [("pipe", "FIFO"), ("dangling", "cannot be followed"), ("loop", "directory loop")] {
        assert!(err.lines().any(|l| l.contains("skipping") && l.contains(name) && l.contains(why)), "{name} not named with {why:?}: {err}");
    }
    assert!(err.contains("3 file(s)") && err.contains("not carried over"), "{err}");
    // The rest was done and round-trips.
    assert!(d.join("out/model.gguf.llmc").is_file() && d.join("out/config.json").is_file(), "{err}");
    let (code, err) = llmc(&["decompress", s(&d.join("out")), "-o", s(&d.join("back"))]);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::read(d.join("back/model.gguf")).unwrap() == std::fs::read(corpus("model.gguf")).unwrap());
}

#[test]
fn two_inputs_never_map_to_one_output() {
    let d = scratch("clash");
    let input = d.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(corpus("model.gguf"), input.join("model.gguf")).unwrap();
    // A stale container of other content next to its original's name.
    std::fs::copy(corpus("model.safetensors.llmc"), input.join("model.gguf.llmc")).unwrap();
    let out = d.join("out");
    let (code, err) = llmc(&["compress", s(&input), "-o", s(&out), "--verify"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("nothing written") && err.contains("model.gguf.llmc"), "{err}");
    assert!(!out.exists(), "nothing is written when the plan clashes");
    // A non-container FILE.llmc beside a model FILE: both would be FILE.llmc.
    std::fs::write(input.join("model.gguf.llmc"), b"notes").unwrap();
    let (code, err) = llmc(&["compress", s(&input), "-o", s(&out)]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("would both be written to model.gguf.llmc"), "{err}");
    assert!(!out.exists());

    // Decompressing: FILE.llmc (a container of FILE) beside a user's FILE.
    let packed = d.join("packed");
    std::fs::create_dir_all(&packed).unwrap();
    std::fs::copy(corpus("model.gguf.llmc"), packed.join("model.gguf.llmc")).unwrap();
    std::fs::write(packed.join("model.gguf"), b"the user's own file").unwrap();
    let (code, err) = llmc(&["decompress", s(&packed), "-o", s(&d.join("back"))]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("would both be written to model.gguf"), "{err}");
    assert!(!d.join("back").exists());
}

#[test]
fn an_output_never_lands_on_its_input() {
    let d = scratch("onto");
    let input = d.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(corpus("model.gguf.llmc"), input.join("model.gguf.llmc")).unwrap();
    std::fs::write(input.join("model.gguf"), b"keep me").unwrap();
    for out in [input.clone(), input.join("sub"), d.clone()] {
        let (code, err) = llmc(&["decompress", s(&input), "-o", s(&out), "--force"]);
        assert_eq!(code, Some(1), "-o {}: {err}", out.display());
        assert!(err.contains("would lie"), "{err}");
    }
    assert_eq!(std::fs::read(input.join("model.gguf")).unwrap(), b"keep me");
    // --force into a folder whose file is (through a link) one of the inputs.
    let (src, dst) = (d.join("src"), d.join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::write(dst.join("notes.txt"), b"original").unwrap();
    symlink(s(&dst.join("notes.txt")), &src.join("notes.txt"));
    let (code, err) = llmc(&["compress", s(&src), "-o", s(&dst), "--force"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("would overwrite the input"), "{err}");
    assert_eq!(std::fs::read(dst.join("notes.txt")).unwrap(), b"original");
}

#[test]
fn names_a_container_cannot_record_are_refused_before_writing() {
    let d = scratch("names");
    for (file, says) in [("st-name-4097.safetensors", "is 4097 bytes"), ("st-name-65541.safetensors", "is 65541 bytes"), ("st-name-nul.safetensors", "NUL")] {
        for verify in [false, true] {
            let out = d.join(format!("{file}.llmc"));
            let mut args = vec!["compress", s(&corpus(file)).to_owned().leak(), "-o", s(&out).to_owned().leak()];
            if verify {
                args.push("--verify");
            }
            let (code, err) = llmc(&args);
            assert_eq!(code, Some(1), "{file}: {err}");
            assert!(err.contains(says) && err.contains("at most 4096") || err.contains("NUL"), "{file}: {err}");
            assert!(!out.exists(), "{file}: no output is left under the final name");
            assert!(std::fs::read_dir(&d).unwrap().next().is_none(), "{file}: no temporary file left");
        }
    }
}

#[test]
fn messages_say_what_is_wrong() {
    let d = scratch("messages");
    let out = s(&d.join("o")).to_owned();
    // A truncated safetensors file is truncated, not unknown.
    let (code, err) = llmc(&["compress", s(&corpus("st-cut-in-json.safetensors")), "-o", &out, "-f"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("truncated") && !err.contains("not a GGUF or safetensors"), "{err}");
    // A zero-element GGUF tensor is fine.
    let (code, err) = llmc(&["compress", s(&corpus("gguf-zero-elements.gguf")), "-o", &out, "-f", "--verify"]);
    assert_eq!(code, Some(0), "{err}");
    // --chunk-size that does not fit every block size says which (on a real
    // block: the corpus file's tensors are a few rows each, batched and coded
    // as bytes, and take any chunk size).
    let (code, err) = llmc(&["compress", s(&fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf")), "-o", &out, "-f", "--chunk-size", "4608"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Q6_K (210-byte blocks)") && err.contains("Q8_0 (34-byte blocks)") && err.contains("use a multiple of"), "{err}");
    assert!(!err.contains("Q4_K"), "4608 = 32 x 144 fits Q4_K: {err}");
    let (code, err) = llmc(&["compress", s(&corpus("model.gguf")), "-o", &out, "-f", "--chunk-size", "4608", "--verify"]);
    assert_eq!(code, Some(0), "{err}");
    // Out of the format's range: a usage error, before anything is read.
    let (code, err) = llmc(&["compress", s(&corpus("model.gguf")), "-o", &out, "-f", "--chunk-size", "100"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("outside 1024..="), "{err}");
    // A raw tensor of the wrong length for its codec says so (found by the sweep).
    let odd = d.join("odd.bin");
    std::fs::write(&odd, vec![1u8; 1001]).unwrap();
    let (code, err) = llmc(&["compress", "--codec", "bf16", s(&odd), "-o", &out, "-f"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("1001 bytes is not a whole number of 2-byte bf16 elements"), "{err}");
    std::fs::write(&odd, vec![1u8; 1000]).unwrap();
    let (code, err) = llmc(&["compress", "--codec", "bf16", "--chunk-size", "1025", s(&odd), "-o", &out, "-f"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--chunk-size 1025 is not a multiple of the 2-byte bf16 element"), "{err}");
    // A per-stream file whose inner GGUF is bad says so.
    let (code, err) = llmc(&["decompress", s(&corpus("perstream-inner-bad-magic.llms")), "-o", &out, "-f"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("per-stream file") && err.contains("GGUF header") && !err.contains("not an llmc"), "{err}");
    let (code, err) = llmc(&["decompress", s(&corpus("perstream-f32-forged.llms")), "-o", &out, "-f"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("do not match its GGUF header"), "{err}");
}

#[test]
fn info_into_a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmc"))
        .args(["info", s(&corpus("model.gguf.llmc"))])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.signal() == Some(13) || out.status.success(), "ended by SIGPIPE (or before writing): {:?} {stderr}", out.status);
    assert_ne!(out.status.code(), Some(101));
}

#[test]
fn a_refused_thread_is_an_error_not_a_panic() {
    // Every thread the tool starts asks for a 100 TB stack: the system refuses it.
    let d = scratch("threads");
    let env = [("RUST_MIN_STACK", "100000000000000")];
    let out = s(&d.join("o")).to_owned();
    for args in [
        vec!["compress", s(&corpus("model.gguf")), "-o", &out, "-T", "4"],
        vec!["decompress", s(&corpus("model.gguf.llmc")), "-o", &out, "-T", "4"],
        vec!["compress", "--codec", "stored", "--chunk-size", "1024", s(&corpus("model.safetensors")), "-o", &out, "-T", "4"],
    ] {
        let (code, err) = llmc_env(&args, &env);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains("refused a worker thread") && err.contains("-T"), "{err}");
    }
    // One thread starts none.
    let (code, err) = llmc_env(&["decompress", s(&corpus("model.gguf.llmc")), "-o", &out, "-T", "1"], &env);
    assert_eq!(code, Some(0), "{err}");
}

// Found by the sweep after the fixes above.

#[test]
fn a_file_never_takes_the_place_a_folder_needs() {
    let d = scratch("file-vs-folder");
    let input = d.join("in");
    std::fs::create_dir_all(input.join("a.gguf.llmc")).unwrap();
    std::fs::copy(corpus("model.gguf"), input.join("a.gguf")).unwrap();
    std::fs::write(input.join("a.gguf.llmc/inner"), b"x").unwrap();
    let (code, err) = llmc(&["compress", s(&input), "-o", s(&d.join("out"))]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("needs as a folder") && err.contains("nothing written"), "{err}");
    assert!(!d.join("out").exists());
    // An output folder that is an existing file is refused before any work.
    std::fs::remove_dir_all(input.join("a.gguf.llmc")).unwrap();
    std::fs::write(d.join("file"), b"mine").unwrap();
    let (code, err) = llmc(&["compress", s(&input), "-o", s(&d.join("file"))]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("exists and is not a directory"), "{err}");
    assert_eq!(std::fs::read(d.join("file")).unwrap(), b"mine");
}

#[test]
fn names_that_are_not_utf8_round_trip_in_directories() {
    use std::os::unix::ffi::OsStrExt;
    let d = scratch("not-utf8");
    let input = d.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"m\xffodel.gguf");
    std::fs::copy(corpus("model.gguf"), input.join(name)).unwrap();
    let (code, err) = llmc(&["compress", s(&input), "-o", s(&d.join("out"))]);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = llmc(&["decompress", s(&d.join("out")), "-o", s(&d.join("back"))]);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::read(d.join("back").join(name)).unwrap() == std::fs::read(corpus("model.gguf")).unwrap());
}

#[test]
fn a_single_file_never_replaces_itself() {
    let d = scratch("self");
    let c = d.join("m.gguf.llmc");
    std::fs::copy(corpus("model.gguf.llmc"), &c).unwrap();
    symlink("m.gguf.llmc", &d.join("link"));
    for out in [c.clone(), d.join("link")] {
        let (code, err) = llmc(&["decompress", s(&c), "-o", s(&out)]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("is the input itself"), "{err}");
    }
    let g = d.join("m.gguf");
    std::fs::copy(corpus("model.gguf"), &g).unwrap();
    let (code, err) = llmc(&["compress", s(&g), "-o", s(&g)]);
    assert_eq!(code, Some(1), "{err}");
    assert!(std::fs::read(&c).unwrap() == std::fs::read(corpus("model.gguf.llmc")).unwrap());
    assert!(std::fs::read(&g).unwrap() == std::fs::read(corpus("model.gguf")).unwrap());
}

#[test]
fn info_describes_a_per_stream_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(["info", s(&corpus("perstream.llms"))]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("per-stream") && text.contains("original size: 9728 bytes") && text.contains("F32 tensors"), "{text}");
}

#[test]
fn a_frame_declaring_huge_chunks_is_refused_before_it_costs_memory() {
    // 252 bytes that decode to 1.25 GiB in 256 MiB chunks: a streaming decode
    // holds one chunk whole, so chunks over --memory (32M by default) are refused.
    let bomb = fixtures_dir().join("corrupt/bomb-fields-1.25gib.llmf");
    let out = scratch("bomb").join("out.bin");
    let (code, text) = llmc(&["decompress", s(&bomb), "-o", s(&out)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("--memory") && text.contains("32 MiB"), "{text}");
    assert!(!out.exists(), "nothing under the final name");
    let (code, text) = llmc(&["decompress", "--memory", "nonsense", s(&bomb), "-o", s(&out)]);
    assert_ne!(code, Some(0), "{text}");
}

/// A container cut by another process while `decompress` reads it ends with
/// status 1, a message that says so, and no output or temporary file, wherever
/// the cut lands (inputs are read, never mapped: a cut is a short read).
#[test]
fn an_input_truncated_while_it_decompresses_is_an_error_not_a_crash() {
    let d = scratch("cut-underneath");
    // Synthetic bf16 words (an edge case, not a ratio claim): enough that
    // decoding takes tens of milliseconds.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let data: Vec<u8> = (0..64 << 20)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Low bytes random, high bytes of a few exponents.
            if i % 2 == 0 { (state >> 56) as u8 } else { 0x3c + (state >> 62) as u8 }
        })
        .collect();
    let raw = d.join("raw.bin");
    std::fs::write(&raw, &data).unwrap();
    let (code, err) = llmc(&["compress", "--codec", "bf16", "-T", "2", s(&raw), "-o", s(&d.join("whole.llmc"))]);
    assert_eq!(code, Some(0), "{err}");
    let whole = std::fs::read(d.join("whole.llmc")).unwrap();
    for delay_ms in [2u64, 5, 10, 15, 20, 30] {
        let cut = d.join("cut.llmc");
        std::fs::write(&cut, &whole).unwrap();
        let out = d.join("out.bin");
        // A round that finished before its cut left a whole output; this one
        // must not inherit it.
        let _ = std::fs::remove_file(&out);
        let child = Command::new(env!("CARGO_BIN_EXE_llmc"))
            .args(["decompress", "-T", "2", "-f", s(&cut), "-o", s(&out)])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        std::fs::OpenOptions::new().write(true).open(&cut).unwrap().set_len(whole.len() as u64 / 3).unwrap();
        let done = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        eprintln!("cut after {delay_ms} ms: {}", err.lines().next().unwrap_or("finished first"));
        if done.status.success() {
            // It finished before the cut: the output is whole.
            assert_eq!(std::fs::read(&out).unwrap(), data, "after {delay_ms} ms");
            continue;
        }
        assert_eq!(done.status.code(), Some(1), "after {delay_ms} ms: {err}");
        assert!(err.contains("truncated"), "after {delay_ms} ms: {err}");
        assert!(!out.exists(), "no output after a failed decode");
        let left: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().contains("llmc-tmp")).collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_huge_thread_count_is_capped_not_an_abort() {
    // `-T 4294967295` decoding into a file sized its job queue from the count
    // asked for (36 TB) and aborted; the pipeline starts at most MAX_THREADS.
    let dir = scratch("huge-threads");
    let input = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let (packed, back) = (dir.join("m.llmc"), dir.join("m.gguf"));
    assert_eq!(llmc(&["compress", s(&input), "-o", s(&packed)]).0, Some(0));
    for t in ["4294967295", "1000000"] {
        let (code, err) = llmc(&["decompress", "-T", t, s(&packed), "-o", s(&back), "-f"]);
        assert_eq!(code, Some(0), "-T {t}: {err}");
        assert!(std::fs::read(&back).unwrap() == std::fs::read(&input).unwrap(), "-T {t}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn decompress_reads_a_pipe_named_by_its_path() {
    // A FIFO, `<(cat m.llmc)` or `/dev/stdin` on a pipe: read front to back
    // as `-` is (it was refused as "not a regular file").
    let dir = scratch("named-pipe");
    let input = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let (packed, back, fifo) = (dir.join("m.llmc"), dir.join("m.gguf"), dir.join("pipe"));
    assert_eq!(llmc(&["compress", s(&input), "-o", s(&packed)]).0, Some(0));
    let container = std::fs::read(&packed).unwrap();
    mkfifo(&fifo);
    let writer = {
        let (fifo, container) = (fifo.clone(), container.clone());
        std::thread::spawn(move || std::fs::OpenOptions::new().write(true).open(fifo).unwrap().write_all(&container).unwrap())
    };
    let (code, err) = llmc(&["decompress", s(&fifo), "-o", s(&back)]);
    writer.join().unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::read(&back).unwrap() == std::fs::read(&input).unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmc")).args(["decompress", "/dev/stdin", "-o", s(&back), "-f"]).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&container).unwrap());
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(&back).unwrap() == std::fs::read(&input).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}
