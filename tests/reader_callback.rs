//! A ggml-style parse of the whole gemma GGUF header through
//! `llmc_container_reader_callback`, one call per field (as ggml's
//! `gguf_init_from_file` reads: every scalar, every string length and string,
//! every array element on its own), checked against gguf-py's dump of the same
//! file (`fixtures/gguf/gemma-3-270m-q4_k_m.gguf.expected.json`, from
//! `scripts/gguf_dump.py` with gguf==0.19.0). The time is printed, not asserted.

mod common;

use llmc::ffi::container::{llmc_container, llmc_container_close, llmc_container_open_file, llmc_container_reader_callback};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::ffi::c_void;

/// ggml's reader: the callback and a position.
struct Reader {
    handle: *mut llmc_container,
    at: u64,
    calls: u64,
}

impl Reader {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        // SAFETY: `handle` is an open container; `buf` has `n` writable bytes.
        let got = unsafe { llmc_container_reader_callback(self.handle.cast::<c_void>(), buf.as_mut_ptr().cast(), self.at, n) };
        assert_eq!(got, n, "short read at {}", self.at);
        self.at += n as u64;
        self.calls += 1;
        buf
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes(4).try_into().unwrap())
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes(8).try_into().unwrap())
    }

    fn string(&mut self, raw: &mut Vec<u8>) -> String {
        let n = self.u64();
        raw.extend_from_slice(&n.to_le_bytes());
        let s = self.bytes(n as usize);
        raw.extend_from_slice(&s);
        String::from_utf8(s).unwrap()
    }
}

const TYPE_NAMES: [&str; 13] = ["UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"];
const SIZES: [usize; 13] = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

/// Reads one value of type `t`, one call per field, appending its GGUF
/// encoding to `raw`; returns the JSON gguf_dump.py writes for a scalar.
fn value(r: &mut Reader, t: u32, raw: &mut Vec<u8>) -> Json {
    match t {
        8 => Json::from(r.string(raw)),
        9 => {
            let et = r.u32();
            let n = r.u64();
            raw.extend_from_slice(&et.to_le_bytes());
            raw.extend_from_slice(&n.to_le_bytes());
            for _ in 0..n {
                value(r, et, raw);
            }
            Json::Null
        }
        t => {
            let b = r.bytes(SIZES[t as usize]);
            raw.extend_from_slice(&b);
            match t {
                0 => Json::from(b[0]),
                1 => Json::from(b[0] as i8),
                2 => Json::from(u16::from_le_bytes([b[0], b[1]])),
                3 => Json::from(i16::from_le_bytes([b[0], b[1]])),
                4 => Json::from(u32::from_le_bytes(b[..4].try_into().unwrap())),
                5 => Json::from(i32::from_le_bytes(b[..4].try_into().unwrap())),
                6 => Json::from(format!("{:#010x}", u32::from_le_bytes(b[..4].try_into().unwrap()))),
                7 => Json::from(b[0] != 0),
                10 => Json::from(u64::from_le_bytes(b[..8].try_into().unwrap())),
                11 => Json::from(i64::from_le_bytes(b[..8].try_into().unwrap())),
                12 => Json::from(format!("{:#018x}", u64::from_le_bytes(b[..8].try_into().unwrap()))),
                _ => panic!("value type {t}"),
            }
        }
    }
}

#[test]
fn a_ggml_style_header_parse_through_the_callback_matches_gguf_py() {
    let gguf = common::fetched("gemma");
    let dir = std::env::temp_dir().join(format!("llmc-reader-callback-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let container = dir.join("gemma.gguf.llmc");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_llmc")).args(["compress", "--level", "3", "-T", "2"]).arg(&gguf).arg("-o").arg(&container).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let expected: Json = serde_json::from_slice(&common::fixture("gguf/gemma-3-270m-q4_k_m.gguf.expected.json")).unwrap();

    let path = std::ffi::CString::new(container.to_str().unwrap()).unwrap();
    let mut handle = std::ptr::null_mut();
    // SAFETY: a NUL-terminated path and a valid out-pointer.
    assert_eq!(unsafe { llmc_container_open_file(path.as_ptr(), 0, &mut handle) }, 0);
    let mut r = Reader { handle, at: 0, calls: 0 };
    let start = std::time::Instant::now();

    assert_eq!(r.bytes(4), b"GGUF");
    assert_eq!(u64::from(r.u32()), expected["version"].as_u64().unwrap());
    let n_tensors = r.u64();
    let n_kv = r.u64();
    assert_eq!((n_tensors, n_kv), (expected["n_tensors"].as_u64().unwrap(), expected["n_kv"].as_u64().unwrap()));
    let kvs = expected["kv"].as_array().unwrap();
    for e in kvs {
        let mut raw = Vec::new();
        let key = r.string(&mut raw);
        assert_eq!(key, e["key"].as_str().unwrap());
        let t = r.u32();
        assert_eq!(TYPE_NAMES[t as usize], e["type"].as_str().unwrap(), "{key}");
        let mut raw = Vec::new();
        let v = value(&mut r, t, &mut raw);
        match t {
            9 => {
                let a = &e["array"];
                assert_eq!(TYPE_NAMES[u32::from_le_bytes(raw[..4].try_into().unwrap()) as usize], a["type"].as_str().unwrap(), "{key}");
                assert_eq!(u64::from_le_bytes(raw[4..12].try_into().unwrap()), a["len"].as_u64().unwrap(), "{key}");
                let sha: String = Sha256::digest(&raw[12..]).iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(sha, a["sha256"].as_str().unwrap(), "{key}");
            }
            6 | 12 => assert_eq!(v, e["bits"], "{key}"),
            _ => assert_eq!(v, e["value"], "{key}"),
        }
    }
    for e in expected["tensors"].as_array().unwrap() {
        let mut raw = Vec::new();
        assert_eq!(r.string(&mut raw), e["name"].as_str().unwrap());
        let n_dims = r.u32();
        let dims: Vec<u64> = (0..n_dims).map(|_| r.u64()).collect();
        assert_eq!(Json::from(dims), e["dims"]);
        assert_eq!(u64::from(r.u32()), e["type_id"].as_u64().unwrap());
        assert_eq!(r.u64(), e["offset"].as_u64().unwrap());
    }
    assert_eq!(r.at, expected["infos_end"].as_u64().unwrap());
    let secs = start.elapsed().as_secs_f64();
    println!("{} reader-callback calls over the {} B header in {secs:.3} s ({:.0} ns per call)", r.calls, r.at, secs * 1e9 / r.calls as f64);
    // SAFETY: the handle opened above, closed once.
    unsafe { llmc_container_close(handle) };
    std::fs::remove_dir_all(&dir).unwrap();
}
