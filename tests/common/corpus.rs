//! The corrupt-input corpus under `fixtures/corrupt/`: one manifest entry per
//! file, shared by its generator (`examples/make_corrupt`) and the test that
//! replays it (`tests/corrupt_corpus.rs`), so both spell statuses alike.

use llmc::Error;
use serde_json::{json, Map, Value};

/// Which entry point reads a corpus file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `llmc::decompress` / `llmc_decompress`: one whole frame.
    FrameDecode,
    /// `llmc::frame_info` / `llmc_frame_info_get`: header and chunk table only.
    FrameInfo,
    /// `Index::open`, then `container::file::decompress` (whole file, SHA-256 checked).
    ContainerRead,
    /// `llmc::model::gguf::parse` of a raw GGUF file.
    GgufParse,
    /// `llmc::model::safetensors::parse` of a raw safetensors file.
    SafetensorsParse,
    /// `container::file::compress` of a raw model file (format detected from its bytes).
    ContainerCompress,
}

const APIS: [(Api, &str); 6] = [
    (Api::FrameDecode, "frame_decode"),
    (Api::FrameInfo, "frame_info"),
    (Api::ContainerRead, "container_read"),
    (Api::GgufParse, "gguf_parse"),
    (Api::SafetensorsParse, "safetensors_parse"),
    (Api::ContainerCompress, "container_compress"),
];

impl Api {
    pub fn name(self) -> &'static str {
        APIS.iter().find(|(a, _)| *a == self).expect("every api is named").1
    }

    pub fn from_name(s: &str) -> Option<Api> {
        APIS.iter().find(|(_, n)| *n == s).map(|(a, _)| *a)
    }
}

/// `Ok(())` or an error, as the corpus expects it.
pub type Status = Result<(), Error>;

/// The C enumerator name of a status (`LLMC_STATUS_CHECKSUM_MISMATCH`), derived
/// from the Rust variant name; `tests/corrupt_corpus.rs` checks every one
/// against `include/llmc.h`.
pub fn status_name(s: Status) -> String {
    let Err(e) = s else { return "LLMC_STATUS_OK".into() };
    let mut out = String::from("LLMC_STATUS");
    for c in format!("{e:?}").chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

pub fn parse_status(name: &str) -> Option<Status> {
    if name == "LLMC_STATUS_OK" {
        return Some(Ok(()));
    }
    llmc::error::ALL_ERRORS.iter().map(|&e| Err(e)).find(|&s| status_name(s) == name)
}

/// One corpus file and what reading it must give.
#[derive(Debug, Clone)]
pub struct Case {
    pub file: String,
    pub api: Api,
    /// The unmutated input this was made from (itself a corpus file, or for the
    /// bases the fixture they were cut from).
    pub base: String,
    pub how: String,
    /// With checksum verification on (the default).
    pub status: Status,
    /// With verification off, where the case is meant to be read that way too.
    pub unverified: Option<Status>,
    /// A lowered `DecodeOptions::max_output` for this read.
    pub max_output: Option<u64>,
}

impl Case {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("file".into(), json!(self.file));
        m.insert("api".into(), json!(self.api.name()));
        m.insert("base".into(), json!(self.base));
        m.insert("how".into(), json!(self.how));
        m.insert("status".into(), json!(status_name(self.status)));
        if let Some(u) = self.unverified {
            m.insert("status_unverified".into(), json!(status_name(u)));
        }
        if let Some(cap) = self.max_output {
            m.insert("max_output".into(), json!(cap));
        }
        Value::Object(m)
    }

    pub fn from_json(v: &Value) -> Case {
        let s = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("manifest entry without {k}: {v}")).to_owned();
        let status = |k: &str| parse_status(&s(k)).unwrap_or_else(|| panic!("unknown status in {v}"));
        Case {
            file: s("file"),
            api: Api::from_name(&s("api")).unwrap_or_else(|| panic!("unknown api in {v}")),
            base: s("base"),
            how: s("how"),
            status: status("status"),
            unverified: v.get("status_unverified").map(|_| status("status_unverified")),
            max_output: v.get("max_output").map(|c| c.as_u64().expect("max_output is a number")),
        }
    }
}
