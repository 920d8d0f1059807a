//! `compress`, `decompress` and `info` for frames and containers.

use crate::files::{self, Kind};
use crate::progress::Progress;
use llmc::codec::Method;
use llmc::container::read::Index;
use llmc::{CompressParams, DecodeOptions};
use std::path::Path;
use std::time::Instant;

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b.max(1) as f64
}

/// Compresses `input`: a GGUF into a container (detected from its magic), anything
/// else into a frame of `method` (which must then be given).
pub fn compress(input: &Path, output: &Path, method: Option<Method>, params: &CompressParams, perstream: bool) -> Result<(), String> {
    let t = Instant::now();
    let map = llmc::io::map(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let out = match (files::kind(&map), method) {
        (Kind::Gguf, None) if perstream => {
            let level = if params.level == 0 { 19 } else { params.level };
            llmc::gguf::perstream::compress(&map, level).map_err(|e| format!("{}: {e}", input.display()))?
        }
        (Kind::Gguf, None) => {
            let bar = Progress::bytes(map.len() as u64, "compressing");
            let report = |done: u64, _total: u64| bar.set(done);
            let c = llmc::gguf::compress(&map, params, Some(&report));
            bar.finish();
            c.map_err(|e| format!("{}: {e}", input.display()))?
        }
        (Kind::Frame | Kind::Container, None) => return Err(format!("{} is already compressed", input.display())),
        (_, None) => return Err(format!("{}: not a GGUF file; pass --codec bf16|stored", input.display())),
        (_, Some(m)) => llmc::frames::compress(&m, &map, params).map_err(|e| format!("{}: {e}", input.display()))?,
    };
    files::write(output, &out)?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{} -> {}: {} -> {} bytes, ratio {:.4}, {:.2} s ({:.0} MB/s)",
        input.display(),
        output.display(),
        map.len(),
        out.len(),
        ratio(map.len() as u64, out.len() as u64),
        secs,
        map.len() as f64 / secs / 1e6
    );
    Ok(())
}

/// Decompresses a frame or a container. With `verify`, a container's rebuilt
/// file is also checked against its stored SHA-256 (chunk CRCs are always checked).
pub fn decompress(input: &Path, output: &Path, opts: &DecodeOptions, verify: bool) -> Result<(), String> {
    let t = Instant::now();
    let src = llmc::io::map(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let err = |e: llmc::Error| format!("{}: {e}", input.display());
    let data = match files::kind(&src) {
        Kind::Frame => llmc::decompress(&src, opts).map_err(err)?,
        Kind::PerStream => llmc::gguf::perstream::decompress(&src, opts.max_output).map_err(err)?,
        Kind::Container if verify => llmc::gguf::decompress(&src, opts).map_err(err)?,
        Kind::Container => {
            let index = Index::open(&src).map_err(err)?;
            let mut out = vec![0u8; usize::try_from(index.original_size).map_err(|_| "too large for this machine")?];
            index.decompress_all(&src, &mut out, opts).map_err(err)?;
            out
        }
        _ => return Err(format!("{}: not an llmc frame or container", input.display())),
    };
    files::write(output, &data)?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!("{} -> {}: {} bytes, {:.2} s{}", input.display(), output.display(), data.len(), secs, if verify { ", verified" } else { "" });
    Ok(())
}

pub fn info(path: &Path) -> Result<bool, String> {
    let src = llmc::io::map(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let err = |e: llmc::Error| format!("{}: {e}", path.display());
    match files::kind(&src) {
        Kind::Frame => {
            let f = llmc::frames::parse(&src).map_err(err)?;
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
                println!("{:<8} {:>7} {:>14} {:>14} {:>7.4}", llmc::gguf::types::type_name(t), n, o, c, ratio(o, c));
            }
            let (o, c) = index.regions.iter().filter(|r| r.role != llmc::container::Role::Tensor).fold((0, 0), |a, r| (a.0 + r.orig_size, a.1 + r.frame_size));
            println!("{:<8} {:>7} {:>14} {:>14} {:>7.4}", "other", "", o, c, ratio(o, c));
            Ok(true)
        }
        _ => Err(format!("{}: not an llmc frame or container", path.display())),
    }
}
