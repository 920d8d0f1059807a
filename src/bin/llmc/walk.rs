//! Listing a directory tree for the directory commands: every regular file,
//! symbolic links to regular files followed (a Hugging Face cache snapshot is
//! all links into `../../blobs/`), and everything that cannot be carried named
//! with its reason: special files, broken links, directory loops.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A regular file found under the root.
pub struct Found {
    /// Relative to the root.
    pub rel: PathBuf,
    /// Where the link points, if `rel` is a symbolic link that was followed.
    pub link: Option<PathBuf>,
    /// Device and inode of the file itself (after following links).
    pub id: (u64, u64),
    pub len: u64,
}

/// Everything under a root: what can be carried and what cannot.
pub struct Listing {
    /// Sorted by relative path.
    pub files: Vec<Found>,
    /// Relative path and why it is left out, sorted.
    pub skipped: Vec<(PathBuf, String)>,
    /// Every directory below the root (relative, sorted), so that empty ones
    /// are carried too.
    pub dirs: Vec<PathBuf>,
    /// Symbolic links to directories that were followed, with their targets.
    pub linked_dirs: Vec<(PathBuf, PathBuf)>,
}

/// What a non-regular, non-directory file is, for messages.
fn special_kind(t: &std::fs::FileType) -> &'static str {
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

fn id(m: &std::fs::Metadata) -> (u64, u64) {
    (m.dev(), m.ino())
}

/// Lists `root`. Links are followed, to files and to directories; a directory
/// met again inside itself (a loop) is skipped.
pub fn walk(root: &Path) -> Result<Listing, String> {
    let mut out = Listing { files: Vec::new(), skipped: Vec::new(), dirs: Vec::new(), linked_dirs: Vec::new() };
    let top = std::fs::metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    // Each directory to list, with the identities of the directories above it.
    let mut stack = vec![(PathBuf::new(), vec![id(&top)])];
    while let Some((rel, ancestors)) = stack.pop() {
        let here = root.join(&rel);
        let entries = std::fs::read_dir(&here).map_err(|e| format!("cannot list {}: {e}", here.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {}: {e}", here.display()))?;
            let rel = rel.join(entry.file_name());
            let path = root.join(&rel);
            let own = entry.file_type().map_err(|e| format!("{}: {e}", path.display()))?;
            let link = if own.is_symlink() { Some(std::fs::read_link(&path).map_err(|e| format!("{}: {e}", path.display()))?) } else { None };
            let meta = match std::fs::metadata(&path) {
                Ok(m) => m,
                Err(e) if link.is_some() => {
                    out.skipped.push((rel, format!("symbolic link to {} that cannot be followed ({e})", link.unwrap_or_default().display())));
                    continue;
                }
                Err(e) => return Err(format!("{}: {e}", path.display())),
            };
            let t = meta.file_type();
            if t.is_dir() {
                if ancestors.contains(&id(&meta)) {
                    out.skipped.push((rel, "directory loop (a link to a directory that contains it)".into()));
                    continue;
                }
                let mut below = ancestors.clone();
                below.push(id(&meta));
                out.dirs.push(rel.clone());
                if let Some(l) = link {
                    out.linked_dirs.push((rel.clone(), l));
                }
                stack.push((rel, below));
            } else if t.is_file() {
                out.files.push(Found { rel, link, id: id(&meta), len: meta.len() });
            } else {
                let what = special_kind(&t);
                let why = match link {
                    Some(l) => format!("symbolic link to {}, which is {what}; only regular files are carried", l.display()),
                    None => format!("{what}; only regular files are carried"),
                };
                out.skipped.push((rel, why));
            }
        }
    }
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.skipped.sort();
    out.dirs.sort();
    out.linked_dirs.sort();
    Ok(out)
}

/// `path` made absolute with its links resolved, for comparing locations. A
/// path that does not exist yet is resolved through its nearest existing parent.
pub fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) if parent != abs => resolved(parent).join(name),
        _ => abs,
    }
}
