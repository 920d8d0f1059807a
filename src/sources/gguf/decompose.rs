//! Cutting a GGUF file into container spans: metadata, one span per tensor,
//! alignment padding, trailing bytes — each with the codec that suits it.

use super::methods;
use super::Gguf;
use crate::codec::Method;
use crate::container::build::Span;
use crate::sources::plan::tile;
use crate::container::{Role, TensorDesc};
use crate::error::{Error, Result};

pub fn spans(g: &Gguf<'_>, metadata_level: i32) -> Result<Vec<Span>> {
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
            // Zero-sized tensors cannot be addressed as regions.
            return Err(Error::GgufInvalid);
        }
        let shape = t.ne[..t.n_dims as usize].to_vec();
        tensors.push(Span {
            offset: start,
            size: end - start,
            role: Role::Tensor,
            methods: if t.nbytes.is_some() { methods::for_type(t.ggml_type) } else { vec![Method::Zstd { level: methods::TENSOR_ZSTD_LEVEL }] },
            entry: Some(TensorDesc { name: t.name.to_string(), dtype: t.ggml_type, shape }),
        });
    }
    tile(file_size, g.data_offset as u64, metadata_level, tensors, Error::GgufInvalid)
}
