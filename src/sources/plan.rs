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

/// The zstd level of metadata for `params.level` (0 = the default, 19).
pub fn metadata_level(params: &CompressParams) -> i32 {
    if params.level == 0 {
        DEFAULT_METADATA_LEVEL
    } else {
        params.level.clamp(1, 22)
    }
}

/// Spans for a file of `file_len` bytes whose first `metadata_end` bytes are
/// metadata (coded with zstd at `metadata_level`) and whose tensors are the
/// `tensors` spans (any order, non-empty, role `Tensor`). Gaps become padding
/// (stored; all-zero padding costs nothing), the tail becomes a trailing span.
/// Tensors that overlap each other or the metadata give `overlap`.
pub fn tile(file_len: u64, metadata_end: u64, metadata_level: i32, mut tensors: Vec<Span>, overlap: Error) -> Result<Vec<Span>> {
    let metadata_end = metadata_end.min(file_len);
    tensors.sort_by_key(|t| t.offset);
    let mut spans = Vec::with_capacity(2 * tensors.len() + 2);
    spans.push(Span { offset: 0, size: metadata_end, role: Role::Metadata, methods: vec![Method::Zstd { level: metadata_level }], entry: None });
    let mut at = metadata_end;
    for t in tensors {
        let end = t.offset.checked_add(t.size).ok_or(overlap)?;
        if t.offset < at || t.size == 0 || end > file_len {
            return Err(overlap);
        }
        if t.offset > at {
            spans.push(Span { offset: at, size: t.offset - at, role: Role::Padding, methods: vec![Method::Stored], entry: None });
        }
        at = end;
        spans.push(t);
    }
    if at < file_len {
        spans.push(Span { offset: at, size: file_len - at, role: Role::Trailing, methods: vec![Method::Zstd { level: TENSOR_ZSTD_LEVEL }], entry: None });
    }
    spans.retain(|s| s.size > 0);
    Ok(spans)
}
