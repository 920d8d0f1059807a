//! Compressing a file into a container from a plan of spans.

use super::write::{write, RegionFrame};
use super::{Entry, Role, SourceKind};
use crate::codec::Method;
use crate::error::{Error, Result};
use crate::frames;
use crate::params::CompressParams;
use sha2::{Digest, Sha256};

/// One contiguous piece of the original file and how to code it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub size: u64,
    pub role: Role,
    /// Candidate methods; the smallest result is kept (usually just one).
    pub methods: Vec<Method>,
    /// A named entry (tensor) for this span: name and source type id.
    pub entry: Option<(String, u32)>,
}

fn smallest(methods: &[Method], bytes: &[u8], params: &CompressParams) -> Result<Vec<u8>> {
    let mut best: Option<Vec<u8>> = None;
    for m in methods {
        let f = frames::compress(m, bytes, params)?;
        if best.as_ref().is_none_or(|b| f.len() < b.len()) {
            best = Some(f);
        }
    }
    best.ok_or(Error::InvalidArgument)
}

/// Progress callback: bytes of the original processed so far, and the total.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Compresses `file` according to `spans`, which must cover it in order. Spans
/// are coded in parallel (`params.n_threads`); the output does not depend on the
/// thread count. Zero padding is stored as an empty frame.
pub fn build(kind: SourceKind, file: &[u8], spans: &[Span], params: &CompressParams, progress: Option<Progress<'_>>) -> Result<Vec<u8>> {
    let mut at = 0u64;
    for s in spans {
        if s.offset != at || s.size == 0 {
            return Err(Error::InvalidArgument);
        }
        at = s.offset.checked_add(s.size).ok_or(Error::SizeOverflow)?;
    }
    if at != file.len() as u64 {
        return Err(Error::InvalidArgument);
    }
    let done = std::sync::atomic::AtomicU64::new(0);
    // Each span's chunks are coded on the calling worker; spans spread over workers.
    let inner = CompressParams { n_threads: 1, ..*params };
    let frames = frames::parallel_map(spans.len(), params.n_threads, |i| {
        let s = &spans[i];
        let bytes = &file[s.offset as usize..(s.offset + s.size) as usize];
        let frame = if s.role == Role::Padding && bytes.iter().all(|&b| b == 0) {
            Ok(Vec::new())
        } else if s.role == Role::Metadata {
            // Parsers read metadata whole, and one zstd window over all of it
            // compresses and decodes better than 1 MiB pieces.
            let chunk = (s.size.max(1) as u32).next_multiple_of(crate::format::limits::MIN_CHUNK_SIZE);
            let whole = CompressParams { chunk_size: chunk.min(crate::format::limits::MAX_CHUNK_SIZE), ..inner };
            smallest(&s.methods, bytes, &whole)
        } else {
            smallest(&s.methods, bytes, &inner)
        };
        let total = done.fetch_add(s.size, std::sync::atomic::Ordering::Relaxed) + s.size;
        if let Some(p) = progress {
            p(total, file.len() as u64);
        }
        frame
    });
    let mut regions = Vec::with_capacity(spans.len());
    let mut entries = Vec::new();
    for (i, (s, frame)) in spans.iter().zip(frames).enumerate() {
        regions.push(RegionFrame { orig_size: s.size, role: s.role, frame: frame? });
        if let Some((name, dtype)) = &s.entry {
            entries.push(Entry { region: i as u32, dtype: *dtype, name: name.clone() });
        }
    }
    let sha: [u8; 32] = Sha256::digest(file).into();
    Ok(write(kind, &regions, &entries, &sha))
}
