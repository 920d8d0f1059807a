//! Cutting a GGUF file into container spans: metadata, one span per tensor,
//! alignment padding, trailing bytes — each with the codec that suits it.

use super::methods;
use super::{Gguf, Value, ValueType};
use crate::codec::Method;
use crate::container::build::Span;
use crate::sources::plan::{tile, MetadataLevels};
use crate::container::{Role, TensorDesc};
use crate::error::{Error, Result};

pub fn spans(g: &Gguf<'_>, levels: MetadataLevels) -> Result<Vec<Span>> {
    let file_size = g.file_len as u64;
    let mut order: Vec<usize> = (0..g.tensors.len()).collect();
    order.sort_by_key(|&i| g.tensors[i].abs_offset);
    let mut tensors = Vec::with_capacity(order.len());
    for (k, &i) in order.iter().enumerate() {
        let t = &g.tensors[i];
        let start = t.abs_offset as u64;
        // A tensor of unknown type extends to the next tensor (or the end).
        let end = match t.nbytes {
            Some(s) => start + s as u64,
            None => order.get(k + 1).map_or(file_size, |&j| g.tensors[j].abs_offset as u64),
        };
        if end <= start {
            // A zero-element tensor has no bytes: no region, no entry (the
            // tensor infos in the metadata still list it), as for safetensors.
            continue;
        }
        let shape = t.ne[..t.n_dims as usize].to_vec();
        tensors.push(Span {
            offset: start,
            size: end - start,
            role: Role::Tensor,
            methods: if t.nbytes.is_some() {
                // ne[0] is the contiguous dimension: a row.
                let row = (shape.len() >= 2).then(|| shape[0]);
                methods::for_type(t.ggml_type).into_iter().map(|m| m.with_rows(row)).collect()
            } else {
                vec![Method::Zstd { level: methods::TENSOR_ZSTD_LEVEL }]
            },
            entry: Some(TensorDesc { name: t.name.to_string(), dtype: t.ggml_type, shape }),
            batch: Vec::new(),
        });
    }
    tile(file_size, metadata(g, levels), tensors, Error::GgufInvalid)
}

/// Shortest string array coded on its own: below it, a region and a second
/// zstd frame cost more than the split saves.
#[cfg(not(fuzzing))]
const MIN_STRINGS: usize = 64 << 10;
/// Longest strings span; longer arrays are cut at records. Each is one chunk
/// (see `container::build`), so this bounds a chunk well within the streaming limit.
#[cfg(not(fuzzing))]
const MAX_STRINGS: usize = 1 << 20;

/// Shortest array of 32-bit numbers coded on its own (as word differences).
#[cfg(not(fuzzing))]
const MIN_WORDS: usize = 64 << 10;

// Under `cargo fuzz`, whose inputs are at most 64 KiB (`scripts/fuzz.sh`), the
// sizes are small enough for them to reach these spans (from an independent
// review: the fuzzers never made one). Containers differ from a normal build's;
// the fuzz targets check round trips, not bytes.
#[cfg(fuzzing)]
const MIN_STRINGS: usize = 256;
#[cfg(fuzzing)]
const MAX_STRINGS: usize = 1 << 10;
#[cfg(fuzzing)]
const MIN_WORDS: usize = 256;

/// The metadata `[0, data_offset)` as spans: each long string array (its
/// elements, record-aligned pieces of at most [`MAX_STRINGS`]) coded as GGUF
/// strings at `levels.strings`, each long array of 32-bit numbers as word
/// differences at `levels.other`, the bytes between at `levels.other`.
fn metadata(g: &Gguf<'_>, levels: MetadataLevels) -> Vec<Span> {
    let span = |offset: usize, size: usize, method: Method| Span { offset: offset as u64, size: size as u64, role: Role::Metadata, methods: vec![method], entry: None, batch: Vec::new() };
    let mut spans = Vec::new();
    let mut at = 0usize;
    for kv in &g.kv {
        let Value::Array(a) = &kv.value else { continue };
        let strings = a.elem_type == ValueType::String && a.payload.len() >= MIN_STRINGS;
        let words = matches!(a.elem_type, ValueType::U32 | ValueType::I32 | ValueType::F32) && a.payload.len() >= MIN_WORDS;
        if !strings && !words {
            continue;
        }
        // The elements are a view into the file's bytes.
        let start = a.payload.as_ptr() as usize - g.bytes.as_ptr() as usize;
        if start > at {
            spans.push(span(at, start - at, Method::Zstd { level: levels.other }));
        }
        if strings {
            for piece in record_pieces(a.payload, MAX_STRINGS) {
                spans.push(span(start + piece.start, piece.len(), Method::ZstdStrings { level: levels.strings }));
            }
        } else {
            spans.push(span(start, a.payload.len(), Method::ZstdWords { level: levels.other }));
        }
        at = start + a.payload.len();
    }
    if g.data_offset > at {
        spans.push(span(at, g.data_offset - at, Method::Zstd { level: levels.other }));
    }
    spans
}

/// `strings` (parsed GGUF string records) cut at records into pieces of at most
/// `max` bytes (a longer record is a piece alone).
fn record_pieces(strings: &[u8], max: usize) -> Vec<core::ops::Range<usize>> {
    let (mut pieces, mut start, mut at) = (Vec::new(), 0usize, 0usize);
    while at < strings.len() {
        let len = u64::from_le_bytes(strings[at..at + 8].try_into().expect("a parsed record")) as usize;
        let next = at + 8 + len;
        if next - start > max && at > start {
            pieces.push(start..at);
            start = at;
        }
        at = next;
    }
    pieces.push(start..strings.len());
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_pieces_cut_at_records_within_max() {
        let mut s = Vec::new();
        for len in [3usize, 10, 0, 20, 5] {
            s.extend_from_slice(&(len as u64).to_le_bytes());
            s.extend(core::iter::repeat_n(b'x', len));
        }
        assert_eq!(record_pieces(&s, 1 << 20), vec![0..s.len()]);
        // Records of 11, 18, 8, 28 and 13 bytes.
        assert_eq!(record_pieces(&s, 30), vec![0..29, 29..37, 37..65, 65..78]);
        assert_eq!(record_pieces(&s, 1), vec![0..11, 11..29, 29..37, 37..65, 65..78]);
    }
}
