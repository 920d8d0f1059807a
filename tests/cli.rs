//! The `llmc` command-line tool end to end.

mod common;
use common::*;
use std::process::Command;

fn llmc(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_llmc")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("llmc-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
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
        let (ok, _, err) = llmc(&["decompress", frame.to_str().unwrap(), "-o", back.to_str().unwrap(), "--isa", isa]);
        assert!(ok, "{err}");
        assert!(std::fs::read(&back).unwrap() == std::fs::read(&input).unwrap());
    }
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
