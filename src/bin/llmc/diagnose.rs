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
    // A continuation belongs to the tensor of the last tensor region before it.
    let first = index.regions[..=region].iter().rposition(|r| r.role != Role::Continuation).unwrap_or(region);
    if index.regions[region].role == Role::Batch {
        let names: Vec<&str> = index.entries.iter().filter(|e| e.region as usize == region).map(|e| e.name).collect();
        let shown = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
        let more = if names.len() > 3 { format!(" and {} more", names.len() - 3) } else { String::new() };
        return format!("batch of tiny tensors {shown}{more} (region {region})");
    }
    match index.entries.iter().find(|e| e.region as usize == first) {
        Some(e) => format!("tensor {}", e.name),
        None => {
            let role = match index.regions[region].role {
                Role::Metadata => "metadata",
                Role::Tensor => "tensor",
                Role::Padding => "padding",
                Role::Trailing => "trailing bytes",
                Role::Continuation => "tensor continuation",
                Role::Batch => "batch of tiny tensors",
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

/// The name of a source type id, for messages.
fn type_name(kind: Kind, dtype: u32) -> String {
    match (kind, dtype) {
        (_, u32::MAX) => "untyped bytes".into(),
        (Kind::Safetensors, t) => llmc::model::safetensors::Dtype::from_id(t).name().into(),
        (_, t) => llmc::model::gguf::types::type_name(t).into(),
    }
}

/// Which limit of the source format's reader (tensor count, header size, name
/// length) `src`, a whole model file (or a map of it: only its header is
/// read), passes, when `e` is the error such a limit gives.
pub fn source_limit(src: &[u8], e: llmc::Error) -> Option<String> {
    use llmc::Error::*;
    if !matches!(e, LimitExceeded | GgufInvalid | SafetensorsInvalid) {
        return None;
    }
    let why = match files::kind_of_file(src, src.len() as u64) {
        Kind::Gguf => llmc::model::gguf::refusal(src),
        Kind::Safetensors => llmc::model::safetensors::refusal(src),
        _ => None,
    }?;
    Some(format!("{why} ({e})"))
}

/// Why compressing `src` failed with `e`, in words: which limit a name or
/// shape passes, which tensor types a `--chunk-size` does not fit, that a
/// file is truncated.
pub fn compress_failure(src: &[u8], e: llmc::Error, params: &llmc::CompressParams, method: Option<&llmc::frame::Method>) -> String {
    use llmc::Error::*;
    // By its first bytes and length: a safetensors header past the reader's
    // size limit is still named as one.
    let kind = files::kind_of_file(src, src.len() as u64);
    if let (InvalidArgument, Some(m)) = (e, method) {
        let elem = m.element_size();
        if !(src.len() as u64).is_multiple_of(u64::from(elem)) {
            return format!("{} bytes is not a whole number of {}-byte {} elements ({e})", src.len(), elem, m.codec().name());
        }
        if params.chunk_size != 0 && !params.chunk_size.is_multiple_of(elem) {
            return format!("--chunk-size {} is not a multiple of the {}-byte {} element ({e})", params.chunk_size, elem, m.codec().name());
        }
    }
    let model = matches!(kind, Kind::Gguf | Kind::Safetensors);
    if let Some(why) = source_limit(src, e) {
        return why;
    }
    match e {
        LimitExceeded | InvalidArgument if model => {
            if let Some(u) = llmc::model::unfit(src) {
                return format!("cannot be stored in a container: {u} ({e})");
            }
            if let Some(u) = (kind == Kind::Safetensors).then(|| unrecordable_shape(src)).flatten() {
                return format!("cannot be stored in a container: {u}; `--codec stored` keeps the file as it is ({e})");
            }
            if e == InvalidArgument && params.chunk_size != 0 {
                return chunk_size_failure(src, kind, params.chunk_size, e);
            }
            e.to_string()
        }
        InvalidArgument if params.chunk_size != 0 => chunk_size_failure(src, kind, params.chunk_size, e),
        SrcTruncated if model => format!("the file is truncated: it ends before what its header declares ({e})"),
        Allocation => allocation_failure(e),
        _ => e.to_string(),
    }
}

fn chunk_size_failure(src: &[u8], kind: Kind, chunk: u32, e: llmc::Error) -> String {
    use llmc::limits::{MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk) {
        return format!("--chunk-size {chunk} is outside {MIN_CHUNK_SIZE}..={MAX_CHUNK_SIZE} ({e})");
    }
    let conflicts = llmc::model::chunk_size_conflicts(src, chunk);
    if conflicts.is_empty() {
        return format!("--chunk-size {chunk} is not a multiple of the codec's element size ({e})");
    }
    let list: Vec<String> = conflicts.iter().map(|&(t, elem)| format!("{} ({elem}-byte blocks)", type_name(kind, t))).collect();
    let lcm = conflicts.iter().fold(1u64, |a, &(_, b)| a / gcd(a, u64::from(b)) * u64::from(b));
    format!("--chunk-size {chunk} is not a multiple of the block size of {}; use a multiple of {lcm} ({e})", list.join(", "))
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Why decoding `src` failed with `e`, in words.
pub fn decode_failure(src: &[u8], e: llmc::Error) -> String {
    use llmc::Error::*;
    match (files::kind(src), e) {
        _ if src.is_empty() => "the file is empty: no llmc frame or container".into(),
        (Kind::Other | Kind::Gguf | Kind::Safetensors, BadMagic) => "not an llmc frame or container".into(),
        (Kind::PerStream, GgufInvalid) => format!("per-stream file whose first stream does not start with a valid GGUF header ({e})"),
        (Kind::PerStream, Corrupt) => format!("per-stream file whose streams do not match its GGUF header ({e})"),
        (_, ChecksumMismatch) => checksum_failure(src),
        (_, Allocation) => allocation_failure(e),
        _ => e.to_string(),
    }
}

/// Out of memory, or (with an OS error kept) out of threads.
fn allocation_failure(e: llmc::Error) -> String {
    match llmc::error::last_os_error() {
        0 => e.to_string(),
        n => format!("{e}: the system refused a worker thread ({}); try fewer threads with -T", std::io::Error::from_raw_os_error(n)),
    }
}

/// A safetensors tensor a container's index cannot record, by the index's own
/// check (its header parser refuses a shape of too many dimensions as it reads
/// it, so the file never becomes spans that `unfit` could name).
fn unrecordable_shape(src: &[u8]) -> Option<llmc::model::limits::Unfit> {
    let len = usize::try_from(u64::from_le_bytes(src.get(..8)?.try_into().ok()?)).ok()?;
    let header: serde_json::Value = serde_json::from_slice(src.get(8..8usize.checked_add(len)?)?).ok()?;
    header.as_object()?.iter().find_map(|(name, t)| llmc::model::limits::check_entry(name, t.get("shape")?.as_array()?.len()).err())
}
