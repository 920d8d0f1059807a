//! Turning a bare "checksum mismatch" into a message that says what is damaged:
//! which chunk of which frame or tensor, or that every chunk is intact and only
//! the whole-content check (frame CRC32C, container SHA-256) failed.

use crate::files::{self, Kind};
use llmc::model::Index;
use llmc::model::Role;
use llmc::frame::Frame;

/// "chunk 3 of 5 (bytes 3145728..4194304)" for every chunk whose CRC32C fails.
fn bad_chunks(f: &Frame<'_>) -> Vec<String> {
    f.chunks
        .iter()
        .enumerate()
        .filter(|(_, c)| c.verify().is_err())
        .map(|(i, c)| format!("chunk {} of {} (bytes {}..{})", i, f.chunks.len(), c.content_offset, c.content_offset + c.content_len as u64))
        .collect()
}

fn region_name(index: &Index, region: usize) -> String {
    match index.entries.iter().find(|e| e.region as usize == region) {
        Some(e) => format!("tensor {}", e.name),
        None => {
            let role = match index.regions[region].role {
                Role::Metadata => "metadata",
                Role::Tensor => "tensor",
                Role::Padding => "padding",
                Role::Trailing => "trailing bytes",
            };
            format!("{role} (region {region})")
        }
    }
}

/// What failed a checksum in `src` (a frame or a container), for the error message.
pub fn checksum_failure(src: &[u8]) -> String {
    let damaged: Vec<String> = match files::kind(src) {
        Kind::Frame => match llmc::frame::parse(src) {
            Ok(f) => bad_chunks(&f),
            Err(e) => return e.to_string(),
        },
        Kind::Container => {
            let Ok(index) = Index::open(src) else { return "checksum mismatch".into() };
            let mut out = Vec::new();
            for (i, r) in index.regions.iter().enumerate().filter(|(_, r)| r.frame_size > 0) {
                let bytes = src.get(r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize).unwrap_or_default();
                if let Ok(f) = llmc::frame::parse(bytes) {
                    out.extend(bad_chunks(&f).into_iter().map(|c| format!("{c} of {}", region_name(&index, i))));
                }
            }
            if out.is_empty() {
                return "every chunk checksum matches, but the rebuilt file does not match the container's SHA-256".into();
            }
            out
        }
        // The per-stream format (LLMS) checks only the SHA-256 of the whole file.
        _ => return "the rebuilt file does not match its SHA-256".into(),
    };
    match damaged.len() {
        0 => "every chunk checksum matches, but the content checksum (CRC32C) does not".into(),
        1..=3 => format!("checksum mismatch in {}", damaged.join(", ")),
        n => format!("checksum mismatch in {n} chunks, first {}", damaged[0]),
    }
}
