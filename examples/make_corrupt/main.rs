//! Writes the corrupt-input corpus: `make_corrupt DIR` (normally
//! `fixtures/corrupt`). Small real inputs (see `bases`), each mutated in one
//! documented way, plus `manifest.json` with the status every reader must return.
//! Deterministic: running it again writes identical files.

#[path = "../../tests/common/corpus.rs"]
mod corpus;
#[path = "../../tests/common/hostile.rs"]
#[allow(dead_code)]
mod hostile;
#[path = "../../tests/common/index.rs"]
#[allow(dead_code)]
mod index;
#[path = "../../tests/common/st.rs"]
#[allow(dead_code)]
mod st;

mod bases;
mod container_cases;
mod frame_cases;
mod hostile_cases;
mod model_cases;
mod mutate;
mod tiny_gguf;

use corpus::{Api, Case, Status};
use std::collections::BTreeMap;

/// Files and manifest entries, in the order they were added.
#[derive(Default)]
pub struct Corpus {
    files: BTreeMap<String, Vec<u8>>,
    cases: Vec<Case>,
}

impl Corpus {
    /// Adds a file and the status `api` must return for it (verification on).
    pub fn add(&mut self, file: &str, bytes: Vec<u8>, api: Api, base: &str, how: &str, status: Status) -> &mut Case {
        let old = self.files.insert(file.to_owned(), bytes);
        assert!(old.is_none(), "{file} written twice");
        self.also(file, api, base, how, status)
    }

    pub fn bytes(&self, file: &str) -> &[u8] {
        &self.files[file]
    }

    /// Another reader of a file already added.
    pub fn also(&mut self, file: &str, api: Api, base: &str, how: &str, status: Status) -> &mut Case {
        assert!(self.files.contains_key(file), "{file} not added");
        let how = how.to_owned();
        let (file, base) = (file.to_owned(), base.to_owned());
        self.cases.push(Case { file, api, base, how, status, unverified: None, max_output: None });
        self.cases.last_mut().unwrap()
    }

    fn write(&self, dir: &std::path::Path) {
        std::fs::create_dir_all(dir).unwrap();
        for (name, bytes) in &self.files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let list: Vec<_> = self.cases.iter().map(Case::to_json).collect();
        let mut json = serde_json::to_vec_pretty(&serde_json::json!({ "cases": list })).unwrap();
        json.push(b'\n');
        std::fs::write(dir.join("manifest.json"), json).unwrap();
    }
}

impl Case {
    /// The status with checksum verification off, where it is worth checking.
    pub fn unverified(&mut self, s: Status) -> &mut Case {
        self.unverified = Some(s);
        self
    }

    pub fn max_output(&mut self, cap: u64) -> &mut Case {
        self.max_output = Some(cap);
        self
    }
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: make_corrupt DIR"));
    let mut c = Corpus::default();
    for base in bases::frames() {
        frame_cases::add(&mut c, &base);
    }
    let gguf = bases::gguf();
    let st = bases::safetensors();
    model_cases::gguf(&mut c, &gguf);
    model_cases::safetensors(&mut c, &st);
    let gguf_llmc = bases::container(&gguf, "model.gguf.llmc");
    container_cases::add(&mut c, &gguf_llmc, "blk.0.attn_output.weight");
    container_cases::add_few(&mut c, &bases::container(&st, "model.safetensors.llmc"));
    container_cases::add_batches(&mut c, &bases::batched(&st));
    container_cases::add_version_11(&mut c, &bases::version_11());
    hostile_cases::add(&mut c, &gguf, &st, &gguf_llmc);
    c.write(&dir);
    let bytes: usize = c.files.values().map(Vec::len).sum();
    eprintln!("{} files, {} cases, {bytes} bytes in {}", c.files.len(), c.cases.len(), dir.display());
}
