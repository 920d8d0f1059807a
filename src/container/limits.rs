//! What a container can record: one definition of every limit, shared by the
//! writer, which refuses anything past them before it codes a byte, and the
//! reader, which rejects anything past them before it allocates. A file the
//! writer accepts is therefore always one the reader opens.

use super::{Role, TensorDesc};
use crate::error::Error;
use core::fmt;

/// Most regions an index may list.
pub const MAX_REGIONS: usize = 1 << 22;
/// Most entries (named tensors) an index may list.
pub const MAX_ENTRIES: usize = 1 << 21;
/// Longest entry name in bytes (the index stores the length in 16 bits; readers
/// accept at most this).
pub const MAX_NAME: usize = 1 << 12;
/// Most dimensions an entry records.
pub const MAX_DIMS: usize = 8;
/// Largest original file (a container's header is checked against it, as every
/// frame's content size is).
pub const MAX_ORIGINAL_SIZE: u64 = crate::format::limits::MAX_CONTENT_SIZE;

/// Why a file cannot be written as a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unfit {
    /// An entry name longer than [`MAX_NAME`] bytes.
    NameTooLong { name_prefix: String, len: usize },
    /// An entry name with a NUL byte (C readers get names as C strings).
    NameHasNul { name_prefix: String },
    TooManyDims { name_prefix: String, n_dims: usize },
    TooManyEntries(usize),
    TooManyRegions(usize),
    TooLarge(u64),
}

impl Unfit {
    /// The status the writer returns.
    pub fn status(&self) -> Error {
        match self {
            Unfit::NameHasNul { .. } => Error::InvalidArgument,
            _ => Error::LimitExceeded,
        }
    }
}

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unfit::NameTooLong { name_prefix, len } => {
                write!(f, "tensor name \"{name_prefix}...\" is {len} bytes; a container records names of at most {MAX_NAME} bytes")
            }
            Unfit::NameHasNul { name_prefix } => write!(f, "tensor name \"{}\" contains a NUL byte, which a container cannot record", name_prefix.escape_debug()),
            Unfit::TooManyDims { name_prefix, n_dims } => {
                write!(f, "tensor \"{name_prefix}\" has {n_dims} dimensions; a container records at most {MAX_DIMS}")
            }
            Unfit::TooManyEntries(n) => write!(f, "{n} tensors; a container records at most {MAX_ENTRIES}"),
            Unfit::TooManyRegions(n) => write!(f, "{n} regions; a container records at most {MAX_REGIONS}"),
            Unfit::TooLarge(n) => write!(f, "{n} bytes; a container holds files of at most {MAX_ORIGINAL_SIZE} bytes"),
        }
    }
}

/// The first 64 characters of a name, for messages.
fn prefix(name: &str) -> String {
    name.chars().take(64).collect()
}

/// Can an entry with this name and shape be recorded?
pub fn check_entry(name: &str, n_dims: usize) -> Result<(), Unfit> {
    if name.len() > MAX_NAME {
        return Err(Unfit::NameTooLong { name_prefix: prefix(name), len: name.len() });
    }
    if name.as_bytes().contains(&0) {
        return Err(Unfit::NameHasNul { name_prefix: prefix(name) });
    }
    if n_dims > MAX_DIMS {
        return Err(Unfit::TooManyDims { name_prefix: prefix(name), n_dims });
    }
    Ok(())
}

/// Can a file of `original_size` bytes cut into these regions, with these
/// entries, be recorded?
pub fn check_index<'a>(original_size: u64, n_regions: usize, entries: impl Iterator<Item = &'a TensorDesc>) -> Result<(), Unfit> {
    if original_size > MAX_ORIGINAL_SIZE {
        return Err(Unfit::TooLarge(original_size));
    }
    if n_regions > MAX_REGIONS {
        return Err(Unfit::TooManyRegions(n_regions));
    }
    let mut n = 0usize;
    for e in entries {
        check_entry(&e.name, e.shape.len())?;
        n += 1;
    }
    if n > MAX_ENTRIES {
        return Err(Unfit::TooManyEntries(n));
    }
    Ok(())
}

/// Most bytes a version-10 index coded in `coded` bytes may declare (FORMAT.md
/// §10.3): 64 times its size, plus 1 MiB. A reader allocates the declared size
/// before it decodes, so a few bytes cannot claim gigabytes; a writer stores an
/// index that would code smaller than this allows (the longest shared name
/// prefixes) as it is, so every index it writes is read.
pub fn max_index_len(coded: u64) -> u64 {
    coded.saturating_mul(64).saturating_add(1 << 20)
}

/// Most bytes of the original one tensor or padding region holds: a larger
/// tensor continues in regions of role `Continuation` (the same method, chosen
/// by its first region), larger padding in more padding regions. What the
/// writer holds — a frame for an output that cannot seek, every candidate's
/// payloads while a region's method is chosen — stays within this, whatever
/// the tensor's size.
pub const MAX_REGION_BYTES: u64 = 8 << 20;

/// May a region of this role be stored without a frame (all zero bytes)? Only
/// padding: an entry's region always has a frame, so no tensor can claim a
/// size its container does not back with coded bytes.
pub fn may_be_frameless(role: Role) -> bool {
    role == Role::Padding
}
