//! Raw GGUF and safetensors files given to the parsers and to container
//! compression: truncation, bad magic and versions, absurd counts and lengths,
//! inconsistent tensor layouts, malformed JSON.

use crate::bases::Base;
use crate::corpus::Api::{ContainerCompress, GgufParse, SafetensorsParse};
use crate::mutate::{put, with};
use crate::Corpus;
use llmc::Error::*;
use serde_json::{json, Value};

pub fn gguf(c: &mut Corpus, base: &Base) {
    let (b, bf) = (&base.bytes, base.file);
    let g = llmc::model::gguf::parse(b).unwrap();
    c.add(bf, b.clone(), GgufParse, &base.from, "unmutated", Ok(()));
    c.also(bf, ContainerCompress, &base.from, "unmutated", Ok(()));
    let mut add = |what: &str, bytes: Vec<u8>, how: &str, status| {
        let file = format!("gguf-{what}.gguf");
        c.add(&file, bytes, GgufParse, bf, how, status);
        // Compression parses first: same verdict, unless the magic is not even there.
        let compress = if c.bytes(&file).starts_with(b"GGUF") { status } else { Err(BadMagic) };
        c.also(&file, ContainerCompress, bf, how, compress);
    };
    let (kv1, info2) = (g.kv[1].range.start, g.tensors[2].range.start);
    add("cut-in-magic", b[..3].to_vec(), "truncated to 3 bytes", Err(SrcTruncated));
    add("cut-in-header", b[..20].to_vec(), "truncated to 20 bytes (inside the counts)", Err(SrcTruncated));
    add("cut-in-kv", b[..kv1 + 5].to_vec(), &format!("truncated to {} bytes, inside key-value pair 1", kv1 + 5), Err(SrcTruncated));
    add("cut-in-infos", b[..info2 + 3].to_vec(), &format!("truncated to {} bytes, inside tensor info 2", info2 + 3), Err(SrcTruncated));
    add("cut-in-data", b[..b.len() - 100].to_vec(), "last 100 bytes removed (the last tensor ends past the file)", Err(SrcTruncated));
    add("bad-magic", with(b, |f| f[0] = b'g'), "magic GGUF -> gGUF", Err(BadMagic));
    add("version-1", with(b, |f| put(f, 4, &1u32.to_le_bytes())), "version 1 (32-bit counts, unsupported)", Err(VersionUnsupported));
    add("big-endian", with(b, |f| put(f, 4, &3u32.to_be_bytes())), "version written big-endian (0x03000000)", Err(VersionUnsupported));
    add("tensors-2^40", with(b, |f| put(f, 8, &(1u64 << 40).to_le_bytes())), "tensor count 2^40 (over the 2^20 limit)", Err(LimitExceeded));
    add("kv-2^40", with(b, |f| put(f, 16, &(1u64 << 40).to_le_bytes())), "key-value count 2^40 (over the 2^20 limit)", Err(LimitExceeded));
    add("kv-2^20", with(b, |f| put(f, 16, &(1u64 << 20).to_le_bytes())), "key-value count 2^20 (at the limit, but the file cannot hold that many)", Err(SrcTruncated));
    add("key-len-2^40", with(b, |f| put(f, 24, &(1u64 << 40).to_le_bytes())), "key 0's length 2^40 (over the 2^30 string limit)", Err(LimitExceeded));
    let kv0 = &g.kv[0];
    let type_at = 24 + 8 + kv0.key.len();
    add("value-type-99", with(b, |f| put(f, type_at, &99u32.to_le_bytes())), "key-value 0's value type 99", Err(GgufInvalid));
    let arr = g.kv.iter().find(|kv| kv.value.as_array().is_some_and(|a| a.elem_type() == llmc::model::gguf::ValueType::String)).expect("a string array");
    let len_at = arr.range.start + 8 + arr.key.len() + 8;
    let how = format!("element count of the string array {} set to 2^40", arr.key);
    add("array-len-2^40", with(b, |f| put(f, len_at, &(1u64 << 40).to_le_bytes())), &how, Err(LimitExceeded));
    let how = format!("element count of the string array {} set to 2^29 (under the limit, more than the file holds)", arr.key);
    add("array-len-2^29", with(b, |f| put(f, len_at, &(1u64 << 29).to_le_bytes())), &how, Err(SrcTruncated));
    // Tensor info fields of tensor `i`: name, n_dims, dims, type, offset.
    let field = |i: usize| {
        let t = &g.tensors[i];
        let dims = t.range.start + 8 + t.name.len() + 4;
        (t.range.start + 8 + t.name.len(), dims, dims + 8 * t.n_dims as usize, dims + 8 * t.n_dims as usize + 4)
    };
    let (nd, dims, ty, off) = field(1);
    let name1 = g.tensors[1].name;
    add("n-dims-5", with(b, |f| put(f, nd, &5u32.to_le_bytes())), &format!("{name1}: 5 dimensions (ggml has 4)"), Err(GgufInvalid));
    add("dim-negative", with(b, |f| put(f, dims, &(1u64 << 63).to_le_bytes())), &format!("{name1}: ne[0] = 2^63 (negative as int64)"), Err(GgufInvalid));
    add("row-not-blocks", with(b, |f| put(f, dims, &1000u64.to_le_bytes())), &format!("{name1} (Q4_K): ne[0] = 1000, not a multiple of 256"), Err(GgufInvalid));
    add("offset-misaligned", with(b, |f| put(f, off, &(g.tensors[1].offset + 1).to_le_bytes())), &format!("{name1}: offset + 1 (not aligned)"), Err(GgufInvalid));
    add("offset-overlap", with(b, |f| put(f, off, &g.tensors[0].offset.to_le_bytes())), &format!("{name1}: offset of tensor 0 (the two overlap)"), Err(GgufInvalid));
    add("offset-huge", with(b, |f| put(f, off, &(1u64 << 62).to_le_bytes())), &format!("{name1}: offset 2^62"), Err(SrcTruncated));
    add("type-unknown", with(b, |f| put(f, ty, &1000u32.to_le_bytes())), &format!("{name1}: ggml type 1000 (unknown: kept, its size unchecked, coded with zstd)"), Ok(()));
    let dup = g.tensors.iter().position(|t| t.name != name1 && t.name.len() == name1.len()).expect("a name of the same length");
    let at = g.tensors[dup].range.start + 8;
    add("name-duplicate", with(b, |f| put(f, at, name1.as_bytes())), &format!("tensor {dup} renamed {name1} (a duplicate)"), Err(GgufInvalid));
}

/// A copy of a safetensors file with a new JSON header (padded to 8 bytes).
fn with_header(file: &[u8], json: &[u8]) -> Vec<u8> {
    let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let mut json = json.to_vec();
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    out.extend_from_slice(&file[8 + n..]);
    out
}

fn header(file: &[u8]) -> Value {
    let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&file[8..8 + n]).unwrap()
}

pub fn safetensors(c: &mut Corpus, base: &Base) {
    let (b, bf) = (&base.bytes, base.file);
    let h = header(b);
    c.add(bf, b.clone(), SafetensorsParse, &base.from, "unmutated", Ok(()));
    c.also(bf, ContainerCompress, &base.from, "unmutated", Ok(()));
    let mut add = |what: &str, bytes: Vec<u8>, how: &str, parse, compress| {
        let file = format!("st-{what}.safetensors");
        c.add(&file, bytes, SafetensorsParse, bf, how, parse);
        c.also(&file, ContainerCompress, bf, how, compress);
    };
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut h = h.clone();
        f(&mut h);
        with_header(b, &serde_json::to_vec(&h).unwrap())
    };
    let n = b.len() as u64;
    // Compression detects safetensors by a plausible header length then `{`: files
    // that fail that test are not recognised at all.
    add("cut-in-length", b[..4].to_vec(), "truncated to 4 bytes", Err(SrcTruncated), Err(BadMagic));
    add("cut-in-json", b[..40].to_vec(), "truncated to 40 bytes, inside the JSON header", Err(SrcTruncated), Err(BadMagic));
    add("cut-last-byte", b[..b.len() - 1].to_vec(), "last byte removed (the last tensor ends past the file)", Err(SafetensorsInvalid), Err(SafetensorsInvalid));
    add("header-len-2^40", with(b, |f| put(f, 0, &(1u64 << 40).to_le_bytes())), "header length 2^40 (over the 100 MB limit)", Err(LimitExceeded), Err(BadMagic));
    add("header-len-past-end", with(b, |f| put(f, 0, &n.to_le_bytes())), "header length = file length (ends past the file)", Err(SrcTruncated), Err(BadMagic));
    let json_end = 8 + u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    let last_brace = b[..json_end].iter().rposition(|&x| x == b'}').unwrap();
    add("json-unterminated", with(b, |f| f[last_brace] = b' '), "the JSON's closing brace replaced by a space", Err(SafetensorsInvalid), Err(SafetensorsInvalid));
    add("json-not-utf8", with(b, |f| f[10] = 0xff), "byte 10 (inside the first key) set to 0xff: not UTF-8", Err(SafetensorsInvalid), Err(SafetensorsInvalid));
    add("json-array", with_header(b, b"[1,2,3]"), "header is a JSON array", Err(SafetensorsInvalid), Err(BadMagic));
    let deep = format!(r#"{{"__metadata__":{{"format":{}1{}}}}}"#, "[".repeat(200), "]".repeat(200));
    add("json-deep", with_header(b, deep.as_bytes()), "metadata value nested 200 arrays deep (past the JSON recursion limit)", Err(SafetensorsInvalid), Err(SafetensorsInvalid));
    let names: Vec<String> = h.as_object().unwrap().keys().filter(|k| *k != "__metadata__").cloned().collect();
    let (first, last) = (names[0].clone(), names[names.len() - 1].clone());
    let offsets = |v: &Value, t: &str| (v[t]["data_offsets"][0].as_u64().unwrap(), v[t]["data_offsets"][1].as_u64().unwrap());
    let (lb, le) = offsets(&h, &last);
    let (_, fe) = offsets(&h, &first);
    let set = |t: String, key: &'static str, v: Value| move |h: &mut Value| h[&t][key] = v.clone();
    let invalid = Err(SafetensorsInvalid);
    add("overlap", edit(&set(last.clone(), "data_offsets", json!([fe - 8, fe - 8 + le - lb]))), &format!("{last} moved to start 8 bytes before {first} ends"), invalid, invalid);
    add("past-end", edit(&set(last.clone(), "data_offsets", json!([lb + 2, le + 2]))), &format!("{last}'s offsets + 2 (ends past the file)"), invalid, invalid);
    add("begin-after-end", edit(&set(last.clone(), "data_offsets", json!([le, lb]))), &format!("{last}'s offsets swapped"), invalid, invalid);
    add("offsets-one", edit(&set(last.clone(), "data_offsets", json!([lb]))), &format!("{last}'s data_offsets has one element"), invalid, invalid);
    add("shape-mismatch", edit(&set(first.clone(), "shape", json!([4, 385]))), &format!("{first}'s shape [4, 385] (disagrees with its offsets)"), invalid, invalid);
    add("dim-negative", edit(&set(first.clone(), "shape", json!([-4, 384]))), &format!("{first}'s shape [-4, 384]"), invalid, invalid);
    add("dims-9", edit(&set(first.clone(), "shape", json!([1, 1, 1, 1, 1, 1, 1, 4, 384]))), &format!("{first}'s shape has 9 dimensions (the limit is 8)"), Err(LimitExceeded), Err(LimitExceeded));
    add("dtype-missing", edit(&|h: &mut Value| { h[&first].as_object_mut().unwrap().remove("dtype"); }), &format!("{first} without dtype"), invalid, invalid);
    add("dtype-unknown", edit(&set(first.clone(), "dtype", json!("X9"))), &format!("{first}'s dtype X9 (unknown: size unchecked, coded with zstd)"), Ok(()), Ok(()));
    add("metadata-number", edit(&|h: &mut Value| h["__metadata__"]["format"] = json!(1)), "__metadata__ value a number, not a string", invalid, invalid);
}
