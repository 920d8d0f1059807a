//! What the mount shows: an inode table built once, at start, from SRC. A
//! container `X.llmc` appears as `X` (its original bytes); in a directory made
//! by `llmc compress DIR`, every other file appears as it is, so the original
//! tree is back. Names and sizes come from the containers' indexes; nothing is
//! decoded to list or stat a file.

use crate::files::{self, Kind};
use llmc::model::{ReadEngine, Reader};
use llmc::DecodeOptions;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

pub const ROOT: u64 = 1;

pub enum Content {
    Dir(BTreeMap<OsString, u64>),
    /// A container, read through the cache.
    Container(Arc<Reader>),
    /// Any other file, read as it is.
    Plain(File),
}

pub struct Node {
    pub parent: u64,
    pub content: Content,
    pub size: u64,
    pub mtime: SystemTime,
    /// The source's permission bits (only its read and search bits are shown:
    /// a private container stays private under `--allow-other`).
    pub mode: u32,
    /// The file it comes from, for messages.
    pub source: PathBuf,
}

/// Inode `i` is `nodes[i - 1]`; the root is inode 1.
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    pub fn get(&self, ino: u64) -> Option<&Node> {
        self.nodes.get(usize::try_from(ino).ok()?.checked_sub(1)?)
    }

    pub fn lookup(&self, parent: u64, name: &OsStr) -> Option<u64> {
        match &self.get(parent)?.content {
            Content::Dir(children) => children.get(name).copied(),
            _ => None,
        }
    }

    fn push(&mut self, node: Node) -> u64 {
        self.nodes.push(node);
        self.nodes.len() as u64
    }

    fn add_child(&mut self, dir: u64, name: OsString, child: u64) -> Result<(), String> {
        let Content::Dir(children) = &mut self.nodes[dir as usize - 1].content else { unreachable!("children are added to directories") };
        if let Some(old) = children.insert(name.clone(), child) {
            children.insert(name.clone(), old);
            let (a, b) = (&self.nodes[old as usize - 1].source, &self.nodes[child as usize - 1].source);
            return Err(format!("{} and {} would both appear as {}", a.display(), b.display(), name.to_string_lossy()));
        }
        Ok(())
    }

    /// The tree for SRC: a container (shown alone at the root) or a directory.
    pub fn build(src: &Path, engine: &Arc<ReadEngine>, opts: &DecodeOptions) -> Result<Tree, String> {
        let meta = std::fs::metadata(src).map_err(|e| format!("{}: {e}", src.display()))?;
        let mut tree = Tree { nodes: Vec::new() };
        let root = tree.push(dir_node(ROOT, src, &meta));
        if meta.is_dir() {
            tree.add_dir(root, src, engine, opts)?;
        } else {
            let name = shown_name(src.file_name().unwrap_or_default());
            let node = open_container(src, &meta, root, engine, opts)?.ok_or_else(|| match head_kind(src) {
                // A frame (one raw tensor) has no file to show: say what it is.
                Ok(Kind::Frame) => format!("{} is an llmc frame (one raw tensor), not a container: `llmc decompress` rebuilds it; mount shows containers", src.display()),
                _ => format!("{} is not an llmc container", src.display()),
            })?;
            let ino = tree.push(node);
            tree.add_child(root, name, ino)?;
        }
        Ok(tree)
    }

    fn add_dir(&mut self, dir: u64, path: &Path, engine: &Arc<ReadEngine>, opts: &DecodeOptions) -> Result<(), String> {
        let list = std::fs::read_dir(path).map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        let mut entries = list.collect::<Result<Vec<_>, _>>().map_err(|e| format!("cannot list {}: {e}", path.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            if is_temporary(&name) {
                continue;
            }
            let child_path = entry.path();
            // Follows symbolic links, like a reader opening the path would.
            let Ok(meta) = std::fs::metadata(&child_path) else { continue };
            if meta.is_dir() {
                let ino = self.push(dir_node(dir, &child_path, &meta));
                self.add_child(dir, name, ino)?;
                self.add_dir(ino, &child_path, engine, opts)?;
            } else if meta.is_file() {
                let (name, node) = match open_container(&child_path, &meta, dir, engine, opts)? {
                    Some(node) => (shown_name(&name), node),
                    None => (name, plain_node(&child_path, &meta, dir)?),
                };
                let ino = self.push(node);
                self.add_child(dir, name, ino)?;
            }
        }
        Ok(())
    }
}

/// `model.gguf.llmc` is shown as `model.gguf`.
fn shown_name(name: &OsStr) -> OsString {
    // On the bytes: a name that is not UTF-8 loses its suffix too, as
    // `decompress` names it (found by an outside test).
    use std::os::unix::ffi::OsStrExt;
    match name.as_bytes().strip_suffix(b".llmc") {
        Some(stem) if !stem.is_empty() => OsStr::from_bytes(stem).to_owned(),
        _ => name.to_owned(),
    }
}

/// Left behind by an interrupted `llmc compress` (`.NAME.llmc-tmp-PID-N`).
fn is_temporary(name: &OsStr) -> bool {
    let s = name.to_string_lossy();
    s.starts_with('.') && s.contains(".llmc-tmp-")
}

fn mode(meta: &std::fs::Metadata) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&meta.permissions())
}

fn mtime(meta: &std::fs::Metadata) -> SystemTime {
    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)
}

fn dir_node(parent: u64, path: &Path, meta: &std::fs::Metadata) -> Node {
    Node { parent, content: Content::Dir(BTreeMap::new()), size: 0, mtime: mtime(meta), mode: mode(meta), source: path.to_path_buf() }
}

fn plain_node(path: &Path, meta: &std::fs::Metadata, parent: u64) -> Result<Node, String> {
    let f = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(Node { parent, content: Content::Plain(f), size: meta.len(), mtime: mtime(meta), mode: mode(meta), source: path.to_path_buf() })
}

/// What `path` is, by its magic.
fn head_kind(path: &Path) -> Result<Kind, String> {
    use std::io::Read;
    let mut head = Vec::with_capacity(4);
    File::open(path).and_then(|f| f.take(4).read_to_end(&mut head)).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(files::kind(&head))
}

/// A node for `path` if it is a container (by its magic); `None` for other files.
fn open_container(path: &Path, meta: &std::fs::Metadata, parent: u64, engine: &Arc<ReadEngine>, opts: &DecodeOptions) -> Result<Option<Node>, String> {
    if head_kind(path)? != Kind::Container {
        return Ok(None);
    }
    let reader = Reader::open_file(path, engine, opts).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(Node { parent, size: reader.size(), content: Content::Container(reader), mtime: mtime(meta), mode: mode(meta), source: path.to_path_buf() }))
}
