//! GGUF v2/v3 parser for untrusted files: every count, length and offset is
//! checked (with checked arithmetic, against what remains of the input and hard
//! limits) before anything is allocated or indexed.

use super::types::type_info;
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;

pub const MAGIC: [u8; 4] = *b"GGUF";
/// Hard limits (llama.cpp's own are looser; these fit every real model).
pub const MAX_TENSORS: u64 = 1 << 20;
pub const MAX_KV: u64 = 1 << 20;
pub const MAX_DIMS: u32 = 4;
/// GGML_MAX_NAME (64) including the terminating NUL.
pub const MAX_NAME: u64 = 63;
pub const MAX_ARRAY_DEPTH: u32 = 2;
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// A metadata value (GGUF value types 0..=12).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    /// Raw bytes (GGUF strings are UTF-8 by convention, not by guarantee).
    Str(Vec<u8>),
    /// Element type and elements.
    Array(u32, Vec<Value>),
    U64(u64),
    I64(i64),
    F64(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: String,
    pub value_type: u32,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<u64>,
    pub ggml_type: u32,
    /// Relative to the data section.
    pub offset: u64,
    pub abs_offset: u64,
    /// Bytes, when the type is known.
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gguf {
    pub version: u32,
    pub kvs: Vec<KeyValue>,
    pub tensors: Vec<TensorInfo>,
    pub alignment: u64,
    /// Where the tensor infos end.
    pub infos_end: u64,
    /// Start of the tensor data: `infos_end` rounded up to the alignment.
    pub data_offset: u64,
    pub file_size: u64,
}

fn invalid<T>() -> Result<T> {
    Err(Error::GgufInvalid)
}

/// A length that must be backed by at least `min_each` bytes per item.
fn bounded(r: &ByteReader<'_>, n: u64, min_each: u64) -> Result<usize> {
    match n.checked_mul(min_each) {
        Some(need) if need <= r.remaining() as u64 => Ok(n as usize),
        _ => Err(Error::SrcTruncated),
    }
}

fn string(r: &mut ByteReader<'_>) -> Result<Vec<u8>> {
    let n = r.u64()?;
    let n = bounded(r, n, 1)?;
    Ok(r.take(n)?.to_vec())
}

fn value(r: &mut ByteReader<'_>, t: u32, depth: u32) -> Result<Value> {
    Ok(match t {
        0 => Value::U8(r.u8()?),
        1 => Value::I8(r.u8()? as i8),
        2 => Value::U16(r.u16()?),
        3 => Value::I16(r.u16()? as i16),
        4 => Value::U32(r.u32()?),
        5 => Value::I32(r.u32()? as i32),
        6 => Value::F32(f32::from_bits(r.u32()?)),
        7 => match r.u8()? {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            _ => return invalid(),
        },
        8 => Value::Str(string(r)?),
        9 => {
            if depth >= MAX_ARRAY_DEPTH {
                return invalid();
            }
            let elem = r.u32()?;
            let n = r.u64()?;
            // Every element takes at least one byte (strings at least eight).
            let n = bounded(r, n, if elem == 8 { 8 } else { 1 })?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(value(r, elem, depth + 1)?);
            }
            Value::Array(elem, items)
        }
        10 => Value::U64(r.u64()?),
        11 => Value::I64(r.u64()? as i64),
        12 => Value::F64(f64::from_bits(r.u64()?)),
        _ => return invalid(),
    })
}

/// Parses a whole GGUF file (`bytes`): header, metadata, tensor infos, and checks
/// that every tensor of known type lies inside the file, aligned, without overlap.
pub fn parse(bytes: &[u8]) -> Result<Gguf> {
    parse_prefix(bytes, bytes.len() as u64)
}

/// Like [`parse`] when only a prefix holding the metadata is at hand: tensor extents
/// are checked against the declared `file_size`.
pub fn parse_prefix(bytes: &[u8], file_size: u64) -> Result<Gguf> {
    if file_size < bytes.len() as u64 {
        return Err(Error::InvalidArgument);
    }
    let mut r = ByteReader::new(bytes);
    let magic: [u8; 4] = r.array()?;
    if magic != MAGIC {
        return Err(Error::BadMagic);
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(Error::VersionUnsupported);
    }
    let n_tensors = r.u64()?;
    let n_kv = r.u64()?;
    if n_tensors > MAX_TENSORS || n_kv > MAX_KV {
        return Err(Error::LimitExceeded);
    }
    let mut kvs = Vec::with_capacity(bounded(&r, n_kv, 13)?);
    for _ in 0..n_kv {
        let key = String::from_utf8(string(&mut r)?).map_err(|_| Error::GgufInvalid)?;
        let value_type = r.u32()?;
        let v = value(&mut r, value_type, 0)?;
        if key.is_empty() || kvs.iter().any(|kv: &KeyValue| kv.key == key) {
            return invalid();
        }
        kvs.push(KeyValue { key, value_type, value: v });
    }
    let alignment = match kvs.iter().find(|kv| kv.key == "general.alignment") {
        None => DEFAULT_ALIGNMENT,
        Some(KeyValue { value: Value::U32(a), .. }) if *a > 0 && a.is_power_of_two() => u64::from(*a),
        Some(_) => return invalid(),
    };
    let mut tensors = Vec::with_capacity(bounded(&r, n_tensors, 8 + 4 + 4 + 8)?);
    for _ in 0..n_tensors {
        let name = string(&mut r)?;
        if name.is_empty() || name.len() as u64 > MAX_NAME {
            return invalid();
        }
        let name = String::from_utf8(name).map_err(|_| Error::GgufInvalid)?;
        let n_dims = r.u32()?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return invalid();
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.u64()?);
        }
        let ggml_type = r.u32()?;
        let offset = r.u64()?;
        let elements = dims.iter().try_fold(1u64, |a, &d| a.checked_mul(d)).filter(|&e| e <= i64::MAX as u64);
        let elements = elements.ok_or(Error::GgufInvalid)?;
        let size = match type_info(ggml_type) {
            Some((_, block, bytes)) => {
                if elements % block != 0 || dims[0] % block != 0 {
                    return invalid();
                }
                Some((elements / block).checked_mul(bytes).ok_or(Error::GgufInvalid)?)
            }
            None => None,
        };
        if offset % alignment != 0 || tensors.iter().any(|t: &TensorInfo| t.name == name) {
            return invalid();
        }
        tensors.push(TensorInfo { name, dims, ggml_type, offset, abs_offset: 0, size });
    }
    let infos_end = r.position() as u64;
    let data_offset = infos_end.div_ceil(alignment).checked_mul(alignment).ok_or(Error::GgufInvalid)?;
    if data_offset > file_size && n_tensors > 0 {
        return Err(Error::SrcTruncated);
    }
    for t in &mut tensors {
        t.abs_offset = data_offset.checked_add(t.offset).ok_or(Error::GgufInvalid)?;
        let end = t.abs_offset.checked_add(t.size.unwrap_or(0)).ok_or(Error::GgufInvalid)?;
        if end > file_size {
            return Err(Error::SrcTruncated);
        }
    }
    let mut spans: Vec<(u64, u64)> = tensors.iter().filter_map(|t| t.size.map(|s| (t.abs_offset, s))).collect();
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[0].0 + w[0].1 > w[1].0) {
        return invalid();
    }
    Ok(Gguf { version, kvs, tensors, alignment, infos_end, data_offset, file_size })
}
