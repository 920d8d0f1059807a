//! `llmc bench --by-type FILE…`: one-thread decode rate per tensor type of a
//! GGUF or safetensors file (or of a container made from one), so each block
//! type's decoder can be measured on real tensors, plus the whole file.
//!
//! Rates are given in GB/s of decoded bytes and in G symbols/s, where a symbol is
//! one element of the coded streams: a byte for the field-split types (every byte
//! of a Q8_0/Q5_0/Q6_K/… block or of an F32/F16 byte plane is one symbol of its
//! field's byte stream), a 16-bit value for BF16, and for Q4_K a byte of output
//! too (its header bytes and 8-quant flag symbols are rANS-coded, the index
//! planes are raw), so for every type the symbol rate is output units per second.
//! Each rate is measured twice: wall clock (best of the runs) and this thread's
//! CPU time (best of the runs), which is steadier on a shared machine.
//!
//! Tiny tensors that share batch regions are one row of their own, `(batch)`,
//! decoded a region at a time: read one by one, each would decode its batch
//! into the cache once and then copy from it, which measures the cache.

use crate::bench::best_time;
use llmc::model::{Index, Role, SourceKind};
use llmc::{CompressParams, DecodeOptions, Isa};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Best wall time and best thread-CPU time of `f` over runs lasting `min_time`.
fn best_both(min_time: Duration, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut best_cpu = Duration::MAX;
    let wall = best_time(min_time, || {
        let c = thread_cpu();
        f();
        best_cpu = best_cpu.min(thread_cpu() - c);
    });
    (wall, best_cpu)
}

fn type_name(kind: SourceKind, dtype: u32) -> String {
    match kind {
        SourceKind::Safetensors => llmc::model::safetensors::Dtype::from_id(dtype).name().into(),
        _ => llmc::model::gguf::types::type_name(dtype).into(),
    }
}

/// Bytes per symbol of a type (see the module comment).
fn symbol_bytes(name: &str) -> f64 {
    if name.eq_ignore_ascii_case("bf16") {
        2.0
    } else {
        1.0
    }
}

pub fn run(files: &[PathBuf], isas: &[Isa], min_time: Duration) -> Result<(), String> {
    out!("{:<36} {:>14} {:>9} {:>7} {:>12} {:>8} {:>8} {:>9} {:>9}", "file", "isa", "type", "tensors", "bytes", "GB/s", "cpu GB/s", "Gsym/s", "cpu Gsym");
    for path in files {
        let src = crate::files::read(path)?;
        let container = if src.starts_with(b"LLMC") {
            src
        } else {
            let params = CompressParams { n_threads: 2, ..Default::default() };
            llmc::model::compress(&src, &params, None).map_err(|e| format!("{}: {e}", path.display()))?
        };
        let index = Index::open(&container).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        // Original byte spans per type name.
        let mut by_type: BTreeMap<String, (usize, Vec<(u64, u64)>)> = BTreeMap::new();
        for (i, e) in index.entries.iter().enumerate() {
            let row = by_type.entry(if e.within.is_some() { "(batch)".into() } else { type_name(index.kind, e.dtype) }).or_default();
            row.0 += 1;
            if e.within.is_none() {
                // The whole tensor: its region and any continuations.
                row.1.push(index.entry_span(i).expect("an entry"));
            }
        }
        if let Some(row) = by_type.get_mut("(batch)") {
            row.1 = index.regions.iter().filter(|r| r.role == Role::Batch).map(|r| (r.orig_offset, r.orig_size)).collect();
        }
        let mut out = vec![0u8; index.original_size as usize];
        for &isa in isas {
            let opts = DecodeOptions { isa: Some(isa), n_threads: 1, ..Default::default() };
            let row = |ty: &str, count: usize, bytes: u64, f: &mut dyn FnMut()| {
                let (wall, cpu) = best_both(min_time, f);
                // A CPU time too short for the thread clock to see is no rate: NaN
                // prints as "NaN", not "inf".
                let g = |t: Duration| if t.is_zero() { f64::NAN } else { bytes as f64 / t.as_secs_f64() / 1e9 };
                let sb = symbol_bytes(ty);
                out!(
                    "{:<36} {:>14} {:>9} {:>7} {:>12} {:>8.3} {:>8.3} {:>9.3} {:>9.3}",
                    name,
                    isa.name(),
                    ty,
                    count,
                    bytes,
                    g(wall),
                    g(cpu),
                    g(wall) / sb,
                    g(cpu) / sb
                );
            };
            for (ty, (count, spans)) in &by_type {
                let total: u64 = spans.iter().map(|s| s.1).sum();
                let mut decode = || {
                    for &(off, len) in spans {
                        let dst = &mut out[off as usize..(off + len) as usize];
                        index.read_range(black_box(&container), off, dst, &opts).expect("decodes");
                    }
                    black_box(&out);
                };
                row(ty, *count, total, &mut decode);
            }
            let whole = index.original_size;
            let mut decode_all = || {
                index.decompress_all(black_box(&container), &mut out, &opts).expect("decodes");
                black_box(&out);
            };
            row("(file)", index.entries.len(), whole, &mut decode_all);
        }
    }
    Ok(())
}
