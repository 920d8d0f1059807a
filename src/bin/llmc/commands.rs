//! `compress`, `decompress` and `info` for frames and containers.

use crate::diagnose;
use crate::files::{self, Kind};
use crate::progress::{self, Progress};
use llmc::frame::Method;
use llmc::model::Index;
use llmc::{CompressParams, DecodeOptions};
use llmc::stream::Input;
use std::fs::File;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Instant;

/// `original / compressed` to four places, or "n/a" for an empty original
/// (whose container has a size but no ratio to speak of).
pub fn ratio(original: u64, compressed: u64) -> String {
    if original == 0 {
        return "n/a".into();
    }
    format!("{:.4}", original as f64 / compressed.max(1) as f64)
}

/// What one compress or decompress call did, for summaries.
pub struct Outcome {
    pub input_bytes: u64,
    pub output_bytes: u64,
}

/// Compresses `input`: a GGUF or safetensors file into a container (detected
/// from its first bytes), anything else into a frame of `method` (which must
/// then be given). With `verify`, the written output is read back and decoded
/// and must give the input byte for byte.
pub fn compress(input: &Path, output: &Path, method: Option<Method>, params: &CompressParams, perstream: bool, verify: bool) -> Result<(), String> {
    let t = Instant::now();
    if output == Path::new("-") && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        // Refused before a progress bar is drawn (create_output says the same).
        return Err(files::STDOUT_IS_TERMINAL.into());
    }
    let size = || std::fs::metadata(input).ok().filter(|m| m.is_file()).map(|m| m.len());
    let at_start = size();
    let bar = Progress::bytes(at_start.unwrap_or(0), "compressing");
    let done = compress_one(input, output, method, params, perstream, verify, &bar);
    bar.finish();
    // A file written to while it is read fails with whatever its new bytes
    // broke ("invalid argument" for a GGUF that grew): say what happened.
    let done = done.map_err(|e| match (at_start, size()) {
        (Some(a), Some(b)) if a != b => format!("{e} (the input changed size while it was read: {a} -> {b} bytes)"),
        _ => e,
    })?;
    // No summary beside bytes on standard output, as zstd and gzip do (unless
    // --verify asked for a check, whose result it reports).
    if progress::quiet() || (output == Path::new("-") && !verify) {
        return Ok(());
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{} -> {}: {} -> {} bytes, ratio {}, {:.2} s ({:.0} MB/s){}",
        files::input_name(input),
        files::output_name(output),
        done.input_bytes,
        done.output_bytes,
        ratio(done.input_bytes, done.output_bytes),
        secs,
        done.input_bytes as f64 / secs / 1e6,
        if verify { ", verified" } else { "" }
    );
    Ok(())
}

/// `compress` without the summary; progress goes to `bar` (whose position is
/// advanced by the input's size). `-` is standard input or output. The input is
/// read with `read`/`pread` (never mapped) in windows; the output is written as
/// it is coded, under a temporary name until complete (see `llmc::stream`).
pub fn compress_one(input: &Path, output: &Path, method: Option<Method>, params: &CompressParams, perstream: bool, verify: bool, bar: &Progress) -> Result<Outcome, String> {
    let name = files::input_name(input);
    if input == Path::new("-") && method.is_none() && !perstream && !verify && !files::stdin_is_file() {
        return compress_piped_model(output, params, bar);
    }
    let file = files::open_input(input)?;
    let meta = file.metadata().map_err(|e| format!("cannot read {name}: {e}"))?;
    let len = meta.len();
    let head = files::head(&file, 1 << 20).map_err(|e| format!("cannot read {name}: {e}"))?;
    let mut out = files::create_output(output, Some(&meta))?;
    if verify && out.temp_path().is_none() {
        // Said before the work, not after the whole output went out.
        return Err(format!("--verify needs a regular output file, not {}", files::output_name(output)));
    }
    let err = |e: llmc::Error, out: &mut llmc::stream::Output| match out.take_error() {
        Some(w) => format!("cannot write {}: {w}", files::output_name(output)),
        None => match files::read_small(&file, len) {
            // What went wrong, worked out from the whole input when it is small
            // enough to read again.
            Some(src) => format!("{name}: {}", diagnose::compress_failure(&src, e, params, method.as_ref())),
            // A larger one is mapped for the limit its header passes, if any.
            None => match llmc::io::map(input).ok().and_then(|m| diagnose::source_limit(&m, e)) {
                Some(why) => format!("{name}: {why}"),
                None => format!("{name}: {}", files::explain(e)),
            },
        },
    };
    let workers = params.n_threads.max(1) as usize;
    let start = bar.position();
    match (files::kind_of_file(&head, len), method.as_ref()) {
        (Kind::Gguf, None) if perstream => {
            let level = if params.level == 0 { 19 } else { params.level };
            // Read at offsets, once per stream: memory does not grow with the file.
            let r = llmc::model::perstream::compress_to(&llmc::io::FileAt { file: &file, len }, level, &mut out);
            r.map_err(|e| err(e, &mut out))?;
        }
        (_, None) if perstream => return Err(format!("{name}: --mode perstream needs a GGUF file")),
        (Kind::Frame | Kind::Container | Kind::PerStream, None) => return Err(format!("{name} is already compressed")),
        (Kind::Gguf | Kind::Safetensors, None) => {
            let report = |done: u64, _total: u64| bar.set(start + done);
            let r = llmc::stream::compress_model(&file, params, workers, &mut out, Some(&report));
            r.map_err(|e| err(e, &mut out))?;
        }
        (_, None) => return Err(format!("{name}: not a GGUF or safetensors file; pass --codec bf16|q4k|stored")),
        (_, Some(m)) => {
            let r = llmc::stream::compress_frame(m, &mut Input::new(&file), len, params, workers, &mut out);
            r.map_err(|e| err(e, &mut out))?;
        }
    }
    bar.set(start + len);
    let written = out.position();
    if verify {
        let tmp = out.temp_path().ok_or_else(|| format!("--verify needs a regular output file, not {}", files::output_name(output)))?.to_path_buf();
        // Verified before it takes its final name: a failure leaves nothing.
        verify_output(&tmp, &file, len, params.n_threads).map_err(|e| format!("verify {}: {e}; nothing written", output.display()))?;
    }
    out.commit().map_err(|e| format!("cannot write {}: {e}", files::output_name(output)))?;
    Ok(Outcome { input_bytes: len, output_bytes: written })
}

/// Compresses a GGUF or safetensors file arriving on a pipe in one pass: no
/// copy of it is kept, on disk or in memory (see
/// `llmc::stream::compress_model_from_stream`).
fn compress_piped_model(output: &Path, params: &CompressParams, bar: &Progress) -> Result<Outcome, String> {
    let mut out = files::create_output(output, None)?;
    files::grow_pipe(std::io::stdin().as_fd());
    let mut input = Input::new(std::io::stdin());
    let start = bar.position();
    let report = |done: u64, _total: u64| bar.set(start + done);
    let workers = params.n_threads.max(1) as usize;
    let read = llmc::stream::compress_model_from_stream(&mut input, params, workers, &mut out, Some(&report)).map_err(|e| match out.take_error() {
        Some(w) => format!("cannot write {}: {w}", files::output_name(output)),
        None => match e {
            llmc::Error::BadMagic => "standard input: not a GGUF or safetensors file; pass --codec bf16|q4k|stored to compress a raw tensor".to_string(),
            llmc::Error::InvalidArgument => "standard input: its length cannot be planned from the stream (a tensor of unknown size at its end, or more than the metadata says); compress it from a file".to_string(),
            llmc::Error::LimitExceeded => format!("standard input: more than {} MiB after its last tensor, or past a limit; compress it from a file", llmc::stream::MAX_STREAM_TAIL >> 20),
            e => format!("standard input: {}", files::explain(e)),
        },
    })?;
    let written = out.position();
    out.commit().map_err(|e| format!("cannot write {}: {e}", files::output_name(output)))?;
    Ok(Outcome { input_bytes: read, output_bytes: written })
}

/// Decodes `written` (before it takes its final name) and compares it with the
/// `len` bytes of `original`, a window at a time.
fn verify_output(written: &Path, original: &File, len: u64, n_threads: u32) -> Result<(), String> {
    let f = File::open(written).map_err(|e| format!("cannot read back: {e}"))?;
    let opts = DecodeOptions { n_threads, ..Default::default() };
    let mut at = 0u64;
    let mut expect = Vec::new();
    let mut same = true;
    let mut compare = |b: &[u8]| -> llmc::Result<()> {
        expect.resize(b.len(), 0);
        let n = llmc::io::read_at_full(original, &mut expect, at).map_err(|_| llmc::Error::Io)?;
        same &= n == b.len() && expect[..] == *b;
        at += b.len() as u64;
        Ok(())
    };
    llmc::stream::decode(&mut Input::new(&f), &opts, n_threads.max(1) as usize, true, &mut compare).map_err(|e| e.to_string())?;
    if !same || at != len {
        return Err("decoded bytes differ from the input".into());
    }
    Ok(())
}

/// Decompresses a frame or a container.
pub fn decompress(input: &Path, output: &Path, opts: &DecodeOptions, verify: bool) -> Result<(), String> {
    let t = Instant::now();
    let done = decompress_one(input, output, opts, verify, true)?;
    let secs = t.elapsed().as_secs_f64();
    // No summary beside bytes on standard output, as zstd and gzip do (unless
    // --verify asked for a check, whose result it reports).
    if !progress::quiet() && (output != Path::new("-") || verify) {
        eprintln!(
            "{} -> {}: {} -> {} bytes, {:.2} s ({:.0} MB/s){}",
            files::input_name(input),
            files::output_name(output),
            done.input_bytes,
            done.output_bytes,
            secs,
            done.output_bytes as f64 / secs / 1e6,
            if verify { ", verified" } else { "" }
        );
    }
    Ok(())
}

/// Why a decode failed, and on which side: a directory run copies an input
/// that does not decode as it is and goes on, but stops when the output
/// cannot be written (a full disk fails the next file too).
#[derive(Debug)]
pub struct DecodeFailure {
    pub message: String,
    /// The output could not be created or written (else the input is at fault).
    pub output: bool,
}

impl From<String> for DecodeFailure {
    fn from(message: String) -> DecodeFailure {
        DecodeFailure { message, output: false }
    }
}

impl From<DecodeFailure> for String {
    fn from(f: DecodeFailure) -> String {
        f.message
    }
}

/// Decodes `input` (a file or `-`) into `output` (a file or `-`) in one pass:
/// the input is read front to back, chunks are decoded on `opts.n_threads`
/// threads and written in order. A file output takes its final name only when
/// everything decoded and checked.
/// `progress`: a bar of its own on a terminal (a directory's files share one).
pub fn decompress_one(input: &Path, output: &Path, opts: &DecodeOptions, verify: bool, progress: bool) -> Result<Outcome, DecodeFailure> {
    let out_err = |m: String| DecodeFailure { message: m, output: true };
    let name = files::input_name(input);
    // The OS error a failed write leaves is this input's, not an earlier one's.
    llmc::error::clear_os_error();
    // A regular input file is read with `pread`: the workers read their own
    // payloads, and with a regular output file write their own bytes.
    // A pipe named by its path (`<(cat m.llmc)`, a FIFO) is read front to
    // back as standard input is.
    let (file, piped) = match input == Path::new("-") {
        true => (None, None),
        false => match files::open_named(input)? {
            files::Named::File(f) => (Some(f), None),
            files::Named::Stream(p) => (None, Some(p)),
        },
    };
    match &piped {
        Some(p) => files::grow_pipe(p.as_fd()),
        None if file.is_none() => files::grow_pipe(std::io::stdin().as_fd()),
        None => {}
    }
    let mut out = files::create_output(output, file.as_ref().and_then(|f| f.metadata().ok()).as_ref()).map_err(out_err)?;
    // The workers read their payloads; with one decoding thread this thread
    // writes while the worker reads and decodes, with more the workers also
    // write for themselves (`--verify` needs the bytes in order, here).
    let direct_out = if verify || opts.n_threads < 2 { None } else { out.direct_file().and_then(|f| f.try_clone().ok()) };
    let mut decoder = llmc::stream::Decoder::new(opts).map_err(|e| DecodeFailure::from(e.to_string()))?;
    decoder = match (&file, &direct_out) {
        (Some(f), Some(o)) => decoder.direct(f, o),
        (Some(f), None) => decoder.read_direct(f),
        (None, _) => decoder,
    };
    let mut write_error = None;
    let mut sink = |b: &[u8]| {
        out.write(b).map_err(|e| {
            write_error = Some(e.to_string());
            llmc::Error::Io
        })
    };
    // Progress by compressed bytes read (0: standard input, size unknown).
    let bar = if progress { Progress::bytes(file.as_ref().and_then(|f| f.metadata().ok()).map_or(0, |m| m.len()), "decompressing") } else { Progress::hidden() };
    let mut reader = match (&file, piped) {
        (Some(f), _) => Input::file_at(f),
        (None, Some(p)) => Input::new(p),
        (None, None) => Input::new(std::io::stdin()),
    };
    reader.on_progress(|at| bar.set(at));
    let r = llmc::stream::decode_with(&mut reader, &decoder, opts, opts.n_threads.max(1) as usize, verify, &mut sink);
    let at = reader.position();
    drop(reader);
    bar.finish();
    let done = r.map_err(|e| match e {
        _ if write_error.is_some() => out_err(format!("cannot write {}: {}", files::output_name(output), write_error.take().unwrap_or_default())),
        llmc::Error::Io if decoder.write_failed() => out_err(match llmc::error::last_os_error() {
            0 => format!("cannot write {}: a write failed (disk full or file too large?)", files::output_name(output)),
            code => format!("cannot write {}: {}", files::output_name(output), std::io::Error::from_raw_os_error(code)),
        }),
        llmc::Error::LimitExceeded => DecodeFailure::from(format!(
            "{name}: refused: it declares chunks larger than {} MiB (the memory a decode may hold per chunk; --memory raises it for a trusted file) or more output than the limit ({})",
            opts.max_chunk >> 20,
            llmc::Error::LimitExceeded
        )),
        e => DecodeFailure::from(match file.as_ref().and_then(|f| files::read_small(f, f.metadata().map_or(u64::MAX, |m| m.len()))) {
            // A file small enough to read again: say what is damaged, where.
            Some(src) => format!("{name}: {}", diagnose::decode_failure(&src, e)),
            None => match e {
                llmc::Error::BadMagic => format!("{name}: not an llmc frame or container"),
                llmc::Error::SrcTruncated if at == 0 => format!("{name} is empty: no llmc frame or container"),
                llmc::Error::SrcTruncated => format!("{name}: truncated: the input ends after {at} bytes, inside the compressed data"),
                e => format!("{name}: {} (at byte {at} of the input)", files::explain(e)),
            },
        }),
    })?;
    drop(decoder);
    if done.direct {
        out.set_len(done.output_size).map_err(|e| out_err(format!("cannot write {}: {e}", files::output_name(output))))?;
    }
    out.commit().map_err(|e| out_err(format!("cannot write {}: {e}", files::output_name(output))))?;
    Ok(Outcome { input_bytes: done.input_size, output_bytes: done.output_size })
}

pub fn info(path: &Path) -> Result<bool, String> {
    // Standard input or a pipe (a FIFO, /dev/stdin): a container is read as far
    // as it declares, then nothing may follow (as `decompress` has it). A
    // regular file, standard input redirected from one included, is mapped.
    let stdin = path == Path::new("-");
    let file = if stdin {
        std::os::fd::AsFd::as_fd(&std::io::stdin()).try_clone_to_owned().map(std::fs::File::from)
    } else {
        std::fs::File::open(path)
    };
    let file = file.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let meta = file.metadata().map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{}: a directory; info reads one frame or container (`llmc mount` shows a directory of them)", path.display()));
    }
    if !meta.is_file() {
        // Frames are read, checked and dropped one by one: memory stays flat.
        let outline = llmc::model::read_outline(&file).map_err(|e| match e {
            llmc::Error::BadMagic => format!("{}: not an llmc container (from a pipe, info reads containers; frames from files)", path.display()),
            e => format!("{}: {e}", path.display()),
        })?;
        let mut more = [0u8; 1];
        if std::io::Read::read(&mut &file, &mut more).is_ok_and(|n| n > 0) {
            return Err(format!("{}: bytes follow the container ({})", path.display(), llmc::Error::Corrupt));
        }
        container_info(path, &outline)?;
        return Ok(true);
    }
    let src = llmc::io::map(if stdin { Path::new("/dev/stdin") } else { path }).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    info_of(path, &src)
}

/// What `info` prints about a container: sizes, and bytes and ratio by tensor type.
fn container_info(path: &Path, c: &llmc::model::Outline) -> Result<(), String> {
    use llmc::model::{Role, SourceKind};
    out!("container:     {} ({:?}, format version {})", path.display(), c.kind, c.version);
    let type_name = |t: u32| match c.kind {
        SourceKind::Safetensors => llmc::model::safetensors::Dtype::from_id(t).name(),
        _ => llmc::model::gguf::types::type_name(t),
    };
    out!("original size: {} bytes", c.original_size);
    out!("ratio:         {}", ratio(c.original_size, c.size));
    out!("metadata:      {} bytes", c.metadata_size());
    let batches = c.regions.iter().filter(|r| r.role == Role::Batch).count();
    let batched = c.entries.iter().filter(|e| e.within.is_some()).count();
    if batches > 0 {
        let s = if batches == 1 { "" } else { "es" };
        out!("regions:       {}; tensors: {} ({batched} of them tiny, in {batches} batch{s})", c.regions.len(), c.entries.len());
    } else {
        out!("regions:       {}; tensors: {}", c.regions.len(), c.entries.len());
    }
    let mut by_type = std::collections::BTreeMap::<u32, (usize, u64, u64)>::new();
    for (i, e) in c.entries.iter().enumerate() {
        if e.within.is_some() {
            // Batched tensors share frames: the batches are a row of their own.
            continue;
        }
        let v = by_type.entry(e.dtype).or_default();
        v.0 += 1;
        for r in &c.regions[c.entry_regions(i).expect("an entry")] {
            v.1 += r.orig_size;
            v.2 += r.frame_size;
        }
    }
    out!("{:<8} {:>7} {:>14} {:>14} {:>7}", "type", "tensors", "bytes", "compressed", "ratio");
    for (t, (n, o, cs)) in by_type {
        out!("{:<8} {:>7} {:>14} {:>14} {:>7}", type_name(t), n, o, cs, ratio(o, cs));
    }
    if batches > 0 {
        let (o, cs) = c.regions.iter().filter(|r| r.role == Role::Batch).fold((0, 0), |a, r| (a.0 + r.orig_size, a.1 + r.frame_size));
        out!("{:<8} {:>7} {:>14} {:>14} {:>7}", "(batch)", batched, o, cs, ratio(o, cs));
    }
    let (o, cs) = c.regions.iter().filter(|r| !matches!(r.role, Role::Tensor | Role::Continuation | Role::Batch)).fold((0, 0), |a, r| (a.0 + r.orig_size, a.1 + r.frame_size));
    out!("{:<8} {:>7} {:>14} {:>14} {:>7}", "other", "", o, cs, ratio(o, cs));
    Ok(())
}

/// What `info` prints about `src`, the whole of `path`.
fn info_of(path: &Path, src: &[u8]) -> Result<bool, String> {
    let err = |e: llmc::Error| format!("{}: {e}", path.display());
    match files::kind(src) {
        Kind::Frame => {
            let f = llmc::frame::parse(src).map_err(err)?;
            out!("frame:         {}", path.display());
            out!("codec:         {}", f.header.codec.name());
            out!("content size:  {} bytes", f.header.content_size);
            out!("frame size:    {} bytes", f.frame_size);
            out!("ratio:         {}", ratio(f.header.content_size, f.frame_size as u64));
            out!("chunks:        {} x {} bytes", f.header.n_chunks, f.header.chunk_size);
            out!("content check: {}", if f.content_checksum.is_some() { "crc32c" } else { "none" });
            let bad = f.chunks.iter().filter(|c| c.verify().is_err()).count();
            out!("chunk checks:  {}", if bad == 0 { "all ok".to_string() } else { format!("{bad} FAILED") });
            // Bytes after the frame: `decompress` refuses the file, so say so here.
            let extra = src.len() - f.frame_size;
            if extra > 0 {
                out!("after frame:   {extra} bytes (not part of the frame: decompress refuses the file)");
            }
            Ok(bad == 0 && extra == 0)
        }
        Kind::Container => {
            let index = Index::open(src).map_err(err)?;
            container_info(path, &llmc::model::Outline::of(&index, src.len() as u64))?;
            Ok(true)
        }
        Kind::PerStream => {
            use llmc::model::perstream;
            let (original, streams) = perstream::header(src).map_err(err)?;
            out!("per-stream:    {} ({}; no per-tensor index)", path.display(), perstream::NAME);
            out!("original size: {original} bytes");
            out!("ratio:         {}", ratio(original, src.len() as u64));
            for ((raw, comp), name) in streams.iter().zip(perstream::STREAM_NAMES) {
                out!("  {name:<34} {raw:>14} -> {comp:>14}");
            }
            Ok(true)
        }
        _ => Err(format!("{}: not an llmc frame or container", path.display())),
    }
}
