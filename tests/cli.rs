//! The `llmc` command-line tool end to end.

mod common;
use common::*;
use std::process::Command;

fn llmc(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A path in this binary's scratch directory under Cargo's `target/tmp`: emptied
/// once per run, so runs do not pile up copies of the fixtures (a run writes
/// about 360 MB).
fn tmp(name: &str) -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let d = DIR.get_or_init(|| {
        let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    d.join(name)
}

#[test]
fn an_empty_input_round_trips_and_reports_no_ratio() {
    let (input, frame, back) = (tmp("empty.bin"), tmp("empty.llmc"), tmp("empty.out"));
    std::fs::write(&input, b"").unwrap();
    let (ok, _, err) = llmc(&["compress", "--codec", "stored", input.to_str().unwrap(), "-o", frame.to_str().unwrap()]);
    assert!(ok && err.contains("ratio n/a"), "an empty input has no ratio: {err}");
    let (ok, out, _) = llmc(&["info", frame.to_str().unwrap()]);
    assert!(ok && out.contains("ratio:         n/a"), "{out}");
    let (ok, _, err) = llmc(&["decompress", frame.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(std::fs::read(&back).unwrap(), b"");
}

#[test]
fn compress_info_decompress_roundtrip() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.3.intermediate.bf16");
    let (frame, back) = (tmp("a.llmc"), tmp("a.bf16"));
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", input.to_str().unwrap(), "-o", frame.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(err.contains("ratio"), "{err}");
    let (ok, out, _) = llmc(&["info", frame.to_str().unwrap()]);
    assert!(ok && out.contains("codec:         bf16") && out.contains("all ok"), "{out}");
    for isa in ["auto", "scalar"] {
        let (ok, _, err) = llmc(&["decompress", frame.to_str().unwrap(), "-o", back.to_str().unwrap(), "--isa", isa, "--force"]);
        assert!(ok, "{err}");
        assert!(std::fs::read(&back).unwrap() == std::fs::read(&input).unwrap());
    }
}

#[test]
fn an_existing_output_file_is_replaced_only_with_force() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let (frame, back) = (tmp("f.llmc"), tmp("f.bf16"));
    for path in [&frame, &back] {
        std::fs::write(path, b"precious").unwrap();
    }
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", input.to_str().unwrap(), "-o", frame.to_str().unwrap()]);
    assert!(!ok && err.contains("already exists") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&frame).unwrap(), b"precious");
    assert!(llmc(&["compress", "--codec", "bf16", input.to_str().unwrap(), "-o", frame.to_str().unwrap(), "-f"]).0);
    let (ok, _, err) = llmc(&["decompress", frame.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert!(!ok && err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&back).unwrap(), b"precious");
    assert!(llmc(&["decompress", frame.to_str().unwrap(), "-o", back.to_str().unwrap(), "--force"]).0);
    assert!(std::fs::read(&back).unwrap() == std::fs::read(&input).unwrap());
    // Not regular files: written through, as before.
    assert!(llmc(&["decompress", frame.to_str().unwrap(), "-o", "/dev/null"]).0);
}

#[test]
fn compress_verify_to_a_stream_is_refused_before_anything_is_written() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(["compress", "--codec", "bf16", "--verify", input.to_str().unwrap(), "-o", "-"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--verify needs a regular output file"), "{err}");
    assert!(out.stdout.is_empty(), "{} bytes went to stdout before the refusal", out.stdout.len());
}

#[test]
fn corrupt_input_gives_a_clear_error_and_no_output() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let frame = tmp("c.llmc");
    assert!(llmc(&["compress", "--codec", "bf16", input.to_str().unwrap(), "-o", frame.to_str().unwrap()]).0);
    let mut bytes = std::fs::read(&frame).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 4;
    std::fs::write(&frame, &bytes).unwrap();
    let out = tmp("c.out");
    let (ok, _, err) = llmc(&["decompress", frame.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(!out.exists(), "no output file is left behind on failure");
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", "/nonexistent/x.bf16", "-o", out.to_str().unwrap()]);
    assert!(!ok && err.contains("cannot read"), "{err}");
}

#[test]
fn bench_measures_a_gguf_as_a_container_by_default() {
    // Without --codec a GGUF is a container (it used to be measured as raw bf16
    // bytes, a meaningless ratio), and a raw tensor beside it stays bf16.
    let gguf = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let raw = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let (ok, out, err) = llmc(&["bench", "--json", "--isa", "scalar", "--min-time", "0.01", gguf.to_str().unwrap(), raw.to_str().unwrap()]);
    assert!(ok, "{err}");
    let codecs: Vec<String> = out.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["codec"].as_str().unwrap().to_string()).collect();
    assert_eq!(codecs, ["container", "bf16"], "{out}");
    // A container is measured as its original: the same ratio and bytes.
    let dir = std::env::temp_dir().join(format!("llmc-bench-container-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let container = dir.join("blk0.gguf.llmc");
    let (ok, _, err) = llmc(&["compress", "-f", gguf.to_str().unwrap(), "-o", container.to_str().unwrap()]);
    assert!(ok, "{err}");
    let run = |p: &std::path::Path| {
        let (ok, out, err) = llmc(&["bench", "--json", "--isa", "scalar", "--min-time", "0.01", p.to_str().unwrap()]);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        (v["codec"].clone(), v["ratio"].clone(), v["sha256_16"].clone())
    };
    assert_eq!(run(&container), run(&gguf));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_json_has_the_documented_keys() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let (ok, out, err) = llmc(&["bench", "--json", "--min-time", "0.01", input.to_str().unwrap()]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), isas_under_test().len(), "one line per ISA");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in [
            "file", "codec", "isa", "input_bytes", "compressed_bytes", "ratio", "bound_ratio", "encode_gbps", "decode_gbps",
            "memcpy_gbps", "sha256_16", "roundtrip",
        ] {
            assert!(v.get(key).is_some(), "missing {key} in {line}");
        }
        assert_eq!(v["roundtrip"], true);
        assert_eq!(v["sha256_16"].as_str().unwrap().len(), 16);
    }
}

#[test]
fn no_row_classes_and_a_row_length_conflict() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let out = tmp("conflict.llmc");
    let (ok, _, err) = llmc(&["compress", "-f", "--codec", "bf16", "--row", "384", "--no-row-classes", input.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!ok && err.contains("--no-row-classes") && err.contains("--row"), "{err}");
    assert!(!out.exists());
}

#[test]
fn bench_prints_a_containers_order0_bound() {
    // The FP8 checkpoint of the issue-15 recipe: its bound is the FP8 tensors'
    // byte entropy, everything else at 8 bits.
    let file = st::to_fp8(&std::fs::read(fetched("minilm")).unwrap());
    let path = tmp("fp8.safetensors");
    std::fs::write(&path, &file).unwrap();
    let (ok, out, err) = llmc(&["bench", "--json", "--isa", "scalar", "--min-time", "0.01", path.to_str().unwrap()]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let (got, want) = (v["bound_ratio"].as_f64().expect("a bound"), st::fp8_byte_bound(&file));
    assert!((got - want).abs() < 1e-4, "bench {got} vs {want}");
    assert!(v["ratio"].as_f64().unwrap() > got, "{v}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn sharded_bf16_checkpoint_directory_in_one_command() {
    // A bf16 copy of the real fp32 checkpoint in three shards, with the index
    // and a config file beside them, as Hugging Face lays them out.
    let original = std::fs::read(fetched("minilm")).unwrap();
    let (shards, index) = st::shard(&st::to_bf16(&original), 3);
    let dir = tmp("ckpt");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (name, bytes) in &shards {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    std::fs::write(dir.join("model.safetensors.index.json"), &index).unwrap();
    std::fs::write(dir.join("sub/config.json"), b"{\"hidden_size\": 384}").unwrap();
    let packed = tmp("ckpt.llmc");
    let back = tmp("ckpt.back");
    for d in [&packed, &back] {
        let _ = std::fs::remove_dir_all(d);
    }

    let (ok, _, err) = llmc(&["compress", dir.to_str().unwrap(), "--verify", "-T", "2"]);
    assert!(ok, "{err}");
    assert!(err.contains("5 files (3 compressed, 2 copied)") && err.contains("verified"), "{err}");
    for (name, _) in &shards {
        assert!(packed.join(format!("{name}.llmc")).is_file(), "{name}.llmc missing");
    }
    assert_eq!(std::fs::read(packed.join("model.safetensors.index.json")).unwrap(), index);
    // Compressing again into the same place needs --force.
    let (ok, _, err) = llmc(&["compress", dir.to_str().unwrap()]);
    assert!(!ok && err.contains("--force"), "{err}");

    let (ok, _, err) = llmc(&["decompress", packed.to_str().unwrap(), "-o", back.to_str().unwrap(), "--verify"]);
    assert!(ok, "{err}");
    for (name, bytes) in &shards {
        assert!(std::fs::read(back.join(name)).unwrap() == *bytes, "{name} differs");
    }
    assert_eq!(std::fs::read(back.join("sub/config.json")).unwrap(), b"{\"hidden_size\": 384}");

    let (ok, out, _) = llmc(&["info", packed.join(format!("{}.llmc", shards[0].0)).to_str().unwrap()]);
    assert!(ok && out.contains("(Safetensors, format version 10)") && out.contains("BF16"), "{out}");
}

#[test]
fn safetensors_file_compresses_by_detection() {
    let input = fetched("minilm");
    let out = tmp("minilm.llmc");
    let back = tmp("minilm.back");
    let (ok, _, err) = llmc(&["compress", input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--verify"]);
    assert!(ok && err.contains("verified"), "{err}");
    let (ok, _, err) = llmc(&["decompress", out.to_str().unwrap(), "-o", back.to_str().unwrap(), "-T", "1"]);
    assert!(ok, "{err}");
    assert!(std::fs::read(&back).unwrap() == std::fs::read(&input).unwrap());
    // A malformed header is named as such.
    let mut bad = std::fs::read(&input).unwrap();
    let text = b"\"data_offsets\":[0,4096]";
    let at = bad.windows(text.len()).position(|w| w == text).unwrap();
    bad[at + text.len() - 5..at + text.len() - 1].copy_from_slice(b"9999");
    let bad_path = tmp("bad.safetensors");
    std::fs::write(&bad_path, &bad).unwrap();
    let (ok, _, err) = llmc(&["compress", bad_path.to_str().unwrap(), "-o", tmp("bad.llmc").to_str().unwrap()]);
    assert!(!ok && err.contains("safetensors"), "{err}");
    assert!(!tmp("bad.llmc").exists());
}

#[test]
fn binary_output_to_a_terminal_is_refused() {
    // `script` (util-linux) runs the command on a pseudo-terminal.
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let cmd = format!("{} compress --codec bf16 {} -o -; echo exit=$?", env!("CARGO_BIN_EXE_llmc"), input.display());
    let out = Command::new("script").args(["-qec", &cmd, "/dev/null"]).output().expect("script (util-linux) runs a command on a terminal");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("standard output is a terminal") && text.contains("exit=1"), "{text}");
    assert!(text.len() < 400, "compressed bytes reached the terminal: {} bytes", text.len());
}

#[test]
fn standard_input_from_a_terminal_is_refused_rather_than_waited_on() {
    // Redirected output, terminal input: zstd says "stdin is a console" too.
    let out_file = tmp("from-terminal.out");
    for sub in ["decompress - -o", "compress --codec bf16 - -o"] {
        let cmd = format!("{} {sub} {}; echo exit=$?", env!("CARGO_BIN_EXE_llmc"), out_file.display());
        let out = Command::new("timeout").args(["20", "script", "-qec", &cmd, "/dev/null"]).output().expect("script (util-linux) runs a command on a terminal");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("standard input is a terminal") && text.contains("exit=1"), "{sub}: {text}");
        assert!(!out_file.exists(), "{sub}: an output was left");
    }
}

#[test]
fn an_empty_standard_input_is_named_as_such() {
    let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(["decompress", "-", "-o", "-"]).stdin(std::process::Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("standard input is empty"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn outputs_keep_the_inputs_permissions_and_modification_time() {
    use std::os::unix::fs::PermissionsExt;
    let input = tmp("private.bf16");
    std::fs::copy(fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16"), &input).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_577_836_800); // 2020-01-01
    std::fs::File::options().write(true).open(&input).unwrap().set_modified(old).unwrap();
    // Group-readable and owner read-only: the exact bits are set at commit.
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o440)).unwrap();
    let (frame, back1, back2) = (tmp("private.llmc"), tmp("private.1.bf16"), tmp("private.2.bf16"));
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", input.to_str().unwrap(), "-o", frame.to_str().unwrap()]);
    assert!(ok, "{err}");
    // One decoding thread (the caller writes) and two (the workers write).
    for (back, threads) in [(&back1, "1"), (&back2, "2")] {
        let (ok, _, err) = llmc(&["decompress", "-T", threads, frame.to_str().unwrap(), "-o", back.to_str().unwrap()]);
        assert!(ok, "{err}");
        assert_eq!(std::fs::read(back).unwrap(), std::fs::read(&input).unwrap());
    }
    for path in [&frame, &back1, &back2] {
        let m = std::fs::metadata(path).unwrap();
        assert_eq!((m.permissions().mode() & 0o777, m.modified().unwrap()), (0o440, old), "{}", path.display());
    }
}

#[test]
fn chunk_size_takes_units_and_zero_sizes_or_levels_are_refused() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let frame = tmp("units.llmc");
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", "--chunk-size", "64K", input.to_str().unwrap(), "-o", frame.to_str().unwrap()]);
    assert!(ok, "{err}");
    let (ok, out, _) = llmc(&["info", frame.to_str().unwrap()]);
    assert!(ok && out.contains("x 65536 bytes"), "{out}");
    for bad in [["--chunk-size", "0"], ["--level", "0"], ["--chunk-size", "512M"]] {
        let (ok, _, err) = llmc(&["compress", "--codec", "bf16", bad[0], bad[1], input.to_str().unwrap(), "-o", tmp("refused.llmc").to_str().unwrap()]);
        assert!(!ok && err.contains(&format!("'{}'", bad[1])), "{bad:?}: {err}");
        assert!(!tmp("refused.llmc").exists());
    }
}

#[test]
fn a_directorys_files_keep_their_permissions_both_ways() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp("private-ckpt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf"), dir.join("model.gguf")).unwrap();
    std::fs::write(dir.join("config.json"), b"{\"private\": true}\n").unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    std::fs::set_permissions(dir.join("model.gguf"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::set_permissions(dir.join("config.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let (packed, back) = (tmp("private-ckpt.llmc"), tmp("private-ckpt.back"));
    let (ok, _, err) = llmc(&["compress", "-T", "2", "--level", "3", dir.to_str().unwrap(), "-o", packed.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!((mode(&packed.join("model.gguf.llmc")), mode(&packed.join("config.json"))), (0o640, 0o600));
    let (ok, _, err) = llmc(&["decompress", packed.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!((mode(&back.join("model.gguf")), mode(&back.join("config.json"))), (0o640, 0o600));
    assert_eq!(std::fs::read(back.join("model.gguf")).unwrap(), std::fs::read(dir.join("model.gguf")).unwrap());
}

#[test]
fn several_inputs_go_to_their_default_names_and_a_failure_does_not_stop_the_rest() {
    let dir = tmp("several");
    std::fs::create_dir_all(&dir).unwrap();
    let src = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let (a, b, bad) = (dir.join("a.bf16"), dir.join("b.bf16"), dir.join("bad.bf16"));
    std::fs::copy(&src, &a).unwrap();
    std::fs::copy(&src, &b).unwrap();
    std::fs::write(&bad, [1u8; 7]).unwrap(); // not a whole number of bf16 elements
    let p = |x: &std::path::Path| x.to_str().unwrap().to_string();
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", &p(&a), &p(&bad), &p(&b)]);
    assert!(!ok && err.contains("bad.bf16") && err.contains("1 of 3 inputs failed"), "{err}");
    assert!(dir.join("a.bf16.llmc").exists() && dir.join("b.bf16.llmc").exists() && !dir.join("bad.bf16.llmc").exists());
    // -o names one output.
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", &p(&a), &p(&b), "-o", &p(&dir.join("x"))]);
    assert!(!ok && err.contains("-o names the output of one input"), "{err}");
    std::fs::remove_file(&a).unwrap();
    std::fs::remove_file(&b).unwrap();
    let (ok, _, err) = llmc(&["decompress", &p(&dir.join("a.bf16.llmc")), &p(&dir.join("b.bf16.llmc"))]);
    assert!(ok, "{err}");
    for x in [&a, &b] {
        assert_eq!(std::fs::read(x).unwrap(), std::fs::read(&src).unwrap());
    }
}

/// Runs `sh_cmd` on a pseudo-terminal (`script`, util-linux): stdout and stderr
/// are then a terminal. Returns what the terminal showed.
fn on_a_terminal(sh_cmd: &str) -> String {
    let out = Command::new("script").args(["-qec", sh_cmd, "/dev/null"]).output().expect("script (util-linux) runs a command on a terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn quiet_leaves_out_summaries_and_progress_bars_but_not_errors() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let (frame, back) = (tmp("quiet.llmc"), tmp("quiet.bf16"));
    let (i, f, b) = (input.to_str().unwrap(), frame.to_str().unwrap(), back.to_str().unwrap());
    // The summaries that -q must leave out.
    let (ok, _, err) = llmc(&["compress", "-f", "--codec", "bf16", i, "-o", f]);
    assert!(ok && err.contains("ratio"), "{err}");
    let (ok, _, err) = llmc(&["decompress", "-f", f, "-o", b]);
    assert!(ok && err.contains(" bytes"), "{err}");
    for q in ["-q", "--quiet"] {
        let (ok, _, err) = llmc(&["compress", q, "-f", "--codec", "bf16", i, "-o", f]);
        assert!(ok && err.is_empty(), "compress {q}: {err}");
        let (ok, _, err) = llmc(&["decompress", q, "-f", f, "-o", b]);
        assert!(ok && err.is_empty(), "decompress {q}: {err}");
        assert!(std::fs::read(&back).unwrap() == std::fs::read(&input).unwrap());
    }
    // A directory: no summary, and no note about the link it follows.
    let dir = tmp("quiet-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&input, dir.join("q.bf16")).unwrap();
    let (packed, unpacked) = (tmp("quiet-dir.llmc"), tmp("quiet-dir.back"));
    let (ok, _, err) = llmc(&["compress", dir.to_str().unwrap(), "-o", packed.to_str().unwrap()]);
    assert!(ok && err.contains("following it") && err.contains("1 files"), "{err}");
    let (ok, _, err) = llmc(&["compress", "-q", "-f", dir.to_str().unwrap(), "-o", packed.to_str().unwrap()]);
    assert!(ok && err.is_empty(), "{err}");
    let (ok, _, err) = llmc(&["decompress", "-q", packed.to_str().unwrap(), "-o", unpacked.to_str().unwrap()]);
    assert!(ok && err.is_empty() && unpacked.join("q.bf16").is_file(), "{err}");
    // Errors still print, with their status.
    let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(["compress", "-q", "-f", "--codec", "bf16", "/nonexistent/x.bf16", "-o", f]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/x.bf16"));
    let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(["decompress", "-q", i, "-o", b, "-f"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an llmc frame or container"));
    // On a terminal the bar is drawn at once (even for this small file); -q draws nothing.
    let exe = env!("CARGO_BIN_EXE_llmc");
    let shown = on_a_terminal(&format!("{exe} compress -f --codec bf16 {i} -o {f}; {exe} decompress -f {f} -o {b}"));
    assert!(shown.contains("compressing [") && shown.contains("decompressing ["), "{shown:?}");
    let shown = on_a_terminal(&format!("{exe} compress -q -f --codec bf16 {i} -o {f}; {exe} decompress -q -f {f} -o {b}; echo exit=$?"));
    assert_eq!(shown.trim_end(), "exit=0", "only the echo reaches the terminal");
}

#[test]
fn stdout_flag_writes_standard_output_as_dash_o_dash_does() {
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let i = input.to_str().unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_llmc")).args(args).current_dir(tmp("")).output().unwrap();
    let by_dash = run(&["compress", "--codec", "bf16", i, "-o", "-"]);
    assert!(by_dash.status.success() && !by_dash.stdout.is_empty());
    for c in ["-c", "--stdout"] {
        let by_c = run(&["compress", "--codec", "bf16", c, i]);
        assert!(by_c.status.success(), "{}", String::from_utf8_lossy(&by_c.stderr));
        assert!(by_c.stdout == by_dash.stdout, "compress {c} differs from -o -");
    }
    let frame = tmp("stdout.llmc");
    std::fs::write(&frame, &by_dash.stdout).unwrap();
    let back = run(&["decompress", "-c", frame.to_str().unwrap()]);
    assert!(back.status.success() && back.stdout == std::fs::read(&input).unwrap(), "{}", String::from_utf8_lossy(&back.stderr));
    assert!(!tmp("stdout").exists(), "nothing under the default name");
    // Beside -o: a usage error (status 2) naming both, nothing written.
    let named = tmp("stdout-and-o.llmc");
    let n = named.to_str().unwrap();
    for args in [vec!["compress", "--codec", "bf16", "-c", i, "-o", n], vec!["decompress", "-c", frame.to_str().unwrap(), "-o", n]] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--stdout") && err.contains("--output") && out.stdout.is_empty() && !named.exists(), "{args:?}: {err}");
    }
    // One input only.
    // Several inputs with -c or -o: a usage error (status 2), as -c beside -o is.
    let out = run(&["compress", "--codec", "bf16", "-c", i, i]);
    assert!(out.status.code() == Some(2) && out.stdout.is_empty() && String::from_utf8_lossy(&out.stderr).contains("-c/--stdout writes one input"));
    let out = run(&["compress", "--codec", "bf16", "-o", n, i, i]);
    assert!(out.status.code() == Some(2) && String::from_utf8_lossy(&out.stderr).contains("-o names the output of one input"));
    // A directory's output is a directory: refused (it used to become a folder named `-`).
    let dir = tmp("stdout-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&input, dir.join("q.bf16")).unwrap();
    for cmd in ["compress", "decompress"] {
        for args in [vec![cmd, "-c", dir.to_str().unwrap()], vec![cmd, dir.to_str().unwrap(), "-o", "-"]] {
            let out = run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.code() == Some(1) && err.contains("not standard output") && out.stdout.is_empty(), "{args:?}: {err}");
            assert!(!tmp("-").exists(), "{args:?} made a folder named -");
        }
    }
    // Onto a terminal: refused as -o - is (decompressed bytes too).
    let exe = env!("CARGO_BIN_EXE_llmc");
    for cmd in [format!("{exe} compress --codec bf16 -c {i}"), format!("{exe} decompress -c {}", frame.display())] {
        let shown = on_a_terminal(&format!("{cmd}; echo exit=$?"));
        assert!(shown.contains("standard output is a terminal") && shown.contains("exit=1"), "{cmd}: {shown}");
        assert!(shown.len() < 400, "{cmd}: bytes reached the terminal: {} bytes", shown.len());
    }
}

#[test]
fn a_directory_with_no_model_file_is_copied_and_said_so() {
    // Configs only: copied as they are (status 0), with a note before the work
    // and no "model files" ratio in the summary; -q leaves both out.
    let dir = tmp("configs-only");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    let d = dir.to_str().unwrap();
    let out_dir = tmp("configs-only-out");
    let _ = std::fs::remove_dir_all(&out_dir);
    let o = out_dir.to_str().unwrap();
    let (ok, _, err) = llmc(&["compress", d, "-o", o]);
    assert!(ok && err.contains(&format!("llmc: {d}: no GGUF or safetensors file in it: its files are copied as they are")), "{err}");
    assert!(err.contains("(0 compressed, 1 copied)") && !err.contains("model files"), "{err}");
    assert_eq!(std::fs::read(out_dir.join("config.json")).unwrap(), b"{}");
    let back = tmp("configs-only-back");
    let _ = std::fs::remove_dir_all(&back);
    let (ok, _, err) = llmc(&["decompress", o, "-o", back.to_str().unwrap()]);
    assert!(ok && err.contains("no llmc frame or container in it") && back.join("config.json").is_file(), "{err}");
    let _ = std::fs::remove_dir_all(&out_dir);
    let (ok, _, err) = llmc(&["compress", "-q", d, "-o", o]);
    assert!(ok && err.is_empty(), "{err}");
}

#[test]
fn a_directory_with_no_model_file_is_not_said_verified() {
    // --verify on a folder with nothing to code checks nothing: the summary
    // must not claim it did (nor would it without the flag).
    let dir = tmp("configs-only-verify");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    let out_dir = tmp("configs-only-verify-out");
    let _ = std::fs::remove_dir_all(&out_dir);
    let (ok, _, err) = llmc(&["compress", "--verify", dir.to_str().unwrap(), "-o", out_dir.to_str().unwrap()]);
    assert!(ok && err.contains("(0 compressed, 1 copied)"), "{err}");
    assert!(!err.contains("verified"), "nothing was verified: {err}");
}

#[test]
fn standard_output_gets_no_summary_and_is_named_in_errors() {
    // As zstd and gzip: bytes on standard output come without a summary line
    // (the progress bar is not drawn off a terminal either).
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let i = input.to_str().unwrap();
    let frame = tmp("summary.llmc");
    let (ok, _, err) = llmc(&["compress", "-f", "--codec", "bf16", i, "-o", frame.to_str().unwrap()]);
    assert!(ok && err.contains("ratio"), "a file output keeps its summary: {err}");
    let f = frame.to_str().unwrap();
    for args in [vec!["compress", "--codec", "bf16", "-c", i], vec!["decompress", "-c", f], vec!["decompress", f, "-o", "-"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(&args).output().unwrap();
        assert!(out.status.success() && !out.stdout.is_empty() && out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // --verify asked for a check: its summary (naming standard output) says it ran.
    let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(["decompress", "--verify", "-c", f]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !out.stdout.is_empty() && err.contains("-> standard output:") && err.trim_end().ends_with(", verified"), "{err}");
    // A full device: the error names standard output, not "-".
    if std::path::Path::new("/dev/full").exists() {
        for args in [vec!["compress", "--codec", "bf16", "-c", i], vec!["decompress", "-c", f]] {
            let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(&args).stdout(full).output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success() && err.contains("cannot write standard output:"), "{args:?}: {err}");
        }
    }
}

#[test]
fn a_directory_with_no_files_is_named_and_nothing_is_written() {
    // As `zstd -r` on an empty directory: a message on stderr, status 0 (nothing
    // to do), no output. Folders alone are no files.
    let dir = tmp("no-files");
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    let d = dir.to_str().unwrap();
    for (cmd, quiet) in [("compress", ""), ("compress", "-q"), ("decompress", ""), ("decompress", "-q")] {
        // The message stays with -q, as zstd's does.
        let args: Vec<&str> = [cmd, d, quiet].into_iter().filter(|a| !a.is_empty()).collect();
        let (ok, out, err) = llmc(&args);
        assert!(ok && out.is_empty(), "{args:?}: {err}");
        assert_eq!(err.trim_end(), format!("llmc: {d}: no files to {cmd}"), "{args:?}");
    }
    // -qq leaves the notice out too, as zstd's does.
    for cmd in ["compress", "decompress"] {
        let (ok, out, err) = llmc(&[cmd, "-qq", d]);
        assert!(ok && out.is_empty() && err.is_empty(), "{cmd} -qq: {err}");
    }
    assert!(!tmp("no-files.llmc").exists(), "no output folder under the default name");
    let (ok, _, err) = llmc(&["compress", d, "-o", tmp("no-files-out").to_str().unwrap()]);
    assert!(ok && err.contains("no files to compress") && !tmp("no-files-out").exists(), "{err}");
    // Beside other inputs it is one more input with nothing to do.
    let model = tmp("beside-no-files.gguf");
    std::fs::copy(fixtures_dir().join("corrupt/model.gguf"), &model).unwrap();
    let (ok, _, err) = llmc(&["compress", d, model.to_str().unwrap()]);
    assert!(ok && err.contains("no files to compress") && tmp("beside-no-files.gguf.llmc").is_file(), "{err}");
}

/// Findings of an outside test: standard output that cannot be written is an
/// error, not a panic; a directory as `-o` is refused before any work; `info`
/// does not call a frame with bytes after it fine.
#[test]
fn unwritable_stdout_directory_outputs_and_trailing_bytes_are_errors() {
    let full = std::fs::File::create("/dev/full").unwrap();
    // Help and version too (they exited 0 with nothing written).
    for args in [&["isa"][..], &["info", fixtures_dir().join("corrupt/model.gguf.llmc").to_str().unwrap()], &["--help"], &["decompress", "--help"], &["--version"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(args).stdout(full.try_clone().unwrap()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("cannot write standard output") && !err.contains("panicked"), "{args:?}: {err}");
    }
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let dir = tmp("out-dir");
    std::fs::create_dir_all(&dir).unwrap();
    for output in [dir.to_str().unwrap().to_string(), format!("{}/", tmp("not-yet").display())] {
        let (ok, _, err) = llmc(&["compress", "--codec", "bf16", input.to_str().unwrap(), "-o", &output, "--force"]);
        assert!(!ok && err.contains("a directory, not an output file"), "{output}: {err}");
    }
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none() && !tmp("not-yet").exists());
    let (ok, _, err) = llmc(&["info", dir.to_str().unwrap()]);
    assert!(!ok && err.contains("a directory; info reads one frame or container"), "{err}");
    let frame = tmp("q.llmc");
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", input.to_str().unwrap(), "-o", frame.to_str().unwrap(), "--force"]);
    assert!(ok, "{err}");
    let mut twice = std::fs::read(&frame).unwrap();
    twice.extend_from_slice(&twice.clone());
    let doubled = tmp("q2.llmc");
    std::fs::write(&doubled, &twice).unwrap();
    let (ok, out, _) = llmc(&["info", doubled.to_str().unwrap()]);
    assert!(!ok && out.contains("after frame:"), "{out}");
}

#[test]
fn a_safetensors_tensor_of_more_than_eight_dimensions_is_named() {
    // Edge-case input: one F32 tensor of shape [1 × 9, 50].
    let json = br#"{"t":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1,50],"data_offsets":[0,200]}}"#;
    let mut file = (json.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(json);
    file.extend_from_slice(&[0u8; 200]);
    let (input, output) = (tmp("dims10.safetensors"), tmp("dims10.safetensors.llmc"));
    std::fs::write(&input, &file).unwrap();
    let (ok, _, err) = llmc(&["compress", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--force"]);
    assert!(!ok && err.contains(r#"tensor "t" has 10 dimensions"#), "{err}");
}

/// `llmc info -` fed `bytes` through a pipe: success, stdout, stderr.
fn info_from_pipe(bytes: Vec<u8>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmc"))
        .args(["info", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The reader may stop early (a refusal): a broken pipe here is fine.
    let writer = std::thread::spawn(move || drop(std::io::Write::write_all(&mut stdin, &bytes)));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn info_reads_a_container_from_a_pipe() {
    // As `cat MODEL.llmc | llmc info -` (an outside test found it refused); with
    // bytes after it, refused as `decompress` refuses it (an independent review).
    let original = std::fs::read(fixtures_dir().join("corrupt/model.gguf")).unwrap();
    for container in [std::fs::read(fixtures_dir().join("corrupt/model.gguf.llmc")).unwrap(), llmc::model::compress(&original, &Default::default(), None).unwrap()] {
        let (ok, out, err) = info_from_pipe(container.clone());
        assert!(ok && out.contains(&format!("original size: {} bytes", original.len())), "{out}{err}");
        let (ok, _, err) = info_from_pipe([&container[..], b"junk"].concat());
        assert!(!ok && err.contains("bytes follow the container"), "{err}");
    }
}

#[test]
fn names_of_up_to_255_bytes_are_written() {
    // An outside test: a legal name of 238 bytes or more failed, its temporary
    // (`.NAME.llmc-tmp-PID-N`) being longer than a file name may be.
    let input = fixtures_dir().join("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let long = tmp(&format!("{}.bf16", "a".repeat(245)));
    std::fs::copy(&input, &long).unwrap();
    let out = tmp(&format!("{}.llmc", "a".repeat(250)));
    assert_eq!(out.file_name().unwrap().len(), 255);
    let (ok, _, err) = llmc(&["compress", "--codec", "bf16", long.to_str().unwrap(), "-o", out.to_str().unwrap(), "--force"]);
    assert!(ok, "{err}");
    let (ok, _, err) = llmc(&["decompress", out.to_str().unwrap(), "-o", long.to_str().unwrap(), "--force"]);
    assert!(ok && std::fs::read(&long).unwrap() == std::fs::read(&input).unwrap(), "{err}");
}

#[test]
fn a_model_file_that_does_not_parse_is_carried_over_as_it_is() {
    // A second outside test: one half-downloaded shard stopped a whole
    // directory run with nothing written. It is now copied as it is, named,
    // and the run fails after the rest is done; the tree comes back exact.
    let dir = tmp("ckpt-partial");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let gguf = std::fs::read(fixtures_dir().join("corrupt/model.gguf")).unwrap();
    std::fs::write(dir.join("good.gguf"), &gguf).unwrap();
    std::fs::write(dir.join("partial.gguf"), &gguf[..gguf.len() / 2]).unwrap();
    std::fs::write(dir.join("config.json"), b"{}").unwrap();
    let (out, back) = (tmp("ckpt-partial.llmc"), tmp("ckpt-partial.back"));
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&back);
    let (ok, _, err) = llmc(&["compress", dir.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!ok && err.contains("partial.gguf: not compressed") && err.contains("1 model file(s)"), "{err}");
    assert!(out.join("good.gguf.llmc").exists() && out.join("partial.gguf").exists());
    let (ok, _, err) = llmc(&["decompress", out.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert!(ok, "{err}");
    for name in ["good.gguf", "partial.gguf", "config.json"] {
        assert!(std::fs::read(back.join(name)).unwrap() == std::fs::read(dir.join(name)).unwrap(), "{name}");
    }
}

#[test]
fn a_container_that_does_not_decode_is_carried_over_as_it_is() {
    // One damaged container (a cut download) stopped a whole `decompress DIR`
    // with nothing written. As compress does with a model file that does not
    // parse, it is now copied as it is under its own name, named, and the run
    // fails after the rest is done.
    let dir = tmp("ckpt-damaged.llmc");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let gguf = std::fs::read(fixtures_dir().join("corrupt/model.gguf")).unwrap();
    let container = llmc::model::compress(&gguf, &Default::default(), None).unwrap();
    std::fs::write(dir.join("good.gguf.llmc"), &container).unwrap();
    std::fs::write(dir.join("cut.gguf.llmc"), &container[..container.len() / 2]).unwrap();
    std::fs::write(dir.join("config.json"), b"{}").unwrap();
    let back = tmp("ckpt-damaged.back");
    let _ = std::fs::remove_dir_all(&back);
    let (ok, _, err) = llmc(&["decompress", dir.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert!(!ok && err.contains("cut.gguf.llmc: not decompressed") && err.contains("1 compressed file(s)"), "{err}");
    assert_eq!(std::fs::read(back.join("good.gguf")).unwrap(), gguf);
    assert_eq!(std::fs::read(back.join("cut.gguf.llmc")).unwrap(), &container[..container.len() / 2]);
    assert_eq!(std::fs::read(back.join("config.json")).unwrap(), b"{}");
    assert!(!back.join("cut.gguf").exists());
}

#[test]
fn empty_folders_are_carried_both_ways() {
    // A tree's empty folders (an `outputs/` a script expects) were dropped:
    // only files' folders were made.
    let dir = tmp("ckpt-empty-folders");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("runs/empty/deeper")).unwrap();
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("model.gguf"), std::fs::read(fixtures_dir().join("corrupt/model.gguf")).unwrap()).unwrap();
    // A link to a folder is followed, and said so as a link to a file is.
    std::os::unix::fs::symlink("runs", dir.join("runs-link")).unwrap();
    let (out, back) = (tmp("ckpt-empty-folders.llmc"), tmp("ckpt-empty-folders.back"));
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&back);
    let (ok, _, err) = llmc(&["compress", dir.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(ok && err.contains("runs-link: symbolic link to runs, following it"), "{err}");
    assert!(out.join("runs-link/empty/deeper").is_dir());
    assert!(out.join("runs/empty/deeper").is_dir() && out.join("logs").is_dir());
    let (ok, _, err) = llmc(&["decompress", out.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(back.join("runs/empty/deeper").is_dir() && back.join("logs").is_dir());
    assert_eq!(std::fs::read(back.join("model.gguf")).unwrap(), std::fs::read(dir.join("model.gguf")).unwrap());
}

#[test]
fn decompress_offers_only_one_instruction_set() {
    // `decompress --help` listed `--isa all`, which it then refused at run time.
    let (ok, help, _) = llmc(&["decompress", "--help"]);
    assert!(ok && help.contains("[possible values: auto, scalar, avx2, avx512, avx512-permute]"), "{help}");
    let (ok, _, err) = llmc(&["decompress", "--isa", "all", "x.llmc"]);
    assert!(!ok && err.contains("invalid value 'all'"), "{err}");
}

/// A GGUF v3 file of one F32 tensor of 8 values named `name`, declaring `n_tensors`.
fn small_gguf(name: &str, n_tensors: u64) -> Vec<u8> {
    let mut g = b"GGUF".to_vec();
    g.extend(3u32.to_le_bytes());
    g.extend(n_tensors.to_le_bytes());
    g.extend(0u64.to_le_bytes());
    g.extend((name.len() as u64).to_le_bytes());
    g.extend(name.as_bytes());
    g.extend(1u32.to_le_bytes());
    g.extend(8u64.to_le_bytes());
    g.extend(0u32.to_le_bytes());
    g.extend(0u64.to_le_bytes());
    g.resize(g.len().next_multiple_of(32), 0);
    g.extend([0x3f; 32]);
    g
}

#[test]
fn gguf_limits_are_named() {
    // An outside test: a tensor name gguf-py writes but llama.cpp refuses
    // (64 bytes or more), or more tensors than llmc reads, said only
    // "invalid GGUF file" or "declared size exceeds limit".
    let ok = tmp("name63.gguf");
    std::fs::write(&ok, small_gguf(&"n".repeat(63), 1)).unwrap();
    let (done, _, err) = llmc(&["compress", "-f", ok.to_str().unwrap(), "-o", tmp("name63.gguf.llmc").to_str().unwrap()]);
    assert!(done, "{err}");
    for (file, bytes, says) in [
        ("name64.gguf", small_gguf(&"n".repeat(64), 1), "tensor 0's name \"nnnn"),
        ("many.gguf", small_gguf("t", (1 << 20) + 1), "1048577 tensors; llmc reads GGUF files of at most 1048576"),
    ] {
        let path = tmp(file);
        std::fs::write(&path, bytes).unwrap();
        let (done, _, err) = llmc(&["compress", "-f", path.to_str().unwrap(), "-o", tmp("x.llmc").to_str().unwrap()]);
        assert!(!done && err.contains(says), "{file}: {err}");
    }
}

#[test]
fn perstream_mode_refuses_options_it_would_ignore() {
    let gguf = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let out = tmp("perstream.llmc");
    for extra in [&["--codec", "bf16"][..], &["--chunk-size", "64K"], &["--no-row-classes"]] {
        let mut args = vec!["compress", "--mode", "perstream", gguf.to_str().unwrap(), "-o", out.to_str().unwrap(), "-f"];
        args.extend_from_slice(extra);
        let (ok, _, err) = llmc(&args);
        assert!(!ok && err.contains("do not apply"), "{extra:?}: {err}");
    }
}
