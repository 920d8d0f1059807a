//! The JSON header read straight into tensor records, without a generic JSON
//! tree: `__metadata__` values are checked to be strings and dropped, unknown
//! fields skipped, shapes refused past [`MAX_DIMS`] as they are read, so the
//! memory taken is a small multiple of the header's size (a generic tree costs
//! 16 to 32 bytes per JSON number or string: 1.6 GB for a 100 MB header).

use super::dtypes::Dtype;
use super::{TensorInfo, MAX_DIMS, MAX_TENSORS};
use crate::error::{Error, Result};
use core::fmt;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Marks errors that are our limits, not malformed JSON.
const LIMIT: &str = "llmc: limit exceeded";

/// Parses the JSON header: tensors in name order, offsets relative to the data
/// section (as in a JSON object, a key given twice keeps its last value).
pub(super) fn parse(json: &[u8]) -> Result<Vec<TensorInfo>> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let tensors = de.deserialize_map(Root).and_then(|t| de.end().map(|()| t));
    let mut tensors = tensors.map_err(|e| if e.to_string().starts_with(LIMIT) { Error::LimitExceeded } else { Error::SafetensorsInvalid })?;
    // Latest first, then a stable sort: of equal names the one given last leads
    // its run, and `dedup_by` keeps the first of a run.
    tensors.reverse();
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    tensors.dedup_by(|later, kept| later.name == kept.name);
    Ok(tensors)
}

/// The number of top-level keys of a JSON object (tensors, and
/// `__metadata__`), for messages: values are skipped, not kept.
pub(super) fn count_keys(json: &[u8]) -> Option<usize> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = usize;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<usize, A::Error> {
            let mut n = 0;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                n += 1;
            }
            Ok(n)
        }
    }
    serde_json::Deserializer::from_slice(json).deserialize_map(Keys).ok()
}

struct Root;

impl<'de> Visitor<'de> for Root {
    type Value = Vec<TensorInfo>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let mut keys = 0usize;
        while let Some(name) = map.next_key::<String>()? {
            keys += 1;
            if keys > MAX_TENSORS + 1 {
                return Err(de::Error::custom(LIMIT));
            }
            if name == "__metadata__" {
                map.next_value_seed(Metadata)?;
                continue;
            }
            let t = map.next_value_seed(Tensor)?;
            out.push(TensorInfo { name, dtype: t.dtype, shape: t.shape, begin: t.offsets.0, end: t.offsets.1 });
        }
        Ok(out)
    }
}

/// `__metadata__`: an object whose values are all strings (kept nowhere).
struct Metadata;

impl<'de> DeserializeSeed<'de> for Metadata {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Metadata {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(AnyString)?;
        }
        Ok(())
    }
}

/// A string, checked and dropped.
struct AnyString;

impl<'de> DeserializeSeed<'de> for AnyString {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for AnyString {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> core::result::Result<(), E> {
        Ok(())
    }
}

struct TensorFields {
    dtype: Dtype,
    shape: Vec<u64>,
    offsets: (u64, u64),
}

/// `{"dtype": "...", "shape": [...], "data_offsets": [begin, end]}`; other
/// fields are skipped; of a field given twice the last counts.
struct Tensor;

impl<'de> DeserializeSeed<'de> for Tensor {
    type Value = TensorFields;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<TensorFields, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Tensor {
    type Value = TensorFields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tensor description")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<TensorFields, A::Error> {
        let (mut dtype, mut shape, mut offsets) = (None, None, None);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Dtype => dtype = Some(map.next_value_seed(DtypeName)?),
                Key::Shape => shape = Some(map.next_value_seed(Shape)?),
                Key::Offsets => offsets = Some(map.next_value_seed(Offsets)?),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (dtype, shape, offsets) {
            (Some(dtype), Some(shape), Some(offsets)) => Ok(TensorFields { dtype, shape, offsets }),
            _ => Err(de::Error::custom("dtype, shape and data_offsets are required")),
        }
    }
}

enum Key {
    Dtype,
    Shape,
    Offsets,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Key, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> core::result::Result<Key, E> {
        Ok(match s {
            "dtype" => Key::Dtype,
            "shape" => Key::Shape,
            "data_offsets" => Key::Offsets,
            _ => Key::Other,
        })
    }
}

struct DtypeName;

impl<'de> DeserializeSeed<'de> for DtypeName {
    type Value = Dtype;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<Dtype, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for DtypeName {
    type Value = Dtype;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dtype name")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> core::result::Result<Dtype, E> {
        Ok(Dtype::from_name(s))
    }
}

/// At most [`MAX_DIMS`] non-negative integers, refused as soon as there are more.
struct Shape;

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = Vec<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<Vec<u64>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Shape {
    type Value = Vec<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of dimensions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Vec<u64>, A::Error> {
        let mut dims = [0u64; MAX_DIMS];
        let mut n = 0;
        while let Some(d) = seq.next_element::<u64>()? {
            if n == MAX_DIMS {
                return Err(de::Error::custom(LIMIT));
            }
            dims[n] = d;
            n += 1;
        }
        Ok(dims[..n].to_vec())
    }
}

/// Exactly two non-negative integers.
struct Offsets;

impl<'de> DeserializeSeed<'de> for Offsets {
    type Value = (u64, u64);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<(u64, u64), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Offsets {
    type Value = (u64, u64);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[begin, end]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<(u64, u64), A::Error> {
        let begin = seq.next_element::<u64>()?.ok_or_else(|| de::Error::custom("two offsets"))?;
        let end = seq.next_element::<u64>()?.ok_or_else(|| de::Error::custom("two offsets"))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("two offsets"));
        }
        Ok((begin, end))
    }
}
