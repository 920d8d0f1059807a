//! Cutting a GGUF file into container spans: metadata, one span per tensor,
//! alignment padding, trailing bytes — each with the codec that suits it.

use super::methods;
use super::Gguf;
use crate::codec::Method;
use crate::container::build::Span;
use crate::container::Role;
use crate::error::{Error, Result};

/// zstd level of the metadata by default (the paper's choice; 6.5 MB of gemma's
/// metadata takes a few seconds).
pub const DEFAULT_METADATA_LEVEL: i32 = 19;

pub fn spans(g: &Gguf<'_>, metadata_level: i32) -> Result<Vec<Span>> {
    let file_size = g.file_len as u64;
    let meta_end = (g.data_offset as u64).min(file_size);
    let mut spans = vec![Span {
        offset: 0,
        size: meta_end,
        role: Role::Metadata,
        methods: vec![Method::Zstd { level: metadata_level }],
        entry: None,
    }];
    let mut order: Vec<usize> = (0..g.tensors.len()).collect();
    order.sort_by_key(|&i| g.tensors[i].abs_offset);
    let mut at = meta_end;
    for (k, &i) in order.iter().enumerate() {
        let t = &g.tensors[i];
        let start = t.abs_offset as u64;
        if start > at {
            spans.push(Span { offset: at, size: start - at, role: Role::Padding, methods: vec![Method::Stored], entry: None });
        }
        // A tensor of unknown type extends to the next tensor (or the end).
        let end = match t.nbytes {
            Some(s) => start + s as u64,
            None => order.get(k + 1).map_or(file_size, |&j| g.tensors[j].abs_offset as u64),
        };
        if end <= start || start < at {
            // Zero-sized tensors cannot be addressed as regions; overlaps are invalid.
            return Err(Error::GgufInvalid);
        }
        spans.push(Span {
            offset: start,
            size: end - start,
            role: Role::Tensor,
            methods: if t.nbytes.is_some() { methods::for_type(t.ggml_type) } else { vec![Method::Zstd { level: methods::TENSOR_ZSTD_LEVEL }] },
            entry: Some((t.name.to_string(), t.ggml_type)),
        });
        at = end;
    }
    if at < file_size {
        spans.push(Span { offset: at, size: file_size - at, role: Role::Trailing, methods: vec![Method::Zstd { level: methods::TENSOR_ZSTD_LEVEL }], entry: None });
    }
    spans.retain(|s| s.size > 0);
    Ok(spans)
}
