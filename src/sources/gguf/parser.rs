//! Reads a GGUF file: header, key-value pairs, tensor infos, then checks where the
//! tensor data lies. Every count is checked against its limit and against the
//! bytes left before anything is allocated for it.

use std::collections::HashSet;

use super::{
    Array, Gguf, KeyValue, TensorInfo, Value, ValueType, ALIGNMENT_KEY, DEFAULT_ALIGNMENT, MAGIC, MAX_ARRAY_DEPTH,
    MAX_ARRAY_LEN, MAX_DIMS, MAX_KV, MAX_NAME_LEN, MAX_STRING_LEN, MAX_TENSORS,
};
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;

/// Smallest key-value pair: key length, a 1-byte key, value type, a 1-byte value.
const MIN_KV_SIZE: usize = 8 + 1 + 4 + 1;
/// Smallest tensor info: name length, a 1-byte name, n_dims = 0, type, offset.
const MIN_TENSOR_INFO_SIZE: usize = 8 + 1 + 4 + 4 + 8;

/// Parses and validates a whole GGUF file held in memory (see the module docs for
/// the errors). Nothing is copied: the result borrows `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Gguf<'_>> {
    parse_prefix(bytes, bytes.len())
}

/// Like [`parse`] when only a prefix of a `file_len`-byte file holding its
/// metadata is at hand: tensor extents are checked against `file_len` (and
/// `Gguf::tensor_data` must not be used).
pub fn parse_prefix(bytes: &[u8], file_len: usize) -> Result<Gguf<'_>> {
    if file_len < bytes.len() {
        return Err(Error::InvalidArgument);
    }
    let mut r = ByteReader::new(bytes);
    let version = read_version(&mut r)?;
    let n_tensors = r.u64()?;
    let n_kv = r.u64()?;
    let kv = read_kvs(&mut r, n_kv)?;
    let alignment = alignment(&kv)?;
    let mut tensors = read_tensor_infos(&mut r, n_tensors)?;
    let infos_end = r.position();
    let data_offset = align_up(infos_end, alignment).ok_or(Error::SrcTruncated)?;
    // llama.cpp seeks past the padding only when there are tensors.
    if !tensors.is_empty() && data_offset > file_len {
        return Err(Error::SrcTruncated);
    }
    place_tensors(&mut tensors, alignment, data_offset, file_len)?;
    Ok(Gguf { version, kv, tensors, alignment, infos_end, data_offset, file_len, bytes })
}

/// Which of llama.cpp's limits a file that [`parse`] refuses passes, in
/// words, where it is one of the usual ones: more tensors than [`MAX_TENSORS`],
/// or a tensor name longer than ggml keeps ([`MAX_NAME_LEN`] bytes; gguf-py
/// writes longer ones, which llama.cpp then refuses). For messages only; `None`
/// when it is something else.
pub fn refusal(bytes: &[u8]) -> Option<String> {
    let mut r = ByteReader::new(bytes);
    read_version(&mut r).ok()?;
    let n_tensors = r.u64().ok()?;
    if n_tensors > MAX_TENSORS {
        return Some(format!("{n_tensors} tensors; llmc reads GGUF files of at most {MAX_TENSORS}"));
    }
    let n_kv = r.u64().ok()?;
    read_kvs(&mut r, n_kv).ok()?;
    for i in 0..n_tensors {
        let name = read_string(&mut r.clone()).ok()?;
        if name.len() > MAX_NAME_LEN {
            let shown: String = String::from_utf8_lossy(&name[..name.len().min(80)]).into_owned();
            return Some(format!(
                "tensor {i}'s name \"{shown}{}\" is {} bytes; GGUF (ggml's GGML_MAX_NAME, as llama.cpp reads it) allows at most {MAX_NAME_LEN}",
                if name.len() > 80 { "..." } else { "" },
                name.len()
            ));
        }
        read_tensor_info(&mut r).ok()?;
    }
    None
}

fn read_version(r: &mut ByteReader<'_>) -> Result<u32> {
    if r.array::<4>()? != MAGIC {
        return Err(Error::BadMagic);
    }
    // v2 and v3 share one layout (v1 had 32-bit counts). A big-endian file's
    // version reads as 0x0N000000 and lands in the error arm too.
    match r.u32()? {
        v @ (2 | 3) => Ok(v),
        _ => Err(Error::VersionUnsupported),
    }
}

/// Checks a declared count against its hard limit, then against the bytes left
/// (each item takes at least `min_size`): only then may it size an allocation.
fn checked_count(r: &ByteReader<'_>, count: u64, max: u64, min_size: usize) -> Result<usize> {
    if count > max {
        return Err(Error::LimitExceeded);
    }
    let count = usize::try_from(count).map_err(|_| Error::LimitExceeded)?;
    match count.checked_mul(min_size) {
        Some(need) if need <= r.remaining() => Ok(count),
        _ => Err(Error::SrcTruncated),
    }
}

fn read_string<'a>(r: &mut ByteReader<'a>) -> Result<&'a [u8]> {
    let len = r.u64()?;
    if len > MAX_STRING_LEN {
        return Err(Error::LimitExceeded);
    }
    r.take_u64(len)
}

/// Reads one value of type `ty`; `depth` is the nesting depth of the array holding
/// it (0 directly under a key). Shared with `ArrayIter`, so a payload that parsed
/// once reads back the same way.
pub(super) fn read_value<'a>(r: &mut ByteReader<'a>, ty: ValueType, depth: u32) -> Result<Value<'a>> {
    Ok(match ty {
        ValueType::U8 => Value::U8(r.u8()?),
        ValueType::I8 => Value::I8(i8::from_le_bytes(r.array()?)),
        ValueType::U16 => Value::U16(r.u16()?),
        ValueType::I16 => Value::I16(i16::from_le_bytes(r.array()?)),
        ValueType::U32 => Value::U32(r.u32()?),
        ValueType::I32 => Value::I32(i32::from_le_bytes(r.array()?)),
        ValueType::F32 => Value::F32(f32::from_bits(r.u32()?)),
        ValueType::U64 => Value::U64(r.u64()?),
        ValueType::I64 => Value::I64(i64::from_le_bytes(r.array()?)),
        ValueType::F64 => Value::F64(f64::from_bits(r.u64()?)),
        // The spec calls any other byte invalid; rejecting it also keeps the parsed
        // value a faithful picture of the file.
        ValueType::Bool => match r.u8()? {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            _ => return Err(Error::GgufInvalid),
        },
        ValueType::String => Value::String(read_string(r)?),
        ValueType::Array => Value::Array(read_array(r, depth + 1)?),
    })
}

fn read_value_type(r: &mut ByteReader<'_>) -> Result<ValueType> {
    ValueType::from_u32(r.u32()?).ok_or(Error::GgufInvalid)
}

/// Reads an array's element type and count, then walks (and so validates) its
/// elements; the array keeps a view of their bytes.
fn read_array<'a>(r: &mut ByteReader<'a>, depth: u32) -> Result<Array<'a>> {
    if depth > MAX_ARRAY_DEPTH {
        return Err(Error::LimitExceeded);
    }
    let elem_type = read_value_type(r)?;
    let len = r.u64()?;
    let len = checked_count(r, len, MAX_ARRAY_LEN, elem_type.min_size())?;
    let mut start = r.clone();
    match elem_type.fixed_size() {
        // Bools are walked: each byte must be 0 or 1.
        Some(size) if elem_type != ValueType::Bool => {
            r.take(len * size)?; // cannot overflow: checked_count bounded it by the input
        }
        _ => {
            for _ in 0..len {
                read_value(r, elem_type, depth)?;
            }
        }
    }
    let payload = start.take(r.position() - start.position())?;
    Ok(Array { elem_type, len, payload, depth })
}

fn read_kvs<'a>(r: &mut ByteReader<'a>, n_kv: u64) -> Result<Vec<KeyValue<'a>>> {
    let n = checked_count(r, n_kv, MAX_KV, MIN_KV_SIZE)?;
    let mut kvs = Vec::with_capacity(n);
    let mut seen = HashSet::with_capacity(n);
    for _ in 0..n {
        let start = r.position();
        // llama.cpp and gguf-py refuse empty and duplicate keys; gguf-py also
        // needs them to be UTF-8.
        let key = core::str::from_utf8(read_string(r)?).map_err(|_| Error::GgufInvalid)?;
        if key.is_empty() || !seen.insert(key) {
            return Err(Error::GgufInvalid);
        }
        let ty = read_value_type(r)?;
        let value = read_value(r, ty, 0)?;
        kvs.push(KeyValue { key, value, range: start..r.position() });
    }
    Ok(kvs)
}

/// `general.alignment` if present: it must be a `U32` power of two (as both
/// llama.cpp and gguf-py require); otherwise the default.
fn alignment(kvs: &[KeyValue<'_>]) -> Result<u32> {
    match kvs.iter().find(|kv| kv.key == ALIGNMENT_KEY).map(|kv| kv.value) {
        None => Ok(DEFAULT_ALIGNMENT),
        Some(Value::U32(a)) if a.is_power_of_two() => Ok(a),
        Some(_) => Err(Error::GgufInvalid),
    }
}

fn align_up(pos: usize, alignment: u32) -> Option<usize> {
    let a = usize::try_from(alignment).ok()?;
    Some(pos.checked_add(a - 1)? & !(a - 1))
}

/// Reads the tensor infos; their `abs_offset` is filled in by `place_tensors`.
fn read_tensor_infos<'a>(r: &mut ByteReader<'a>, n_tensors: u64) -> Result<Vec<TensorInfo<'a>>> {
    let n = checked_count(r, n_tensors, MAX_TENSORS, MIN_TENSOR_INFO_SIZE)?;
    let mut infos = Vec::with_capacity(n);
    let mut names = HashSet::with_capacity(n);
    for _ in 0..n {
        let info = read_tensor_info(r)?;
        if !names.insert(info.name) {
            return Err(Error::GgufInvalid);
        }
        infos.push(info);
    }
    Ok(infos)
}

/// Reads one tensor info (its `abs_offset` left for `place_tensors`).
fn read_tensor_info<'a>(r: &mut ByteReader<'a>) -> Result<TensorInfo<'a>> {
    let start = r.position();
    let name = tensor_name(read_string(r)?)?;
    let n_dims = r.u32()?;
    if n_dims > MAX_DIMS {
        return Err(Error::GgufInvalid);
    }
    let mut ne = [1u64; MAX_DIMS as usize];
    for d in ne.iter_mut().take(n_dims as usize) {
        *d = r.u64()?;
        // ggml stores dimensions as int64_t; llama.cpp rejects negative ones.
        if i64::try_from(*d).is_err() {
            return Err(Error::GgufInvalid);
        }
    }
    let n_elements = element_count(&ne)?;
    let ggml_type = r.u32()?;
    let offset = r.u64()?;
    let nbytes = match super::ggml_type(ggml_type) {
        None => None,
        Some(t) => {
            // Rows are whole blocks (llama.cpp checks ne[0], not the product).
            if !ne[0].is_multiple_of(u64::from(t.block_size)) {
                return Err(Error::GgufInvalid);
            }
            let nbytes = t.nbytes(n_elements).ok_or(Error::GgufInvalid)?;
            // More than the address space cannot be in the input.
            Some(usize::try_from(nbytes).map_err(|_| Error::SrcTruncated)?)
        }
    };
    let range = start..r.position();
    Ok(TensorInfo { name, n_dims, ne, ggml_type, offset, abs_offset: 0, n_elements, nbytes, range })
}

/// ggml keeps names NUL-terminated in `GGML_MAX_NAME` (64) bytes: llama.cpp refuses
/// 64 or more. A NUL inside would silently shorten the name there, so it is refused
/// too, as are empty names and (as gguf-py does) names that are not UTF-8.
fn tensor_name(raw: &[u8]) -> Result<&str> {
    if raw.is_empty() || raw.len() > MAX_NAME_LEN || raw.contains(&0) {
        return Err(Error::GgufInvalid);
    }
    core::str::from_utf8(raw).map_err(|_| Error::GgufInvalid)
}

/// Product of the dimensions, which must fit ggml's `int64_t`. A zero dimension
/// makes an empty tensor, whatever the others are (llama.cpp allows it).
fn element_count(ne: &[u64]) -> Result<u64> {
    if ne.contains(&0) {
        return Ok(0);
    }
    ne.iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&n| i64::try_from(n).is_ok())
        .ok_or(Error::GgufInvalid)
}

/// Locates every tensor's data: aligned, inside the file, no two overlapping.
fn place_tensors(tensors: &mut [TensorInfo<'_>], alignment: u32, data_offset: usize, file_len: usize) -> Result<()> {
    for t in tensors.iter_mut() {
        if !t.offset.is_multiple_of(u64::from(alignment)) {
            return Err(Error::GgufInvalid);
        }
        // A tensor of unknown type has no known size: only its start is checked.
        let start = usize::try_from(t.offset).ok().and_then(|o| data_offset.checked_add(o));
        let end = start.and_then(|s| s.checked_add(t.nbytes.unwrap_or(0)));
        match (start, end) {
            (Some(start), Some(end)) if end <= file_len => t.abs_offset = start,
            _ => return Err(Error::SrcTruncated),
        }
    }
    check_no_overlap(tensors)
}

/// No tensor may start inside another one. Empty tensors (and those of unknown
/// size) may share a start with their neighbour.
fn check_no_overlap(tensors: &[TensorInfo<'_>]) -> Result<()> {
    let mut spans: Vec<(usize, usize)> =
        tensors.iter().map(|t| (t.abs_offset, t.abs_offset + t.nbytes.unwrap_or(0))).collect();
    spans.sort_unstable();
    let mut end = 0;
    for (s, e) in spans {
        if s < end {
            return Err(Error::GgufInvalid);
        }
        end = end.max(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_up_rounds_to_powers_of_two() {
        assert_eq!(align_up(0, 32), Some(0));
        assert_eq!(align_up(1, 32), Some(32));
        assert_eq!(align_up(6511980, 32), Some(6512000));
        assert_eq!(align_up(7, 1), Some(7));
        assert_eq!(align_up(usize::MAX, 2), None);
    }

    #[test]
    fn element_count_limits() {
        assert_eq!(element_count(&[640, 256, 1, 1]), Ok(163840));
        assert_eq!(element_count(&[1 << 62, 1 << 62, 0, 1]), Ok(0));
        assert_eq!(element_count(&[1 << 32, 1 << 31, 1, 1]), Err(Error::GgufInvalid));
        assert_eq!(element_count(&[1 << 32, 1 << 32, 1, 1]), Err(Error::GgufInvalid));
    }
}
