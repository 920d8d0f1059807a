//! Turning a parsed model file into container spans: the metadata first, one
//! span per tensor, and the bytes between and after tensors, so the spans tile
//! the file exactly.

use crate::container::build::Span;
use crate::container::Role;
use crate::params::CompressParams;
use crate::codec::Method;
use crate::error::{Error, Result};

/// zstd level of metadata by default (the paper's choice).
pub const DEFAULT_METADATA_LEVEL: i32 = 19;

/// zstd level for tensors of types without a dedicated codec, and for bytes
/// after the last tensor.
pub const TENSOR_ZSTD_LEVEL: i32 = 3;

/// zstd level of GGUF string arrays (the tokenizer's vocabulary) by default.
/// Their lengths and bytes coded apart, Gemma 3 270M's 262,144 tokens at level
/// 12 take 1.20 MB in 0.15 s of one core, where the records whole took 1.23 MB
/// in 2.5 s at level 19; apart at 19 they take 80 KB less, in 1.1 s.
pub const DEFAULT_STRINGS_LEVEL: i32 = 12;

/// The zstd level of metadata for `params.level` (0 = the default, 19).
pub fn metadata_level(params: &CompressParams) -> i32 {
    metadata_levels(params).other
}

/// zstd levels of metadata: string arrays, and everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetadataLevels {
    pub strings: i32,
    pub other: i32,
}

/// The levels for `params.level`: 0 = the defaults, any other level for all.
pub fn metadata_levels(params: &CompressParams) -> MetadataLevels {
    if params.level == 0 {
        MetadataLevels { strings: DEFAULT_STRINGS_LEVEL, other: DEFAULT_METADATA_LEVEL }
    } else {
        let level = params.level.clamp(1, 22);
        MetadataLevels { strings: level, other: level }
    }
}

/// Metadata `[0, end)` as one span at zstd `level`.
pub fn metadata_span(end: u64, level: i32) -> Vec<Span> {
    vec![Span { offset: 0, size: end, role: Role::Metadata, methods: vec![Method::Zstd { level }], entry: None, batch: Vec::new() }]
}

/// Spans for a file of `file_len` bytes whose metadata is `metadata` (spans of
/// role `Metadata` tiling the file's start in order, cut at `file_len`) and
/// whose tensors are the `tensors` spans (any order, non-empty, role `Tensor`).
/// Gaps become padding (stored; all-zero padding costs nothing), the tail
/// becomes a trailing span. Tensors that overlap each other or the metadata
/// give `overlap`.
pub fn tile(file_len: u64, metadata: Vec<Span>, mut tensors: Vec<Span>, overlap: Error) -> Result<Vec<Span>> {
    tensors.sort_by_key(|t| t.offset);
    let mut spans = Vec::with_capacity(2 * tensors.len() + metadata.len() + 1);
    let mut at = 0;
    for mut m in metadata {
        debug_assert_eq!(m.offset, at, "metadata spans tile the start");
        m.size = m.size.min(file_len.saturating_sub(m.offset));
        at = m.offset + m.size;
        spans.push(m);
    }
    for t in tensors {
        let end = t.offset.checked_add(t.size).ok_or(overlap)?;
        if t.offset < at || t.size == 0 || end > file_len {
            return Err(overlap);
        }
        if t.offset > at {
            spans.push(Span { offset: at, size: t.offset - at, role: Role::Padding, methods: vec![Method::Stored], entry: None, batch: Vec::new() });
        }
        at = end;
        spans.push(t);
    }
    if at < file_len {
        spans.push(Span { offset: at, size: file_len - at, role: Role::Trailing, methods: vec![Method::Zstd { level: TENSOR_ZSTD_LEVEL }], entry: None, batch: Vec::new() });
    }
    spans.retain(|s| s.size > 0);
    Ok(spans)
}
