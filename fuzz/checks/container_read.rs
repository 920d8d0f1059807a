//! Any bytes as a container: open, then read the metadata, every tensor, random
//! byte ranges and the whole file on every ISA — through the Rust reader and
//! through the C API's buffer handle — also after resealing the header and index
//! checksums so mutations reach the index parser. Whatever succeeds must agree,
//! the outline a pipe reads (`read_outline`) included.

use super::common::{decode_opts, reseal_container, MAX_OUTPUT};
use llmc::model::Index;
use llmc::ffi::container::*;

fn read_rust(index: &Index, data: &[u8], picks: &[u8]) {
    let n = index.entries.len();
    for (i, e) in index.entries.iter().enumerate() {
        assert!(index.find(e.name).is_some_and(|j| j <= i), "find returns the first of equal names");
        let (off, size) = index.entry_span(i).unwrap();
        assert!(off.checked_add(size).is_some_and(|end| end <= index.original_size));
    }
    assert!(index.entry_span(n).is_none());
    if index.original_size == 0 {
        return;
    }
    for isa in llmc::isa::supported() {
        for w in picks.chunks(2) {
            let off = u64::from(w[0]) * index.original_size / 256;
            let len = (u64::from(*w.get(1).unwrap_or(&1)) * 64).min(index.original_size - off).min(MAX_OUTPUT);
            let mut dst = vec![0u8; len as usize];
            let _ = index.read_range(data, off, &mut dst, &decode_opts(isa, w[0] & 1 == 0));
        }
        let mut past = [0u8; 1];
        assert!(index.read_range(data, index.original_size, &mut past, &decode_opts(isa, true)).is_err());
    }
    if index.original_size <= MAX_OUTPUT {
        let whole = llmc::model::decompress(data, &decode_opts(llmc::isa::supported()[0], true));
        if let Ok(whole) = whole {
            // A verified rebuild agrees with every ISA's range reads.
            for isa in llmc::isa::supported() {
                let mut dst = vec![0u8; whole.len()];
                index.read_range(data, 0, &mut dst, &decode_opts(isa, true)).expect("range read of a verified file");
                assert!(dst == whole, "{isa:?} range read differs");
            }
        }
    }
}

fn read_c(data: &[u8]) {
    let mut g = std::ptr::null_mut();
    // SAFETY: `data` outlives the handle, closed below; out-pointers are valid.
    unsafe {
        if llmc_container_open_buffer(data.as_ptr().cast(), data.len(), 0, &mut g) != 0 {
            return;
        }
        let mut meta = 0u64;
        assert_eq!(llmc_container_metadata_size(g, &mut meta), 0);
        if meta <= MAX_OUTPUT {
            let mut buf = vec![0u8; meta as usize];
            let mut written = 0usize;
            if llmc_container_read_metadata(g, std::ptr::null(), buf.as_mut_ptr().cast(), buf.len(), &mut written) == 0 {
                assert_eq!(written, buf.len());
            }
        }
        let mut n = 0u64;
        assert_eq!(llmc_container_n_tensors(g, &mut n), 0);
        for i in 0..n {
            let mut info: llmc_tensor_info = std::mem::zeroed();
            info.struct_size = std::mem::size_of::<llmc_tensor_info>() as u32;
            assert_eq!(llmc_container_tensor_info(g, i, &mut info), 0);
            let mut found = u64::MAX;
            assert_eq!(llmc_container_find_tensor(g, info.name, &mut found), 0);
            assert!(found <= i);
            if info.size <= MAX_OUTPUT {
                let mut buf = vec![0u8; info.size as usize];
                let mut written = 0usize;
                if llmc_container_read_tensor(g, std::ptr::null(), i, buf.as_mut_ptr().cast(), buf.len(), &mut written) == 0 {
                    assert_eq!(written, buf.len());
                }
            }
        }
        llmc_container_close(g);
    }
}

/// The outline a pipe reads (`llmc info -`) agrees with an open of the bytes
/// it declares: what it outlines opens, as the same container (or, where the
/// whole does not open, the outline stops before bytes that follow one that
/// does). It may refuse what opens: it reads records back to back, as the
/// streaming decoder does, where an open allows bytes between frames.
fn outline(data: &[u8], index: Option<&Index>) {
    let Ok(o) = llmc::model::read_outline(data) else { return };
    let regions = |r: &[llmc::model::Region]| format!("{r:?}");
    match index {
        Some(index) => {
            assert!(o.size == data.len() as u64 && o.original_size == index.original_size && o.version == index.version);
            assert!(regions(&o.regions) == regions(&index.regions) && o.entries.len() == index.entries.len());
        }
        None => assert!(o.size < data.len() as u64 && Index::open(&data[..o.size as usize]).is_ok(), "an outline of bytes that do not open"),
    }
}

fn check(data: &[u8], picks: &[u8]) {
    let index = Index::open(data).ok();
    outline(data, index.as_ref());
    if let Some(index) = index {
        read_rust(&index, data, picks);
    }
    read_c(data);
}

pub fn run(data: &[u8]) {
    let picks = &data[data.len().saturating_sub(8)..];
    check(data, picks);
    let mut sealed = data.to_vec();
    reseal_container(&mut sealed);
    check(&sealed, picks);
}
