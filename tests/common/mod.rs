#![allow(dead_code)]
//! Helpers shared by the integration tests.

pub mod c_build;
pub mod corpus;
pub mod fuse;
pub mod hostile;
pub mod index;
pub mod st;


use llmc::Isa;
use std::path::{Path, PathBuf};

/// A real model file from `llmc fetch ASSET` (downloaded once, then cached).
pub fn fetched(asset: &str) -> PathBuf {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_llmc")).args(["fetch", asset]).output().unwrap();
    assert!(out.status.success(), "llmc fetch {asset} failed: {}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn fixture(rel: &str) -> Vec<u8> {
    let p = fixtures_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

pub const BF16_FIXTURES: [&str; 4] = [
    "bf16/all-minilm-l6-v2.word_embeddings.bf16",
    "bf16/all-minilm-l6-v2.layer.3.intermediate.bf16",
    "bf16/all-minilm-l6-v2.layer.3.output.bf16",
    "bf16/all-minilm-l6-v2.layer.0.query.bf16",
];

/// Every ISA this machine must exercise. On x86-64 CPUs that have them, AVX2 and
/// AVX-512 are required: a test run that silently skipped them would prove nothing.
/// `LLMC_TEST_ALLOW_MISSING_ISA=1` relaxes this on older CPUs.
pub fn isas_under_test() -> Vec<Isa> {
    let supported = llmc::isa::supported();
    let allow_missing = std::env::var("LLMC_TEST_ALLOW_MISSING_ISA").is_ok_and(|v| v == "1");
    #[cfg(target_arch = "x86_64")]
    {
        let expect_avx2 = std::arch::is_x86_feature_detected!("avx2");
        let expect_avx512 = std::arch::is_x86_feature_detected!("avx512vbmi2");
        if !allow_missing {
            assert!(!expect_avx2 || supported.contains(&Isa::Avx2), "CPU has AVX2 but the AVX2 path is unavailable");
            assert!(
                !expect_avx512 || supported.contains(&Isa::Avx512),
                "CPU has AVX-512 VBMI2 but the AVX-512 path is unavailable"
            );
            let expect_permute = expect_avx512 && std::arch::is_x86_feature_detected!("avx512bitalg");
            assert!(
                !expect_permute || supported.contains(&Isa::Avx512Permute),
                "CPU has AVX-512 VBMI2 and BITALG but the avx512-permute path is unavailable"
            );
        }
    }
    assert!(supported.contains(&Isa::Scalar));
    supported
}

pub fn opts(isa: Isa) -> llmc::DecodeOptions {
    llmc::DecodeOptions { isa: Some(isa), ..Default::default() }
}

/// The chunk payloads of the frame `f` (an LLMF frame from its first byte).
#[allow(dead_code)]
pub fn frame_payloads(f: &[u8]) -> Vec<&[u8]> {
    let n = u32::from_le_bytes(f[20..24].try_into().unwrap()) as usize;
    let mut pos = 32 + 8 * n;
    (0..n)
        .map(|i| {
            let size = u32::from_le_bytes(f[32 + 8 * i..36 + 8 * i].try_into().unwrap()) as usize;
            let p = &f[pos..pos + size];
            pos += size;
            p
        })
        .collect()
}

/// Decodes a whole container as a one-pass stream (as from a pipe).
pub fn stream_decode(c: &[u8]) -> Result<Vec<u8>, llmc::Error> {
    let mut out = Vec::new();
    let mut sink = |b: &[u8]| -> llmc::Result<()> {
        out.extend_from_slice(b);
        Ok(())
    };
    llmc::stream::decode(&mut llmc::stream::Input::new(c), &llmc::DecodeOptions::default(), 0, true, &mut sink)?;
    Ok(out)
}
