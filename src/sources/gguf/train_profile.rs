//! Trains the built-in Q4_K profile from the Q4_K tensors of a GGUF file (the
//! Gemma 3 270M file: never the Qwen fixtures we evaluate on) and writes
//! `profiles/q4k_v1.bin` and `profiles/q4k_v1.json`. A tool, run by hand:
//!
//!     LLMC_TRAIN_GGUF=~/.cache/llmc/gemma-3-270m-q4_k_m.gguf cargo test --release --lib train_q4k_profile -- --ignored
//!
//! It lives in the crate because it needs the codec's internals.

use crate::codec::profiles;
use crate::codec::q4k::encode::split_blocks;
use sha2::{Digest, Sha256};

#[test]
#[ignore = "a tool: rewrites profiles/q4k_v1.{bin,json} from LLMC_TRAIN_GGUF"]
fn train_q4k_profile() {
    let path = std::env::var("LLMC_TRAIN_GGUF").expect("LLMC_TRAIN_GGUF names the GGUF to train on");
    let file = std::fs::read(&path).unwrap();
    let g = super::parse(&file).unwrap();
    let mut hist = vec![[0u64; 256]; 17];
    let mut names = Vec::new();
    for t in g.tensors.iter().filter(|t| t.ggml_type == super::types::Q4_K) {
        let data = &file[t.abs_offset..t.abs_offset + t.nbytes.unwrap()];
        let n = data.len() / 144;
        let (headers, flags, _) = split_blocks(data);
        for p in 0..16 {
            for &b in &headers[p * n..(p + 1) * n] {
                hist[p][usize::from(b)] += 1;
            }
        }
        for &b in &flags {
            hist[16][usize::from(b)] += 1;
        }
        names.push(t.name.to_string());
    }
    let alphabets: Vec<_> = hist.iter().map(profiles::smoothed_alphabet).collect();
    let bin = profiles::write(profiles::Q4K_V1, &alphabets);
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/q4k_v1.bin"), &bin).unwrap();
    let sha: String = Sha256::digest(&file).iter().map(|b| format!("{b:02x}")).collect();
    let record = serde_json::json!({
        "profile": "q4k_v1",
        "id": profiles::Q4K_V1,
        "streams": "Q4_K header byte positions 0..16, then the flag stream (8 window flags per byte)",
        "trained_on": {
            "file": std::path::Path::new(&path).file_name().unwrap().to_string_lossy(),
            "sha256": sha,
            "tensors": names,
        },
        "not_trained_on": "the Qwen2.5-Coder fixtures in fixtures/q4k (the evaluation set)",
        "smoothing": "every byte value gets at least one slot so any stream can be coded",
        "tool": "LLMC_TRAIN_GGUF=<gguf> cargo test --release --lib train_q4k_profile -- --ignored",
        "bytes": bin.len(),
    });
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/q4k_v1.json"), serde_json::to_string_pretty(&record).unwrap() + "\n").unwrap();
    println!("wrote profiles/q4k_v1.bin ({} bytes) from {} tensors", bin.len(), names.len());
}
