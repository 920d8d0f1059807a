//! `llmc smoke`: the checksum gate. Three methods on three real fixtures — the
//! bf16 codec, the Q4_K codec, the whole-GGUF container — each compressed with
//! default settings; the sha256[:16] of each output must match
//! `fixtures/expected-checksums.json`, and each must decode back byte for byte.

use crate::{bench, fetch, stats};
use llmc::frame::Method;
use llmc::model::Index;
use llmc::{CompressParams, DecodeOptions};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const EXPECTED: &str = "expected-checksums.json";

#[derive(Clone, Copy)]
enum Which {
    Bf16,
    Q4k,
    Gguf,
}

struct Case {
    method: &'static str,
    which: Which,
    /// Relative to the fixtures directory; `None` = the fetched whole GGUF.
    fixture: Option<&'static str>,
    paper: Value,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            method: "bf16",
            which: Which::Bf16,
            fixture: Some("bf16/all-minilm-l6-v2.word_embeddings.bf16"),
            paper: json!({"method": "bf16_split", "fixture": "TinyLlama-1.1B layer 3 q_proj (bf16)", "ratio": "about 1.5 (bf16 tensors)", "sha256_16": "fc3544c35489eb94", "input_bytes": null}),
        },
        Case {
            method: "q4k",
            which: Which::Q4k,
            fixture: Some("q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k"),
            paper: json!({"method": "qb_mixture_k4", "fixture": "Llama-3.2-3B layer 14 ffn_gate (Q4_K stream)", "ratio": "1.0517 (geomean, 530 tensors)", "sha256_16": "c79972a64d11b717", "input_bytes": null}),
        },
        Case {
            method: "gguf",
            which: Which::Gguf,
            fixture: None,
            paper: json!({"method": "decomp_perstream_zstd19_bg", "fixture": "Qwen2.5-0.5B Q4_K_M GGUF", "ratio": "1.0422 (geomean, three 3-7B Q4_K_M files)", "sha256_16": "1c6f077f8c228cf2", "input_bytes": null}),
        },
    ]
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

struct Outcome {
    input: PathBuf,
    input_sha: String,
    input_bytes: usize,
    compressed_bytes: usize,
    sha16: String,
    roundtrip: bool,
    decode: Vec<(llmc::Isa, f64)>,
    memcpy: f64,
}

fn run_case(c: &Case, fixtures: &Path, min_time: Duration) -> Result<Outcome, String> {
    let input = match c.fixture {
        Some(rel) => fixtures.join(rel),
        None => fetch::ensure_gemma()?,
    };
    let src = llmc::io::map(&input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let input_sha = hex(&Sha256::digest(&*src));
    let params = CompressParams::default();
    let err = |e: llmc::Error| format!("{}: {e}", input.display());
    let compressed = match c.which {
        Which::Bf16 => llmc::frame::compress(&Method::Bf16, &src, &params).map_err(err)?,
        Which::Q4k => llmc::frame::compress(&Method::Q4k, &src, &params).map_err(err)?,
        Which::Gguf => llmc::model::gguf::compress(&src, &CompressParams { n_threads: 2, ..params }, None).map_err(err)?,
    };
    let sha16 = stats::sha256_16(&compressed);
    let index = match c.which {
        Which::Gguf => Some(Index::open(&compressed).map_err(err)?),
        _ => None,
    };
    let mut out = vec![0u8; src.len()];
    let mut decode = Vec::new();
    let mut roundtrip = true;
    for isa in llmc::isa::supported() {
        let opts = DecodeOptions { isa: Some(isa), ..Default::default() };
        let once = |out: &mut [u8]| match &index {
            Some(ix) => ix.decompress_all(&compressed, out, &opts),
            None => llmc::decompress_into(&compressed, out, &opts).map(|_| ()),
        };
        once(&mut out).map_err(err)?;
        roundtrip &= out[..] == src[..];
        let t = bench::best_time(min_time, || once(&mut out).expect("decoded once already"));
        decode.push((isa, src.len() as f64 / t.as_secs_f64() / 1e9));
    }
    let mut copy = vec![0u8; src.len()];
    let t = bench::best_time(min_time, || copy.copy_from_slice(&src));
    let memcpy = src.len() as f64 / t.as_secs_f64() / 1e9;
    Ok(Outcome { input, input_sha, input_bytes: src.len(), compressed_bytes: compressed.len(), sha16, roundtrip, decode, memcpy })
}

/// Runs the gate; with `bless`, writes the expected file from this run instead.
pub fn run(fixtures: &Path, bless: bool, min_time: Duration) -> Result<bool, String> {
    let expected_path = fixtures.join(EXPECTED);
    let expected: Value = if bless {
        json!({})
    } else {
        let text = std::fs::read_to_string(&expected_path).map_err(|e| format!("cannot read {}: {e}", expected_path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", expected_path.display()))?
    };
    out!(
        "{:<6} {:<40} {:>11} {:>11} {:>7} {:<34} {:>16} {:>16}  {:<26} status",
        "method", "input", "bytes", "compressed", "ratio", "paper ratio", "sha256[:16]", "expected", "decode GB/s per ISA"
    );
    let mut passed = 0;
    let mut record = serde_json::Map::new();
    let cases = cases();
    for c in &cases {
        let o = run_case(c, fixtures, min_time)?;
        let ratio = o.input_bytes as f64 / o.compressed_bytes as f64;
        let want = &expected["methods"][c.method];
        let mut problems = Vec::new();
        if !bless {
            if want["input_sha256"].as_str() != Some(&o.input_sha) {
                problems.push(format!(
                    "input {} changed: sha256 {} (expected {})",
                    o.input.display(),
                    o.input_sha,
                    want["input_sha256"].as_str().unwrap_or("?")
                ));
            }
            if want["sha256_16"].as_str() != Some(&o.sha16) {
                problems.push(format!(
                    "compressed sha256[:16] {} != expected {} (compressed bytes {} vs {})",
                    o.sha16,
                    want["sha256_16"].as_str().unwrap_or("?"),
                    o.compressed_bytes,
                    want["compressed_bytes"]
                ));
            }
        }
        if !o.roundtrip {
            problems.push("decoded bytes differ from the input".to_string());
        }
        let speeds: Vec<String> = o.decode.iter().map(|(i, g)| format!("{} {g:.2}", i.name())).collect();
        out!(
            "{:<6} {:<40} {:>11} {:>11} {:>7.4} {:<34} {:>16} {:>16}  {:<26} {}",
            c.method,
            o.input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            o.input_bytes,
            o.compressed_bytes,
            ratio,
            c.paper["ratio"].as_str().unwrap_or(""),
            o.sha16,
            want["sha256_16"].as_str().unwrap_or("-"),
            speeds.join(", "),
            if problems.is_empty() { "ok" } else { "FAIL" }
        );
        let best = o.decode.iter().map(|d| d.1).fold(0.0, f64::max);
        out!("       memcpy {:.2} GB/s in the same run; best decode / memcpy = {:.3}", o.memcpy, best / o.memcpy);
        for p in &problems {
            out!("       MISMATCH: {p}");
        }
        if problems.is_empty() {
            passed += 1;
        }
        record.insert(
            c.method.to_string(),
            json!({
                "input": c.fixture.map_or_else(|| format!("cache:{}", fetch::Asset::Gemma.file()), |f| format!("fixtures/{f}")),
                "input_sha256": o.input_sha,
                "input_bytes": o.input_bytes,
                "compressed_bytes": o.compressed_bytes,
                "ratio": (ratio * 10000.0).round() / 10000.0,
                "sha256_16": o.sha16,
                "paper": c.paper,
            }),
        );
    }
    if bless {
        let doc = json!({
            "about": "The checksum gate (llmc smoke): default settings, sha256[:16] of the compressed output. The paper's rows are recorded for comparison; its fixtures cannot be downloaded here, so its prefixes are not reproducible.",
            "methods": record,
        });
        crate::files::write(&expected_path, (serde_json::to_string_pretty(&doc).expect("json") + "\n").as_bytes(), None)?;
        out!("wrote {}", expected_path.display());
    }
    out!("{passed}/{} passed", cases.len());
    Ok(passed == cases.len())
}
