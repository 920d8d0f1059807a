//! Tiny tensors side by side share one batch region (container version 10,
//! FORMAT.md §10.1). Real data: the issue-15 FP8 recipe on the fp32
//! all-MiniLM-L6-v2 (`llmc fetch minilm`), laid out as the safetensors library
//! writes files (by dtype, then name), so its 104 F32 tensors (scales, norms,
//! biases) follow each other as in a real FP8 checkpoint.

mod common;

use common::hostile::reseal_container_header;
use common::index::{raw_index, with_index, with_index_bytes, with_raw_index};
use common::st;
use common::{fetched, isas_under_test, opts, stream_decode};
use llmc::model::{compress, decompress, read_outline, Index, Role};
use llmc::{CompressParams, DecodeOptions, Error};
use std::sync::OnceLock;

/// The FP8 checkpoint in the safetensors library's order.
fn fp8() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let fp8 = st::to_fp8(&std::fs::read(fetched("minilm")).unwrap());
        let (mut tensors, metadata) = st::read(&fp8);
        st::safetensors_order(&mut tensors);
        st::write(&tensors, metadata.as_ref())
    })
}

fn container() -> &'static [u8] {
    static C: OnceLock<Vec<u8>> = OnceLock::new();
    C.get_or_init(|| compress(fp8(), &CompressParams { n_threads: 2, ..Default::default() }, None).unwrap())
}

#[test]
fn tiny_tensors_share_batches_and_each_reads_back_alone() {
    let (file, c) = (fp8(), container());
    assert_eq!(&c[4..6], &10u16.to_le_bytes());
    let index = Index::open(c).unwrap();
    let batches = index.regions.iter().filter(|r| r.role == Role::Batch).count();
    let batched = index.entries.iter().filter(|e| e.within.is_some()).count();
    let (tensors, _) = st::read(file);
    let f32s = tensors.iter().filter(|t| t.dtype == "F32").count();
    eprintln!("{} tensors, {batched} in {batches} batches, {} regions", tensors.len(), index.regions.len());
    assert!(batched >= f32s && batches <= 2, "every F32 tensor batched: {batched} of {f32s} in {batches}");
    // Each tensor, found by name, is where the header says and reads back alone.
    let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&file[8..8 + n]).unwrap();
    for t in &tensors {
        let i = index.find(&t.name).unwrap();
        let (offset, size) = index.entry_span(i).unwrap();
        assert_eq!((offset - 8 - n as u64, size), (header[&t.name]["data_offsets"][0].as_u64().unwrap(), t.data.len() as u64), "{}", t.name);
        for isa in isas_under_test() {
            let mut dst = vec![0u8; size as usize];
            index.read_range(c, offset, &mut dst, &opts(isa)).unwrap();
            assert!(dst == t.data, "{} on {isa:?}", t.name);
        }
    }
    // The whole file, from memory and as a one-pass stream; an outline read
    // from a pipe places the tensors as the index does.
    for isa in isas_under_test() {
        assert!(decompress(c, &opts(isa)).unwrap() == file, "{isa:?}");
    }
    assert!(stream_decode(c).unwrap() == file);
    let outline = read_outline(c).unwrap();
    for i in 0..index.entries.len() {
        assert_eq!(outline.entry_span(i), index.entry_span(i));
    }
}

#[test]
fn batches_cost_less_than_a_frame_per_tensor_and_do_not_move_with_threads() {
    let (file, c) = (fp8(), container());
    // The F32 tensors' bytes alone (12 KB of norms and biases, 41 scales):
    // batched, they code past 8 bits a byte; a frame, record and index region
    // each (about 130 bytes a tensor) left them at 1.08.
    let index = Index::open(c).unwrap();
    let (tensors, _) = st::read(file);
    let raw: usize = tensors.iter().filter(|t| t.dtype == "F32").map(|t| t.data.len()).sum();
    let coded: u64 = index.regions.iter().filter(|r| r.role == Role::Batch).map(|r| r.frame_size).sum();
    let batch_bytes: u64 = index.regions.iter().filter(|r| r.role == Role::Batch).map(|r| r.orig_size).sum();
    eprintln!("batches: {batch_bytes} bytes ({raw} of F32) in {coded}");
    assert!(batch_bytes as f64 / coded as f64 > 1.12, "{batch_bytes} -> {coded}");
    for n in [1, 3] {
        assert!(compress(file, &CompressParams { n_threads: n, ..Default::default() }, None).unwrap() == c, "{n} threads");
    }
    // The compatibility switch writes no batch (older readers refuse role 5).
    let old = compress(file, &CompressParams { n_threads: 2, flags: llmc::PARAM_FLAG_NO_ROW_CLASSES, ..Default::default() }, None).unwrap();
    assert!(Index::open(&old).unwrap().regions.iter().all(|r| r.role != Role::Batch));
    assert!(decompress(&old, &DecodeOptions::default()).unwrap() == file);
}

/// Where entry `i`'s batch place lies in the index as §10.3 lays it out
/// (its two u32s after the name).
fn within_at(c: &[u8], i: usize) -> usize {
    let raw = raw_index(c);
    let n_regions = u32::from_le_bytes(raw[..4].try_into().unwrap()) as usize;
    let index = Index::open(c).unwrap();
    let mut at = 4 + 33 * n_regions + 4;
    for j in 0..i {
        let e = index.entries.get(j).unwrap();
        at += 9 + 8 * e.shape.len() + 2 + e.name.len() + if e.within.is_some() { 8 } else { 0 };
    }
    let e = index.entries.get(i).unwrap();
    assert!(e.within.is_some());
    at + 9 + 8 * e.shape.len() + 2 + e.name.len()
}

#[test]
fn a_batch_place_outside_its_region_or_a_batch_before_version_10_is_corrupt() {
    let c = container();
    let index = Index::open(c).unwrap();
    let i = (0..index.entries.len()).find(|&i| index.entries.get(i).unwrap().within.is_some()).unwrap();
    let e = index.entries.get(i).unwrap();
    let region_size = index.regions[e.region as usize].orig_size as u32;
    let at = within_at(c, i);
    let with_place = |offset: u32, size: u32| {
        with_raw_index(c, |raw| {
            raw[at..at + 4].copy_from_slice(&offset.to_le_bytes());
            raw[at + 4..at + 8].copy_from_slice(&size.to_le_bytes());
        })
    };
    // The resealing is sound: the same place opens.
    let (offset, size) = e.within.unwrap();
    assert!(Index::open(&with_place(offset as u32, size as u32)).is_ok());
    let cases = [
        ("size 0", with_place(0, 0)),
        ("one byte past the region", with_place(region_size - size as u32 + 1, size as u32)),
        ("offset + size past 2^32", with_place(u32::MAX, 2)),
        ("version 9 (its index stored as version 9 stores it)", {
            let mut f = c.to_vec();
            f[4..6].copy_from_slice(&9u16.to_le_bytes());
            reseal_container_header(&mut f);
            with_index(&f, raw_index(c))
        }),
    ];
    for (what, f) in cases {
        assert_eq!(Index::open(&f).err(), Some(Error::Corrupt), "{what}: open");
        assert_eq!(stream_decode(&f).err(), Some(Error::Corrupt), "{what}: stream");
        assert_eq!(read_outline(&f[..]).err(), Some(Error::Corrupt), "{what}: outline");
    }
    // A version-9 header over version 10's coded index: its bytes are no index.
    let mut f = c.to_vec();
    f[4..6].copy_from_slice(&9u16.to_le_bytes());
    reseal_container_header(&mut f);
    assert!(Index::open(&f).is_err() && stream_decode(&f).is_err());
}

#[test]
fn the_c_abi_places_and_reads_each_batched_tensor() {
    use llmc::ffi::container::*;
    let (file, c) = (fp8(), container());
    let index = Index::open(c).unwrap();
    let mut h = core::ptr::null_mut();
    // SAFETY: `c` lives for the whole test; the handle is closed below.
    assert_eq!(unsafe { llmc_container_open_buffer(c.as_ptr().cast(), c.len(), 0, &mut h) }, 0);
    for i in (0..index.entries.len()).filter(|&i| index.entries.get(i).unwrap().within.is_some()) {
        // SAFETY: a plain C struct, all zero is a valid value.
        let mut info: llmc_tensor_info = unsafe { core::mem::zeroed() };
        info.struct_size = core::mem::size_of_val(&info) as u32;
        // SAFETY: live handle, a whole struct.
        assert_eq!(unsafe { llmc_container_tensor_info(h, i as u64, &mut info) }, 0);
        assert_eq!(Some((info.orig_offset, info.size)), index.entry_span(i));
        let mut dst = vec![0u8; info.size as usize];
        let mut written = 0usize;
        // SAFETY: live handle, `dst` valid for its length; no context (the handle's own).
        let s = unsafe { llmc_container_read_tensor(h, core::ptr::null(), i as u64, dst.as_mut_ptr().cast(), dst.len(), &mut written) };
        assert_eq!((s, written), (0, dst.len()));
        assert!(dst[..] == file[info.orig_offset as usize..][..dst.len()], "entry {i}");
    }
    // SAFETY: opened above, closed once.
    unsafe { llmc_container_close(h) };
}

#[test]
fn a_coded_index_that_declares_too_much_or_decodes_to_another_length_is_corrupt() {
    let c = container();
    let t = c.len() - 64;
    let (at, size) = (u64::from_le_bytes(c[t + 12..t + 20].try_into().unwrap()) as usize, u64::from_le_bytes(c[t + 20..t + 28].try_into().unwrap()) as usize);
    let coded = &c[at..at + size];
    let raw = raw_index(c);
    assert_eq!(coded[8], 1, "the index is zstd-coded");
    assert!(coded.len() * 4 < raw.len(), "{} -> {}", raw.len(), coded.len());
    let payload = &coded[8..];
    let with_len = |len: u64, payload: &[u8]| with_index_bytes(c, &[&len.to_le_bytes()[..], payload].concat());
    // The resealing is sound: the same bytes open.
    assert!(Index::open(&with_len(raw.len() as u64, payload)).is_ok());
    let most = llmc::model::limits::max_index_len(payload.len() as u64);
    let cases = [
        ("a length one byte long", with_len(raw.len() as u64 + 1, payload)),
        ("a length one byte short", with_len(raw.len() as u64 - 1, payload)),
        ("a length past what its payload may declare", with_len(most + 1, payload)),
        ("a length of 2^64 - 1", with_len(u64::MAX, payload)),
        ("payload mode 2 (GGUF strings)", with_len(raw.len() as u64, &[&[2u8][..], &payload[1..]].concat())),
        ("a stored payload one byte short", with_len(raw.len() as u64, &[&[0u8][..], &raw[..raw.len() - 1]].concat())),
        ("no payload", with_len(raw.len() as u64, &[])),
    ];
    for (what, f) in cases {
        assert!(matches!(Index::open(&f).err(), Some(Error::Corrupt)), "{what}: open {:?}", Index::open(&f).err());
        assert!(matches!(stream_decode(&f).err(), Some(Error::Corrupt)), "{what}: stream");
        assert!(matches!(read_outline(&f[..]).err(), Some(Error::Corrupt)), "{what}: outline");
    }
    // A stored index (what a writer keeps when zstd would shrink it past the
    // limit) reads as the coded one.
    let stored = with_len(raw.len() as u64, &[&[0u8][..], &raw].concat());
    assert!(decompress(&stored, &DecodeOptions::default()).unwrap() == fp8());
}
