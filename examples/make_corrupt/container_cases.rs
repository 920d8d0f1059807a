//! Container mutations: header fields, the index (resealed so that its checks,
//! not its CRC, have to catch them), and the frames inside.

use crate::bases::Base;
use crate::corpus::Api::ContainerRead;
use crate::hostile::{reseal, reseal_container_header, reseal_container_index};
use crate::index;
use crate::mutate::{bump_u32, bump_u64, flip, get_u32, get_u64, put, with};
use crate::Corpus;
use llmc::model::Index;
use llmc::Error::*;

const REGION: usize = 33;

/// Where the index and its records are.
struct Layout {
    index: usize,
    n_regions: usize,
    /// The first entry record.
    entry0: usize,
}

impl Layout {
    fn of(c: &[u8]) -> Layout {
        let index = get_u64(c, 16) as usize;
        let n_regions = get_u32(c, index) as usize;
        Layout { index, n_regions, entry0: index + 4 + REGION * n_regions + 4 }
    }

    fn region(&self, i: usize) -> usize {
        self.index + 4 + REGION * i
    }
}

/// What every container gets: truncation, the header, and the index CRC.
pub fn add_few(c: &mut Corpus, base: &Base) {
    let (b, bf) = (&base.bytes, base.file);
    let stem = bf.trim_end_matches(".llmc").replace('.', "-");
    let name = |what: &str| format!("{stem}-{what}.llmc");
    c.add(bf, b.clone(), ContainerRead, &base.from, "unmutated", Ok(())).unverified(Ok(()));
    let both = |s| (s, s);
    let mut add = |what: &str, bytes: Vec<u8>, how: &str, (status, unverified)| {
        c.add(&name(what), bytes, ContainerRead, bf, how, status).unverified(unverified);
    };
    let l = Layout::of(b);
    add("cut-in-header", b[..40].to_vec(), "truncated to 40 bytes", both(Err(SrcTruncated)));
    add("cut-in-frames", b[..l.index / 2].to_vec(), &format!("truncated to {} bytes, among the frames (the index is gone)", l.index / 2), both(Err(SrcTruncated)));
    add("cut-last-byte", b[..b.len() - 1].to_vec(), "last byte (of the index CRC) removed", both(Err(SrcTruncated)));
    add("header-flipped", with(b, |f| flip(f, 8 * 8 + 2)), "bit 2 of the original size; header CRC not resealed", both(Err(ChecksumMismatch)));
    add("index-flipped", with(b, |f| flip(f, l.region(0) * 8 + 9)), "bit 1 of region 0's original size, in the index; index CRC not resealed", both(Err(ChecksumMismatch)));
    let at = l.entry0 + 4;
    add("entry-dtype-resealed", resealed_index(b, |f| f[at] ^= 1), "entry 0's dtype low bit flipped; index CRC resealed (the dtype is informational: the file still rebuilds)", both(Ok(())));
}

fn resealed_header(b: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    with(b, |f| {
        edit(f);
        reseal_container_header(f);
    })
}

fn resealed_index(b: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    with(b, |f| {
        edit(f);
        reseal_container_index(f);
    })
}

/// The version-11 container: its coded index checked by its own CRC.
pub fn add_version_11(c: &mut Corpus, base: &Base) {
    let (b, bf) = (&base.bytes, base.file);
    let name = |what: &str| format!("model-v11-{what}.llmc");
    c.add(bf, b.clone(), ContainerRead, &base.from, "unmutated", Ok(())).unverified(Ok(()));
    let mut add = |what: &str, bytes: Vec<u8>, how: &str, status| {
        c.add(&name(what), bytes, ContainerRead, bf, how, status).unverified(status);
    };
    let (at, size) = (get_u64(b, b.len() - 64 + 12) as usize, get_u64(b, b.len() - 64 + 20) as usize);
    let end = at + size;
    add("index-crc-flipped", with(b, |f| flip(f, (end - 1) * 8)), &format!("bit 0 of byte {}: the coded index's own CRC", end - 1), Err(ChecksumMismatch));
    add("index-payload-flipped", with(b, |f| flip(f, (at + 12) * 8 + 5)), &format!("bit 5 of byte {}, in the coded index's zstd frame", at + 12), Err(ChecksumMismatch));
    add("index-crc-zeroed", with(b, |f| f[end - 4..end].fill(0)), "the coded index's own CRC zeroed", Err(ChecksumMismatch));
    add("index-3-bytes", index::with_index_bytes(b, &[1, 2, 3]), "an index of 3 bytes (no room for its CRC); end record and trailer resealed", Err(Corrupt));
    let mut v10 = b.clone();
    v10[4] = 10;
    crate::hostile::reseal_container_header(&mut v10);
    add("as-version-10", v10, "version 10 header (resealed): the index's CRC read as part of its zstd payload", Err(Corrupt));
}

/// Everything, on the GGUF container; `tensor` names the Q4_K tensor whose frame
/// gets corrupted.
pub fn add(c: &mut Corpus, base: &Base, tensor: &str) {
    add_few(c, base);
    let (b, bf) = (&base.bytes, base.file);
    let name = |what: &str| format!("model-gguf-{what}.llmc");
    let both = |s| (s, s);
    let corrupt = both(Err(Corrupt));
    let mut add = |what: &str, bytes: Vec<u8>, how: &str, (status, unverified)| {
        c.add(&name(what), bytes, ContainerRead, bf, how, status).unverified(unverified);
    };
    let l = Layout::of(b);
    let len = b.len() as u64;
    add("cut-in-magic", b[..2].to_vec(), "truncated to 2 bytes", both(Err(SrcTruncated)));
    add("bad-magic", with(b, |f| f[3] = b'X'), "magic LLMC -> LLMX", both(Err(BadMagic)));
    add("version-12", resealed_header(b, |f| f[4] = 12), "container version 12 (newer than this library); header resealed", both(Err(VersionUnsupported)));
    add("flag-must-understand", resealed_header(b, |f| f[7] = 1), "flags bit 0 (must be understood, none defined); header resealed", both(Err(VersionUnsupported)));
    add("kind-9", resealed_header(b, |f| f[6] = 9), "source kind 9; header resealed", corrupt);
    add("size-2^41", resealed_header(b, |f| put(f, 8, &(1u64 << 41).to_le_bytes())), "original size 2^41 (over the 2^40 limit); header resealed", both(Err(LimitExceeded)));
    let orig = get_u64(b, 8);
    add("size-plus-1", resealed_header(b, |f| put(f, 8, &(orig + 1).to_le_bytes())), "original size + 1 (the regions no longer add up to it); header resealed", corrupt);
    add("index-past-end", resealed_header(b, |f| put(f, 16, &len.to_le_bytes())), "index offset = container length; header resealed", both(Err(SrcTruncated)));
    add("index-in-header", resealed_header(b, |f| put(f, 16, &10u64.to_le_bytes())), "index offset 10 (inside the header); header resealed", corrupt);
    add("index-size-overflow", resealed_header(b, |f| put(f, 24, &u64::MAX.to_le_bytes())), "index size 2^64 - 1 (offset + size overflows); header resealed", corrupt);
    add("sha-flipped", resealed_header(b, |f| flip(f, 32 * 8)), "bit 0 of the stored SHA-256 prefix; header resealed: the rebuilt file no longer matches", both(Err(ChecksumMismatch)));

    let r1 = l.region(1);
    let (n, e0) = (l.n_regions, l.entry0);
    add("regions-2^31", resealed_index(b, |f| put(f, l.index, &(1u32 << 31).to_le_bytes())), "region count 2^31 (over the 2^22 limit); index resealed", corrupt);
    add("regions-2^20", resealed_index(b, |f| put(f, l.index, &(1u32 << 20).to_le_bytes())), "region count 2^20 (under the limit, more than the index holds); index resealed", corrupt);
    add("entries-2^31", resealed_index(b, |f| put(f, e0 - 4, &(1u32 << 31).to_le_bytes())), "entry count 2^31; index resealed", corrupt);
    add("entries-plus-1", resealed_index(b, |f| bump_u32(f, e0 - 4, 1)), "entry count + 1 (the index ends first); index resealed", corrupt);
    add("entry-region-out-of-range", resealed_index(b, |f| put(f, e0, &(n as u32).to_le_bytes())), &format!("entry 0's region {n} (there are {n}); index resealed"), corrupt);
    add("entry-region-metadata", resealed_index(b, |f| put(f, e0, &0u32.to_le_bytes())), "entry 0 points at region 0 (metadata, not a tensor); index resealed", corrupt);
    add("entry-dims-9", resealed_index(b, |f| f[e0 + 8] = 9), "entry 0 with 9 dimensions (the limit is 8); index resealed", corrupt);
    let name_at = e0 + 9 + 8 * usize::from(b[e0 + 8]) + 2;
    add("entry-name-not-utf8", resealed_index(b, |f| f[name_at] = 0xff), "entry 0's name starts with byte 0xff; index resealed", corrupt);
    add("region-role-7", resealed_index(b, |f| f[r1 + 32] = 7), "region 1's role 7; index resealed", corrupt);
    add("region-gap", resealed_index(b, |f| bump_u64(f, r1, 1)), "region 1 starts one byte late (the regions no longer tile the file); index resealed", corrupt);
    let frame0 = get_u64(b, l.region(0) + 16);
    add("frames-overlap", resealed_index(b, |f| put(f, r1 + 16, &frame0.to_le_bytes())), "region 1's frame offset = region 0's; index resealed", corrupt);
    add("frame-past-index", resealed_index(b, |f| put(f, r1 + 16, &(l.index as u64).to_le_bytes())), "region 1's frame starts at the index; index resealed", corrupt);
    add("frame-size-minus-1", resealed_index(b, |f| bump_u64(f, r1 + 24, -1)), "region 1's frame size - 1 (its frame no longer fits); index resealed", corrupt);

    // The frames inside.
    let index = Index::open(b).unwrap();
    let r = index.regions[index.entries.get(index.find(tensor).unwrap()).unwrap().region as usize];
    let (fo, fs) = (r.frame_offset as usize, r.frame_size as usize);
    add("frame-header-flipped", with(b, |f| flip(f, (fo + 8) * 8)), &format!("{tensor}: bit 0 of its frame's content size; frame header not resealed"), both(Err(ChecksumMismatch)));
    let reframe = |edit: &dyn Fn(&mut Vec<u8>)| {
        with(b, |f| {
            let mut frame = f[fo..fo + fs].to_vec();
            edit(&mut frame);
            reseal(&mut frame);
            f[fo..fo + fs].copy_from_slice(&frame);
        })
    };
    add("frame-codec-99", reframe(&|fr| fr[6] = 99), &format!("{tensor}: its frame's codec id 99; frame resealed"), both(Err(CodecUnsupported)));
    let plane = fo + fs - 1;
    let how = format!("{tensor}: bit 0 of byte {plane}, the last of its frame (raw Q4_K index planes); not resealed");
    add("payload-flipped", with(b, |f| flip(f, plane * 8)), &how, both(Err(ChecksumMismatch)));
    let how = format!("{tensor}: bit 0 of its frame's last byte (raw index planes, invisible to the decoder); frame resealed: the SHA-256 catches it");
    add("payload-flipped-resealed", reframe(&|fr| *fr.last_mut().unwrap() ^= 1), &how, both(Err(ChecksumMismatch)));
    let how = format!("{tensor}: its frame's payload mode byte 9; frame resealed");
    let mode_at = 32 + 8 * llmc::frame::parse(&b[fo..fo + fs]).unwrap().chunks.len();
    add("payload-mode-9", reframe(&|fr| fr[mode_at] = 9), &how, corrupt);
}

/// Version 10: a batch region and a coded index (FORMAT.md §10.1, §10.3). The
/// index is edited as laid out in §10.3 and stored again (mode 0), so its
/// checks, not its CRC or zstd, have to catch the edit.
pub fn add_batches(c: &mut Corpus, base: &Base) {
    let (b, bf) = (&base.bytes, base.file);
    let name = |what: &str| format!("model-batched-{what}.llmc");
    let corrupt = (Err(Corrupt), Err(Corrupt));
    c.add(bf, b.clone(), ContainerRead, &base.from, "unmutated", Ok(())).unverified(Ok(()));
    let mut add = |what: &str, bytes: Vec<u8>, how: &str, (status, unverified)| {
        c.add(&name(what), bytes, ContainerRead, bf, how, status).unverified(unverified);
    };
    let raw = index::raw_index(b);
    add("index-stored", index::with_index(b, raw.clone()), "its index stored as it is (payload mode 0), as a writer keeps one zstd would shrink past 64 times", (Ok(()), Ok(())));
    // Entry 0's place in its batch: the two u32s after its name.
    let n_regions = get_u32(&raw, 0) as usize;
    let e0 = 4 + REGION * n_regions + 4;
    let entry = Index::open(b).unwrap().entries.get(0).map(|e| (e.shape.len(), e.name.len(), e.within.is_some())).unwrap();
    assert!(entry.2, "entry 0 is batched");
    let place = e0 + 9 + 8 * entry.0 + 2 + entry.1;
    let region = get_u32(&raw, e0) as usize;
    let region_size = get_u64(&raw, 4 + REGION * region + 8) as u32;
    let size = get_u32(&raw, place + 4);
    add("entry-place-past-region", index::with_raw_index(b, |f| put(f, place, &(region_size - size + 1).to_le_bytes())), &format!("entry 0's place in its batch one byte past the region's {region_size} bytes; index stored again"), corrupt);
    add("entry-size-0", index::with_raw_index(b, |f| put(f, place + 4, &0u32.to_le_bytes())), "entry 0's size in its batch 0; index stored again", corrupt);
    add("batch-region-role-1", index::with_raw_index(b, |f| f[4 + REGION * region + 32] = 1), &format!("region {region} (the batch) given role 1 in the index: its entries' places no longer parse; index stored again"), corrupt);
    let at = get_u64(b, b.len() - 64 + 12) as usize;
    let (len, payload) = (get_u64(b, at), b[at + 8..get_u64(b, b.len() - 64 + 20) as usize + at].to_vec());
    let with_bytes = |bytes: Vec<u8>| index::with_index_bytes(b, &bytes);
    let most = llmc::model::limits::max_index_len(payload.len() as u64);
    add("index-length-past-limit", with_bytes([&(most + 1).to_le_bytes()[..], &payload].concat()), &format!("the coded index declares {} bytes, one past what its {}-byte payload may (64 times, plus 1 MiB)", most + 1, payload.len()), corrupt);
    add("index-length-plus-1", with_bytes([&(len + 1).to_le_bytes()[..], &payload].concat()), "the coded index declares one byte more than its zstd frame holds", corrupt);
    add("index-mode-2", with_bytes([&len.to_le_bytes()[..], &[2], &payload[1..]].concat()), "the coded index's payload mode 2 (GGUF strings; an index is mode 0 or 1)", corrupt);
    let mut v9 = b.clone();
    v9[4] = 9;
    crate::hostile::reseal_container_header(&mut v9);
    add("version-9", index::with_index(&v9, raw), "version 9 header (resealed), its index stored as version 9 stores it: a batch region before version 10", corrupt);
}
