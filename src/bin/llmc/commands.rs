//! `compress`, `decompress` and `info` for frames and containers.

use crate::diagnose;
use crate::files::{self, Kind};
use crate::progress::Progress;
use llmc::frame::Method;
use llmc::model::Index;
use llmc::{CompressParams, DecodeOptions};
use std::path::Path;
use std::time::Instant;

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
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
    let bar = Progress::bytes(std::fs::metadata(input).map_or(0, |m| m.len()), "compressing");
    let done = compress_one(input, output, method, params, perstream, verify, &bar);
    bar.finish();
    let done = done?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{} -> {}: {} -> {} bytes, ratio {:.4}, {:.2} s ({:.0} MB/s){}",
        input.display(),
        output.display(),
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
/// advanced by the input's size).
pub fn compress_one(input: &Path, output: &Path, method: Option<Method>, params: &CompressParams, perstream: bool, verify: bool, bar: &Progress) -> Result<Outcome, String> {
    let map = llmc::io::map(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let err = |e: llmc::Error| format!("{}: {e}", input.display());
    let start = bar.position();
    let out = match (files::kind(&map), method) {
        (Kind::Gguf, None) if perstream => {
            let level = if params.level == 0 { 19 } else { params.level };
            llmc::model::perstream::compress(&map, level).map_err(err)?
        }
        (_, None) if perstream => return Err(format!("{}: --mode perstream needs a GGUF file", input.display())),
        (Kind::Gguf | Kind::Safetensors, None) => {
            let report = |done: u64, _total: u64| bar.set(start + done);
            llmc::model::compress(&map, params, Some(&report)).map_err(err)?
        }
        (Kind::Frame | Kind::Container | Kind::PerStream, None) => return Err(format!("{} is already compressed", input.display())),
        (_, None) => return Err(format!("{}: not a GGUF or safetensors file; pass --codec bf16|q4k|stored", input.display())),
        (_, Some(m)) => llmc::frame::compress(&m, &map, params).map_err(err)?,
    };
    bar.set(start + map.len() as u64);
    files::write(output, &out)?;
    if verify {
        let written = llmc::io::map(output).map_err(|e| format!("cannot read back {}: {e}", output.display()))?;
        let opts = DecodeOptions { n_threads: params.n_threads, ..Default::default() };
        let back = decode(&written, &opts, true).map_err(|e| format!("verify {}: {e}", output.display()))?;
        if back[..] != map[..] {
            return Err(format!("verify {}: decoded bytes differ from {}", output.display(), input.display()));
        }
    }
    Ok(Outcome { input_bytes: map.len() as u64, output_bytes: out.len() as u64 })
}

/// Decodes a frame, a container or a per-stream file held in memory. With
/// `verify`, a container's result is also checked against its stored SHA-256
/// (chunk CRCs are always checked).
pub fn decode(src: &[u8], opts: &DecodeOptions, verify: bool) -> llmc::Result<Vec<u8>> {
    match files::kind(src) {
        Kind::Frame => llmc::decompress(src, opts),
        Kind::PerStream => llmc::model::perstream::decompress(src, opts.max_output),
        Kind::Container => {
            let index = Index::open(src)?;
            if index.original_size > opts.max_output {
                return Err(llmc::Error::LimitExceeded);
            }
            let mut out = vec![0u8; usize::try_from(index.original_size).map_err(|_| llmc::Error::SizeOverflow)?];
            index.decompress_all(src, &mut out, opts)?;
            if verify {
                llmc::model::verify_sha256(&index, &out)?;
            }
            Ok(out)
        }
        _ => Err(llmc::Error::BadMagic),
    }
}

/// Decompresses a frame or a container.
pub fn decompress(input: &Path, output: &Path, opts: &DecodeOptions, verify: bool) -> Result<(), String> {
    let t = Instant::now();
    let done = decompress_one(input, output, opts, verify)?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{} -> {}: {} -> {} bytes, {:.2} s ({:.0} MB/s){}",
        input.display(),
        output.display(),
        done.input_bytes,
        done.output_bytes,
        secs,
        done.output_bytes as f64 / secs / 1e6,
        if verify { ", verified" } else { "" }
    );
    Ok(())
}

pub fn decompress_one(input: &Path, output: &Path, opts: &DecodeOptions, verify: bool) -> Result<Outcome, String> {
    let src = llmc::io::map(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let data = decode(&src, opts, verify).map_err(|e| match e {
        llmc::Error::BadMagic => format!("{}: not an llmc frame or container", input.display()),
        llmc::Error::ChecksumMismatch => format!("{}: {}", input.display(), diagnose::checksum_failure(&src)),
        e => format!("{}: {e}", input.display()),
    })?;
    files::write(output, &data)?;
    Ok(Outcome { input_bytes: src.len() as u64, output_bytes: data.len() as u64 })
}

pub fn info(path: &Path) -> Result<bool, String> {
    let src = llmc::io::map(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let err = |e: llmc::Error| format!("{}: {e}", path.display());
    match files::kind(&src) {
        Kind::Frame => {
            let f = llmc::frame::parse(&src).map_err(err)?;
            println!("frame:         {}", path.display());
            println!("codec:         {}", f.header.codec.name());
            println!("content size:  {} bytes", f.header.content_size);
            println!("frame size:    {} bytes", f.frame_size);
            println!("ratio:         {:.4}", ratio(f.header.content_size, f.frame_size as u64));
            println!("chunks:        {} x {} bytes", f.header.n_chunks, f.header.chunk_size);
            println!("content check: {}", if f.content_checksum.is_some() { "crc32c" } else { "none" });
            let bad = f.chunks.iter().filter(|c| c.verify().is_err()).count();
            println!("chunk checks:  {}", if bad == 0 { "all ok".to_string() } else { format!("{bad} FAILED") });
            Ok(bad == 0)
        }
        Kind::Container => {
            let index = Index::open(&src).map_err(err)?;
            println!("container:     {} ({:?})", path.display(), index.kind);
            let type_name = |t: u32| match index.kind {
                llmc::model::SourceKind::Safetensors => llmc::model::safetensors::Dtype::from_id(t).name(),
                _ => llmc::model::gguf::types::type_name(t),
            };
            println!("original size: {} bytes", index.original_size);
            println!("ratio:         {:.4}", ratio(index.original_size, src.len() as u64));
            println!("metadata:      {} bytes", index.metadata_size());
            println!("regions:       {}; tensors: {}", index.regions.len(), index.entries.len());
            let mut by_type = std::collections::BTreeMap::<u32, (usize, u64, u64)>::new();
            for e in &index.entries {
                let r = &index.regions[e.region as usize];
                let v = by_type.entry(e.dtype).or_default();
                v.0 += 1;
                v.1 += r.orig_size;
                v.2 += r.frame_size;
            }
            println!("{:<8} {:>7} {:>14} {:>14} {:>7}", "type", "tensors", "bytes", "compressed", "ratio");
            for (t, (n, o, c)) in by_type {
                println!("{:<8} {:>7} {:>14} {:>14} {:>7.4}", type_name(t), n, o, c, ratio(o, c));
            }
            let (o, c) = index.regions.iter().filter(|r| r.role != llmc::model::Role::Tensor).fold((0, 0), |a, r| (a.0 + r.orig_size, a.1 + r.frame_size));
            println!("{:<8} {:>7} {:>14} {:>14} {:>7.4}", "other", "", o, c, ratio(o, c));
            Ok(true)
        }
        _ => Err(format!("{}: not an llmc frame or container", path.display())),
    }
}
