//! `llmc bench`: ratio, entropy bound, encode/decode GB/s per ISA and memcpy GB/s
//! of the same buffer measured in the same run (with `-T N`, memcpy on N threads
//! too, so `d/mcp` is the decode's share of the memory bound at that thread count).

use crate::stats;
use llmc::frame::Method;
use llmc::model::Index;
use llmc::{CompressParams, DecodeOptions, Isa};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

/// What `bench` measures: frames of one codec, or whole-file containers
/// (GGUF or safetensors).
#[derive(Clone)]
pub enum Target {
    Frame(Method),
    Container,
}

impl Target {
    fn name(&self) -> &'static str {
        match self {
            Target::Frame(m) => m.codec().name(),
            Target::Container => "container",
        }
    }

    /// The frame method, for a frame target.
    fn method(&self) -> Option<&Method> {
        match self {
            Target::Frame(m) => Some(m),
            Target::Container => None,
        }
    }

    fn compress_to(&self, src: &[u8], params: &CompressParams, out: &mut Vec<u8>) -> llmc::Result<()> {
        match self {
            Target::Frame(m) => llmc::frame::compress_to(m, src, params, out),
            Target::Container => {
                *out = llmc::model::compress(src, params, None)?;
                Ok(())
            }
        }
    }

    fn decode(&self, src: &[u8], index: Option<&Index>, out: &mut [u8], opts: &DecodeOptions) -> llmc::Result<usize> {
        match index {
            None => llmc::decompress_into(src, out, opts),
            Some(index) => index.decompress_all(src, out, opts).map(|()| index.original_size as usize),
        }
    }
}

pub struct BenchConfig {
    pub target: Target,
    pub isas: Vec<Isa>,
    pub json: bool,
    pub min_time: Duration,
    pub threads: u32,
}

/// Best time of `f` over repeated runs lasting at least `min_time` (and at least 3 runs).
pub fn best_time(min_time: Duration, mut f: impl FnMut()) -> Duration {
    f(); // warm-up: page faults, caches, branch predictors
    let start = Instant::now();
    let mut best = Duration::MAX;
    let mut runs = 0;
    while runs < 3 || start.elapsed() < min_time {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        runs += 1;
    }
    best
}

/// `dst.copy_from_slice(src)` split into `threads` page-aligned parts copied at once.
fn parallel_copy(dst: &mut [u8], src: &[u8], threads: u32) {
    let part = src.len().div_ceil(threads.max(1) as usize).next_multiple_of(4096).max(4096);
    if threads <= 1 || part >= src.len() {
        dst.copy_from_slice(src);
        return;
    }
    std::thread::scope(|s| {
        for (d, c) in dst.chunks_mut(part).zip(src.chunks(part)) {
            s.spawn(move || d.copy_from_slice(c));
        }
    });
}

fn gbps(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e9
}

pub fn run(files: &[std::path::PathBuf], cfg: &BenchConfig) -> Result<bool, String> {
    let mut all_ok = true;
    if !cfg.json {
        out!(
            "{:<44} {:>14} {:>11} {:>11} {:>7} {:>7} {:>8} {:>8} {:>8} {:>6} {:>16} rt",
            "file", "isa", "input", "compressed", "ratio", "bound", "enc GB/s", "dec GB/s", "memcpy", "d/mcp", "sha256[:16]"
        );
    }
    for path in files {
        let mut src = crate::files::read(path)?;
        // A container stands for its original: decoded once, then measured as
        // the original would be (compressed again: the same bytes come out).
        if matches!(cfg.target, Target::Container) && src.starts_with(b"LLMC") {
            let index = Index::open(&src).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut original = vec![0u8; usize::try_from(index.original_size).map_err(|_| format!("{}: too large", path.display()))?];
            index.decompress_all(&src, &mut original, &DecodeOptions::default()).map_err(|e| format!("{}: {e}", path.display()))?;
            src = original;
        }
        let params = CompressParams { n_threads: cfg.threads, ..Default::default() };
        let mut frame = Vec::new();
        // On failure, what compress would say about the same input.
        cfg.target
            .compress_to(&src, &params, &mut frame)
            .map_err(|e| format!("{}: {}", path.display(), crate::diagnose::compress_failure(&src, e, &params, cfg.target.method())))?;
        let mut scratch = Vec::new();
        let enc = best_time(cfg.min_time, || {
            cfg.target.compress_to(black_box(&src), &params, &mut scratch).expect("compressed once already");
            black_box(&scratch);
        });
        let index = match cfg.target {
            Target::Container => Some(Index::open(&frame).map_err(|e| format!("{}: {e}", path.display()))?),
            Target::Frame(_) => None,
        };
        let bound = match (&cfg.target, &index) {
            (Target::Frame(Method::Bf16 | Method::Bf16Plain | Method::Bf16Rows { .. }), _) => stats::bf16_bound_ratio(&src),
            (Target::Frame(Method::Q4k), _) => stats::q4k_bound_ratio(&src),
            (Target::Container, Some(index)) => stats::container_bound_ratio(index, &src),
            _ => f64::NAN,
        };
        let sha = stats::sha256_16(&frame);
        let mut out = vec![0u8; src.len()];
        let mut copy = vec![0u8; src.len()];
        for &isa in &cfg.isas {
            let opts = DecodeOptions { isa: Some(isa), n_threads: cfg.threads, ..Default::default() };
            let n = cfg.target.decode(&frame, index.as_ref(), &mut out, &opts).map_err(|e| format!("{}: {isa:?}: {e}", path.display()))?;
            let roundtrip = n == src.len() && out == src;
            all_ok &= roundtrip;
            let dec = best_time(cfg.min_time, || {
                black_box(cfg.target.decode(black_box(&frame), index.as_ref(), &mut out, &opts).expect("decoded once already"));
            });
            // With threads, the single-thread rate in the same run, for the speed-up.
            let dec1 = if cfg.threads > 1 {
                let one = DecodeOptions { n_threads: 1, ..opts };
                Some(best_time(cfg.min_time, || {
                    black_box(cfg.target.decode(black_box(&frame), index.as_ref(), &mut out, &one).expect("decoded once already"));
                }))
            } else {
                None
            };
            // memcpy on as many threads as the decode: the bound at that thread count.
            let mcp = best_time(cfg.min_time, || {
                parallel_copy(&mut copy, black_box(&src), cfg.threads);
                black_box(&copy);
            });
            let row = Row {
                file: display_name(path),
                codec: cfg.target.name(),
                isa: isa.name(),
                input_bytes: src.len(),
                compressed_bytes: frame.len(),
                bound,
                encode_gbps: gbps(src.len(), enc),
                decode_gbps: gbps(src.len(), dec),
                threads: cfg.threads,
                decode_gbps_1t: dec1.map(|t| gbps(src.len(), t)),
                memcpy_gbps: gbps(src.len(), mcp),
                sha256_16: sha.clone(),
                roundtrip,
            };
            row.print(cfg.json);
        }
    }
    Ok(all_ok)
}

fn display_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

struct Row {
    file: String,
    codec: &'static str,
    isa: &'static str,
    input_bytes: usize,
    compressed_bytes: usize,
    bound: f64,
    encode_gbps: f64,
    decode_gbps: f64,
    threads: u32,
    decode_gbps_1t: Option<f64>,
    memcpy_gbps: f64,
    sha256_16: String,
    roundtrip: bool,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.input_bytes as f64 / self.compressed_bytes as f64
    }

    fn print(&self, json: bool) {
        if json {
            let v = serde_json::json!({
                "file": self.file,
                "codec": self.codec,
                "isa": self.isa,
                "input_bytes": self.input_bytes,
                "compressed_bytes": self.compressed_bytes,
                "ratio": round4(self.ratio()),
                "bound_ratio": if self.bound.is_finite() { serde_json::json!(round4(self.bound)) } else { serde_json::Value::Null },
                "encode_gbps": round3(self.encode_gbps),
                "decode_gbps": round3(self.decode_gbps),
                "threads": self.threads,
                "decode_gbps_1_thread": self.decode_gbps_1t.map(round3),
                "thread_speedup": self.decode_gbps_1t.map(|one| round3(self.decode_gbps / one)),
                "memcpy_gbps": round3(self.memcpy_gbps),
                "decode_memcpy_ratio": round3(self.decode_gbps / self.memcpy_gbps),
                "sha256_16": self.sha256_16,
                "roundtrip": self.roundtrip,
            });
            out!("{v}");
        } else {
            out!(
                "{:<44} {:>14} {:>11} {:>11} {:>7.4} {:>7.4} {:>8.3} {:>8.3} {:>8.3} {:>6.3} {:>16} {}",
                self.file,
                self.isa,
                self.input_bytes,
                self.compressed_bytes,
                self.ratio(),
                self.bound,
                self.encode_gbps,
                self.decode_gbps,
                self.memcpy_gbps,
                self.decode_gbps / self.memcpy_gbps,
                self.sha256_16,
                if self.roundtrip { "ok" } else { "FAIL" }
            );
            if let Some(one) = self.decode_gbps_1t {
                out!("{:<44} {} threads: decode {:.3} GB/s vs {:.3} GB/s on 1 thread = {:.2}x", "", self.threads, self.decode_gbps, one, self.decode_gbps / one);
            }
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn round4(x: f64) -> f64 {
    (x * 10000.0).round() / 10000.0
}
