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
//! before its declared header or before a tensor's declared end, [`Error::LimitExceeded`] past the limits below.
//!
//! [`Error::SafetensorsInvalid`]: crate::Error::SafetensorsInvalid
//! [`Error::SrcTruncated`]: crate::Error::SrcTruncated
//! [`Error::LimitExceeded`]: crate::Error::LimitExceeded

pub(crate) mod codec;
pub(crate) mod decompose;
pub mod dtypes;
mod header;

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

/// Does `file` start like a safetensors file: a header length within the limit,
/// then `{`? (A truncated file still does, so that it is reported as truncated.)
pub fn looks_like(file: &[u8]) -> bool {
    file.len() >= 9 && u64::from_le_bytes(file[..8].try_into().expect("8 bytes")).wrapping_sub(2) <= MAX_HEADER_SIZE - 2 && file[8] == b'{'
}

/// Parses the header of a whole file held in memory and checks the layout. The
/// header takes a small multiple of its size in memory (see [`header`]).
pub fn parse(file: &[u8]) -> Result<Safetensors> {
    parse_head(file, file.len() as u64)
}

/// Which of llmc's limits a safetensors file that [`parse_head`] refuses
/// passes, in words, where it is a header larger than [`MAX_HEADER_SIZE`] or
/// more tensors than [`MAX_TENSORS`]. For messages only.
pub fn refusal(file: &[u8]) -> Option<String> {
    let n = u64::from_le_bytes(file.get(..8)?.try_into().ok()?);
    if n > MAX_HEADER_SIZE {
        return Some(format!("its JSON header is {n} bytes; llmc reads safetensors headers of at most {MAX_HEADER_SIZE}"));
    }
    let keys = header::count_keys(file.get(8..usize::try_from(8 + n).ok()?)?)?;
    (keys > MAX_TENSORS + 1).then(|| format!("its header has {keys} keys (tensors and `__metadata__`); llmc reads safetensors files of at most {MAX_TENSORS} tensors"))
}

/// Like [`parse`] when only `file`, a prefix holding the header, of a
/// `file_len`-byte file is at hand.
pub fn parse_head(file: &[u8], file_len: u64) -> Result<Safetensors> {
    if (file.len() as u64) > file_len {
        return Err(Error::InvalidArgument);
    }
    let head = file.get(..8).ok_or(Error::SrcTruncated)?;
    let n = u64::from_le_bytes(head.try_into().expect("8 bytes"));
    // Not a JSON object at all (a GGUF, say): not a safetensors file, whatever
    // its first bytes would say as a length.
    if file.get(8).is_some_and(|&b| b != b'{') {
        return Err(Error::SafetensorsInvalid);
    }
    if n > MAX_HEADER_SIZE {
        return Err(Error::LimitExceeded);
    }
    let data_offset = 8 + n;
    let json = file.get(8..data_offset as usize).ok_or(Error::SrcTruncated)?;
    if json.first() != Some(&b'{') {
        return Err(Error::SafetensorsInvalid);
    }
    let mut tensors = header::parse(json)?;
    let data_len = file_len - data_offset;
    for t in &mut tensors {
        if t.begin > t.end {
            return Err(Error::SafetensorsInvalid);
        }
        if t.end > data_len {
            // The data section ends before this tensor does.
            return Err(Error::SrcTruncated);
        }
        if let Some(bytes) = t.dtype.nbytes(&t.shape) {
            if bytes != Some(t.end - t.begin) {
                return Err(Error::SafetensorsInvalid);
            }
        }
        (t.begin, t.end) = (data_offset + t.begin, data_offset + t.end);
    }
    let mut by_offset: Vec<(u64, u64)> = tensors.iter().filter(|t| t.end > t.begin).map(|t| (t.begin, t.end)).collect();
    by_offset.sort_unstable();
    if by_offset.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(Error::SafetensorsInvalid);
    }
    Ok(Safetensors { data_offset, tensors, file_len })
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
        // A tensor that ends past the file: the file is truncated.
        let cut = file(r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, 15);
        assert_eq!(parse(&cut).unwrap_err(), Error::SrcTruncated);
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
