//! The GGUF parser against gguf-py (the reference reader) on real files, and against
//! hostile input: truncation, absurd counts, bad layouts, nesting bombs. Every bad
//! file must get its specific error and nothing may panic.
//!
//! The expected JSON files come from `scripts/gguf_dump.py` (gguf==0.19.0).

use std::path::{Path, PathBuf};

use llmc::model::gguf::{self, types, Array, Gguf, Value, ValueType};
use llmc::Error;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

const FIXTURE: &str = "gemma-3-270m-q4_k_m.blk0.gguf";
const WHOLE: &str = "gemma-3-270m-q4_k_m.gguf";
const WHOLE_SHA256: &str = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gguf").join(name)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn expected(name: &str) -> Json {
    let text = std::fs::read_to_string(fixture_path(&format!("{name}.expected.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn fixture() -> Vec<u8> {
    read(&fixture_path(FIXTURE))
}

// ---------------------------------------------------------------------------
// Canonical encoding of values (what gguf_dump.py hashes).

fn encode(v: &Value<'_>, out: &mut Vec<u8>) {
    match *v {
        Value::U8(x) => out.push(x),
        Value::I8(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::F32(x) => out.extend_from_slice(&x.to_bits().to_le_bytes()),
        Value::Bool(x) => out.push(u8::from(x)),
        Value::String(s) => {
            out.extend_from_slice(&(s.len() as u64).to_le_bytes());
            out.extend_from_slice(s);
        }
        Value::Array(a) => {
            out.extend_from_slice(&(a.elem_type() as u32).to_le_bytes());
            out.extend_from_slice(&(a.len() as u64).to_le_bytes());
            encode_elements(a, out);
        }
        Value::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        Value::F64(x) => out.extend_from_slice(&x.to_bits().to_le_bytes()),
    }
}

fn encode_elements(a: Array<'_>, out: &mut Vec<u8>) {
    let mut n = 0;
    for v in a {
        assert_eq!(v.value_type(), a.elem_type());
        encode(&v, out);
        n += 1;
    }
    assert_eq!(n, a.len());
}

// ---------------------------------------------------------------------------
// Field-by-field comparison with gguf-py's dump.

fn check_scalar(key: &str, v: &Value<'_>, e: &Json) {
    let want = &e["value"];
    match *v {
        Value::F32(x) => assert_eq!(format!("{:#010x}", x.to_bits()), e["bits"], "{key}"),
        Value::F64(x) => assert_eq!(format!("{:#018x}", x.to_bits()), e["bits"], "{key}"),
        Value::Bool(x) => assert_eq!(want.as_bool(), Some(x), "{key}"),
        Value::String(_) => assert_eq!(v.as_str(), want.as_str(), "{key}"),
        Value::U8(_) | Value::U16(_) | Value::U32(_) | Value::U64(_) => {
            assert_eq!(v.as_u64(), want.as_u64(), "{key}")
        }
        Value::I8(_) | Value::I16(_) | Value::I32(_) | Value::I64(_) => {
            assert_eq!(v.as_i64(), want.as_i64(), "{key}")
        }
        Value::Array(_) => unreachable!(),
    }
}

fn check_array(key: &str, a: Array<'_>, e: &Json) {
    assert_eq!(a.elem_type().name(), e["type"], "{key}");
    assert_eq!(a.len() as u64, e["len"].as_u64().unwrap(), "{key}");
    let mut enc = Vec::new();
    encode_elements(a, &mut enc);
    assert_eq!(hex(&Sha256::digest(&enc)), e["sha256"], "{key}");
    // The elements re-encoded are exactly the bytes the array points at.
    assert!(enc == a.payload(), "{key}: payload differs from its elements");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_against(g: &Gguf<'_>, e: &Json) {
    assert_eq!(u64::from(g.version), e["version"].as_u64().unwrap());
    assert_eq!(g.file_len as u64, e["file_size"].as_u64().unwrap());
    assert_eq!(u64::from(g.alignment), e["alignment"].as_u64().unwrap());
    assert_eq!(g.infos_end as u64, e["infos_end"].as_u64().unwrap());
    assert_eq!(g.data_offset as u64, e["data_offset"].as_u64().unwrap());

    let kvs = e["kv"].as_array().unwrap();
    assert_eq!(g.kv.len(), kvs.len());
    assert_eq!(g.kv.len() as u64, e["n_kv"].as_u64().unwrap());
    let mut end = gguf::HEADER_SIZE;
    for (kv, ekv) in g.kv.iter().zip(kvs) {
        assert_eq!(kv.key, ekv["key"], "key order");
        assert_eq!(kv.value_type().name(), ekv["type"], "{}", kv.key);
        assert_eq!(kv.range.start, end, "{}: pairs are contiguous", kv.key);
        end = kv.range.end;
        match kv.value {
            Value::Array(a) => check_array(kv.key, a, &ekv["array"]),
            ref v => check_scalar(kv.key, v, ekv),
        }
    }

    let ts = e["tensors"].as_array().unwrap();
    assert_eq!(g.tensors.len(), ts.len());
    assert_eq!(g.tensors.len() as u64, e["n_tensors"].as_u64().unwrap());
    for (t, et) in g.tensors.iter().zip(ts) {
        let name = t.name;
        assert_eq!(name, et["name"]);
        assert_eq!(t.range.start, end, "{name}: infos are contiguous");
        end = t.range.end;
        assert_eq!(u64::from(t.ggml_type), et["type_id"].as_u64().unwrap(), "{name}");
        assert_eq!(t.type_info().map(|ty| ty.name), et["type"].as_str(), "{name}");
        let dims: Vec<u64> = et["dims"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).collect();
        assert_eq!(t.dims(), &dims[..], "{name}");
        assert_eq!(t.n_elements, dims.iter().product::<u64>(), "{name}");
        assert_eq!(t.offset, et["offset"].as_u64().unwrap(), "{name}");
        assert_eq!(t.abs_offset as u64, et["abs_offset"].as_u64().unwrap(), "{name}");
        assert_eq!(t.nbytes.map(|n| n as u64), et["nbytes"].as_u64(), "{name}");
        assert_eq!(g.tensor_data(t).unwrap().len(), t.nbytes.unwrap());
    }
    assert_eq!(end, g.infos_end);
}

/// The files llama.cpp writes (and the only ones its loader accepts) place the
/// tensors back to back in info order, each padded to the alignment. The parser
/// only requires aligned, in-bounds, disjoint tensors; this checks these files
/// are of the strict kind.
fn assert_packed_like_llama_cpp(g: &Gguf<'_>) {
    let a = g.alignment as usize;
    let mut next = 0usize;
    for t in &g.tensors {
        assert_eq!(t.offset as usize, next, "{}", t.name);
        next += t.nbytes.unwrap().div_ceil(a) * a;
    }
}

#[test]
fn fixture_matches_gguf_py() {
    let bytes = fixture();
    let g = gguf::parse(&bytes).unwrap();
    check_against(&g, &expected(FIXTURE));
    assert_packed_like_llama_cpp(&g);
}

#[test]
fn whole_gemma_file_matches_gguf_py() {
    let path = match std::env::var_os("LLMC_GEMMA_GGUF") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/llmc").join(WHOLE),
    };
    if !path.exists() {
        println!("note: {} not present, skipping the whole-file check (see DATA.md to fetch it)", path.display());
        return;
    }
    let bytes = read(&path);
    assert_eq!(hex(&Sha256::digest(&bytes)), WHOLE_SHA256, "{} is not the expected file", path.display());
    let g = gguf::parse(&bytes).unwrap();
    check_against(&g, &expected(WHOLE));
    assert_packed_like_llama_cpp(&g);
    // The last tensor ends the file exactly: no padding after it.
    let last = g.tensors.last().unwrap();
    assert_eq!(last.data_range().unwrap().end, g.file_len);
}

/// `LLMC_GGUF_COMPARE=FILE.gguf:FILE.json` checks any GGUF against its
/// `scripts/gguf_dump.py` output (for files too big or not free to commit).
#[test]
fn any_file_matches_gguf_py() {
    let Some(spec) = std::env::var_os("LLMC_GGUF_COMPARE") else { return };
    let spec = spec.into_string().unwrap();
    let (file, json) = spec.rsplit_once(':').expect("LLMC_GGUF_COMPARE=FILE.gguf:FILE.json");
    let bytes = read(Path::new(file));
    let g = gguf::parse(&bytes).unwrap();
    check_against(&g, &serde_json::from_slice(&read(Path::new(json))).unwrap());
    println!("{file}: {} pairs and {} tensors match gguf-py", g.kv.len(), g.tensors.len());
}

#[test]
fn values_are_readable() {
    let bytes = fixture();
    let g = gguf::parse(&bytes).unwrap();
    assert_eq!(g.alignment, gguf::DEFAULT_ALIGNMENT);
    assert!(g.get(gguf::ALIGNMENT_KEY).is_none());
    assert_eq!(g.get("general.architecture").unwrap().as_str(), Some("gemma3"));
    assert_eq!(g.get("gemma3.context_length"), Some(&Value::U32(32768)));
    assert_eq!(g.get("tokenizer.ggml.add_bos_token"), Some(&Value::Bool(true)));
    let tokens = g.get("tokenizer.ggml.tokens").unwrap().as_array().unwrap();
    assert_eq!((tokens.elem_type(), tokens.len()), (ValueType::String, 262144));
    assert_eq!(tokens.get(2).unwrap().as_str(), Some("<bos>"));
    assert_eq!(tokens.get(262144), None);
    let types = g.get("tokenizer.ggml.token_type").unwrap().as_array().unwrap();
    assert_eq!(types.get(2), Some(Value::I32(3)));
    assert_eq!(types.iter().count(), 262144);
    let t = g.tensor("blk.0.attn_output.weight").unwrap();
    assert_eq!((t.ggml_type, t.dims(), t.nbytes), (types::Q4_K, &[1024u64, 640][..], Some(368640)));
    assert!(g.tensor("nope").is_none());
}

#[test]
fn type_table_matches_gguf_py() {
    let e = expected("ggml-types.gguf-py");
    let rows = e["types"].as_array().unwrap();
    assert_eq!(rows.len(), types::GGML_TYPES.len(), "same set of ids");
    for row in rows {
        let id = row["id"].as_u64().unwrap() as u32;
        let t = types::ggml_type(id).unwrap_or_else(|| panic!("id {id} unknown"));
        assert_eq!(t.name, row["name"]);
        assert_eq!(u64::from(t.block_size), row["block_size"].as_u64().unwrap(), "{}", t.name);
        let py_size = row["type_size"].as_u64().unwrap();
        if id == types::Q8_1 {
            // gguf-py still has the old block_q8_1 (two f32); ggml has two f16.
            assert_eq!((t.type_size, py_size), (36, 40));
        } else {
            assert_eq!(u64::from(t.type_size), py_size, "{}", t.name);
        }
    }
}

// ---------------------------------------------------------------------------
// A small GGUF writer for building hostile files.

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s);
}

#[derive(Clone)]
struct Writer {
    version: u32,
    n_kv: Option<u64>,
    n_tensors: Option<u64>,
    kv_count: u64,
    kv: Vec<u8>,
    tensor_count: u64,
    infos: Vec<u8>,
    /// Padding after the infos (None: none at all).
    align: Option<usize>,
    data: Vec<u8>,
}

impl Writer {
    fn new() -> Self {
        Writer {
            version: 3,
            n_kv: None,
            n_tensors: None,
            kv_count: 0,
            kv: Vec::new(),
            tensor_count: 0,
            infos: Vec::new(),
            align: Some(32),
            data: Vec::new(),
        }
    }

    /// A pair with a raw type id and an already encoded value.
    fn kv_raw(mut self, key: &[u8], ty: u32, value: &[u8]) -> Self {
        put_str(&mut self.kv, key);
        self.kv.extend_from_slice(&ty.to_le_bytes());
        self.kv.extend_from_slice(value);
        self.kv_count += 1;
        self
    }

    fn kv_u32(self, key: &str, v: u32) -> Self {
        self.kv_raw(key.as_bytes(), ValueType::U32 as u32, &v.to_le_bytes())
    }

    fn tensor_raw(mut self, name: &[u8], dims: &[u64], ty: u32, offset: u64) -> Self {
        put_str(&mut self.infos, name);
        self.infos.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in dims {
            self.infos.extend_from_slice(&d.to_le_bytes());
        }
        self.infos.extend_from_slice(&ty.to_le_bytes());
        self.infos.extend_from_slice(&offset.to_le_bytes());
        self.tensor_count += 1;
        self
    }

    fn tensor(self, name: &str, dims: &[u64], ty: u32, offset: u64) -> Self {
        self.tensor_raw(name.as_bytes(), dims, ty, offset)
    }

    fn data(mut self, n: usize) -> Self {
        self.data = vec![0xAB; n];
        self
    }

    fn build(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.n_tensors.unwrap_or(self.tensor_count).to_le_bytes());
        out.extend_from_slice(&self.n_kv.unwrap_or(self.kv_count).to_le_bytes());
        out.extend_from_slice(&self.kv);
        out.extend_from_slice(&self.infos);
        if let Some(a) = self.align {
            out.resize(out.len().div_ceil(a) * a, 0);
        }
        out.extend_from_slice(&self.data);
        out
    }
}

fn array_value(elem: ValueType, len: u64, payload: &[u8]) -> Vec<u8> {
    let mut v = (elem as u32).to_le_bytes().to_vec();
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(payload);
    v
}

fn parse_err(bytes: &[u8]) -> Error {
    gguf::parse(bytes).expect_err("parse should fail")
}

/// Two F32 tensors of 8 elements (32 bytes each), back to back.
fn two_tensors() -> Writer {
    Writer::new().kv_u32("a", 1).tensor("x", &[8], types::F32, 0).tensor("y", &[8], types::F32, 32).data(64)
}

#[test]
fn writer_builds_valid_files() {
    let bytes = two_tensors().build();
    let g = gguf::parse(&bytes).unwrap();
    assert_eq!((g.kv.len(), g.tensors.len(), g.data_offset % 32), (1, 2, 0));
    assert_eq!(g.tensors[1].data_range(), Some(g.data_offset + 32..g.data_offset + 64));
    let mut v2 = two_tensors();
    v2.version = 2;
    assert_eq!(gguf::parse(&v2.build()).unwrap().version, 2);
}

// ---------------------------------------------------------------------------
// Truncation.

/// The fixture with every array cut to its first 5 elements; tensor infos and data
/// copied as they are. The same kinds of fields, with metadata small enough to try
/// every prefix and every corruption.
fn small_file() -> Vec<u8> {
    let bytes = fixture();
    let g = gguf::parse(&bytes).unwrap();
    let mut w = Writer::new();
    for kv in &g.kv {
        let mut value = Vec::new();
        match kv.value {
            Value::Array(a) => {
                let mut elems = Vec::new();
                let mut n = 0u64;
                for v in a.iter().take(5) {
                    encode(&v, &mut elems);
                    n += 1;
                }
                value = array_value(a.elem_type(), n, &elems);
            }
            ref v => encode(v, &mut value),
        }
        w = w.kv_raw(kv.key.as_bytes(), kv.value_type() as u32, &value);
    }
    w.infos = bytes[g.kv.last().unwrap().range.end..g.infos_end].to_vec();
    w.tensor_count = g.tensors.len() as u64;
    w.data = bytes[g.data_offset..].to_vec();
    w.build()
}

#[test]
fn every_prefix_of_small_metadata_is_truncated() {
    let file = small_file();
    let g = gguf::parse(&file).unwrap();
    let fixture = fixture();
    let big = gguf::parse(&fixture).unwrap();
    assert_eq!(g.tensors.len(), big.tensors.len());
    for (a, b) in g.tensors.iter().zip(&big.tensors) {
        assert_eq!((a.name, a.offset, g.tensor_data(a)), (b.name, b.offset, big.tensor_data(b)));
    }
    for len in (0..=g.data_offset).chain([g.data_offset + 1, file.len() - 1]) {
        assert_eq!(parse_err(&file[..len]), Error::SrcTruncated, "prefix {len}");
    }
}

#[test]
fn prefixes_of_the_real_metadata_are_truncated() {
    // Every prefix of the fixture's metadata region would be ~6.5 M parses of up to
    // 6.5 MB; take every prefix in the first 4 KiB, every one within 64 bytes of a
    // field boundary (this covers the whole tail: small pairs and tensor infos),
    // and one every 4093 bytes through the big arrays.
    let bytes = fixture();
    let g = gguf::parse(&bytes).unwrap();
    let mut lens: Vec<usize> = (0..4096).chain((0..g.data_offset).step_by(4093)).collect();
    let bounds = g.kv.iter().map(|kv| &kv.range).chain(g.tensors.iter().map(|t| &t.range));
    for b in bounds.flat_map(|r| [r.start, r.end]).chain([g.data_offset]) {
        lens.extend(b.saturating_sub(64)..(b + 64).min(g.data_offset));
    }
    lens.sort_unstable();
    lens.dedup();
    for &len in &lens {
        assert_eq!(parse_err(&bytes[..len]), Error::SrcTruncated, "prefix {len}");
    }
    // And cuts inside the tensor data.
    for len in [g.data_offset, g.data_offset + 1, bytes.len() - 1] {
        assert_eq!(parse_err(&bytes[..len]), Error::SrcTruncated, "prefix {len}");
    }
}

#[test]
fn missing_padding_before_data_is_truncated() {
    let mut w = two_tensors();
    w.align = None;
    w.data.clear();
    assert_eq!(parse_err(&w.build()), Error::SrcTruncated);
    // Without tensors the padding is optional.
    let mut w = Writer::new().kv_u32("k", 7);
    w.align = None;
    let bytes = w.build();
    let g = gguf::parse(&bytes).unwrap();
    assert_eq!((g.infos_end, g.data_offset, g.file_len), (bytes.len(), 64, bytes.len()));
}

// ---------------------------------------------------------------------------
// Header.

#[test]
fn magic_and_versions() {
    let mut bytes = two_tensors().build();
    bytes[0] = b'g';
    assert_eq!(parse_err(&bytes), Error::BadMagic);
    for version in [0u32, 1, 4, 0x0300_0000, 0x0200_0000, u32::MAX] {
        let mut w = two_tensors();
        w.version = version;
        assert_eq!(parse_err(&w.build()), Error::VersionUnsupported, "version {version:#x}");
    }
    assert_eq!(parse_err(b""), Error::SrcTruncated);
    assert_eq!(parse_err(b"GGU"), Error::SrcTruncated);
}

#[test]
fn absurd_counts() {
    for (n_kv, n_tensors, err) in [
        (1 << 63, 0, Error::LimitExceeded),
        (u64::MAX, 0, Error::LimitExceeded),
        (gguf::MAX_KV + 1, 0, Error::LimitExceeded),
        (gguf::MAX_KV, 0, Error::SrcTruncated),
        (1, 1 << 63, Error::LimitExceeded),
        (1, gguf::MAX_TENSORS + 1, Error::LimitExceeded),
        (1, gguf::MAX_TENSORS, Error::SrcTruncated),
    ] {
        let mut w = two_tensors();
        w.n_kv = Some(n_kv);
        w.n_tensors = Some(n_tensors);
        assert_eq!(parse_err(&w.build()), err, "n_kv {n_kv}, n_tensors {n_tensors}");
    }
}

// ---------------------------------------------------------------------------
// Key-value pairs.

fn with_kv(key: &[u8], ty: u32, value: &[u8]) -> Vec<u8> {
    Writer::new().kv_u32("first", 1).kv_raw(key, ty, value).build()
}

#[test]
fn absurd_string_lengths() {
    // Key length.
    let mut kv = (1u64 << 63).to_le_bytes().to_vec();
    kv.extend_from_slice(b"key");
    let mut w = Writer::new();
    w.kv = kv;
    w.kv_count = 1;
    assert_eq!(parse_err(&w.build()), Error::LimitExceeded);
    // Value length: over the limit, then within the limit but past the end.
    for (len, err) in [
        (1u64 << 63, Error::LimitExceeded),
        (gguf::MAX_STRING_LEN + 1, Error::LimitExceeded),
        (1000, Error::SrcTruncated),
    ] {
        let mut value = len.to_le_bytes().to_vec();
        value.extend_from_slice(b"short");
        assert_eq!(parse_err(&with_kv(b"s", ValueType::String as u32, &value)), err, "len {len}");
    }
    // Tensor name length.
    let mut w = Writer::new();
    w.infos = (1u64 << 63).to_le_bytes().to_vec();
    w.infos.extend_from_slice(&[0; 32]);
    w.tensor_count = 1;
    assert_eq!(parse_err(&w.build()), Error::LimitExceeded);
}

#[test]
fn absurd_array_counts() {
    let u8_array = ValueType::Array as u32;
    for (elem, len, err) in [
        (ValueType::U8, 1u64 << 63, Error::LimitExceeded),
        (ValueType::String, u64::MAX, Error::LimitExceeded),
        (ValueType::U8, gguf::MAX_ARRAY_LEN + 1, Error::LimitExceeded),
        (ValueType::U64, 1 << 29, Error::SrcTruncated),
        (ValueType::String, 1 << 20, Error::SrcTruncated),
        (ValueType::Array, 1 << 20, Error::SrcTruncated),
        (ValueType::U8, 100, Error::SrcTruncated),
    ] {
        let bytes = with_kv(b"arr", u8_array, &array_value(elem, len, &[1, 2, 3, 4]));
        assert_eq!(parse_err(&bytes), err, "{elem:?} x {len}");
    }
}

#[test]
fn unknown_value_types() {
    for ty in [13u32, 100, u32::MAX] {
        assert_eq!(parse_err(&with_kv(b"k", ty, &[0; 16])), Error::GgufInvalid, "type {ty}");
        let arr = array_value(ValueType::U8, 0, &[]);
        let mut arr_bad = arr.clone();
        arr_bad[..4].copy_from_slice(&ty.to_le_bytes());
        assert_eq!(parse_err(&with_kv(b"k", ValueType::Array as u32, &arr_bad)), Error::GgufInvalid);
    }
}

#[test]
fn bad_keys_and_bools() {
    let one = 1u32.to_le_bytes();
    assert_eq!(parse_err(&with_kv(b"", ValueType::U32 as u32, &one)), Error::GgufInvalid, "empty key");
    assert_eq!(parse_err(&with_kv(b"first", ValueType::U32 as u32, &one)), Error::GgufInvalid, "duplicate");
    assert_eq!(parse_err(&with_kv(b"\xff\xfe", ValueType::U32 as u32, &one)), Error::GgufInvalid, "not UTF-8");
    assert_eq!(parse_err(&with_kv(b"b", ValueType::Bool as u32, &[2])), Error::GgufInvalid);
    let bools = array_value(ValueType::Bool, 3, &[1, 0, 7]);
    assert_eq!(parse_err(&with_kv(b"b", ValueType::Array as u32, &bools)), Error::GgufInvalid);
    // Strings values need not be UTF-8; they stay bytes.
    let mut s = Vec::new();
    put_str(&mut s, b"\xff");
    let bytes = with_kv(b"s", ValueType::String as u32, &s);
    let g = gguf::parse(&bytes).unwrap();
    assert_eq!((g.get("s"), g.get("s").unwrap().as_str()), (Some(&Value::String(b"\xff")), None));
}

#[test]
fn every_scalar_type_reads_back() {
    let mut w = Writer::new();
    let cases: [(ValueType, &[u8]); 12] = [
        (ValueType::U8, &[200]),
        (ValueType::I8, &[0xff]),
        (ValueType::U16, &[1, 2]),
        (ValueType::I16, &[0xfe, 0xff]),
        (ValueType::U32, &[1, 0, 0, 0]),
        (ValueType::I32, &[0xff; 4]),
        (ValueType::F32, &[0, 0, 0x80, 0x3f]),
        (ValueType::Bool, &[1]),
        (ValueType::String, &[2, 0, 0, 0, 0, 0, 0, 0, b'h', b'i']),
        (ValueType::U64, &[0xff; 8]),
        (ValueType::I64, &[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        (ValueType::F64, &[0, 0, 0, 0, 0, 0, 0xf0, 0xbf]),
    ];
    for (i, (ty, v)) in cases.iter().enumerate() {
        w = w.kv_raw(format!("k{i}").as_bytes(), *ty as u32, v);
    }
    let bytes = w.build();
    let g = gguf::parse(&bytes).unwrap();
    let got: Vec<Value<'_>> = g.kv.iter().map(|kv| kv.value).collect();
    assert_eq!(
        got,
        [
            Value::U8(200),
            Value::I8(-1),
            Value::U16(0x0201),
            Value::I16(-2),
            Value::U32(1),
            Value::I32(-1),
            Value::F32(1.0),
            Value::Bool(true),
            Value::String(b"hi"),
            Value::U64(u64::MAX),
            Value::I64(-2),
            Value::F64(-1.0),
        ]
    );
    for (kv, (ty, v)) in g.kv.iter().zip(cases) {
        let mut enc = Vec::new();
        encode(&kv.value, &mut enc);
        assert_eq!((kv.value_type(), &enc[..]), (ty, v));
    }
}

/// `depth` arrays nested in one another; the innermost holds two strings.
fn nested(depth: u32) -> Vec<u8> {
    let mut strings = Vec::new();
    put_str(&mut strings, b"ab");
    put_str(&mut strings, b"c");
    let mut v = array_value(ValueType::String, 2, &strings);
    for _ in 1..depth {
        v = array_value(ValueType::Array, 1, &v);
    }
    v
}

#[test]
fn nested_arrays_and_the_nesting_bomb() {
    for depth in 1..=gguf::MAX_ARRAY_DEPTH {
        let bytes = with_kv(b"n", ValueType::Array as u32, &nested(depth));
        let g = gguf::parse(&bytes).unwrap();
        let mut v = *g.get("n").unwrap();
        for _ in 1..depth {
            let a = v.as_array().unwrap();
            assert_eq!((a.elem_type(), a.len()), (ValueType::Array, 1));
            v = a.get(0).unwrap();
        }
        let leaf = v.as_array().unwrap();
        let got: Vec<_> = leaf.iter().map(|s| s.as_str().unwrap()).collect();
        assert_eq!(got, ["ab", "c"]);
        assert_eq!(leaf.get(1).unwrap().as_str(), Some("c"));
    }
    let too_deep = with_kv(b"n", ValueType::Array as u32, &nested(gguf::MAX_ARRAY_DEPTH + 1));
    assert_eq!(parse_err(&too_deep), Error::LimitExceeded);
    // A bomb: 100 000 nested headers, each claiming one element.
    let mut bomb = Vec::new();
    for _ in 0..100_000 {
        bomb.extend_from_slice(&array_value(ValueType::Array, 1, &[]));
    }
    assert_eq!(parse_err(&with_kv(b"n", ValueType::Array as u32, &bomb)), Error::LimitExceeded);
    // Empty arrays of arrays at the depth limit are fine.
    let mut v = array_value(ValueType::Array, 0, &[]);
    for _ in 1..gguf::MAX_ARRAY_DEPTH {
        v = array_value(ValueType::Array, 1, &v);
    }
    assert!(gguf::parse(&with_kv(b"n", ValueType::Array as u32, &v)).is_ok());
}

#[test]
fn alignment_key() {
    let mk = |ty: ValueType, v: &[u8], align: usize| {
        let mut w = Writer::new().kv_raw(gguf::ALIGNMENT_KEY.as_bytes(), ty as u32, v).tensor("t", &[8], types::F32, 0);
        w.align = Some(align);
        w.data(32).build()
    };
    let bytes = mk(ValueType::U32, &64u32.to_le_bytes(), 64);
    let g = gguf::parse(&bytes).unwrap();
    assert_eq!((g.alignment, g.data_offset % 64, g.data_offset - g.infos_end < 64), (64, 0, true));
    let bytes = mk(ValueType::U32, &1u32.to_le_bytes(), 1);
    assert_eq!(gguf::parse(&bytes).unwrap().data_offset, gguf::parse(&bytes).unwrap().infos_end);
    for bad in [0u32, 3, 48, 1 << 31 | 1, u32::MAX] {
        assert_eq!(parse_err(&mk(ValueType::U32, &bad.to_le_bytes(), 32)), Error::GgufInvalid, "{bad}");
    }
    // Right value, wrong type.
    assert_eq!(parse_err(&mk(ValueType::U64, &32u64.to_le_bytes(), 32)), Error::GgufInvalid);
    assert_eq!(parse_err(&mk(ValueType::I32, &32i32.to_le_bytes(), 32)), Error::GgufInvalid);
    // A huge alignment pushes the data past the end of the file.
    assert_eq!(parse_err(&mk(ValueType::U32, &(1u32 << 31).to_le_bytes(), 32)), Error::SrcTruncated);
}

// ---------------------------------------------------------------------------
// Tensor infos and layout.

fn one_tensor(name: &[u8], dims: &[u64], ty: u32, offset: u64, data: usize) -> Vec<u8> {
    Writer::new().tensor_raw(name, dims, ty, offset).data(data).build()
}

#[test]
fn tensor_names() {
    let ok = |name: &[u8]| gguf::parse(&one_tensor(name, &[8], types::F32, 0, 32)).map(|g| g.tensors[0].name.len());
    assert_eq!(ok(&[b'n'; 63]), Ok(63));
    assert_eq!(ok(&[b'n'; 64]), Err(Error::GgufInvalid), "GGML_MAX_NAME counts the NUL");
    assert_eq!(ok(b""), Err(Error::GgufInvalid));
    assert_eq!(ok(b"a\0b"), Err(Error::GgufInvalid));
    assert_eq!(ok(b"\xc3"), Err(Error::GgufInvalid));
    let dup = Writer::new().tensor("x", &[8], types::F32, 0).tensor("x", &[8], types::F32, 32).data(64);
    assert_eq!(parse_err(&dup.build()), Error::GgufInvalid);
}

#[test]
fn tensor_shapes() {
    struct Shape {
        n_dims: u32,
        ne: [u64; 4],
        n_elements: u64,
        nbytes: Option<usize>,
    }
    let parse = |dims: &[u64], ty: u32, data: usize| {
        gguf::parse(&one_tensor(b"t", dims, ty, 0, data)).map(|g| {
            let t = &g.tensors[0];
            Shape { n_dims: t.n_dims, ne: t.ne, n_elements: t.n_elements, nbytes: t.nbytes }
        })
    };
    // 0 dims: a scalar; a zero dimension: an empty tensor (both allowed by llama.cpp).
    let scalar = parse(&[], types::F32, 32).unwrap();
    assert_eq!((scalar.n_dims, scalar.ne, scalar.n_elements, scalar.nbytes), (0, [1; 4], 1, Some(4)));
    let empty = parse(&[0, 5], types::Q4_K, 0).unwrap();
    assert_eq!((empty.n_elements, empty.nbytes), (0, Some(0)));
    assert_eq!(parse(&[1 << 40, 1 << 40, 0], types::F32, 0).unwrap().nbytes, Some(0));
    let four = parse(&[2, 3, 4, 5], types::F16, 256).unwrap();
    assert_eq!((four.ne, four.n_elements, four.nbytes), ([2, 3, 4, 5], 120, Some(240)));
    assert_eq!(parse(&[1, 1, 1, 1, 1], types::F32, 32).err(), Some(Error::GgufInvalid), "5 dims");
    assert_eq!(parse(&[u32::MAX as u64 + 1; 2], types::F32, 32).err(), Some(Error::GgufInvalid), "2^64 elements");
    assert_eq!(parse(&[1 << 62, 2], types::I8, 32).err(), Some(Error::GgufInvalid), "2^63 elements");
    assert_eq!(parse(&[1 << 63], types::I8, 32).err(), Some(Error::GgufInvalid), "negative as int64");
    assert_eq!(parse(&[100, 256], types::Q4_K, 32).err(), Some(Error::GgufInvalid), "rows of whole blocks");
    assert_eq!(parse(&[256, 3], types::Q4_K, 432).unwrap().nbytes, Some(432));
    // The byte size overflows although the element count does not.
    assert_eq!(parse(&[1 << 62], types::F64, 32).err(), Some(Error::GgufInvalid));
    // Known type whose data runs past the end.
    assert_eq!(parse(&[256, 3], types::Q4_K, 431).err(), Some(Error::SrcTruncated));
}

#[test]
fn unknown_ggml_types_have_no_size() {
    for ty in [4u32, 5, 31, 33, 36, 38, types::TYPE_ID_END, 1000, u32::MAX] {
        let bytes = one_tensor(b"t", &[7, 3], ty, 0, 0);
        let g = gguf::parse(&bytes).unwrap();
        let t = &g.tensors[0];
        assert_eq!((t.ggml_type, t.nbytes, t.type_info(), t.data_range()), (ty, None, None, None));
        assert_eq!(g.tensor_data(t), None);
    }
    // Its start must still be inside the file and not inside another tensor.
    assert_eq!(parse_err(&one_tensor(b"t", &[7], 1000, 32, 0)), Error::SrcTruncated);
    let w = Writer::new().tensor("a", &[16], types::F32, 0).tensor("b", &[7], 1000, 32).data(64);
    assert_eq!(parse_err(&w.build()), Error::GgufInvalid);
}

#[test]
fn tensor_offsets() {
    // Outside the file, or so large the end overflows.
    for offset in [64u64, 1 << 40, 1 << 63, u64::MAX - 31] {
        let bytes = one_tensor(b"t", &[8], types::F32, offset, 32);
        assert_eq!(parse_err(&bytes), Error::SrcTruncated, "offset {offset}");
    }
    // Not a multiple of the alignment.
    for offset in [1u64, 16, 31, u64::MAX] {
        assert_eq!(parse_err(&one_tensor(b"t", &[8], types::F32, offset, 64)), Error::GgufInvalid, "offset {offset}");
    }
    // Ending exactly at the end of the file is fine; one byte short is not.
    assert!(gguf::parse(&one_tensor(b"t", &[8], types::F32, 32, 64)).is_ok());
    assert_eq!(parse_err(&one_tensor(b"t", &[8], types::F32, 32, 63)), Error::SrcTruncated);
}

#[test]
fn overlapping_tensors() {
    let cases: [(&[(u64, u64)], bool); 7] = [
        (&[(16, 0), (16, 0)], false),          // same start
        (&[(16, 0), (8, 32)], false),          // starts inside the first
        (&[(8, 32), (16, 0)], false),          // the same, listed the other way round
        (&[(64, 0), (8, 32), (8, 64)], false), // inside a big one, infos out of order
        (&[(8, 0), (8, 32)], true),            // adjacent
        (&[(8, 64), (8, 0)], true),            // out of order but disjoint (gguf-py allows it)
        (&[(0, 32), (8, 32)], true),           // an empty tensor at another's start
    ];
    for (tensors, ok) in cases {
        let mut w = Writer::new();
        for (i, &(n, offset)) in tensors.iter().enumerate() {
            w = w.tensor(&format!("t{i}"), &[n], types::F32, offset);
        }
        let bytes = w.data(256).build();
        let r = gguf::parse(&bytes);
        if ok {
            assert!(r.is_ok(), "{tensors:?}: {r:?}");
        } else {
            assert_eq!(r.err(), Some(Error::GgufInvalid), "{tensors:?}");
        }
    }
}

#[test]
fn single_byte_corruptions_never_panic() {
    // Every metadata byte of the small file set to values that hit counts, types
    // and lengths: an error or a parse whose ranges all lie in the input.
    let mut file = small_file();
    let data_offset = gguf::parse(&file).unwrap().data_offset;
    let mut accepted = 0;
    for pos in 0..data_offset {
        for v in [0u8, 1, 2, 9, 0x40, 0x7f, 0x80, 0xff] {
            let old = file[pos];
            file[pos] = v;
            if let Ok(g) = gguf::parse(&file) {
                accepted += 1;
                for t in &g.tensors {
                    assert!(t.data_range().is_none_or(|r| r.end <= file.len()));
                }
                for kv in &g.kv {
                    if let Value::Array(a) = kv.value {
                        assert_eq!(a.iter().count(), a.len());
                    }
                }
            }
            file[pos] = old;
        }
    }
    assert!(accepted > 0);
}
