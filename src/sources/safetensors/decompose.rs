//! Cutting a safetensors file into container spans: the length and JSON header
//! as metadata, one span per non-empty tensor coded by dtype.

use super::Safetensors;
use crate::container::build::Span;
use crate::sources::plan::{metadata_span, tile};
use crate::container::{Role, TensorDesc};
use crate::error::{Error, Result};

pub fn spans(st: &Safetensors, metadata_level: i32) -> Result<Vec<Span>> {
    // Empty tensors have no bytes to address; the JSON header still lists them.
    let tensors = st
        .tensors
        .iter()
        .filter(|t| t.end > t.begin)
        .map(|t| Span {
            offset: t.begin,
            size: t.end - t.begin,
            role: Role::Tensor,
            methods: if (t.end - t.begin) % t.dtype.size().unwrap_or(1) == 0 {
                // The last dimension is the contiguous one: a row.
                let row = (t.shape.len() >= 2).then(|| t.shape[t.shape.len() - 1]);
                t.dtype.methods().into_iter().map(|m| m.with_rows(row)).collect()
            } else {
                super::dtypes::Dtype::Unknown.methods()
            },
            entry: Some(TensorDesc { name: t.name.clone(), dtype: t.dtype as u32, shape: t.shape.clone() }),
            batch: Vec::new(),
        })
        .collect();
    tile(st.file_len, metadata_span(st.data_offset, metadata_level), tensors, Error::SafetensorsInvalid)
}
