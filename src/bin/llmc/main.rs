//! `llmc`: the command-line tool.

/// `println!` that ends the program with an error, not a panic, when standard
/// output cannot be written (a full disk, `/dev/full`; a closed pipe still ends
/// it with SIGPIPE, as any filter).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::stdout_failed(&e)
        }
    }};
}

mod bench;
mod bench_types;
mod commands;
mod diagnose;
mod fetch;
mod files;
mod mount;
mod progress;
mod smoke;
mod stats;
mod tree;
mod walk;

use clap::{Parser, Subcommand, ValueEnum};
use llmc::frame::Method;
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

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum CodecArg {
    /// Detect from the input (GGUF files become containers).
    Auto,
    Bf16,
    /// Arrays of GGUF block_q4_K (144 bytes per 256 weights).
    Q4k,
    Stored,
    /// Whole GGUF or safetensors files as containers (bench only; compress
    /// detects them). `gguf` and `safetensors` are aliases.
    #[value(alias = "gguf", alias = "safetensors")]
    Container,
}

impl CodecArg {
    fn method(self) -> Option<Method> {
        match self {
            CodecArg::Bf16 => Some(Method::Bf16),
            CodecArg::Q4k => Some(Method::Q4k),
            CodecArg::Stored => Some(Method::Stored),
            CodecArg::Auto | CodecArg::Container => None,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ModeArg {
    Container,
    Perstream,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum IsaArg {
    All,
    Auto,
    Scalar,
    Avx2,
    Avx512,
    Avx512Permute,
}

/// `--isa` where one instruction set runs (decompress): `all` is for bench.
#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum OneIsaArg {
    Auto,
    Scalar,
    Avx2,
    Avx512,
    Avx512Permute,
}

impl From<OneIsaArg> for IsaArg {
    fn from(a: OneIsaArg) -> IsaArg {
        match a {
            OneIsaArg::Auto => IsaArg::Auto,
            OneIsaArg::Scalar => IsaArg::Scalar,
            OneIsaArg::Avx2 => IsaArg::Avx2,
            OneIsaArg::Avx512 => IsaArg::Avx512,
            OneIsaArg::Avx512Permute => IsaArg::Avx512Permute,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Compress a GGUF or safetensors file into a container, a raw tensor into a
    /// frame, or a directory (sharded checkpoint) into a directory of containers.
    Compress {
        /// Files or directories (`-`: standard input). Several inputs are each
        /// written to their default name, as zstd does.
        #[arg(required = true, num_args = 1.., value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// Output (default: INPUT.llmc; a directory for a directory input).
        /// One input only.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Write to standard output, as `-o -` does. One file input only.
        #[arg(short = 'c', long = "stdout", conflicts_with = "output")]
        stdout: bool,
        #[arg(long, value_enum, default_value = "auto")]
        codec: CodecArg,
        /// Worker threads (default: all cores). Output is identical for any count.
        #[arg(short = 'T', long)]
        threads: Option<u32>,
        /// zstd level (1-22) of the metadata: the GGUF header, the safetensors
        /// JSON header (default: 19, and 12 for GGUF string arrays such as the
        /// tokenizer's vocabulary).
        #[arg(long, value_parser = clap::value_parser!(i32).range(1..=22))]
        level: Option<i32>,
        /// Uncompressed bytes per chunk, e.g. 1M, 4M, 65536 (default 1 MiB; for
        /// Q4_K the whole blocks of 144 bytes within 4 MiB, 4194288; a raw Q4_K
        /// file takes multiples of 144 only). By default a last chunk under a
        /// quarter of the size is spread over the chunks before it; a size given
        /// is used exactly. Chunks above 32 MiB need
        /// `decompress --memory` to be read back.
        #[arg(long, value_name = "SIZE", value_parser = chunk_size_arg)]
        chunk_size: Option<u32>,
        /// Raw bf16 only: values per row of the matrix (its last dimension).
        /// Rows then fall into classes by magnitude, each with its own table,
        /// where that is smaller. GGUF and safetensors tensors know their rows.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        row: Option<u32>,
        /// Also store a CRC32C of the whole content (frames).
        #[arg(long)]
        content_checksum: bool,
        /// One table per chunk for every tensor, no row classes (and bf16 lanes
        /// that carry no raw bytes, Q5_0/Q5_1 quants unfolded, GGUF numeric arrays
        /// without word differences): tensors encode about 15 % and decode 5-10 %
        /// faster, 0.1-0.4 % larger on bf16 and FP8 (5 % on Q5_0/Q5_1), and the
        /// container stays readable by libllmc from before row classes. A GGUF with
        /// a vocabulary's scores compresses slower with it (the array as it is costs
        /// zstd -19 far more time than its differences). Tiny tensors keep a frame
        /// each and the index is stored as it is.
        #[arg(long, conflicts_with = "row")]
        no_row_classes: bool,
        /// GGUF only: `container` (default: per-tensor codecs, random access) or
        /// `perstream` (the paper's decomp_perstream_zstd19_bg, for comparison).
        #[arg(long, value_enum, default_value = "container")]
        mode: ModeArg,
        /// Read the output back, decode it and compare with the input.
        #[arg(long)]
        verify: bool,
        /// Overwrite an existing output file; for a directory, write into an
        /// existing, non-empty output directory.
        #[arg(short, long)]
        force: bool,
        /// No summary, progress bar or notes on stderr; errors and warnings
        /// still print and the exit status is unchanged. `-qq` also leaves out
        /// the notice that a directory holds nothing to do.
        #[arg(short, long, action = clap::ArgAction::Count)]
        quiet: u8,
    },
    /// Decompress a frame or rebuild the original file from a container.
    Decompress {
        /// Frames, containers or directories of them (`-`: standard input).
        /// Several inputs are each written to their default name, as zstd does.
        #[arg(required = true, num_args = 1.., value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// Output (default: INPUT without .llmc). One input only.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Write to standard output, as `-o -` does. One file input only.
        #[arg(short = 'c', long = "stdout", conflicts_with = "output")]
        stdout: bool,
        /// Decoding threads (default: all cores). Output is identical for any count.
        #[arg(short = 'T', long)]
        threads: Option<u32>,
        #[arg(long, value_enum, default_value = "auto")]
        isa: OneIsaArg,
        /// Also check the rebuilt file against the container's SHA-256 (chunk
        /// CRC32Cs are always checked).
        #[arg(long)]
        verify: bool,
        /// Overwrite an existing output file; for a directory, write into an
        /// existing, non-empty output directory.
        #[arg(short, long)]
        force: bool,
        /// No summary, progress bar or notes on stderr; errors and warnings
        /// still print and the exit status is unchanged. `-qq` also leaves out
        /// the notice that a directory holds nothing to do.
        #[arg(short, long, action = clap::ArgAction::Count)]
        quiet: u8,
        /// Largest chunk to hold in memory while decoding, e.g. 32M, 256M. A
        /// file declaring larger chunks is refused (memory stays bounded on
        /// hostile input); raise it for trusted files made with a large
        /// --chunk-size.
        #[arg(long, default_value = "32M")]
        memory: String,
    },
    /// Describe a frame or a container (tensors, types, per-type ratios). `-`
    /// or a pipe: a container, read through (each frame's header checked, one
    /// frame held at a time) to its index, which comes last; a file is mapped.
    Info { file: PathBuf },
    /// Show the instruction sets this CPU supports and the one in use.
    Isa,
    /// Download a real model file used by the bench, the tests and the gate
    /// (cached; prints its path).
    Fetch {
        #[arg(value_enum, default_value = "gemma")]
        asset: fetch::Asset,
    },
    /// The checksum gate: three methods on three real fixtures, pinned sha256[:16].
    Smoke {
        /// The fixtures directory (default: the repository's).
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// Rewrite fixtures/expected-checksums.json from this run.
        #[arg(long)]
        bless: bool,
        /// Seconds per decode measurement.
        #[arg(long, default_value_t = 0.5)]
        min_time: f64,
    },
    /// Show a container (or a directory of them) as its original files, read-only,
    /// through FUSE: programs open and mmap them unmodified and only the chunks
    /// they touch are decoded. Stays in the foreground until unmounted
    /// (`fusermount3 -u MOUNTPOINT`, Ctrl-C or SIGTERM).
    Mount {
        /// A container (X.llmc appears as MOUNTPOINT/X) or a directory made by
        /// `llmc compress DIR` (appears as the original tree).
        src: PathBuf,
        mountpoint: PathBuf,
        /// Threads decoding ahead of sequential readers (default: all cores; at
        /// most 256, as everywhere).
        #[arg(short = 'T', long)]
        threads: Option<u32>,
        /// Decoded chunks kept in memory, e.g. 256M, 1G.
        #[arg(long, default_value = "256M")]
        cache_size: String,
        /// Serve read() through the kernel's page cache (kept across opens)
        /// instead of direct I/O, which is faster for streaming readers.
        #[arg(long)]
        page_cache: bool,
        /// Let other users read the files too (a model server running under its
        /// own account), as far as each container's own read permissions allow
        /// (a 0600 container shows as 0400); without root, needs
        /// `user_allow_other` in /etc/fuse.conf.
        #[arg(long)]
        allow_other: bool,
    },
    /// Measure ratio and encode/decode speed per ISA, with memcpy in the same run.
    Bench {
        /// `auto` measures GGUF and safetensors files (and containers, as their
        /// originals) as containers, and any other file as raw bf16.
        #[arg(long, value_enum, default_value = "auto")]
        codec: CodecArg,
        #[arg(long, value_enum, default_value = "all")]
        isa: IsaArg,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Raw bf16 only: values per row of the matrix (its last dimension).
        /// Rows then fall into classes by magnitude, each with its own table,
        /// where that is smaller. GGUF and safetensors tensors know their rows.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        row: Option<u32>,
        /// Seconds spent on each measurement.
        #[arg(long, default_value_t = 1.0)]
        min_time: f64,
        /// Threads for encode and decode (and memcpy, the reference); above 1 the
        /// single-thread decode rate is measured too and the speed-up reported.
        #[arg(short = 'T', long, default_value_t = 1)]
        threads: u32,
        /// One-thread decode rate per tensor type of GGUF/safetensors files (or
        /// containers), GB/s and G symbols/s, wall and thread-CPU time (a table;
        /// not with --json); batches of tiny tensors are a row of their own.
        #[arg(long, conflicts_with = "json")]
        by_type: bool,
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
        IsaArg::Avx512Permute => one(Isa::Avx512Permute),
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

/// An output that is its own input would replace the only copy.
fn refuse_same_file(input: &std::path::Path, output: &std::path::Path) -> Result<(), String> {
    if files::same_file(input, output) {
        return Err(format!("{} is the input itself; choose another output", output.display()));
    }
    Ok(())
}

/// On Ctrl-C, SIGTERM or SIGHUP, removes the temporary outputs in progress
/// (`.NAME.llmc-tmp-*`: a file, or a staged output directory, which can be as
/// large as the model) and then ends the process as the signal would have.
/// Signals that are ignored (`nohup`, a shell's background job) stay ignored.
/// Called before any thread starts, so every later thread inherits the mask.
fn remove_temporaries_on_signal() {
    // SAFETY: sigset_t and sigaction are plain data, initialised by
    // sigemptyset / filled by sigaction before they are read; a null new action
    // only queries the current one; pthread_sigmask only reads the set.
    let set = unsafe {
        let mut set: libc::sigset_t = core::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            let mut old: libc::sigaction = core::mem::zeroed();
            if libc::sigaction(sig, core::ptr::null(), &mut old) == 0 && old.sa_sigaction != libc::SIG_IGN {
                libc::sigaddset(&mut set, sig);
            }
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, core::ptr::null_mut());
        set
    };
    // A small stack of its own (RUST_MIN_STACK does not apply); if the system
    // refuses even that, the signals act as before.
    let waiter = std::thread::Builder::new().name("llmc-signals".into()).stack_size(64 << 10).spawn(move || {
        let mut sig = 0;
        // SAFETY: `set` is initialised and blocked in every thread of the process.
        while unsafe { libc::sigwait(&set, &mut sig) } != 0 {}
        llmc::io::remove_pending_temps();
        // SAFETY: restores the default action and unblocks the signals in this
        // thread only, then raises the one received here: the process ends by
        // it, as it would have without this thread.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, core::ptr::null_mut());
            libc::raise(sig);
        }
        std::process::exit(128 + sig);
    });
    if waiter.is_err() {
        // SAFETY: `set` is initialised; unblocking only reads it.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, core::ptr::null_mut()) };
    }
}

/// An existing regular file is replaced only with `--force` (as zstd, gzip and
/// xz do): a stale `MODEL.gguf` beside `MODEL.gguf.llmc`, or an `-o` typo, is
/// not silently lost. Devices, FIFOs and standard output are written through.
fn refuse_overwrite(output: &std::path::Path, force: bool) -> Result<(), String> {
    if output == std::path::Path::new("-") {
        return Ok(());
    }
    // A folder is no place for one output file: said before any work, not after
    // a whole file was coded into a temporary beside it (found by an outside test).
    if output.is_dir() || output.as_os_str().as_encoded_bytes().ends_with(b"/") {
        return Err(format!("cannot write {}: a directory, not an output file (-o names the file; a directory is written only when the input is one)", output.display()));
    }
    if force {
        return Ok(());
    }
    match std::fs::metadata(output) {
        Ok(m) if m.is_file() => Err(format!("{} already exists; pass -f/--force to overwrite it", output.display())),
        _ => Ok(()),
    }
}

/// The output `-c`/`--stdout` asks for: `-` (clap already refused it beside
/// `-o`), for one input only, as `-o` is.
fn stdout_output(inputs: &[PathBuf], output: Option<PathBuf>, stdout: bool) -> Option<PathBuf> {
    match (stdout, inputs) {
        (false, _) => output,
        (true, [_]) => Some(PathBuf::from("-")),
        (true, _) => usage("-c/--stdout writes one input to standard output; with several inputs each is written to its default name"),
    }
}

/// A mistake in the arguments that clap cannot see: said in clap's words, and
/// the usage status (2), before anything is read or written.
fn usage(msg: &str) -> ! {
    use clap::CommandFactory;
    Cli::command().error(clap::error::ErrorKind::ArgumentConflict, msg).exit()
}

/// Standard input read from a terminal would wait for typed model bytes (zstd
/// refuses it too).
fn refuse_terminal_stdin(inputs: &[PathBuf]) -> Result<(), String> {
    if inputs.iter().any(|i| i == std::path::Path::new("-")) && std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err("standard input is a terminal: pipe or redirect the data in (`< FILE`, `cat FILE |`), or name the file".into());
    }
    Ok(())
}

/// Runs `one` on each input, as zstd does with several files: each goes to
/// its default name (`-o` names the output of a single input), a failure is
/// reported and the rest still run, and the exit status is 1 if any failed.
fn for_each_input(inputs: &[PathBuf], output: Option<PathBuf>, mut one: impl FnMut(&std::path::Path, Option<PathBuf>) -> Result<ExitCode, String>) -> Result<ExitCode, String> {
    if let [input] = inputs {
        return one(input, output);
    }
    if output.is_some() {
        usage("-o names the output of one input; with several inputs each is written to its default name");
    }
    if inputs.iter().any(|i| i == std::path::Path::new("-")) {
        usage("standard input (`-`) can only be the one input");
    }
    let mut failed = 0;
    for input in inputs {
        match one(input, None) {
            Ok(code) if code == ExitCode::SUCCESS => {}
            Ok(_) => failed += 1,
            Err(msg) => {
                eprintln!("llmc: error: {msg}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        eprintln!("llmc: {failed} of {} inputs failed (named above)", inputs.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A directory command that left files out fails, after doing the rest.
fn skipped_status(input: &std::path::Path, r: tree::DirReport) -> ExitCode {
    if r.skipped == 0 && r.not_coded == 0 {
        return ExitCode::SUCCESS;
    }
    if r.skipped > 0 {
        eprintln!("llmc: error: {} file(s) under {} were not carried over (named above)", r.skipped, input.display());
    }
    if r.not_coded > 0 {
        let (what, failed) = r.not_coded_are;
        eprintln!("llmc: error: {} {what} under {} {failed} and were copied as they are (named above)", r.not_coded, input.display());
    }
    ExitCode::FAILURE
}

/// `--chunk-size`: a size with an optional unit (K, M), within the format's limits.
fn chunk_size_arg(s: &str) -> Result<u32, String> {
    use llmc::limits::{MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
    let n = mount::parse_size(s)?;
    match u32::try_from(n) {
        Ok(n) if (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&n) => Ok(n),
        _ => Err(format!("{n} bytes is outside {MIN_CHUNK_SIZE}..={MAX_CHUNK_SIZE} (1K to 256M)")),
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    warn_env_isa();
    match cli.cmd {
        Command::Compress { inputs, output, stdout, codec, threads, level, chunk_size, content_checksum, no_row_classes, mode, verify, force, row, quiet } => {
            progress::set_quiet(quiet);
            let output = stdout_output(&inputs, output, stdout);
            refuse_terminal_stdin(&inputs)?;
            if row.is_some() && codec != CodecArg::Bf16 {
                return Err("--row describes raw bf16 input: use it with --codec bf16".into());
            }
            // The paper's per-stream layout has its own codecs and one zstd
            // frame per stream: these would be ignored, not applied.
            if mode == ModeArg::Perstream && (codec.method().is_some() || chunk_size.is_some() || no_row_classes) {
                return Err("--mode perstream takes a GGUF file as it is: --codec, --chunk-size and --no-row-classes do not apply to it".into());
            }
            remove_temporaries_on_signal();
            // 0 asks the library for its defaults.
            let (chunk_size, level) = (chunk_size.unwrap_or(0), level.unwrap_or(0));
            let params = CompressParams {
                n_threads: threads.unwrap_or_else(default_threads),
                chunk_size,
                level,
                flags: if content_checksum { llmc::PARAM_FLAG_CONTENT_CHECKSUM } else { 0 } | if no_row_classes { llmc::PARAM_FLAG_NO_ROW_CLASSES } else { 0 },
                ..Default::default()
            };
            let default_max_chunk = DecodeOptions::default().max_chunk;
            return for_each_input(&inputs, output, |input, output| -> Result<ExitCode, String> {
                // A chunk is never larger than the file: only a chunk size and a file
                // both over the limit make chunks that decompress refuses.
                let input_len = if input.is_file() { std::fs::metadata(input).map_or(u64::MAX, |m| m.len()) } else { u64::MAX };
                if u64::from(chunk_size).min(input_len) > default_max_chunk {
                    eprintln!(
                        "llmc: warning: chunks over {} MiB: `llmc decompress` refuses them unless given --memory {}M or more (and the C streaming decoder refuses them)",
                        default_max_chunk >> 20,
                        u64::from(chunk_size).div_ceil(1 << 20)
                    );
                }
                if input.is_dir() {
                    if codec != CodecArg::Auto || mode != ModeArg::Container {
                        return Err("directories are compressed file by file with the default codecs; drop --codec/--mode".into());
                    }
                    return Ok(skipped_status(input, tree::compress_dir(input, output.as_deref(), &params, verify, force)?));
                } else {
                    let output = output.unwrap_or_else(|| if input == std::path::Path::new("-") { input.to_path_buf() } else { files::compressed_name(input) });
                    refuse_same_file(input, &output)?;
                    refuse_overwrite(&output, force)?;
                    commands::compress(input, &output, codec.method().map(|m| m.with_rows(row.map(u64::from))), &params, mode == ModeArg::Perstream, verify)?;
                }
                Ok(ExitCode::SUCCESS)
            });
        }
        Command::Decompress { inputs, output, stdout, threads, isa, verify, force, memory, quiet } => {
            progress::set_quiet(quiet);
            let output = stdout_output(&inputs, output, stdout);
            refuse_terminal_stdin(&inputs)?;
            remove_temporaries_on_signal();
            let isa = match isa {
                OneIsaArg::Auto => None,
                other => Some(isa_list(other.into())?[0]),
            };
            let max_chunk = mount::parse_size(&memory)? as u64;
            if max_chunk == 0 {
                return Err("--memory 0 leaves no room for a chunk; give a size such as 32M or 256M".into());
            }
            let opts = DecodeOptions { isa, n_threads: threads.unwrap_or_else(default_threads), max_chunk, ..Default::default() };
            return for_each_input(&inputs, output, |input, output| -> Result<ExitCode, String> {
                if input.is_dir() {
                    return Ok(skipped_status(input, tree::decompress_dir(input, output.as_deref(), &opts, verify, force)?));
                }
                let output = match output {
                    Some(o) => o,
                    None if input == std::path::Path::new("-") => input.to_path_buf(),
                    None => files::decompressed_name(input)?,
                };
                refuse_same_file(input, &output)?;
                refuse_overwrite(&output, force)?;
                commands::decompress(input, &output, &opts, verify)?;
                Ok(ExitCode::SUCCESS)
            });
        }
        Command::Info { file } => {
            if !commands::info(&file)? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Isa => {
            out!("supported: {}", supported_names());
            out!("best: {}", llmc::isa::cpu_best().name());
            out!("active: {}", llmc::isa::active().name());
        }
        Command::Fetch { asset } => out!("{}", fetch::ensure(asset)?.display()),
        Command::Smoke { fixtures, bless, min_time } => {
            let dir = fixtures.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
            if !smoke::run(&dir, bless, Duration::from_secs_f64(min_time.max(0.0)))? {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Mount { src, mountpoint, threads, cache_size, page_cache, allow_other } => {
            // As every other command: at most MAX_THREADS (the mount starts about
            // two threads per read-ahead thread).
            let threads = threads.unwrap_or_else(default_threads).min(llmc::limits::MAX_THREADS) as usize;
            let cache_size = mount::parse_size(&cache_size)?;
            mount::run(&mount::MountArgs { src, mountpoint, threads, cache_size, page_cache, allow_other })?;
        }
        Command::Bench { by_type: true, isa, min_time, files, .. } => {
            bench_types::run(&files, &isa_list(isa)?, Duration::from_secs_f64(min_time.max(0.0)))?;
        }
        Command::Bench { codec, isa, json, min_time, threads, files, row, by_type: false } => {
            if row.is_some() && !matches!(codec, CodecArg::Bf16 | CodecArg::Auto) {
                return Err("--row describes raw bf16 input: use it with --codec bf16 or auto".into());
            }
            let raw_method = |c: CodecArg| c.method().unwrap_or(Method::Bf16).with_rows(row.map(u64::from));
            // `auto`: GGUF and safetensors files are measured as containers,
            // anything else as raw bf16 (the codec of most raw tensors); a run
            // per kind, files in the order given within each.
            let target_of = |path: &PathBuf| match codec {
                CodecArg::Container => bench::Target::Container,
                CodecArg::Auto => {
                    let head = std::fs::File::open(path).and_then(|f| {
                        let mut h = Vec::new();
                        std::io::Read::read_to_end(&mut std::io::Read::take(&f, 4096), &mut h).map(|_| (h, f.metadata().map_or(0, |m| m.len())))
                    });
                    match head.map(|(h, len)| files::kind_of_file(&h, len)) {
                        Ok(files::Kind::Gguf | files::Kind::Safetensors | files::Kind::Container) => bench::Target::Container,
                        _ => bench::Target::Frame(raw_method(codec)),
                    }
                }
                other => bench::Target::Frame(raw_method(other)),
            };
            let (containers, frames): (Vec<PathBuf>, Vec<PathBuf>) = files.into_iter().partition(|f| matches!(target_of(f), bench::Target::Container));
            let mut ok = true;
            for (target, group) in [(bench::Target::Container, containers), (bench::Target::Frame(raw_method(codec)), frames)] {
                if group.is_empty() {
                    continue;
                }
                let cfg = bench::BenchConfig { target, isas: isa_list(isa)?, json, min_time: Duration::from_secs_f64(min_time.max(0.0)), threads };
                ok &= bench::run(&group, &cfg)?;
            }
            if !ok {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Ends the program: standard output cannot be written.
fn stdout_failed(e: &std::io::Error) -> ! {
    eprintln!("llmc: error: cannot write standard output: {e}");
    std::process::exit(1)
}

/// Rust ignores SIGPIPE, so output into a closed pipe (`llmc info x | head -1`)
/// fails every write and `println!` panics. Like other command-line tools, llmc
/// lets the signal end the process quietly instead.
fn default_sigpipe() {
    // SAFETY: called first thing in `main`, before any other thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Large blocks always come from their own mappings, given back when freed:
/// glibc otherwise raises this threshold after the first large free (a zstd
/// level-19 context), and later chunk buffers stay in the heap, so the resident
/// set keeps what a long compression once held instead of what it holds.
fn heap_follows_use() {
    // SAFETY: called first thing in `main`, before any other thread exists (and
    // mallopt is thread-safe anyway); a plain integer setting.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 10);
    }
}

fn main() -> ExitCode {
    default_sigpipe();
    heap_follows_use();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors go to stderr; help and version to standard output,
        // where a failed write is an error as for any output (`--help > /dev/full`).
        Err(e) => {
            let to_stdout = !e.use_stderr();
            let printed = e.print().and_then(|()| std::io::Write::flush(&mut std::io::stdout()));
            if let (Err(why), true) = (printed, to_stdout) {
                eprintln!("llmc: error: cannot write standard output: {why}");
                return ExitCode::FAILURE;
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("llmc: error: {msg}");
            ExitCode::FAILURE
        }
    }
}
