//! Compressing a file into a container from a plan of spans.

use super::write::{write, RegionFrame};
use super::{Entry, Role, SourceKind, TensorDesc};
use crate::codec::Method;
use crate::error::{Error, Result};
use crate::format::limits::{MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
use crate::engine::frames::FrameJob;
use crate::params::CompressParams;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

/// One contiguous piece of the original file and how to code it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub size: u64,
    pub role: Role,
    /// Candidate methods; the smallest result is kept (usually just one).
    pub methods: Vec<Method>,
    /// The tensor this span holds, if any (becomes an index entry).
    pub entry: Option<TensorDesc>,
}

/// Progress callback: bytes of the original processed so far, and the total.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// One frame to try: a span coded with one of its candidate methods.
struct Candidate<'a> {
    span: usize,
    job: FrameJob<'a>,
}

/// Compresses `file` according to `spans`, which must cover it in order. The
/// chunks of every span's frames are coded in parallel (`params.n_threads`); the
/// output does not depend on the thread count. Zero padding is stored as an
/// empty frame; metadata is coded as one chunk (parsers read it whole, and one
/// zstd window over all of it compresses and decodes better than pieces).
pub fn build(kind: SourceKind, file: &[u8], spans: &[Span], params: &CompressParams, progress: Option<Progress<'_>>) -> Result<Vec<u8>> {
    let mut at = 0u64;
    for s in spans {
        if s.offset != at || s.size == 0 || s.methods.is_empty() {
            return Err(Error::InvalidArgument);
        }
        at = s.offset.checked_add(s.size).ok_or(Error::SizeOverflow)?;
    }
    if at != file.len() as u64 {
        return Err(Error::InvalidArgument);
    }
    let bytes = |s: &Span| &file[s.offset as usize..(s.offset + s.size) as usize];
    let empty = |s: &Span| s.role == Role::Padding && bytes(s).iter().all(|&b| b == 0);
    let whole = |s: &Span| {
        let chunk = (s.size.min(u64::from(MAX_CHUNK_SIZE)) as u32).next_multiple_of(MIN_CHUNK_SIZE);
        CompressParams { chunk_size: chunk, ..*params }
    };
    let mut candidates = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        if empty(s) {
            continue;
        }
        let p = if s.role == Role::Metadata { whole(s) } else { *params };
        for m in &s.methods {
            candidates.push(Candidate { span: i, job: FrameJob::new(m, bytes(s), &p)? });
        }
    }
    // Every chunk of every candidate is one job; payloads come back in job order.
    let jobs: Vec<(usize, usize)> = candidates.iter().enumerate().flat_map(|(c, cand)| (0..cand.job.n_chunks()).map(move |k| (c, k))).collect();
    let work_total: u64 = jobs.iter().map(|&(c, k)| candidates[c].job.chunk(k).len() as u64).sum();
    let work_done = AtomicU64::new(0);
    let payloads = crate::engine::pool::parallel_map(jobs.len(), params.n_threads, |j| {
        let (c, k) = jobs[j];
        let mut p = Vec::new();
        let r = candidates[c].job.encode(k, &mut p).map(|()| p);
        let n = candidates[c].job.chunk(k).len() as u64;
        let done = work_done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(report) = progress {
            // Scaled to the file's size: candidates code some bytes twice.
            report((done as u128 * file.len() as u128 / work_total.max(1) as u128) as u64, file.len() as u64);
        }
        r
    });
    let mut payloads = payloads.into_iter();
    let mut best: Vec<Option<Vec<u8>>> = vec![None; spans.len()];
    for cand in &candidates {
        let chunk_payloads = payloads.by_ref().take(cand.job.n_chunks()).collect::<Result<Vec<_>>>()?;
        let mut frame = Vec::new();
        cand.job.assemble(&chunk_payloads, &mut frame)?;
        let slot = &mut best[cand.span];
        if slot.as_ref().is_none_or(|b| frame.len() < b.len()) {
            *slot = Some(frame);
        }
    }
    let mut regions = Vec::with_capacity(spans.len());
    let mut entries = Vec::new();
    for (i, (s, frame)) in spans.iter().zip(best).enumerate() {
        regions.push(RegionFrame { orig_size: s.size, role: s.role, frame: frame.unwrap_or_default() });
        if let Some(t) = &s.entry {
            entries.push(Entry { region: i as u32, dtype: t.dtype, shape: t.shape.clone(), name: t.name.clone() });
        }
    }
    let sha: [u8; 32] = Sha256::digest(file).into();
    Ok(write(kind, &regions, &entries, &sha))
}
