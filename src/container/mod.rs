//! The `.llmc` container: a file cut into regions (contiguous byte ranges of the
//! original, in order, covering it exactly), each stored as an independent frame,
//! plus an index of named entries (tensors) pointing at regions. A reader decodes
//! only the chunks a request touches; the original file is rebuilt byte for byte.
//!
//! ```text
//! header (64 bytes)
//!   0  4  magic "LLMC"
//!   4  2  container version (1 here; versions 2 to 10, written now: FORMAT.md §10.1)
//!   6  1  source kind: 1 GGUF, 2 safetensors, 3 opaque file
//!   7  1  flags (bits 0-3 must be understood; none defined)
//!   8  8  original size
//!  16  8  index offset
//!  24  8  index size
//!  32 28  SHA-256 of the original file, first 28 bytes
//!  60  4  CRC32C of bytes 0..60
//! frames, one per region, in region order (each a complete LLMF frame)
//! index
//!   u32 n_regions, then per region:
//!     u64 original offset, u64 original size, u64 frame offset, u64 frame size, u8 role
//!   u32 n_entries, then per entry:
//!     u32 region, u32 dtype (the source's type id: ggml type for GGUF, safetensors
//!     dtype id for safetensors), u8 n_dims (<= 8), u64 dims[n_dims] (the source's
//!     order: ggml's ne[] for GGUF, row-major for safetensors),
//!     u16 name length, name bytes,
//!     and where its region is a batch (role 5, version 10): u32 offset in the
//!     region, u32 size
//!   u32 CRC32C of the index bytes before it
//!   (version 10 stores it coded: u64 its length, then a zstd payload of it)
//! ```
//! A region with frame size 0 is all zero bytes; only padding (role 2) may be
//! frameless. Limits on what an index records: [`limits`].

pub mod batch;
pub mod build;
pub mod entries;
pub mod limits;
pub mod original_hash;
pub mod load;
pub mod outline;
pub mod read;
pub mod stream;
pub mod reader;
pub mod write;

use crate::error::{Error, Result};

pub const MAGIC: [u8; 4] = *b"LLMC";
/// The version written: version 2's layout, where a tensor larger than a
/// region's limit continues in regions of role 4 (`Role::Continuation`), so no
/// frame a one-pass writer holds grows with the tensor. Versions 1 (index offset
/// in the header) and 2 (no continuations) are still read. Version 4 adds zstd
/// payload mode 2 (GGUF strings, [`crate::codec::strings`]). Version 5 adds
/// bf16 payload mode 2 (row classes, [`crate::codec::bf16::rows`]). Version 6
/// adds q4k payload mode 2 (headers as fields, [`crate::codec::q4k`]). Version
/// 7 adds bf16 payload modes 3 and 4 (lanes that carry raw bytes,
/// [`crate::rans::carry_states`]). Version 8 adds field layouts with a fold
/// (Q5_0 and Q5_1 quants, [`crate::format::quant_fold`]). Version 9 adds zstd
/// payload mode 3 (GGUF numeric arrays as word differences,
/// [`crate::codec::words`]). Version 10 adds batch regions (role 5,
/// `Role::Batch`): runs of tiny tensors in one frame, each entry saying where
/// in it its tensor lies, and a coded index (its length, then a zstd payload,
/// [`write::coded_index`]). Version 11 adds field layouts that code a 16-bit
/// field as ranks in a list of the chunk's values (Q8_0 scales,
/// [`crate::codec::ranks`]). A writer marks a container with the lowest version
/// that reads all its regions.
pub const VERSION: u16 = 11;
/// Fields coded as ranks.
pub const VERSION_11: u16 = 11;
/// Batch regions and a coded index.
pub const VERSION_10: u16 = 10;
/// GGUF numeric arrays as word differences.
pub const VERSION_9: u16 = 9;
/// Folded quants.
pub const VERSION_8: u16 = 8;
/// bf16 lanes that carry raw bytes.
pub const VERSION_7: u16 = 7;
pub const VERSION_6: u16 = 6;
pub const VERSION_5: u16 = 5;
pub const VERSION_4: u16 = 4;
pub const VERSION_3: u16 = 3;
pub const VERSION_2: u16 = 2;
pub const VERSION_1: u16 = 1;
/// Versions 2 and later share version 2's layout (records, end record, trailer);
/// the number only says which frame modes may occur.
pub fn has_v2_layout(version: u16) -> bool {
    (VERSION_2..=VERSION).contains(&version)
}
/// Header size of version 1.
pub const HEADER_SIZE: usize = 64;
/// Header size of version 2.
pub const HEADER_SIZE_V2: usize = 16;
/// Version 2: the record before each region's frame, and the end record.
pub const RECORD_MAGIC: [u8; 4] = *b"LLMR";
pub const END_MAGIC: [u8; 4] = *b"LLMX";
pub const RECORD_SIZE: usize = 36;
/// Version 2: the trailer, the container's last bytes.
pub const TRAILER_MAGIC: [u8; 4] = *b"LLMT";
pub const TRAILER_SIZE: usize = 64;
const REGION_ENTRY: usize = 33;

pub use limits::{MAX_DIMS, MAX_ENTRIES, MAX_REGIONS};

/// What the original file was.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Gguf = 1,
    Safetensors = 2,
    Opaque = 3,
}

impl SourceKind {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(SourceKind::Gguf),
            2 => Some(SourceKind::Safetensors),
            3 => Some(SourceKind::Opaque),
            _ => None,
        }
    }
}

/// What a region holds.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Headers, key-values, tensor descriptions: what a parser reads first.
    Metadata = 0,
    Tensor = 1,
    /// Bytes between tensors (alignment).
    Padding = 2,
    /// Anything after the last tensor.
    Trailing = 3,
    /// The next part of the tensor in the region before it (version 3): a large
    /// tensor is stored as a tensor region and continuations, each its own frame.
    Continuation = 4,
    /// Several whole tiny tensors that follow each other in the original, and
    /// any padding between them, in one frame (version 10): a tensor of a few
    /// bytes does not pay for a frame, a record and an index region of its own.
    /// Each of its entries says where in it its tensor lies.
    Batch = 5,
}

impl Role {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Role::Metadata),
            1 => Some(Role::Tensor),
            2 => Some(Role::Padding),
            3 => Some(Role::Trailing),
            4 => Some(Role::Continuation),
            5 => Some(Role::Batch),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub orig_offset: u64,
    pub orig_size: u64,
    pub frame_offset: u64,
    pub frame_size: u64,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub region: u32,
    pub dtype: u32,
    pub shape: Vec<u64>,
    pub name: String,
    /// In a batch region: the tensor's offset in the region and its size.
    pub within: Option<(u32, u32)>,
}

/// What the index says about a tensor, before it has a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorDesc {
    pub name: String,
    pub dtype: u32,
    pub shape: Vec<u64>,
}

/// Checks that a region of `role` may follow one of `prev` in a container of
/// `version`: a continuation only in versions 3 and later and only after a
/// tensor or another continuation (it belongs to that tensor); a batch only in
/// version 10 and later.
fn check_role_order(version: u16, prev: Option<Role>, role: Role) -> Result<()> {
    check(role != Role::Continuation || (version >= VERSION_3 && matches!(prev, Some(Role::Tensor | Role::Continuation))))?;
    check(role != Role::Batch || version >= VERSION_10)
}

fn check(cond: bool) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::Corrupt)
    }
}
