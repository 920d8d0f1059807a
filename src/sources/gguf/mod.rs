//! GGUF (llama.cpp's model container), versions 2 and 3, little-endian.
//!
//! [`parse`] reads the header, the key-value metadata and the tensor infos of an
//! untrusted file held in memory and checks the tensor layout; it copies nothing:
//! strings and arrays stay views into the input, decoded on demand.
//!
//! Layout: `"GGUF"`, u32 version, u64 tensor count, u64 key-value count; the
//! key-value pairs; the tensor infos; padding up to the alignment; the tensor
//! data, each tensor at an aligned offset relative to the start of that section.
//! Writers pad with zeros; nothing checks it. llama.cpp's loader also wants the
//! tensors back to back in info order, each padded to the alignment; like gguf-py,
//! this parser only requires them aligned, inside the file and disjoint, so any
//! padding, gaps and trailing bytes are the caller's to keep.
//!
//! Memory: every count is checked against its limit and against the bytes left
//! before it sizes an allocation, so the result takes at most a small multiple
//! (about 6x) of the metadata's size, whatever the file declares.
//!
//! Errors: [`Error::GgufInvalid`] for what the format (or ggml) forbids,
//! [`Error::SrcTruncated`] when the input ends before something it declares,
//! [`Error::LimitExceeded`] when a count passes one of the `MAX_*` limits below
//! (our own bounds on resources, not the format's), [`Error::BadMagic`] and
//! [`Error::VersionUnsupported`] (v1, v4+, and big-endian files, whose version
//! reads as `0x0N000000`).
//!
//! [`Error::GgufInvalid`]: crate::Error::GgufInvalid
//! [`Error::SrcTruncated`]: crate::Error::SrcTruncated
//! [`Error::LimitExceeded`]: crate::Error::LimitExceeded
//! [`Error::BadMagic`]: crate::Error::BadMagic
//! [`Error::VersionUnsupported`]: crate::Error::VersionUnsupported

pub(crate) mod codec;
pub(crate) mod decompose;
pub(crate) mod methods;
mod parser;
#[cfg(test)]
mod train_profile;
pub mod types;

use core::ops::Range;

use crate::format::bytes::ByteReader;
pub use codec::compress;
pub use parser::{parse, parse_prefix, refusal};
pub use types::{ggml_type, GgmlType};

pub const MAGIC: [u8; 4] = *b"GGUF";
/// Magic, version, tensor count, key-value count.
pub const HEADER_SIZE: usize = 24;
pub const DEFAULT_ALIGNMENT: u32 = 32;
/// The key that overrides the alignment; its value must be a `U32` power of two.
pub const ALIGNMENT_KEY: &str = "general.alignment";

/// Most key-value pairs a file may declare (real models have about 50).
pub const MAX_KV: u64 = 1 << 20;
/// Most tensors a file may declare (the largest MoE models have a few thousand).
pub const MAX_TENSORS: u64 = 1 << 20;
/// Longest string (key, value or tensor name), as in llama.cpp (`GGUF_MAX_STRING_LENGTH`).
pub const MAX_STRING_LEN: u64 = 1 << 30;
/// Most elements in one array, as in llama.cpp (`GGUF_MAX_ARRAY_ELEMENTS`).
pub const MAX_ARRAY_LEN: u64 = 1 << 30;
/// Deepest array nesting: 1 is a plain array, 2 an array of arrays, ...
/// (llama.cpp accepts only 1; gguf-py reads any depth.)
pub const MAX_ARRAY_DEPTH: u32 = 4;
/// `GGML_MAX_DIMS`.
pub const MAX_DIMS: u32 = 4;
/// `GGML_MAX_NAME - 1`: ggml keeps tensor names NUL-terminated in 64 bytes.
pub const MAX_NAME_LEN: usize = 63;

/// The 13 GGUF value types, with their on-disk ids.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueType {
    pub const ALL: [ValueType; 13] = [
        ValueType::U8,
        ValueType::I8,
        ValueType::U16,
        ValueType::I16,
        ValueType::U32,
        ValueType::I32,
        ValueType::F32,
        ValueType::Bool,
        ValueType::String,
        ValueType::Array,
        ValueType::U64,
        ValueType::I64,
        ValueType::F64,
    ];

    pub fn from_u32(id: u32) -> Option<ValueType> {
        ValueType::ALL.get(usize::try_from(id).ok()?).copied()
    }

    /// The name in the GGUF specification (`GGUF_TYPE_UINT8` without the prefix).
    pub const fn name(self) -> &'static str {
        match self {
            ValueType::U8 => "UINT8",
            ValueType::I8 => "INT8",
            ValueType::U16 => "UINT16",
            ValueType::I16 => "INT16",
            ValueType::U32 => "UINT32",
            ValueType::I32 => "INT32",
            ValueType::F32 => "FLOAT32",
            ValueType::Bool => "BOOL",
            ValueType::String => "STRING",
            ValueType::Array => "ARRAY",
            ValueType::U64 => "UINT64",
            ValueType::I64 => "INT64",
            ValueType::F64 => "FLOAT64",
        }
    }

    /// Encoded size of one value, for the fixed-size types.
    pub const fn fixed_size(self) -> Option<usize> {
        match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => Some(1),
            ValueType::U16 | ValueType::I16 => Some(2),
            ValueType::U32 | ValueType::I32 | ValueType::F32 => Some(4),
            ValueType::U64 | ValueType::I64 | ValueType::F64 => Some(8),
            ValueType::String | ValueType::Array => None,
        }
    }

    /// Fewest bytes one value can take: a string is at least its u64 length, an
    /// array its u32 type and u64 count. Bounds counts before anything is allocated.
    pub const fn min_size(self) -> usize {
        match self.fixed_size() {
            Some(n) => n,
            None if matches!(self, ValueType::String) => 8,
            None => 12,
        }
    }
}

/// One metadata value. Strings are raw bytes (GGUF says UTF-8 but nothing checks it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(&'a [u8]),
    Array(Array<'a>),
    U64(u64),
    I64(i64),
    F64(f64),
}

impl<'a> Value<'a> {
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::F32(_) => ValueType::F32,
            Value::Bool(_) => ValueType::Bool,
            Value::String(_) => ValueType::String,
            Value::Array(_) => ValueType::Array,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
        }
    }

    /// A string value that is valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            Value::String(s) => core::str::from_utf8(s).ok(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<Array<'a>> {
        match self {
            Value::Array(a) => Some(*a),
            _ => None,
        }
    }

    /// Any unsigned or non-negative signed integer, widened.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Any integer that fits in an `i64`, widened.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I8(v) => Some(v.into()),
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v),
            _ => i64::try_from(self.as_u64()?).ok(),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }
}

/// An array value: element type, count and the elements' encoding, already
/// validated by [`parse`]. Fixed-size elements are indexed directly; strings and
/// nested arrays are walked in order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Array<'a> {
    elem_type: ValueType,
    len: usize,
    payload: &'a [u8],
    /// Nesting depth of this array (1 for an array directly under a key).
    depth: u32,
}

impl<'a> Array<'a> {
    pub fn elem_type(&self) -> ValueType {
        self.elem_type
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements exactly as encoded in the file (after the type and count).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// Element `i`: O(1) for fixed-size types, O(i) for strings and arrays.
    pub fn get(&self, i: usize) -> Option<Value<'a>> {
        if i >= self.len {
            return None;
        }
        match self.elem_type.fixed_size() {
            Some(size) => {
                let at = i.checked_mul(size)?;
                let mut r = ByteReader::new(self.payload.get(at..)?);
                parser::read_value(&mut r, self.elem_type, self.depth).ok()
            }
            None => self.iter().nth(i),
        }
    }

    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter { array: *self, reader: ByteReader::new(self.payload), left: self.len }
    }
}

impl<'a> IntoIterator for Array<'a> {
    type Item = Value<'a>;
    type IntoIter = ArrayIter<'a>;
    fn into_iter(self) -> ArrayIter<'a> {
        self.iter()
    }
}

/// Iterator over the elements of an [`Array`].
#[derive(Clone)]
pub struct ArrayIter<'a> {
    array: Array<'a>,
    reader: ByteReader<'a>,
    left: usize,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Value<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The payload was validated by the same reader, so this cannot fail; if it
        // ever did, ending the iteration early is the safe answer.
        let v = parser::read_value(&mut self.reader, self.array.elem_type, self.array.depth);
        debug_assert!(v.is_ok(), "array payload re-read failed");
        if v.is_err() {
            self.left = 0;
        }
        v.ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// One metadata pair, in file order.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue<'a> {
    /// Non-empty, unique, UTF-8.
    pub key: &'a str,
    pub value: Value<'a>,
    /// Where the whole pair (key, type, value) is in the file.
    pub range: Range<usize>,
}

impl KeyValue<'_> {
    pub fn value_type(&self) -> ValueType {
        self.value.value_type()
    }
}

/// One tensor info, in file order.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo<'a> {
    /// Non-empty, unique, UTF-8, at most [`MAX_NAME_LEN`] bytes, no NUL.
    pub name: &'a str,
    pub n_dims: u32,
    /// `ne[0]` (the contiguous dimension) first, as in the file; dimensions past
    /// `n_dims` are 1 as in ggml. Every entry is at most `i64::MAX` (ggml's `int64_t`).
    pub ne: [u64; MAX_DIMS as usize],
    /// Raw ggml type id; see [`types`]. Unknown ids are kept.
    pub ggml_type: u32,
    /// Offset from the start of the data section, a multiple of the alignment.
    pub offset: u64,
    /// Offset from the start of the file.
    pub abs_offset: usize,
    /// Product of the dimensions (0 if any is 0).
    pub n_elements: u64,
    /// Size of the data; `None` when the type is unknown.
    pub nbytes: Option<usize>,
    /// Where this tensor info is in the file.
    pub range: Range<usize>,
}

impl TensorInfo<'_> {
    /// The first `n_dims` entries of `ne`.
    pub fn dims(&self) -> &[u64] {
        &self.ne[..self.n_dims as usize]
    }

    pub fn type_info(&self) -> Option<&'static GgmlType> {
        ggml_type(self.ggml_type)
    }

    /// Where the data is in the file, when the type is known.
    pub fn data_range(&self) -> Option<Range<usize>> {
        Some(self.abs_offset..self.abs_offset.checked_add(self.nbytes?)?)
    }
}

/// A parsed GGUF file: every field checked, every range inside the input.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct Gguf<'a> {
    /// 2 or 3 (they share one layout; 3 only added big-endian files).
    pub version: u32,
    pub kv: Vec<KeyValue<'a>>,
    pub tensors: Vec<TensorInfo<'a>>,
    /// From `general.alignment`, else [`DEFAULT_ALIGNMENT`]; a power of two.
    pub alignment: u32,
    /// Where the tensor infos end (the metadata is `[0, infos_end)`).
    pub infos_end: usize,
    /// `infos_end` rounded up to the alignment: the start of the tensor data.
    /// It is within the file whenever there are tensors; a file without tensors
    /// may stop before its padding (llama.cpp does not require it).
    pub data_offset: usize,
    pub file_len: usize,
    bytes: &'a [u8],
}

impl<'a> Gguf<'a> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.kv.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo<'a>> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The bytes of a tensor of known type.
    pub fn tensor_data(&self, info: &TensorInfo<'_>) -> Option<&'a [u8]> {
        self.bytes.get(info.data_range()?)
    }

    /// The input this was parsed from.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}
