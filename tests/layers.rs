//! The module graph: imports run one way, down the layers (README, "Architecture").
//! Reads every file under `src/` (the library; the CLI in `src/bin` uses only the
//! public facade, which the compiler enforces) and resolves each `crate::` and
//! `super::` path to the module it names. No test code is exempt.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level rooms, highest first. A room may import only rooms after it.
const LAYERS: [&str; 12] = ["ffi", "sources", "container", "engine", "params", "codec", "kernels", "rans", "format", "isa", "error", "_"];

/// Inside `sources/`, what each part may import (the formats know only the
/// shared planning helper; the per-stream baseline is built on the GGUF parser).
const SOURCES: [(&str, &[&str]); 6] = [
    ("file", &["gguf", "safetensors", "plan"]),
    // Decoding whatever llmc wrote, from a stream: per-stream files included.
    ("stream", &["baseline"]),
    ("gguf", &["plan"]),
    ("safetensors", &["plan"]),
    ("baseline", &["gguf"]),
    ("plan", &[]),
];

fn rank(room: &str) -> usize {
    LAYERS.iter().position(|l| *l == room).unwrap_or_else(|| panic!("src/{room} is in no layer: add it to LAYERS"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().unwrap() != "bin" {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file: `src/codec/bf16/decode.rs` -> ["codec", "bf16", "decode"].
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// Code without comments (doc links name modules without importing them).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l.split("//").next().unwrap_or(""))).filter(|(_, l)| !l.trim().is_empty())
}

/// Every module path a line names, absolute (from the crate root).
fn targets(line: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':');
        let path = if boundary && rest.starts_with("crate::") {
            Some((Vec::new(), &rest[7..]))
        } else if boundary && rest.starts_with("super::") {
            // `here` names the file's module (a mod.rs file's is its folder), so
            // `super` is always one level up from it.
            let mut base = here.to_vec();
            base.pop();
            let mut r = &rest[7..];
            while let Some(more) = r.strip_prefix("super::") {
                base.pop();
                r = more;
            }
            Some((base, r))
        } else {
            None
        };
        if let Some((mut base, r)) = path {
            let seg: String = r.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !seg.is_empty() && seg != "self" && seg.chars().next().unwrap().is_ascii_lowercase() {
                base.push(seg.clone());
                // One more segment when it is a module (lowercase), for sub-room rules.
                let after = &r[seg.len()..];
                if let Some(r2) = after.strip_prefix("::") {
                    let seg2: String = r2.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !seg2.is_empty() && seg2.chars().next().unwrap().is_ascii_lowercase() {
                        base.push(seg2);
                    }
                }
                found.push(base);
            }
            i += 7;
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    found
}

#[test]
fn imports_run_down_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    assert!(files.len() > 40, "found only {} files under src/", files.len());
    let mut violations = BTreeSet::new();
    let mut edges = 0;
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap();
        let here = module_of(rel);
        if here.is_empty() {
            continue; // lib.rs: the facade, above every room
        }
        let room = here[0].as_str();
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in code_lines(&text) {
            for t in targets(line, &here) {
                let Some(to) = t.first() else { continue };
                if to == room {
                    // Inside one room: the sub-room rules.
                    if room == "sources" && here.len() > 1 && t.len() > 1 && here[1] != t[1] {
                        let allowed = SOURCES.iter().find(|(p, _)| *p == here[1]).map_or(&[][..], |(_, a)| *a);
                        if !allowed.contains(&t[1].as_str()) {
                            violations.insert(format!("{}:{n}: sources::{} imports sources::{}", rel.display(), here[1], t[1]));
                        }
                    }
                    // Each x86 kernel file is self-contained over `shared.rs`.
                    let x86_sibling = |p: &[String]| p.len() > 2 && p[1] == "x86";
                    if x86_sibling(&here) && x86_sibling(&t) && t[2] != "shared" && t[2] != here[2] {
                        violations.insert(format!("{}:{n}: x86 kernel {} imports {}", rel.display(), here[2], t[2]));
                    }
                    continue;
                }
                edges += 1;
                if rank(to) <= rank(room) {
                    violations.insert(format!("{}:{n}: {room} imports {to}, which is not below it", rel.display()));
                }
            }
        }
    }
    assert!(edges > 100, "saw only {edges} cross-room imports: is the scan broken?");
    assert!(violations.is_empty(), "upward or sideways imports:\n{}", violations.into_iter().collect::<Vec<_>>().join("\n"));
}

#[test]
fn the_scan_resolves_paths() {
    let here: Vec<String> = ["codec", "bf16", "decode"].map(String::from).to_vec();
    let t = targets("use crate::container::read::Index; x", &here);
    assert_eq!(t, vec![vec!["container".to_string(), "read".to_string()]]);
    assert!(rank("container") < rank("codec"), "the container sits above the codecs");
    let t = targets("use super::super::stream::{self, Dest};", &here);
    assert_eq!(t, vec![vec!["codec".to_string(), "stream".to_string()]]);
    assert!(targets("let a = b::crate::x;", &here).is_empty());
}
