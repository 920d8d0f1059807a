//! The FUSE adapter: kernel requests answered from the tree (names, sizes) and
//! the readers (bytes). Read-only; every answer can be cached by the kernel for
//! as long as it likes, since nothing changes while mounted.

use super::tree::{Content, Node, Tree, ROOT};
use fuser::{Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, InitFlags, KernelConfig, LockOwner, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory, ReplyEntry, ReplyOpen, Request};
use std::cell::RefCell;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::sync::Mutex;
use std::time::Duration;

/// How long the kernel may keep names and attributes.
const TTL: Duration = Duration::from_secs(3600);
/// Largest read we ask the kernel for (and `st_blksize`, the I/O size readers use).
pub const MAX_READ: u32 = 1 << 20;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = RefCell::default();
}

pub struct MountFs {
    tree: Tree,
    uid: u32,
    gid: u32,
    /// Damaged chunks already reported: (inode, chunk).
    reported: Mutex<HashSet<(u64, usize)>>,
    /// Files are opened with FOPEN_DIRECT_IO (decided at init).
    direct_io: bool,
    /// The user asked for the page cache instead.
    page_cache: bool,
}

impl MountFs {
    pub fn new(tree: Tree, page_cache: bool) -> MountFs {
        // SAFETY: getuid and getgid cannot fail and have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        MountFs { tree, uid, gid, reported: Mutex::default(), direct_io: false, page_cache }
    }

    fn attr(&self, ino: u64, node: &Node) -> FileAttr {
        // Read-only: the source's read bits, so that a private model stays
        // private to the kernel's check (`default_permissions`) when other users
        // may see the mount; a folder may be searched by whoever may read it
        // (the root of a single container takes the container file's bits).
        let read = (node.mode & 0o444) as u16;
        let (kind, perm, nlink) = match node.content {
            Content::Dir(_) => (FileType::Directory, read | read >> 2, 2),
            _ => (FileType::RegularFile, read, 1),
        };
        FileAttr {
            ino: INodeNo(ino),
            size: node.size,
            blocks: node.size.div_ceil(512),
            atime: node.mtime,
            mtime: node.mtime,
            ctime: node.mtime,
            crtime: node.mtime,
            kind,
            perm,
            nlink,
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            flags: 0,
            blksize: MAX_READ,
        }
    }

    /// Logs a damaged chunk the first time a read touches it.
    fn report(&self, ino: u64, node: &Node, reader: &llmc::model::Reader, f: llmc::model::ReadFailure) {
        let first = self.reported.lock().unwrap_or_else(|e| e.into_inner()).insert((ino, f.chunk));
        if first {
            let (offset, len) = reader.chunk_span(f.chunk).unwrap_or_default();
            let what = reader.chunk_tensor(f.chunk).unwrap_or_else(|| "metadata".to_string());
            eprintln!(
                "llmc mount: {}: bytes {}..{} ({what}) cannot be decoded: {}; reads that touch them fail with EIO",
                node.source.display(),
                offset,
                offset + len,
                f.error
            );
        }
    }
}

impl Filesystem for MountFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // Larger kernel read-ahead means larger read requests; the kernel caps it.
        let _ = config.set_max_readahead(MAX_READ).or_else(|max| config.set_max_readahead(max));
        // Direct I/O for read(): the kernel copies our reply straight into the
        // reader's buffer instead of through its page cache (measured 2x faster
        // for `dd bs=1M`; the decoded-chunk cache still serves repeated reads).
        // mmap then needs DIRECT_IO_ALLOW_MMAP (Linux 6.6); without it, files
        // go through the page cache as usual.
        self.direct_io = !self.page_cache && config.add_capabilities(InitFlags::FUSE_DIRECT_IO_ALLOW_MMAP).is_ok();
        // Large direct reads are split into requests the kernel sends at once.
        let _ = config.add_capabilities(InitFlags::FUSE_ASYNC_DIO);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.tree.lookup(parent.0, name).and_then(|ino| Some((ino, self.tree.get(ino)?))) {
            Some((ino, node)) => reply.entry(&TTL, &self.attr(ino, node), Generation(0)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.tree.get(ino.0) {
            Some(node) => reply.attr(&TTL, &self.attr(ino.0, node)),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.tree.get(ino.0).map(|n| &n.content) {
            // Direct I/O when the kernel can still mmap such files; otherwise the
            // page cache, kept across opens since the bytes never change.
            Some(Content::Container(_) | Content::Plain(_)) => {
                reply.opened(FileHandle(0), if self.direct_io { FopenFlags::FOPEN_DIRECT_IO } else { FopenFlags::FOPEN_KEEP_CACHE })
            }
            Some(Content::Dir(_)) => reply.error(Errno::EISDIR),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn read(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, size: u32, _flags: OpenFlags, _lock: Option<LockOwner>, reply: ReplyData) {
        let Some(node) = self.tree.get(ino.0) else { return reply.error(Errno::ENOENT) };
        // Inside one decoded chunk (most reads of up to 1 MiB): the reply is
        // written to the kernel from the cache, without a copy here.
        let mut reply = Some(reply);
        if let Content::Container(reader) = &node.content {
            let shared = reader.read_in_chunk(offset, size as usize, |bytes| {
                if let Some(r) = reply.take() {
                    r.data(bytes);
                }
            });
            match shared {
                Some(Ok(())) => return,
                Some(Err(f)) => {
                    self.report(ino.0, node, reader, f);
                    return reply.take().map_or((), |r| r.error(Errno::EIO));
                }
                None => {}
            }
        }
        let Some(reply) = reply else { return };
        BUFFER.with(|b| {
            let mut buf = b.borrow_mut();
            let want = (size as u64).min(node.size.saturating_sub(offset)) as usize;
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let out = &mut buf[..want];
            let result = match &node.content {
                Content::Container(reader) => reader.read_at(offset, out).map_err(|f| {
                    self.report(ino.0, node, reader, f);
                    Errno::EIO
                }),
                Content::Plain(file) => llmc::io::read_at_full(file, out, offset).map_err(|_| Errno::EIO),
                Content::Dir(_) => Err(Errno::EISDIR),
            };
            match result {
                Ok(n) => reply.data(&out[..n]),
                Err(e) => reply.error(e),
            }
        });
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let Some(node) = self.tree.get(ino.0) else { return reply.error(Errno::ENOENT) };
        let Content::Dir(children) = &node.content else { return reply.error(Errno::ENOTDIR) };
        let parent = if ino.0 == ROOT { ROOT } else { node.parent };
        let dots = [(ino.0, FileType::Directory, OsStr::new(".")), (parent, FileType::Directory, OsStr::new(".."))];
        let rest = children.iter().map(|(name, &child)| {
            let kind = match self.tree.get(child).map(|n| &n.content) {
                Some(Content::Dir(_)) => FileType::Directory,
                _ => FileType::RegularFile,
            };
            (child, kind, name.as_os_str())
        });
        // Offsets are positions in this listing (the next entry to return).
        for (i, (child, kind, name)) in dots.into_iter().chain(rest).enumerate().skip(offset as usize) {
            if reply.add(INodeNo(child), i as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }
}
