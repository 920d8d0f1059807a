//! Compressing a file into a container in one pass, from a plan of spans: the
//! input is read once, in order, a window of chunks at a time; chunks are coded
//! on the worker threads and written in order, so memory does not grow with the
//! file (see [`build_stream`] for what it does hold).

use super::write;
use super::{Entry, Region, Role, SourceKind, TensorDesc};
use crate::codec::{self, Method};
use crate::engine::input::Input;
use crate::engine::output::Output;
use crate::engine::pipeline::{self, Buffers, Slab, Slabs};
use crate::engine::stream::{window, FrameAssembler};
use crate::error::{Error, Result};
use super::limits::MAX_REGION_BYTES;
use crate::format::limits::{DEFAULT_MAX_STREAM_CHUNK, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
use crate::isa;
use crate::kernels::Kernels;
use crate::params::CompressParams;
use super::original_hash::OriginalHash;
use std::sync::Arc;

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
    /// A batch's tensors (role `Batch`; each becomes an index entry).
    pub batch: Vec<Member>,
}

/// A tensor in a batch span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Where it starts in the span.
    pub at: u64,
    pub size: u64,
    pub desc: TensorDesc,
}

/// Progress callback: bytes of the original processed so far, and the total.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Compresses a file held in memory (see [`build_stream`]).
pub fn build(kind: SourceKind, file: &[u8], spans: &[Span], params: &CompressParams, progress: Option<Progress<'_>>) -> Result<Vec<u8>> {
    let mut out = Output::memory();
    build_stream(kind, &mut Input::new(file), file.len() as u64, spans.to_vec(), None, params, library_workers(params.n_threads), &mut out, progress)?;
    Ok(out.into_vec())
}

/// Worker threads for a library call: none unless the caller asked for more
/// than one thread (the library starts threads only when asked).
pub fn library_workers(n_threads: u32) -> usize {
    if n_threads > 1 {
        n_threads as usize
    } else {
        0
    }
}

/// How one span is coded: its chunk size and whether its frame can be
/// streamed out chunk by chunk.
struct Plan {
    chunk_size: u32,
    n_chunks: u64,
    /// Several candidates, or padding that may turn out all zero: payloads are
    /// kept until the span is complete.
    keep: bool,
}

/// Most chunks a metadata span is cut into (see [`plan`]). Gemma 3 270M's 6.5 MB
/// of metadata, whole file in container version 2: one chunk 232,012,096 bytes,
/// two 232,046,218, three 231,996,731 (the tokenizer's strings and its arrays get
/// separate windows), four 232,119,229.
const METADATA_JOBS: u64 = 3;
/// Smallest metadata chunk: below it, a cut costs more ratio than it saves time.
const METADATA_MIN_CHUNK: u64 = 1 << 20;
/// Largest metadata chunk: a safetensors header of 300,000 tensors (32 MB) in
/// three chunks at level 19 took 25 s on two threads, each chunk a long job no
/// thread count could split; in chunks of at most 4 MiB they spread over the
/// threads (18.6 s, 0.02 % larger). Metadata of up to 12 MiB (every real model seen) is cut as before.
const METADATA_MAX_CHUNK: u64 = 4 << 20;

fn plan(s: &Span, params: &CompressParams) -> Result<Plan> {
    // Metadata is coded as up to `METADATA_JOBS` equal chunks of at least
    // `METADATA_MIN_CHUNK` (one chunk below that) and at most `METADATA_MAX_CHUNK`
    // (more chunks above that), within the streaming decode limit:
    // its zstd level costs far more per byte than the tensors' codecs, so the
    // chunks run in parallel, and few large ones keep most of one window's matches.
    // The count never depends on the thread count, so neither do the bytes.
    // A run of GGUF strings is one chunk, so that its chunk starts with a record
    // (the planner cuts long runs at records, within the streaming limit).
    let strings = s.methods.iter().any(|m| matches!(m, Method::ZstdStrings { .. }));
    let p = if s.role == Role::Metadata {
        let jobs = if strings { 1 } else { METADATA_JOBS };
        let most = if strings { DEFAULT_MAX_STREAM_CHUNK } else { METADATA_MAX_CHUNK };
        let chunk = s.size.div_ceil(jobs).max(METADATA_MIN_CHUNK).min(s.size).min(most);
        CompressParams { chunk_size: (chunk as u32).next_multiple_of(MIN_CHUNK_SIZE), ..*params }
    } else {
        *params
    };
    // Candidates (F32 byte planes and zstd, …) share the chunk size: a short
    // last chunk is folded in whole elements of all of them.
    let elem = s.methods.iter().try_fold(1u32, |a, m| match m.element_size() {
        0 => Err(Error::InvalidArgument),
        e => (a / gcd(a, e)).checked_mul(e).ok_or(Error::InvalidArgument),
    })?;
    let mut chunk_size = None;
    for m in &s.methods {
        if !s.size.is_multiple_of(u64::from(m.element_size())) {
            return Err(Error::InvalidArgument);
        }
        let c = p.resolve_chunk_size(elem, m.default_chunk_size(), s.size)?;
        if chunk_size.is_some_and(|k| k != c) {
            return Err(Error::InvalidArgument);
        }
        chunk_size = Some(c);
    }
    let chunk_size = chunk_size.ok_or(Error::InvalidArgument)?;
    Ok(Plan { chunk_size, n_chunks: s.size.div_ceil(u64::from(chunk_size)), keep: s.methods.len() > 1 || s.role == Role::Padding })
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// One chunk of one span, read from the input.
struct Job {
    span: usize,
    /// Where the chunk starts in the span.
    at: u64,
    /// Shared with the hasher ([`OriginalHash`]).
    bytes: Arc<Slab>,
}

impl pipeline::Weighed for Job {
    fn weight(&self) -> u64 {
        2 * self.bytes.len() as u64
    }
}

/// The span being written by the ordered writer.
enum Current {
    None,
    /// The frame being written, where it starts, and the candidate chosen.
    Streamed(FrameAssembler, u64, usize),
    /// Payloads per candidate, and whether every byte so far was zero.
    Kept { payloads: Vec<Vec<Vec<u8>>>, zero: bool, content: Option<crc_fast::Digest> },
}

/// Compresses the `file_len` bytes of `input` according to `spans` (which tile
/// it in order) into a version-2 container on `out`, in one pass. Chunks are
/// coded on `workers` threads (0 = the caller's) while the caller's thread
/// reads and writes; the bytes do not depend on the thread
/// count or on whether `out` can seek. Memory held: a window of chunks (their
/// input and payloads within the engine's window bytes), with workers the
/// chunks the SHA-256 thread has not hashed yet (up to 16 MiB of them, or one
/// chunk, [`OriginalHash`]), and for spans with several candidate methods (or
/// padding) the candidates' payloads until the span ends; without a seekable
/// output, also the frame being written. The index grows with the number of tensors.
///
/// `tail`: the input is a stream whose length the caller could only estimate
/// (where its last tensor ends): bytes after `file_len`, at most
/// [`MAX_STREAM_TAIL`], become one more trailing region coded with `tail`, as
/// they would from a file. Without it, bytes past `file_len` are an error.
#[allow(clippy::too_many_arguments)]
pub fn build_stream(kind: SourceKind, input: &mut Input<'_>, file_len: u64, mut spans: Vec<Span>, tail: Option<&Method>, params: &CompressParams, workers: usize, out: &mut Output, progress: Option<Progress<'_>>) -> Result<()> {
    for s in &mut spans {
        s.methods = s.methods.iter().map(|m| crate::engine::frames::as_asked(m, params)).collect();
    }
    let mut at = 0u64;
    for s in &spans {
        if s.offset != at || s.size == 0 || s.methods.is_empty() {
            return Err(Error::InvalidArgument);
        }
        at = s.offset.checked_add(s.size).ok_or(Error::SizeOverflow)?;
    }
    if at != file_len {
        return Err(Error::InvalidArgument);
    }
    // Tiny tensors share frames, except where the caller asked for what older
    // readers decode.
    if params.row_classes() {
        spans = super::batch::gather(spans);
    }
    let plans = spans.iter().map(|s| plan(s, params)).collect::<Result<Vec<_>>>()?;
    let (spans, plans) = &cut(spans, plans);
    let spans = &spans[..];
    // What the index cannot record is refused before anything is coded or written.
    super::limits::check_index(at, spans.len(), spans.iter().flat_map(span_entries)).map_err(|u| u.status())?;
    let kernels = Kernels::get(isa::resolve(params.isa)?).ok_or(Error::IsaUnsupported)?;
    let flags = params.frame_flags();
    // The lowest version that reads every region: 11 for fields that may be
    // coded as ranks (Q8_0 scales; known before any chunk is coded, so a file
    // whose chunks all keep their scales as they are is marked 11 too), 10 for
    // batches of tiny tensors, 9 for GGUF numeric arrays as
    // word differences, 8 for folded quants (Q5_0, Q5_1), 7 for bf16 (whose
    // lanes may carry raw bytes; bf16 row classes came with version 5 and need
    // no more), 6 for Q4_K (whose chunks may code their headers as fields), 5
    // for byte streams' row classes, 4 for GGUF strings, else 3.
    let uses = |f: fn(&Method) -> bool| spans.iter().any(|s| s.methods.iter().any(f));
    let version = if uses(Method::ranks) {
        super::VERSION_11
    } else if spans.iter().any(|s| s.role == Role::Batch) {
        super::VERSION_10
    } else if uses(|m| matches!(m, Method::ZstdWords { .. })) {
        super::VERSION_9
    } else if uses(Method::folds) {
        super::VERSION_8
    } else if uses(|m| matches!(m, Method::Bf16 | Method::Bf16Rows { .. })) {
        super::VERSION_7
    } else if uses(|m| matches!(m, Method::Q4k)) {
        super::VERSION_6
    } else if uses(|m| matches!(m, Method::FieldsRows { .. })) {
        super::VERSION_5
    } else if uses(|m| matches!(m, Method::ZstdStrings { .. })) {
        super::VERSION_4
    } else {
        super::VERSION_3
    };
    out.write(&write::header(kind, version))?;

    let largest = plans.iter().map(|p| u64::from(p.chunk_size)).filter(|&c| c < u64::from(MAX_CHUNK_SIZE)).max().unwrap_or(1 << 20);
    // Chunks read, and payloads coded: both reused, so that neither is zero-filled
    // nor faulted in again for each chunk (a fifth of `compress -T 1`'s CPU).
    let buffers = Arc::new(Slabs::default());
    let payload_buffers = Buffers::default();
    // The hash beside the pipeline (see `original_hash`), its queue sized by the largest chunk.
    let mut sha = OriginalHash::new(workers > 0, &buffers, plans.iter().map(|p| u64::from(p.chunk_size)).max().unwrap_or(1));
    // Producer position: span and chunk within it.
    let (mut ps, mut pc) = (0usize, 0u64);
    // Writer position.
    let (mut ws, mut wc) = (0usize, 0u64);
    let mut current = Current::None;
    let mut regions: Vec<Region> = Vec::with_capacity(spans.len());
    // The candidate a tensor's first region chose: its continuations use it.
    let mut tensor_choice = 0usize;
    let mut done = 0u64;

    pipeline::run(
        workers,
        // As many jobs as the window's bytes allow (not only a few per thread):
        // a slow chunk (metadata at zstd level 19) does not idle the other
        // workers. Small jobs (chunks under 32 KiB: tiny tensors) do not count
        // (`pipeline::Window`): one large chunk (a 60 MB header) left a single
        // job in flight for the many small ones after it.
        {
            let w = window(workers, largest);
            pipeline::Window { jobs: ((w.bytes / largest) as usize).max(w.jobs), small: pipeline::SMALL_WEIGHT, ..w }
        },
        || {
            while ps < spans.len() && pc == plans[ps].n_chunks {
                ps += 1;
                pc = 0;
            }
            if ps == spans.len() {
                return Ok(None);
            }
            let (s, p) = (&spans[ps], &plans[ps]);
            let len = (s.size - pc * u64::from(p.chunk_size)).min(u64::from(p.chunk_size));
            let mut bytes = buffers.take_unfilled(len as usize);
            input.read_slab(&mut bytes, len)?;
            let bytes = Arc::new(bytes);
            sha.update(&bytes)?;
            // Where this chunk starts in the span (before counting it).
            let at = pc * u64::from(p.chunk_size);
            pc += 1;
            Ok(Some(Job { span: ps, at, bytes }))
        },
        || (),
        |job: Job, ()| {
            let mut payloads = Vec::with_capacity(spans[job.span].methods.len());
            for m in &spans[job.span].methods {
                let mut p = payload_buffers.take_empty();
                codec::encode_chunk(m, &job.bytes, job.at, kernels, &mut p)?;
                payloads.push(p);
            }
            Ok((job, payloads))
        },
        |(job, payloads)| {
            let (s, p) = (&spans[ws], &plans[ws]);
            debug_assert_eq!(job.span, ws);
            if wc == 0 {
                current = if p.keep {
                    let content = (flags & crate::format::frame::FLAG_CONTENT_CHECKSUM != 0).then(|| crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi));
                    Current::Kept { payloads: vec![Vec::new(); s.methods.len()], zero: true, content }
                } else {
                    let chosen = if s.role == Role::Continuation { tensor_choice } else { 0 };
                    let start = out.position();
                    Current::Streamed(FrameAssembler::new(out, write::RECORD_SIZE_USIZE, &s.methods[chosen], flags, s.size, p.chunk_size)?, start, chosen)
                };
            }
            match &mut current {
                Current::Streamed(a, _, chosen) => {
                    a.content(&job.bytes);
                    a.push(out, &payloads[*chosen])?;
                    for p in payloads {
                        payload_buffers.give(p);
                    }
                }
                Current::Kept { payloads: kept, zero, content } => {
                    *zero &= job.bytes.iter().all(|&b| b == 0);
                    if let Some(d) = content.as_mut() {
                        d.update(&job.bytes);
                    }
                    for (k, p) in kept.iter_mut().zip(payloads) {
                        k.push(p);
                    }
                }
                Current::None => unreachable!("a span's first chunk opens it"),
            }
            done += job.bytes.len() as u64;
            // Back to the pool unless the hasher still holds it (it gives it back then).
            if let Some(bytes) = Arc::into_inner(job.bytes) {
                buffers.give(bytes);
            }
            wc += 1;
            if wc == p.n_chunks {
                let (region, chosen) = finish_span(s, p, std::mem::replace(&mut current, Current::None), flags, out)?;
                if s.role == Role::Tensor {
                    tensor_choice = chosen;
                }
                regions.push(region);
                ws += 1;
                wc = 0;
                if let Some(report) = progress {
                    report(done, file_len);
                }
            }
            Ok(())
        },
    )?;
    if regions.len() != spans.len() {
        return Err(Error::SrcTruncated);
    }
    let mut file_len = file_len;
    let mut rest = Vec::new();
    input.read_into(&mut rest, MAX_STREAM_TAIL + 1).or_else(|e| if e == Error::SrcTruncated { Ok(()) } else { Err(e) })?;
    if !rest.is_empty() {
        // The caller's length was short of the input: without a tail method
        // nothing past it is coded.
        let method = tail.ok_or(Error::InvalidArgument)?;
        if rest.len() as u64 > MAX_STREAM_TAIL {
            return Err(Error::LimitExceeded);
        }
        let s = Span { offset: file_len, size: rest.len() as u64, role: Role::Trailing, methods: vec![method.clone()], entry: None, batch: Vec::new() };
        let p = plan(&s, params)?;
        let start = out.position();
        let mut a = FrameAssembler::new(out, write::RECORD_SIZE_USIZE, method, flags, s.size, p.chunk_size)?;
        let mut payload = Vec::new();
        for (i, chunk) in rest.chunks(p.chunk_size as usize).enumerate() {
            payload.clear();
            codec::encode_chunk(method, chunk, i as u64 * u64::from(p.chunk_size), kernels, &mut payload)?;
            a.content(chunk);
            a.push(out, &payload)?;
        }
        let (region, _) = finish_span(&s, &p, Current::Streamed(a, start, 0), flags, out)?;
        regions.push(region);
        file_len += s.size;
        super::limits::check_index(file_len, regions.len(), spans.iter().flat_map(span_entries)).map_err(|u| u.status())?;
    }
    let mut entries = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        if let Some(t) = &s.entry {
            entries.push(Entry { region: i as u32, dtype: t.dtype, shape: t.shape.clone(), name: t.name.clone(), within: None });
        }
        for m in &s.batch {
            // Batches are at most `MAX_BATCH` bytes.
            let within = (m.at as u32, m.size as u32);
            entries.push(Entry { region: i as u32, dtype: m.desc.dtype, shape: m.desc.shape.clone(), name: m.desc.name.clone(), within: Some(within) });
        }
    }
    let index = write::index(&regions, &entries);
    // Version 10 codes its index (names, shapes and places of many tiny
    // tensors); version 11 checksums the coded bytes too.
    let index = if version >= super::VERSION_10 { write::coded_index(&index, version)? } else { index };
    out.write(&write::end_record(file_len, index.len() as u64))?;
    let index_offset = out.position();
    out.write(&index)?;
    let sha = sha.finish(&rest)?;
    out.write(&write::trailer(file_len, index_offset, index.len() as u64, &sha))?;
    Ok(())
}


/// The tensors a span holds: its own, or its batch's.
fn span_entries(s: &Span) -> impl Iterator<Item = &TensorDesc> {
    s.entry.iter().chain(s.batch.iter().map(|m| &m.desc))
}

/// Most bytes a stream compressed with a `tail` method may carry after the end
/// its metadata gives (they are held until the stream ends). Real files carry
/// none, or alignment padding.
pub const MAX_STREAM_TAIL: u64 = 16 << 20;

/// Cuts tensor and padding spans longer than [`MAX_REGION_BYTES`] (rounded
/// down to whole chunks, at least one) into pieces of that size.
fn cut(spans: Vec<Span>, plans: Vec<Plan>) -> (Vec<Span>, Vec<Plan>) {
    // Moved, not copied: a large checkpoint has tens of thousands of spans.
    let n = spans.len() + spans.iter().zip(&plans).map(|(s, p)| s.size / MAX_REGION_BYTES.max(u64::from(p.chunk_size))).sum::<u64>() as usize;
    let (mut out_spans, mut out_plans) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (s, p) in spans.into_iter().zip(plans) {
        let piece = (MAX_REGION_BYTES / u64::from(p.chunk_size)).max(1) * u64::from(p.chunk_size);
        if !matches!(s.role, Role::Tensor | Role::Padding) || s.size <= piece {
            out_spans.push(s);
            out_plans.push(p);
            continue;
        }
        let mut at = 0;
        while at < s.size {
            let size = piece.min(s.size - at);
            let (role, entry) = match (s.role, at) {
                (Role::Tensor, 0) => (Role::Tensor, s.entry.clone()),
                (Role::Tensor, _) => (Role::Continuation, None),
                (role, _) => (role, None),
            };
            // A continuation codes with its tensor's choice: nothing to keep.
            let keep = p.keep && role != Role::Continuation;
            // Each region is its own frame: row-aware methods restart at its column.
            let methods = s.methods.iter().map(|m| m.from_offset(at)).collect();
            out_spans.push(Span { offset: s.offset + at, size, role, methods, entry, batch: Vec::new() });
            out_plans.push(Plan { chunk_size: p.chunk_size, n_chunks: size.div_ceil(u64::from(p.chunk_size)), keep });
            at += size;
        }
    }
    (out_spans, out_plans)
}

/// The candidate whose payloads are smallest in total; the first on a tie.
fn smallest(payloads: &[Vec<Vec<u8>>]) -> usize {
    let total = |c: &Vec<Vec<u8>>| c.iter().map(|x| x.len() as u64).sum::<u64>();
    (0..payloads.len()).min_by_key(|&k| (total(&payloads[k]), k)).expect("a candidate")
}

/// Writes the end of a span's frame (or the whole frame, for kept payloads)
/// and returns its region and the candidate it was coded with.
fn finish_span(s: &Span, p: &Plan, current: Current, flags: u8, out: &mut Output) -> Result<(Region, usize)> {
    let mut region = Region { orig_offset: s.offset, orig_size: s.size, frame_offset: 0, frame_size: 0, role: s.role };
    match current {
        Current::Streamed(a, start, chosen) => {
            region.frame_offset = start + write::RECORD_SIZE_USIZE as u64;
            region.frame_size = a.finish(out, |size| write::region_record(&Region { frame_size: size, ..region }))?;
            Ok((region, chosen))
        }
        Current::Kept { payloads, zero, content } => {
            if s.role == Role::Padding && zero {
                region.frame_offset = out.position() + write::RECORD_SIZE_USIZE as u64;
                out.write(&write::region_record(&region))?;
                return Ok((region, 0));
            }
            let best = smallest(&payloads);
            let start = out.position();
            let mut a = FrameAssembler::new(out, write::RECORD_SIZE_USIZE, &s.methods[best], flags, s.size, p.chunk_size)?;
            if let Some(d) = content {
                a.set_content_checksum(d.finalize() as u32);
            }
            for payload in &payloads[best] {
                a.push(out, payload)?;
            }
            region.frame_offset = start + write::RECORD_SIZE_USIZE as u64;
            region.frame_size = a.finish(out, |size| write::region_record(&Region { frame_size: size, ..region }))?;
            Ok((region, best))
        }
        Current::None => Err(Error::InvalidArgument),
    }
}
