//! `llmc`: the command-line tool.

mod bench;
mod files;
mod stats;

use clap::{Parser, Subcommand, ValueEnum};
use llmc::codec::Method;
use llmc::{CompressParams, DecodeOptions, Isa};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "llmc", version, about = "Lossless compression of LLM weights")]
struct Cli {
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum CodecArg {
    Bf16,
    Stored,
}

impl CodecArg {
    fn method(self) -> Method {
        match self {
            CodecArg::Bf16 => Method::Bf16,
            CodecArg::Stored => Method::Stored,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum IsaArg {
    All,
    Auto,
    Scalar,
    Avx2,
    Avx512,
}

#[derive(Subcommand)]
enum Command {
    /// Compress a file into an llmc frame.
    Compress {
        input: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, value_enum, default_value = "bf16")]
        codec: CodecArg,
        /// Worker threads (default: all cores). Output is identical for any count.
        #[arg(short = 'T', long)]
        threads: Option<u32>,
        /// Uncompressed bytes per chunk (default 1 MiB).
        #[arg(long, default_value_t = 0)]
        chunk_size: u32,
        /// Also store an XXH3-64 of the whole content.
        #[arg(long)]
        content_checksum: bool,
    },
    /// Decompress an llmc frame.
    Decompress {
        input: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        #[arg(short = 'T', long)]
        threads: Option<u32>,
        #[arg(long, value_enum, default_value = "auto")]
        isa: IsaArg,
    },
    /// Describe a frame.
    Info { file: PathBuf },
    /// Show the instruction sets this CPU supports and the one in use.
    Isa,
    /// Measure ratio and encode/decode speed per ISA, with memcpy in the same run.
    Bench {
        #[arg(long, value_enum, default_value = "bf16")]
        codec: CodecArg,
        #[arg(long, value_enum, default_value = "all")]
        isa: IsaArg,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Seconds spent on each measurement.
        #[arg(long, default_value_t = 1.0)]
        min_time: f64,
        #[arg(short = 'T', long, default_value_t = 1)]
        threads: u32,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn default_threads() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

fn isa_list(arg: IsaArg) -> Result<Vec<Isa>, String> {
    let one = |isa: Isa| {
        if isa.is_supported() {
            Ok(vec![isa])
        } else {
            Err(format!("this CPU cannot run the {} kernels (supported: {})", isa.name(), supported_names()))
        }
    };
    match arg {
        IsaArg::All => Ok(llmc::isa::supported()),
        IsaArg::Auto => Ok(vec![llmc::isa::active()]),
        IsaArg::Scalar => one(Isa::Scalar),
        IsaArg::Avx2 => one(Isa::Avx2),
        IsaArg::Avx512 => one(Isa::Avx512),
    }
}

fn supported_names() -> String {
    llmc::isa::supported().iter().map(|i| i.name()).collect::<Vec<_>>().join(", ")
}

fn warn_env_isa() {
    if let Some(Err(raw)) = llmc::isa::env_request() {
        eprintln!("llmc: warning: ignoring LLMC_ISA={raw:?} (supported: {}, or auto)", supported_names());
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    warn_env_isa();
    match cli.cmd {
        Command::Compress { input, output, codec, threads, chunk_size, content_checksum } => {
            let src = files::read(&input)?;
            let params = CompressParams {
                n_threads: threads.unwrap_or_else(default_threads),
                chunk_size,
                flags: if content_checksum { llmc::params::PARAM_FLAG_CONTENT_CHECKSUM } else { 0 },
                ..Default::default()
            };
            let t = std::time::Instant::now();
            let frame = llmc::frames::compress(&codec.method(), &src, &params).map_err(|e| format!("{}: {e}", input.display()))?;
            files::write_atomic(&output, &frame)?;
            eprintln!(
                "{} -> {}: {} -> {} bytes, ratio {:.4}, {:.2} s",
                input.display(),
                output.display(),
                src.len(),
                frame.len(),
                src.len() as f64 / frame.len().max(1) as f64,
                t.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Decompress { input, output, threads, isa } => {
            let src = files::read(&input)?;
            let isa = match isa {
                IsaArg::All | IsaArg::Auto => None,
                other => Some(isa_list(other)?[0]),
            };
            let opts = DecodeOptions { isa, n_threads: threads.unwrap_or_else(default_threads), ..Default::default() };
            let data = llmc::decompress(&src, &opts).map_err(|e| format!("{}: {e}", input.display()))?;
            files::write_atomic(&output, &data)?;
            eprintln!("{} -> {}: {} bytes", input.display(), output.display(), data.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Info { file } => {
            let src = files::read(&file)?;
            let f = llmc::frames::parse(&src).map_err(|e| format!("{}: {e}", file.display()))?;
            println!("frame:         {}", file.display());
            println!("codec:         {}", f.header.codec.name());
            println!("content size:  {} bytes", f.header.content_size);
            println!("frame size:    {} bytes", f.frame_size);
            println!("ratio:         {:.4}", f.header.content_size as f64 / f.frame_size.max(1) as f64);
            println!("chunks:        {} x {} bytes", f.header.n_chunks, f.header.chunk_size);
            println!("content check: {}", if f.content_checksum.is_some() { "xxh3-64" } else { "none" });
            let bad = f.chunks.iter().filter(|c| c.verify().is_err()).count();
            println!("chunk checks:  {}", if bad == 0 { "all ok".to_string() } else { format!("{bad} FAILED") });
            Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Isa => {
            println!("supported: {}", supported_names());
            println!("best: {}", llmc::isa::cpu_best().name());
            println!("active: {}", llmc::isa::active().name());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { codec, isa, json, min_time, threads, files } => {
            let cfg = bench::BenchConfig {
                method: codec.method(),
                isas: isa_list(isa)?,
                json,
                min_time: Duration::from_secs_f64(min_time.max(0.0)),
                threads,
            };
            let ok = bench::run(&files, &cfg)?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("llmc: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
