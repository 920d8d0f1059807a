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
