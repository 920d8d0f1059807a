//! Whole model files to and from containers, whatever their source format.

use crate::container::build::{build_stream, library_workers, Progress, Span};
use crate::container::limits::{check_index, Unfit};
use crate::container::read::Index;
use crate::container::SourceKind;
use crate::engine::input::Input;
use crate::engine::output::Output;
use crate::error::{Error, Result};
use crate::params::{CompressParams, DecodeOptions};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The source format of a file, from its first bytes.
pub fn detect(file: &[u8]) -> Option<SourceKind> {
    if file.starts_with(b"GGUF") {
        Some(SourceKind::Gguf)
    } else if crate::sources::safetensors::looks_like(file) {
        Some(SourceKind::Safetensors)
    } else {
        None
    }
}

/// Compresses a GGUF or safetensors file held in memory into a container.
pub fn compress(file: &[u8], params: &CompressParams, progress: Option<Progress<'_>>) -> Result<Vec<u8>> {
    match detect(file) {
        Some(SourceKind::Gguf) => crate::sources::gguf::codec::compress(file, params, progress),
        Some(SourceKind::Safetensors) => crate::sources::safetensors::codec::compress(file, params, progress),
        _ => Err(Error::BadMagic),
    }
}

/// The spans `compress` would code `file` as (its source parsed and checked).
pub(crate) fn spans(file: &[u8], params: &CompressParams) -> Result<Vec<Span>> {
    let levels = crate::sources::plan::metadata_levels(params);
    match detect(file) {
        Some(SourceKind::Gguf) => crate::sources::gguf::decompose::spans(&crate::sources::gguf::parse(file)?, levels),
        Some(SourceKind::Safetensors) => crate::sources::safetensors::decompose::spans(&crate::sources::safetensors::parse(file)?, levels.other),
        _ => Err(Error::BadMagic),
    }
}

/// What in `file` a container cannot record (a name past `limits::MAX_NAME`,
/// ...), if anything: why `compress` refused it, for messages.
pub fn unfit(file: &[u8]) -> Option<Unfit> {
    let spans = spans(file, &CompressParams::default()).ok()?;
    check_index(file.len() as u64, spans.len(), spans.iter().filter_map(|s| s.entry.as_ref())).err()
}

/// The tensor types (source type id and element or block size in bytes) whose
/// size does not divide `chunk_size`: why `compress` refused a chunk size.
pub fn chunk_size_conflicts(file: &[u8], chunk_size: u32) -> Vec<(u32, u32)> {
    let Ok(spans) = spans(file, &CompressParams::default()) else { return Vec::new() };
    // As the writer codes them: tiny tensors side by side in batches.
    let spans = crate::container::batch::gather(spans);
    let mut out: Vec<(u32, u32)> = spans
        .iter()
        .filter(|s| s.role != crate::container::Role::Metadata)
        .flat_map(|s| {
            let dtype = s.entry.as_ref().or(s.batch.first().map(|m| &m.desc)).map_or(u32::MAX, |e| e.dtype);
            s.methods.iter().map(move |m| (dtype, m.element_size()))
        })
        .filter(|&(_, elem)| elem > 0 && !chunk_size.is_multiple_of(elem))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Rebuilds the original file from a container held in memory, checking it
/// against the stored SHA-256 (`opts.n_threads` decode chunks in parallel).
pub fn decompress(container: &[u8], opts: &DecodeOptions) -> Result<Vec<u8>> {
    let index = Index::open(container)?;
    if index.original_size > opts.max_output {
        return Err(Error::LimitExceeded);
    }
    let size = usize::try_from(index.original_size).map_err(|_| Error::SizeOverflow)?;
    let mut out = crate::engine::frames::zeroed_output(size)?;
    index.decompress_all(container, &mut out, opts)?;
    verify_sha256(&index, &out)?;
    Ok(out)
}

/// Checks a rebuilt file against the digest its container stores.
pub fn verify_sha256(index: &Index, original: &[u8]) -> Result<()> {
    let digest: [u8; 32] = Sha256::digest(original).into();
    if digest[..28] == index.sha256_prefix {
        Ok(())
    } else {
        Err(Error::ChecksumMismatch)
    }
}

/// Reads up to `len` bytes at `offset` of `file` (fewer at its end).
fn read_prefix(file: &File, len: u64) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; usize::try_from(len).map_err(|_| Error::SizeOverflow)?];
    let mut at = 0;
    while at < buf.len() {
        match file.read_at(&mut buf[at..], at as u64) {
            Ok(0) => break,
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::from_io(&e)),
        }
    }
    buf.truncate(at);
    Ok(buf)
}

/// Largest metadata prefix read to plan a GGUF file.
const MAX_GGUF_METADATA: u64 = 1 << 30;

/// Plans the spans of the `len`-byte model file `file`, reading only its
/// metadata (with `pread`: a file truncated meanwhile gives an error, never a
/// bus error).
pub fn plan(file: &File, len: u64, params: &CompressParams) -> Result<(SourceKind, Vec<Span>)> {
    let levels = crate::sources::plan::metadata_levels(params);
    let mut want = len.min(1 << 20);
    loop {
        let head = read_prefix(file, want)?;
        let short = (head.len() as u64) < want;
        let kind = match detect(&head) {
            Some(k) => k,
            // A safetensors header longer than the first read.
            None if head.len() >= 9 && head[8] == b'{' && !short && want < len => SourceKind::Safetensors,
            None => return Err(Error::BadMagic),
        };
        let parsed = match kind {
            SourceKind::Gguf => usize::try_from(len)
                .map_err(|_| Error::SizeOverflow)
                .and_then(|l| crate::sources::gguf::parse_prefix(&head, l))
                .and_then(|g| crate::sources::gguf::decompose::spans(&g, levels)),
            _ => crate::sources::safetensors::parse_head(&head, len).and_then(|st| crate::sources::safetensors::decompose::spans(&st, levels.other)),
        };
        match parsed {
            Err(Error::SrcTruncated) if !short && want < len.min(MAX_GGUF_METADATA) => {
                want = (want * 4).min(len).min(MAX_GGUF_METADATA);
                if kind == SourceKind::Safetensors && head.len() >= 8 {
                    // The header says how long it is.
                    let n = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
                    want = want.max(n.saturating_add(8).min(len));
                }
            }
            Err(Error::SrcTruncated) if short => return Err(Error::SrcTruncated),
            other => return other.map(|spans| (kind, spans)),
        }
    }
}

/// Compresses the model file `file` (`len` bytes) into a container on `out`
/// in one pass, on `workers` threads.
pub fn compress_stream(file: &File, params: &CompressParams, workers: usize, out: &mut Output, progress: Option<Progress<'_>>) -> Result<()> {
    let len = file.metadata()?.len();
    let (kind, spans) = plan(file, len, params)?;
    // Buffered for small reads (a tiny tensor was a `read` each); reads of a
    // buffer's size or more pass straight through.
    let mut input = Input::new(std::io::BufReader::with_capacity(64 << 10, file));
    build_stream(kind, &mut input, len, spans, None, params, workers, out, progress)
}

/// Compresses the model file arriving on `input` — a pipe, whose length is not
/// known — into a container on `out` in one pass, with the same bytes as from a
/// file. Its metadata is read first (held while planning, as from a file: at
/// most 1 GiB); the length is where its last tensor ends, and bytes after that
/// (at most `MAX_STREAM_TAIL`) become a trailing region. A GGUF whose last
/// tensor has a type of unknown size cannot be planned from a stream
/// (`InvalidArgument`: compress it from a file). Returns the bytes read.
pub fn compress_from_stream(input: &mut Input<'_>, params: &CompressParams, workers: usize, out: &mut Output, progress: Option<Progress<'_>>) -> Result<u64> {
    let levels = crate::sources::plan::metadata_levels(params);
    let mut head = Vec::new();
    let mut want = 1u64 << 20;
    let (kind, len, spans) = loop {
        let have = head.len() as u64;
        let short = match input.read_into(&mut head, want - have) {
            Ok(()) => false,
            Err(Error::SrcTruncated) => true,
            Err(e) => return Err(e),
        };
        // A stream that ended is a whole file: plan it as one.
        let limit = if short { head.len() as u64 } else { crate::format::limits::MAX_CONTENT_SIZE };
        let kind = match detect(&head) {
            Some(k) => k,
            None if head.len() >= 9 && head[8] == b'{' && !short => SourceKind::Safetensors,
            None => return Err(Error::BadMagic),
        };
        let parsed = match kind {
            SourceKind::Gguf => usize::try_from(limit).map_err(|_| Error::SizeOverflow).and_then(|l| crate::sources::gguf::parse_prefix(&head, l)).and_then(|mut g| {
                if !short {
                    g.file_len = gguf_data_end(&g)?.max(head.len());
                }
                let len = g.file_len as u64;
                crate::sources::gguf::decompose::spans(&g, levels).map(|s| (len, s))
            }),
            _ => crate::sources::safetensors::parse_head(&head, limit).and_then(|mut st| {
                if !short {
                    let end = st.tensors.iter().map(|t| t.end).max().unwrap_or(0).max(st.data_offset);
                    st.file_len = end.max(head.len() as u64);
                }
                let len = st.file_len;
                crate::sources::safetensors::decompose::spans(&st, levels.other).map(|s| (len, s))
            }),
        };
        match parsed {
            Err(Error::SrcTruncated) if !short && want < MAX_GGUF_METADATA => {
                // Small steps: what is read past the metadata is held until
                // the pipeline takes it (a file's planner can read ahead freely).
                want = (want + (want / 4).max(1 << 20)).min(MAX_GGUF_METADATA);
                if kind == SourceKind::Safetensors {
                    // The header says how long it is.
                    let n = u64::from_le_bytes(head[..8].try_into().expect("8 bytes"));
                    want = want.max(n.saturating_add(8).min(MAX_GGUF_METADATA));
                }
            }
            Err(e) => return Err(e),
            Ok((len, spans)) => break (kind, len, spans),
        }
    };
    input.unread_vec(head);
    let tail = crate::codec::Method::Zstd { level: crate::sources::plan::TENSOR_ZSTD_LEVEL };
    build_stream(kind, input, len, spans, Some(&tail), params, workers, out, progress)?;
    Ok(input.position())
}

/// Where a GGUF's tensor data ends (the data section's start if it has no
/// tensors); a tensor whose size is unknown cannot be placed from a stream.
fn gguf_data_end(g: &crate::sources::gguf::Gguf<'_>) -> Result<usize> {
    let mut end = g.data_offset;
    for t in &g.tensors {
        let size = t.nbytes.ok_or(Error::InvalidArgument)?;
        end = end.max(t.abs_offset.checked_add(size).ok_or(Error::GgufInvalid)?);
    }
    Ok(end)
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::from_io(&e))
}

/// A failure to create or write an output: `Io`, its OS error kept for
/// `llmc_last_os_error` (a missing folder is no missing input).
fn output_error(e: std::io::Error) -> Error {
    crate::error::record_os_error(&e);
    Error::Io
}

/// An `Io` failure of `out` keeps the OS error for `llmc_last_os_error`.
fn with_os_error(e: Error, out: &mut Output) -> Error {
    if let Some(io) = out.take_error() {
        return output_error(io);
    }
    e
}

/// Compresses the GGUF or safetensors file at `input` into a container at
/// `output` (see [`Output`]: a regular file is written under a temporary name
/// and renamed when complete).
pub fn compress_file(input: &Path, output: &Path, params: &CompressParams, progress: Option<Progress<'_>>) -> Result<()> {
    let file = open(input)?;
    let mut out = Output::create(output).map_err(output_error)?;
    compress_stream(&file, params, library_workers(params.n_threads), &mut out, progress).map_err(|e| with_os_error(e, &mut out))?;
    out.commit().map_err(output_error)
}

/// Rebuilds the original file of the container at `input` into `output`,
/// reading the container front to back and checking the SHA-256.
pub fn decompress_file(input: &Path, output: &Path, opts: &DecodeOptions) -> Result<()> {
    let file = open(input)?;
    let mut out = Output::create(output).map_err(output_error)?;
    let mut sink = |b: &[u8]| out.write(b).map_err(output_error);
    let decoder = crate::engine::stream::Decoder::new(opts)?;
    crate::container::stream::decode(&mut Input::new(&file), &decoder, opts, library_workers(opts.n_threads), true, &mut sink)?;
    out.commit().map_err(output_error)
}

#[cfg(test)]
mod kernel_tables {
    use crate::codec::{self, Scratch};
    use crate::isa::Isa;
    use crate::kernels::Kernels;

    /// Every chunk of `frame` decoded by every kernel table (both AVX2
    /// lookups among them) gives the scalar oracle's bytes.
    fn chunks_agree(frame: &[u8], what: &str) -> usize {
        let f = crate::engine::frames::parse(frame).expect("a frame");
        let scalar = Kernels::get(Isa::Scalar).expect("scalar");
        let mut scratch = Scratch::default();
        for c in &f.chunks {
            let mut want = vec![0u8; c.content_len];
            codec::decode_chunk(f.header.codec, c.payload, &mut want, scalar, &mut scratch).expect("the oracle decodes");
            for k in Kernels::all_variants() {
                let mut got = vec![0x5au8; c.content_len];
                codec::decode_chunk(f.header.codec, c.payload, &mut got, k, &mut scratch).expect("decodes");
                assert!(got == want, "{what}: {:?} differs from the oracle", k.isa());
            }
        }
        f.chunks.len()
    }

    #[test]
    fn every_kernel_table_decodes_real_chunks_as_the_oracle() {
        let fixture = |p: &str| std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(p)).expect("fixture");
        let mut chunks = 0;
        // Byte streams of every GGUF block type gemma's first layer has (Q8_0,
        // Q5_0, Q6_K, Q4_K), row classes and ranks among them.
        let gguf = fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
        let c = crate::sources::file::compress(&gguf, &crate::CompressParams::default(), None).expect("compresses");
        let index = crate::container::read::Index::open(&c).expect("opens");
        for r in index.regions.iter().filter(|r| r.frame_size > 0) {
            chunks += chunks_agree(&c[r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize], "gemma blk0");
        }
        // bf16 with one table and with row classes.
        let bf16 = fixture("bf16/all-minilm-l6-v2.layer.3.intermediate.bf16");
        for rows in [None, Some(384)] {
            let frame = crate::engine::frames::compress(&crate::codec::Method::Bf16.with_rows(rows), &bf16, &Default::default()).expect("compresses");
            chunks += chunks_agree(&frame, "bf16");
        }
        assert!(chunks >= 20, "{chunks} chunks");
    }
}
