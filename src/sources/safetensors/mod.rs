//! safetensors (Hugging Face's tensor file): an 8-byte little-endian header
//! length `N`, `N` bytes of UTF-8 JSON, then the data section. The JSON maps
//! each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
//! (offsets relative to the data section); `__metadata__` holds free-form
//! strings. Writers may pad the JSON with trailing spaces.
//!
//! [`parse`] treats the header as untrusted: its length is capped before it is
//! read, the JSON parser has a recursion limit, and every tensor's offsets must
//! lie inside the file, agree with its dtype and shape, and not overlap another
//! tensor. Gaps between tensors and bytes after the last one are allowed (the
//! container keeps them verbatim). Errors: [`Error::SafetensorsInvalid`] for a
//! malformed header or layout, [`Error::SrcTruncated`] when the file ends
//! before its declared header, [`Error::LimitExceeded`] past the limits below.
//!
//! [`Error::SafetensorsInvalid`]: crate::Error::SafetensorsInvalid
//! [`Error::SrcTruncated`]: crate::Error::SrcTruncated
//! [`Error::LimitExceeded`]: crate::Error::LimitExceeded

pub(crate) mod codec;
pub(crate) mod decompose;
pub mod dtypes;

use crate::error::{Error, Result};
use dtypes::Dtype;

/// Largest JSON header accepted (the reference implementation's limit, 100 MB).
pub const MAX_HEADER_SIZE: u64 = 100_000_000;
/// Most tensors in one file.
pub const MAX_TENSORS: usize = 1 << 20;
/// Most dimensions of one tensor (the container index stores at most this many).
pub const MAX_DIMS: usize = crate::container::MAX_DIMS;

/// One tensor as the header describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: Dtype,
    /// As written in the header (row-major, outermost first).
    pub shape: Vec<u64>,
    /// Absolute byte range in the file.
    pub begin: u64,
    pub end: u64,
}

/// A parsed safetensors file.
#[derive(Debug, Clone)]
pub struct Safetensors {
    /// Bytes before the data section: `8 + N`.
    pub data_offset: u64,
    /// Tensors in the header's key order (serde_json sorts keys).
    pub tensors: Vec<TensorInfo>,
    pub file_len: u64,
}

fn invalid<T>(_: T) -> Error {
    Error::SafetensorsInvalid
}

fn as_u64(v: &serde_json::Value) -> Result<u64> {
    v.as_u64().ok_or(Error::SafetensorsInvalid)
}

/// Does `file` start like a safetensors file (a plausible header length, then `{`)?
pub fn looks_like(file: &[u8]) -> bool {
    file.len() >= 10
        && u64::from_le_bytes(file[..8].try_into().expect("8 bytes")).checked_add(8).is_some_and(|end| end <= file.len() as u64)
        && file[8] == b'{'
}

/// Parses the header of a whole file held in memory and checks the layout.
pub fn parse(file: &[u8]) -> Result<Safetensors> {
    let head = file.get(..8).ok_or(Error::SrcTruncated)?;
    let n = u64::from_le_bytes(head.try_into().expect("8 bytes"));
    if n > MAX_HEADER_SIZE {
        return Err(Error::LimitExceeded);
    }
    let data_offset = 8 + n;
    let json = file.get(8..data_offset as usize).ok_or(Error::SrcTruncated)?;
    if json.first() != Some(&b'{') {
        return Err(Error::SafetensorsInvalid);
    }
    let root: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(json).map_err(invalid)?;
    if root.len() > MAX_TENSORS + 1 {
        return Err(Error::LimitExceeded);
    }
    let data_len = file.len() as u64 - data_offset;
    let mut tensors = Vec::with_capacity(root.len());
    for (name, desc) in &root {
        if name == "__metadata__" {
            let ok = desc.as_object().is_some_and(|m| m.values().all(serde_json::Value::is_string));
            if !ok {
                return Err(Error::SafetensorsInvalid);
            }
            continue;
        }
        let desc = desc.as_object().ok_or(Error::SafetensorsInvalid)?;
        let dtype = Dtype::from_name(desc.get("dtype").and_then(|d| d.as_str()).ok_or(Error::SafetensorsInvalid)?);
        let shape = desc.get("shape").and_then(|s| s.as_array()).ok_or(Error::SafetensorsInvalid)?;
        if shape.len() > MAX_DIMS {
            return Err(Error::LimitExceeded);
        }
        let shape = shape.iter().map(as_u64).collect::<Result<Vec<u64>>>()?;
        let offsets = desc.get("data_offsets").and_then(|o| o.as_array()).ok_or(Error::SafetensorsInvalid)?;
        let [begin, end] = offsets.as_slice() else { return Err(Error::SafetensorsInvalid) };
        let (begin, end) = (as_u64(begin)?, as_u64(end)?);
        if begin > end || end > data_len {
            return Err(Error::SafetensorsInvalid);
        }
        if let Some(bytes) = dtype.nbytes(&shape) {
            if bytes != Some(end - begin) {
                return Err(Error::SafetensorsInvalid);
            }
        }
        tensors.push(TensorInfo { name: name.clone(), dtype, shape, begin: data_offset + begin, end: data_offset + end });
    }
    let mut by_offset: Vec<&TensorInfo> = tensors.iter().filter(|t| t.end > t.begin).collect();
    by_offset.sort_by_key(|t| t.begin);
    if by_offset.windows(2).any(|w| w[1].begin < w[0].end) {
        return Err(Error::SafetensorsInvalid);
    }
    Ok(Safetensors { data_offset, tensors, file_len: file.len() as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(json: &str, data: usize) -> Vec<u8> {
        let mut f = (json.len() as u64).to_le_bytes().to_vec();
        f.extend_from_slice(json.as_bytes());
        f.resize(f.len() + data, 7);
        f
    }

    #[test]
    fn parses_a_small_file() {
        let f = file(r#"{"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[8,20]},"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}  "#, 20);
        let s = parse(&f).unwrap();
        assert_eq!(s.tensors.len(), 2);
        let b = s.tensors.iter().find(|t| t.name == "b").unwrap();
        assert_eq!((b.dtype, b.shape.clone(), b.end - b.begin), (Dtype::Bf16, vec![2, 3], 12));
    }

    #[test]
    fn rejects_bad_layouts() {
        let cases = [
            (r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#, 16),
            (r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, 15),
            (r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, 16),
            (r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4),
            (r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, 4),
            (r#"{"a":{"dtype":"F32","shape":[1]}}"#, 4),
            (r#"{"a":[1,2]}"#, 0),
            (r#"{"__metadata__":{"x":1}}"#, 0),
            (r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]"#, 4),
            (r#"[1]"#, 0),
        ];
        for (json, data) in cases {
            assert_eq!(parse(&file(json, data)).unwrap_err(), Error::SafetensorsInvalid, "{json}");
        }
    }

    #[test]
    fn checks_sizes_before_reading() {
        let mut f = u64::MAX.to_le_bytes().to_vec();
        f.extend_from_slice(b"{}");
        assert_eq!(parse(&f).unwrap_err(), Error::LimitExceeded);
        let mut f = 100u64.to_le_bytes().to_vec();
        f.extend_from_slice(b"{}");
        assert_eq!(parse(&f).unwrap_err(), Error::SrcTruncated);
        assert_eq!(parse(b"abc").unwrap_err(), Error::SrcTruncated);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&file(&format!("{{\"a\":{deep}}}"), 0)).unwrap_err(), Error::SafetensorsInvalid);
    }
}
