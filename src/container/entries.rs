//! A container's named entries as a reader holds them: one fixed-size record
//! per entry, every name in one NUL-separated array (so C callers get pointers
//! into it), every dimension in another, and a hash table from name to entry
//! built at open, so a lookup by name costs one hash whatever the count.
//!
//! Memory: 24 bytes per record, at most 16 per entry of hash slots, the names
//! plus one byte each, the dimensions as they are stored and a batch member's
//! place (8 bytes in the index, 16 here); allocated exactly once, after a first
//! pass has checked every entry. With the 33-byte regions that stays under four
//! times the index's size (`limits::decode_overhead`).

use super::limits::{MAX_DIMS, MAX_NAME};
use super::{check, Region, Role};
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use core::ffi::CStr;
use std::hash::BuildHasher;

/// One entry, borrowed from its table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    pub region: u32,
    pub dtype: u32,
    /// The source's order: ggml's `ne[]` for GGUF, outermost first for safetensors.
    pub shape: &'a [u64],
    pub name: &'a str,
    /// In a batch region (`Role::Batch`): the tensor's offset in the region and
    /// its size. Otherwise the tensor is its region and any continuations.
    pub within: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Copy)]
struct Record {
    name_at: usize,
    region: u32,
    dtype: u32,
    dims_at: u32,
    name_len: u16,
    /// The dimension count; [`BATCHED`] set when the two values after the
    /// dimensions are the entry's place in its batch region.
    n_dims: u8,
}

const EMPTY: u32 = u32::MAX;
const BATCHED: u8 = 0x80;

#[derive(Debug, Clone, Default)]
pub struct Entries {
    records: Vec<Record>,
    /// Each name followed by a NUL.
    names: Vec<u8>,
    dims: Vec<u64>,
    /// Open addressing, linear probing; a power of two at least twice the entries.
    slots: Vec<u32>,
    /// Keys drawn per table: a crafted set of names cannot make them collide.
    hasher: std::collections::hash_map::RandomState,
}

/// One entry as the index stores it.
struct Raw<'a> {
    region: u32,
    dtype: u32,
    dims: &'a [u8],
    name: &'a [u8],
    within: Option<(u64, u64)>,
}

/// Reads one entry's fields, checking them against the limits and `regions`.
fn read_one<'a>(r: &mut ByteReader<'a>, regions: &[Region]) -> Result<Raw<'a>> {
    let region = r.u32()?;
    let dtype = r.u32()?;
    let n_dims = usize::from(r.u8()?);
    check(n_dims <= MAX_DIMS)?;
    let dims = r.take(8 * n_dims)?;
    let len = usize::from(r.u16()?);
    check(len <= MAX_NAME)?;
    let name = r.take(len)?;
    // C callers get names as C strings; the writer refuses NULs.
    check(std::str::from_utf8(name).is_ok() && !name.contains(&0))?;
    let g = regions.get(region as usize).ok_or(Error::Corrupt)?;
    // A batch member says where in its region it lies, inside it and not empty
    // (batches occur only in version 10, which `check_role_order` enforced).
    let within = match g.role {
        Role::Tensor => None,
        Role::Batch => {
            let (offset, size) = (u64::from(r.u32()?), u64::from(r.u32()?));
            check(size > 0 && offset + size <= g.orig_size)?;
            Some((offset, size))
        }
        _ => return Err(Error::Corrupt),
    };
    Ok(Raw { region, dtype, dims, name, within })
}

impl Entries {
    /// Reads `n` entries (their count already checked against the limit) from
    /// `r`. Every entry is checked in a first pass; only then is anything
    /// allocated, at its exact size.
    pub(super) fn read(r: &mut ByteReader<'_>, n: usize, regions: &[Region]) -> Result<Entries> {
        check(n <= super::MAX_ENTRIES && n.saturating_mul(11) <= r.remaining())?;
        let (mut name_bytes, mut n_dims) = (0usize, 0usize);
        let mut first = r.clone();
        for _ in 0..n {
            let e = read_one(&mut first, regions)?;
            name_bytes += e.name.len() + 1;
            n_dims += e.dims.len() / 8 + if e.within.is_some() { 2 } else { 0 };
        }
        let n_slots = (2 * n).next_power_of_two().max(1);
        let mut t = Entries {
            records: Vec::with_capacity(n),
            names: Vec::with_capacity(name_bytes),
            dims: Vec::with_capacity(n_dims),
            slots: vec![EMPTY; n_slots],
            hasher: Default::default(),
        };
        for i in 0..n {
            let Raw { region, dtype, dims, name, within } = read_one(r, regions)?;
            let record = Record {
                name_at: t.names.len(),
                region,
                dtype,
                dims_at: t.dims.len() as u32,
                name_len: name.len() as u16,
                n_dims: (dims.len() / 8) as u8 | if within.is_some() { BATCHED } else { 0 },
            };
            t.names.extend_from_slice(name);
            t.names.push(0);
            t.dims.extend(dims.chunks_exact(8).map(|d| u64::from_le_bytes(d.try_into().expect("8 bytes"))));
            if let Some((offset, size)) = within {
                t.dims.extend([offset, size]);
            }
            t.records.push(record);
            t.insert(i as u32);
        }
        Ok(t)
    }

    fn slot_of(&self, name: &[u8]) -> usize {
        self.hasher.hash_one(name) as usize & (self.slots.len() - 1)
    }

    /// Adds entry `i` to the hash table unless an earlier entry has its name
    /// (lookups find the first, as a scan would).
    fn insert(&mut self, i: u32) {
        let name = self.name_bytes(i as usize);
        let mut s = self.slot_of(name);
        loop {
            match self.slots[s] {
                EMPTY => {
                    self.slots[s] = i;
                    return;
                }
                j if self.name_bytes(j as usize) == name => return,
                _ => s = (s + 1) & (self.slots.len() - 1),
            }
        }
    }

    fn name_bytes(&self, i: usize) -> &[u8] {
        let r = &self.records[i];
        &self.names[r.name_at..r.name_at + usize::from(r.name_len)]
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<EntryRef<'_>> {
        let r = self.records.get(i)?;
        let (dims, n) = (r.dims_at as usize, usize::from(r.n_dims & !BATCHED));
        Some(EntryRef {
            region: r.region,
            dtype: r.dtype,
            shape: &self.dims[dims..dims + n],
            // Checked to be UTF-8 when read.
            name: core::str::from_utf8(self.name_bytes(i)).unwrap_or_default(),
            within: (r.n_dims & BATCHED != 0).then(|| (self.dims[dims + n], self.dims[dims + n + 1])),
        })
    }

    /// Entry `i`'s name as a C string (NUL-terminated, no inner NUL).
    pub fn c_name(&self, i: usize) -> Option<&CStr> {
        let r = self.records.get(i)?;
        CStr::from_bytes_with_nul(&self.names[r.name_at..=r.name_at + usize::from(r.name_len)]).ok()
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter { table: self, next: 0 }
    }

    /// The first entry called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        if self.records.is_empty() {
            return None;
        }
        let name = name.as_bytes();
        let mut s = self.slot_of(name);
        loop {
            match self.slots[s] {
                EMPTY => return None,
                j if self.name_bytes(j as usize) == name => return Some(j as usize),
                _ => s = (s + 1) & (self.slots.len() - 1),
            }
        }
    }

    /// Heap bytes this table holds (for the documented bound).
    pub fn heap_size(&self) -> usize {
        self.records.capacity() * core::mem::size_of::<Record>() + self.names.capacity() + 8 * self.dims.capacity() + 4 * self.slots.capacity()
    }
}

/// The entries in index order.
pub struct Iter<'a> {
    table: &'a Entries,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        let e = self.table.get(self.next)?;
        self.next += 1;
        Some(e)
    }
}

impl<'a> IntoIterator for &'a Entries {
    type Item = EntryRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
