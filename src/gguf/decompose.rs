//! Cutting a GGUF file into container spans: metadata, one span per tensor,
//! alignment padding, trailing bytes — each with the codec that suits it.

use super::methods;
use super::parser::Gguf;
use crate::codec::Method;
use crate::container::build::Span;
use crate::container::Role;
use crate::error::{Error, Result};

/// zstd level of the metadata by default (the paper's choice; 6.5 MB of gemma's
/// metadata takes a few seconds).
pub const DEFAULT_METADATA_LEVEL: i32 = 19;

pub fn spans(g: &Gguf, metadata_level: i32) -> Result<Vec<Span>> {
    let file_size = g.file_size;
    let meta_end = g.data_offset.min(file_size);
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
        if t.abs_offset > at {
            spans.push(Span { offset: at, size: t.abs_offset - at, role: Role::Padding, methods: vec![Method::Stored], entry: None });
        }
        // A tensor of unknown type extends to the next tensor (or the end).
        let end = match t.size {
            Some(s) => t.abs_offset + s,
            None => order.get(k + 1).map_or(file_size, |&j| g.tensors[j].abs_offset),
        };
        if end <= t.abs_offset || t.abs_offset < at {
            // Zero-sized tensors cannot be addressed as regions; overlaps are invalid.
            return Err(Error::GgufInvalid);
        }
        spans.push(Span {
            offset: t.abs_offset,
            size: end - t.abs_offset,
            role: Role::Tensor,
            methods: if t.size.is_some() { methods::for_type(t.ggml_type) } else { vec![Method::Zstd { level: methods::TENSOR_ZSTD_LEVEL }] },
            entry: Some((t.name.clone(), t.ggml_type)),
        });
        at = end;
    }
    if at < file_size {
        spans.push(Span { offset: at, size: file_size - at, role: Role::Trailing, methods: vec![Method::Zstd { level: methods::TENSOR_ZSTD_LEVEL }], entry: None });
    }
    spans.retain(|s| s.size > 0);
    Ok(spans)
}
