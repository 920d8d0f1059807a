//! The checksum gate: `llmc smoke` passes under every ISA, the C driver prints the
//! same prefixes, the prefixes do not move with the thread count, and a changed
//! fixture fails the gate with a clear message. Needs the whole Gemma GGUF
//! (`llmc fetch`; `.ci/run` fetches it first).

mod common;
use common::c_build::{build, run, Link};
use common::*;
use std::process::Command;

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join("expected-checksums.json")).unwrap()).unwrap()
}

fn smoke(env: &[(&str, &str)], fixtures: Option<&std::path::Path>) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmc"));
    cmd.args(["smoke", "--min-time", "0.02"]);
    if let Some(f) = fixtures {
        cmd.arg("--fixtures").arg(f);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn gemma() -> std::path::PathBuf {
    common::fetched("gemma")
}

#[test]
fn gate_passes_under_every_isa() {
    gemma();
    for isa in isas_under_test() {
        let (ok, out) = smoke(&[("LLMC_ISA", isa.name())], None);
        assert!(ok && out.contains("3/3 passed"), "LLMC_ISA={}:\n{out}", isa.name());
    }
}

#[test]
fn prefixes_do_not_move_with_threads_or_isa() {
    let e = expected();
    let prefix = |v: &[u8]| { let d = <sha2::Sha256 as sha2::Digest>::digest(v); u64::from_be_bytes(d[..8].try_into().unwrap()) };
    let want = |m: &str| u64::from_str_radix(e["methods"][m]["sha256_16"].as_str().unwrap(), 16).unwrap();
    let bf16 = fixture("bf16/all-minilm-l6-v2.word_embeddings.bf16");
    let q4k = fixture("q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k");
    let whole = std::fs::read(gemma()).unwrap();
    for isa in isas_under_test() {
        for threads in [1, 2, 3] {
            let p = llmc::CompressParams { isa: Some(isa), n_threads: threads, ..Default::default() };
            assert_eq!(prefix(&llmc::compress_bf16(&bf16, &p).unwrap()), want("bf16"), "bf16 {isa:?} x{threads}");
            assert_eq!(prefix(&llmc::compress_q4k(&q4k, &p).unwrap()), want("q4k"), "q4k {isa:?} x{threads}");
        }
    }
    for threads in [1, 2] {
        let p = llmc::CompressParams { n_threads: threads, ..Default::default() };
        assert_eq!(prefix(&llmc::model::gguf::compress(&whole, &p, None).unwrap()), want("gguf"), "gguf x{threads}");
    }
}

#[test]
fn c_driver_prints_the_same_prefixes() {
    let bin = build("smoke", &["c_examples/smoke.c"], "-std=c99", false, Link::Static, &[]);
    let e = expected();
    let scratch = common::c_build::out_dir();
    let args = [
        fixtures_dir().join("bf16/all-minilm-l6-v2.word_embeddings.bf16").into_os_string(),
        fixtures_dir().join("q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k").into_os_string(),
        gemma().into_os_string(),
        scratch.into_os_string(),
    ];
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (ok, out) = run(&bin, &refs, &[]);
    assert!(ok && out.contains("roundtrips: ok"), "{out}");
    for m in ["bf16", "q4k", "gguf"] {
        let want = e["methods"][m]["sha256_16"].as_str().unwrap();
        assert!(out.lines().any(|l| l.starts_with(&format!("{m} {want} "))), "{m}: expected {want} in:\n{out}");
    }
}

#[test]
fn a_changed_fixture_fails_the_gate_clearly() {
    gemma();
    // Under Cargo's target/tmp, replaced on each run (not one copy per process).
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("smoke-changed-fixture");
    let _ = std::fs::remove_dir_all(&dir);
    for rel in ["bf16/all-minilm-l6-v2.word_embeddings.bf16", "q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k", "expected-checksums.json"] {
        let to = dir.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixtures_dir().join(rel), &to).unwrap();
    }
    let (ok, out) = smoke(&[], Some(&dir));
    assert!(ok, "unchanged copy must pass:\n{out}");
    let f = dir.join("bf16/all-minilm-l6-v2.word_embeddings.bf16");
    let mut bytes = std::fs::read(&f).unwrap();
    bytes[1000] ^= 0x01;
    std::fs::write(&f, &bytes).unwrap();
    let (ok, out) = smoke(&[], Some(&dir));
    assert!(!ok, "a changed fixture must fail the gate");
    assert!(out.contains("MISMATCH: input") && out.contains("changed") && out.contains("2/3 passed"), "{out}");
    assert!(out.contains("compressed sha256[:16]"), "both prefixes are printed:\n{out}");
}
