//! ISA detection and the three ways to force one: process-wide, per call or
//! context, and the LLMC_ISA environment variable.

mod common;
use common::*;
use llmc::isa::{self, Isa, ISA_AUTO};
use llmc::Error;
use std::process::Command;

#[test]
fn detection_is_consistent() {
    let isas = isas_under_test();
    assert_eq!(isa::cpu_best(), *isas.last().unwrap());
    let mask = llmc::ffi::info::llmc_cpu_isa_mask();
    for i in llmc::isa::ALL_ISAS {
        assert_eq!(mask & (1 << i as u32) != 0, isas.contains(&i), "{i:?}");
    }
}

#[test]
fn process_setting_refuses_what_the_cpu_lacks_and_restores_auto() {
    // Only this test touches the process-wide setting in this binary.
    for i in llmc::isa::ALL_ISAS {
        let r = isa::set_process_isa(i as u32);
        if i.is_supported() {
            assert_eq!(r, Ok(()));
            assert_eq!(isa::active(), i);
        } else {
            assert_eq!(r, Err(Error::IsaUnsupported));
        }
    }
    let before = isa::active();
    assert_eq!(isa::set_process_isa(42), Err(Error::InvalidArgument));
    assert_eq!(isa::active(), before, "a refused request leaves the setting unchanged");
    assert_eq!(isa::set_process_isa(ISA_AUTO), Ok(()));
    assert_eq!(isa::active(), isa::cpu_best());
}

#[test]
fn per_call_requests_are_checked() {
    for i in llmc::isa::ALL_ISAS {
        let r = isa::resolve(Some(i));
        assert_eq!(r.is_ok(), i.is_supported());
    }
}

/// The CLI reports which ISA the dispatcher picked; LLMC_ISA must steer it.
fn cli_active_isa(env: Option<&str>) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmc"));
    cmd.arg("isa");
    match env {
        Some(v) => cmd.env("LLMC_ISA", v),
        None => cmd.env_remove("LLMC_ISA"),
    };
    let out = cmd.output().unwrap();
    assert!(out.status.success());
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn environment_variable_selects_the_isa() {
    let best = isa::cpu_best();
    let (out, _) = cli_active_isa(None);
    assert!(out.contains(&format!("active: {}", best.name())), "{out}");
    for i in isas_under_test() {
        let (out, err) = cli_active_isa(Some(i.name()));
        assert!(out.contains(&format!("active: {}", i.name())), "LLMC_ISA={}: {out}", i.name());
        assert!(err.is_empty(), "{err}");
    }
    let (out, err) = cli_active_isa(Some("sse9"));
    assert!(out.contains(&format!("active: {}", best.name())), "{out}");
    assert!(err.contains("ignoring LLMC_ISA"), "an unusable value is reported: {err}");
}

#[test]
fn each_isa_decodes_every_fixture_identically() {
    // Every kernel against the scalar specification, output compared byte for byte.
    let isas = isas_under_test();
    for rel in BF16_FIXTURES {
        let frame = llmc::compress_bf16(&fixture(rel), &Default::default()).unwrap();
        let reference = llmc::decompress(&frame, &opts(Isa::Scalar)).unwrap();
        for &i in &isas[1..] {
            assert!(llmc::decompress(&frame, &opts(i)).unwrap() == reference, "{rel}: {i:?}");
        }
    }
}

/// Encodes and decodes every codec family (bf16, Q4_K, field splits, a whole
/// GGUF container) under whatever ISA `LLMC_ISA` forces, then prints the kernel
/// call counts per ISA. Run as a child by `forced_isa_governs_every_kernel`.
#[test]
#[ignore = "run as a child process with LLMC_ISA set"]
fn forced_isa_child() {
    let bf16 = fixture("bf16/all-minilm-l6-v2.layer.0.query.bf16");
    let q4k = fixture("q4k/qwen2.5-coder-1.5b.blk.0.attn_k.q4k");
    let gguf = fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let p = llmc::CompressParams::default();
    let o = llmc::DecodeOptions::default();
    for (method, src) in [(llmc::frame::Method::Bf16, &bf16), (llmc::frame::Method::Q4k, &q4k), (llmc::frame::Method::Fields(llmc::frame::FieldLayout::planes(2)), &bf16)] {
        let c = llmc::frame::compress(&method, src, &p).unwrap();
        assert!(llmc::decompress(&c, &o).unwrap() == *src, "{method:?}");
    }
    let c = llmc::model::compress(&gguf, &p, None).unwrap();
    assert!(llmc::model::decompress(&c, &o).unwrap() == gguf);
    let counts: Vec<String> = isa::ALL_ISAS.iter().map(|&i| format!("{}={}", i.name(), llmc::kernel_calls(i))).collect();
    println!("kernel calls: {}", counts.join(" "));
}

#[test]
fn forced_isa_governs_every_kernel() {
    // A fresh process per ISA: LLMC_ISA is read once, and the counters are global.
    for forced in isas_under_test() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "forced_isa_child", "--nocapture", "--test-threads=1"])
            .env("LLMC_ISA", forced.name())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child with LLMC_ISA={}:\n{text}", forced.name());
        // The harness may print "test NAME ... " on the same line first.
        let line = text.lines().find_map(|l| l.split_once("kernel calls: ")).map(|(_, c)| c.trim()).unwrap_or_else(|| panic!("no counts in:\n{text}"));
        for field in line.split(' ') {
            let (name, n) = field.split_once('=').unwrap();
            let n: u64 = n.parse().unwrap();
            if name == forced.name() {
                assert!(n > 100, "LLMC_ISA={}: only {n} kernel calls counted on it: {line}", forced.name());
            } else {
                assert_eq!(n, 0, "LLMC_ISA={}: {name} kernels ran: {line}", forced.name());
            }
        }
    }
}
