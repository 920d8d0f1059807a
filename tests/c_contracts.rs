//! The container functions' C contracts, called through the C ABI from Rust:
//! written counts, short reads at the end, out-of-range vs not-found, older
//! `llmc_tensor_info` sizes, per-call decompression contexts, the chunk size,
//! and the first ABI's `llmc_gguf_*` names keeping their own contract.

mod common;
use common::*;
use core::ffi::c_void;
use llmc::ffi::container::*;
use llmc::ffi::frames::*;
use llmc::ffi::gguf_names::*;
use llmc::Error;
use std::ffi::CString;

const OK: u32 = 0;

struct Open {
    c: *mut llmc_container,
    original: Vec<u8>,
    _bytes: Vec<u8>,
}

impl Drop for Open {
    fn drop(&mut self) {
        // SAFETY: opened below, closed once.
        unsafe { llmc_container_close(self.c) };
    }
}

fn open_blk0() -> Open {
    let original = fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let bytes = llmc::model::compress(&original, &llmc::CompressParams::default(), None).unwrap();
    let mut c = core::ptr::null_mut();
    // SAFETY: a live buffer, kept alive in `Open` until the handle is closed.
    assert_eq!(unsafe { llmc_container_open_buffer(bytes.as_ptr().cast(), bytes.len(), 0, &mut c) }, OK);
    Open { c, original, _bytes: bytes }
}

fn info(c: *const llmc_container, i: u64, struct_size: u32) -> (u32, Vec<u8>) {
    let mut raw = vec![0xa5u8; core::mem::size_of::<llmc_tensor_info>() + 16];
    raw[..4].copy_from_slice(&struct_size.to_le_bytes());
    // SAFETY: `raw` is larger than the struct; the function writes at most `struct_size` bytes.
    let s = unsafe { llmc_container_tensor_info(c, i, raw.as_mut_ptr().cast()) };
    (s, raw)
}

#[test]
fn tensor_info_fills_whole_fields_within_the_callers_size() {
    let o = open_blk0();
    let full = core::mem::size_of::<llmc_tensor_info>();
    let (s, whole) = info(o.c, 0, full as u32);
    assert_eq!(s, OK);
    assert!(whole[full..].iter().all(|&b| b == 0xa5), "wrote past struct_size");
    // The first ABI's struct ended after `codec` (40 bytes with padding), and any
    // size down to 8 gets the fields that fit.
    for size in [8u32, 12, 16, 24, 36, 40, 44, 48, 56] {
        let (s, raw) = info(o.c, 0, size);
        assert_eq!(s, OK, "struct_size {size}");
        let fits = [4usize, 8, 16, 24, 32, 36, 40, 48, full].into_iter().filter(|&e| e <= size as usize).max().unwrap();
        assert_eq!(raw[4..fits], whole[4..fits], "struct_size {size}: the fields that fit");
        assert!(raw[fits..].iter().all(|&b| b == 0xa5), "struct_size {size}: wrote past the last whole field");
    }
    assert_eq!(info(o.c, 0, 4).0, Error::InvalidArgument.code(), "4 bytes hold no field but the size");
}

#[test]
fn tensor_info_leaves_struct_size_as_the_caller_set_it() {
    // The README's pattern: one struct, sized once, reused for every tensor.
    // Each call must leave `struct_size` as it was (it once held the previous
    // tensor's byte size afterwards, so a tensor under 112 bytes, or one whose
    // size is a multiple of 2^32, made the next call fail or fill only a prefix).
    let o = open_blk0();
    let full = core::mem::size_of::<llmc_tensor_info>() as u32;
    for size in [8u32, 40, full] {
        let (s, raw) = info(o.c, 0, size);
        assert_eq!(s, OK);
        assert_eq!(raw[..4], size.to_le_bytes(), "struct_size {size} was rewritten");
    }
    let mut n = 0u64;
    // SAFETY: live handle, valid out-pointer.
    assert_eq!(unsafe { llmc_container_n_tensors(o.c, &mut n) }, OK);
    assert!(n > 1);
    // SAFETY: an all-zero llmc_tensor_info is valid (null pointers, zeros).
    let mut t: llmc_tensor_info = unsafe { core::mem::zeroed() };
    t.struct_size = full;
    for i in 0..n {
        // SAFETY: live handle; `t` is a whole llmc_tensor_info.
        assert_eq!(unsafe { llmc_container_tensor_info(o.c, i, &mut t) }, OK, "tensor {i}");
        assert_eq!(t.struct_size, full, "tensor {i}");
    }
}

#[test]
fn out_of_range_and_not_found_are_different_statuses() {
    let o = open_blk0();
    let mut n = 0u64;
    // SAFETY: live handle, valid out-pointer.
    assert_eq!(unsafe { llmc_container_n_tensors(o.c, &mut n) }, OK);
    assert_eq!(info(o.c, n, core::mem::size_of::<llmc_tensor_info>() as u32).0, Error::OutOfRange.code());
    let mut buf = vec![0u8; 16];
    let mut written = 7usize;
    // SAFETY: live handle, valid buffers.
    let s = unsafe { llmc_container_read_tensor(o.c, core::ptr::null(), n, buf.as_mut_ptr().cast(), buf.len(), &mut written) };
    assert_eq!((s, written), (Error::OutOfRange.code(), 0));
    let name = CString::new("no.such.tensor").unwrap();
    let mut idx = 0u64;
    // SAFETY: live handle, NUL-terminated name, valid out-pointer.
    assert_eq!(unsafe { llmc_container_find_tensor(o.c, name.as_ptr(), &mut idx) }, Error::NotFound.code());
    // The first ABI's names keep their contract: past the end is "not found".
    let full = core::mem::size_of::<llmc_tensor_info>();
    let mut raw = vec![0u8; full];
    raw[..4].copy_from_slice(&(full as u32).to_le_bytes());
    // SAFETY: as above.
    assert_eq!(unsafe { llmc_gguf_tensor_info(o.c, n, raw.as_mut_ptr().cast()) }, Error::NotFound.code());
    // SAFETY: as above.
    assert_eq!(unsafe { llmc_gguf_read_tensor(o.c, n, buf.as_mut_ptr().cast(), buf.len()) }, Error::NotFound.code());
}

#[test]
fn reads_report_what_they_wrote_and_end_short_like_pread() {
    let o = open_blk0();
    let size = o.original.len();
    let mut buf = vec![0u8; 4096];
    for (offset, want) in [(0usize, 4096usize), (size - 100, 100), (size, 0), (size + 5, 0)] {
        let mut n = usize::MAX;
        // SAFETY: live handle, valid buffer and count.
        let s = unsafe { llmc_container_read_range(o.c, core::ptr::null(), offset as u64, buf.as_mut_ptr().cast(), buf.len(), &mut n) };
        assert_eq!((s, n), (OK, want), "offset {offset}");
        assert!(buf[..n] == o.original[offset.min(size)..offset.min(size) + n]);
        // The first ABI's range read refuses what passes the end.
        // SAFETY: as above.
        let old = unsafe { llmc_gguf_read_range(o.c, offset as u64, buf.as_mut_ptr().cast(), buf.len()) };
        assert_eq!(old, if want == buf.len() { OK } else { Error::InvalidArgument.code() }, "offset {offset}");
    }
    // The callback returns short counts too.
    // SAFETY: as above.
    assert_eq!(unsafe { llmc_container_reader_callback(o.c.cast(), buf.as_mut_ptr().cast(), (size - 10) as u64, 64) }, 10);
    let mut meta_size = 0u64;
    // SAFETY: as above.
    assert_eq!(unsafe { llmc_container_metadata_size(o.c, &mut meta_size) }, OK);
    let mut meta = vec![0u8; meta_size as usize + 10];
    let mut written = 0usize;
    // SAFETY: as above.
    assert_eq!(unsafe { llmc_container_read_metadata(o.c, core::ptr::null(), meta.as_mut_ptr().cast(), meta.len(), &mut written) }, OK);
    assert_eq!(written as u64, meta_size);
    assert!(meta[..written] == o.original[..written]);
}

#[test]
fn a_context_gives_a_read_its_isa_and_threads() {
    let o = open_blk0();
    let mut n = 0u64;
    // SAFETY: live handle.
    assert_eq!(unsafe { llmc_container_n_tensors(o.c, &mut n) }, OK);
    for isa in isas_under_test() {
        let mut d = core::ptr::null_mut();
        // SAFETY: valid out-pointer; the context is freed below.
        unsafe {
            assert_eq!(llmc_dctx_create(&mut d), OK);
            assert_eq!(llmc_dctx_set_isa(d, isa as u32), OK);
            assert_eq!(llmc_dctx_set_threads(d, 2), OK);
        }
        let before = llmc::kernel_calls(isa);
        for i in 0..n {
            let (s, raw) = info(o.c, i, core::mem::size_of::<llmc_tensor_info>() as u32);
            assert_eq!(s, OK);
            // SAFETY: the struct was filled whole above.
            let t = unsafe { &*(raw.as_ptr() as *const llmc_tensor_info) };
            let mut buf = vec![0u8; t.size as usize];
            let mut written = 0usize;
            // SAFETY: live handle and context, valid buffers.
            let s = unsafe { llmc_container_read_tensor(o.c, d, i, buf.as_mut_ptr().cast::<c_void>(), buf.len(), &mut written) };
            assert_eq!((s, written), (OK, buf.len()));
            assert!(buf == o.original[t.orig_offset as usize..][..buf.len()], "{isa:?} tensor {i}");
        }
        assert!(llmc::kernel_calls(isa) > before, "{isa:?}: the context's ISA decoded nothing");
        // SAFETY: created above, freed once.
        unsafe { llmc_dctx_free(d) };
    }
}

#[test]
fn chunk_size_is_the_tensor_frames_chunk_size() {
    let o = open_blk0();
    // Tensor frames use chunks of at most about 4 MiB (Q4_K); the metadata frame
    // is one chunk of its whole size (6.5 MB here), which must not count.
    let mut meta = 0u64;
    // SAFETY: live handle.
    assert_eq!(unsafe { llmc_container_metadata_size(o.c, &mut meta) }, OK);
    assert!(meta > 4 << 20, "the fixture's metadata ({meta} B) no longer tells the two apart");
    // SAFETY: live handle.
    let cs = unsafe { llmc_container_chunk_size(o.c) };
    assert!(cs > 0 && cs <= 4 << 20, "chunk size {cs}");
    // SAFETY: as above.
    assert_eq!(unsafe { llmc_gguf_chunk_size(o.c) }, cs);
}

#[test]
fn a_failed_open_or_create_leaves_null_in_the_out_pointer() {
    use llmc::ffi::reader::*;
    use llmc::ffi::stream::*;
    let missing = CString::new(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-dir/none.llmc").to_str().unwrap()).unwrap();
    let mut c = core::ptr::dangling_mut::<llmc_container>();
    // SAFETY: valid string and out-pointer.
    assert_eq!(unsafe { llmc_container_open_file(missing.as_ptr(), 0, &mut c) }, Error::NotFound.code());
    assert!(c.is_null());
    let mut c = core::ptr::dangling_mut::<llmc_container>();
    // SAFETY: (NULL, 4) is refused before anything is read; valid out-pointer.
    assert_eq!(unsafe { llmc_container_open_buffer(core::ptr::null(), 4, 0, &mut c) }, Error::NullPointer.code());
    assert!(c.is_null());
    let mut r = core::ptr::dangling_mut::<llmc_reader>();
    // SAFETY: valid string, default options, valid out-pointer.
    assert_eq!(unsafe { llmc_reader_open(missing.as_ptr(), core::ptr::null(), &mut r) }, Error::NotFound.code());
    assert!(r.is_null());
    assert_eq!(llmc::error::last_os_error(), 2, "ENOENT kept for llmc_last_os_error");
    let mut d = core::ptr::dangling_mut::<llmc_dstream>();
    // SAFETY: valid out-pointer; the unknown flag is refused.
    assert_eq!(unsafe { llmc_dstream_create(1, 1 << 30, &mut d) }, Error::InvalidArgument.code());
    assert!(d.is_null());
}

/// The frame compressors write straight into the caller's buffer: the bytes
/// are the library's frame (one table and row classes, Q4_K, one and two
/// threads, several chunks, with the content checksum), what lies past the
/// frame is untouched, and a buffer one byte short is refused with nothing
/// reported written.
#[test]
fn frame_compressors_write_the_library_frame_into_the_callers_buffer() {
    let bf16 = fixture("bf16/all-minilm-l6-v2.layer.3.intermediate.bf16");
    let q4k = fixture("q4k/qwen2.5-coder-1.5b.blk.0.attn_k.q4k");
    for threads in [1u32, 2] {
        for flags in [0u32, llmc::PARAM_FLAG_CONTENT_CHECKSUM] {
            let mut p = llmc_params_default();
            (p.n_threads, p.chunk_size, p.flags) = (threads, 144 << 10, flags);
            let params = llmc::CompressParams { n_threads: threads, chunk_size: 144 << 10, flags, ..Default::default() };
            let cases: [(&[u8], u32, Vec<u8>); 3] = [
                (&bf16, 0, llmc::compress_bf16(&bf16, &params).unwrap()),
                (&bf16, 384, llmc::compress_bf16_rows(&bf16, 384, &params).unwrap()),
                (&q4k, u32::MAX, llmc::compress_q4k(&q4k, &params).unwrap()),
            ];
            for (src, row, want) in cases {
                let what = format!("row {row}, {threads} threads, flags {flags}");
                let call = |dst: &mut [u8], written: &mut usize| {
                    // SAFETY: live buffers of the stated sizes; `p` is initialised.
                    unsafe {
                        match row {
                            u32::MAX => llmc_q4k_compress(src.as_ptr().cast(), src.len(), dst.as_mut_ptr().cast(), dst.len(), written, &p),
                            0 => llmc_bf16_compress(src.as_ptr().cast(), src.len(), dst.as_mut_ptr().cast(), dst.len(), written, &p),
                            _ => llmc_bf16_compress_rows(src.as_ptr().cast(), src.len(), row, dst.as_mut_ptr().cast(), dst.len(), written, &p),
                        }
                    }
                };
                let mut dst = vec![0x5au8; want.len() + 64];
                let mut written = 0usize;
                assert_eq!(call(&mut dst, &mut written), OK, "{what}");
                assert_eq!(written, want.len(), "{what}");
                assert!(dst[..written] == want[..], "{what}: not the library's frame");
                assert!(dst[written..].iter().all(|&b| b == 0x5a), "{what}: wrote past the frame");
                let mut short = vec![0u8; want.len() - 1];
                let mut written = 7usize;
                assert_eq!(call(&mut short, &mut written), Error::DstTooSmall.code(), "{what}");
                assert_eq!(written, 0, "{what}");
            }
        }
    }
}

fn llmc_params_default() -> llmc::ffi::types::llmc_params {
    // SAFETY: a plain C struct; `llmc_params_init` fills every field.
    let mut p = unsafe { core::mem::zeroed::<llmc::ffi::types::llmc_params>() };
    // SAFETY: a live, writable struct.
    unsafe { llmc_params_init(&mut p) };
    p
}
