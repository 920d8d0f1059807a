//! The subset Miri can run (`scripts/miri.sh`): scalar codecs, the frame parser
//! and the C ABI (the byte and bit readers have unit tests in `src/format/`) called from Rust, on inputs of a few
//! hundred bytes (Miri is about a thousand times slower than native code).
//! Miri cannot execute SIMD kernels, zstd (C) or mmap, so everything here
//! forces the scalar ISA and avoids zstd-coded content; under Miri CPU feature
//! detection reports nothing, which the first test checks. The same tests also
//! run natively with the rest of the suite.

use core::ffi::{c_void, CStr};
use llmc::frame::FieldLayout as Layout;
use llmc::frame::Method;
use llmc::ffi::frames::*;
use llmc::ffi::info::*;
use llmc::ffi::types::{llmc_frame_info, llmc_params};
use llmc::{CompressParams, DecodeOptions, Isa};

const SCALAR: Option<Isa> = Some(Isa::Scalar);

/// Deterministic bf16-like words: small-magnitude values with a skewed exponent.
fn bf16_words(n: usize) -> Vec<u8> {
    let mut x = 0x2545_f491u32;
    (0..n)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let exp = 0x78 + (x % 7) as u16; // around 2^-7
            let word = ((x >> 31) as u16) << 15 | exp << 7 | (x >> 8) as u16 & 0x7f;
            word.to_le_bytes()
        })
        .collect()
}

/// Scalar kernels and the smallest chunk size (1 KiB, rounded up to whole elements).
fn params(method: &Method) -> CompressParams {
    let elem = method.element_size();
    CompressParams { isa: SCALAR, chunk_size: 1024u32.div_ceil(elem) * elem, ..Default::default() }
}

fn opts() -> DecodeOptions {
    DecodeOptions { isa: SCALAR, ..Default::default() }
}

fn roundtrip(method: &Method, src: &[u8]) -> Vec<u8> {
    let frame = llmc::frame::compress(method, src, &params(method)).unwrap();
    assert_eq!(llmc::decompress(&frame, &opts()).unwrap(), src, "{method:?}");
    frame
}

#[test]
#[cfg(miri)]
fn miri_sees_only_the_scalar_isa() {
    assert_eq!(llmc::isa::supported(), vec![Isa::Scalar]);
    assert_eq!(llmc::isa::active(), Isa::Scalar);
}

#[test]
fn bf16_roundtrip_two_chunks() {
    let src = bf16_words(600); // 1200 bytes: a full 1 KiB chunk and a short one
    let frame = roundtrip(&Method::Bf16, &src);
    let f = llmc::frame::parse(&frame).unwrap();
    assert_eq!((f.header.n_chunks, f.header.content_size), (2, 1200));
}

#[test]
fn bf16_constant_and_empty() {
    roundtrip(&Method::Bf16, &[0x80, 0x3f].repeat(100));
    roundtrip(&Method::Bf16, &[]);
}

#[test]
fn stored_and_fields_roundtrip() {
    let src = bf16_words(150);
    roundtrip(&Method::Stored, &src);
    roundtrip(&Method::Fields(Layout::planes(4)), &src);
    roundtrip(&Method::Fields(Layout::from_runs(6, &[&[(0, 2)], &[(2, 4)]])), &src);
}

#[test]
fn q4k_roundtrip_two_blocks() {
    // Two block_q4_K: fp16 d = 1.0, dmin = 0.5, varied scales and quants.
    let mut src = Vec::new();
    for b in 0..2u8 {
        src.extend_from_slice(&[0x00, 0x3c, 0x00, 0x38]);
        src.extend((0..12u8).map(|i| i.wrapping_mul(37).wrapping_add(b) & 0x3f));
        src.extend((0..128u8).map(|i| i.wrapping_mul(29).wrapping_add(b)));
    }
    roundtrip(&Method::Q4k, &src);
}

#[test]
fn frame_parser_refuses_damage() {
    let frame = roundtrip(&Method::Bf16, &bf16_words(200));
    for len in [0, 3, 4, 27, 28, 31, 32, 39, frame.len() - 1] {
        assert!(llmc::frame::parse(&frame[..len]).is_err() || llmc::decompress(&frame[..len], &opts()).is_err(), "truncated at {len}");
    }
    for at in (0..frame.len()).step_by(7) {
        let mut bad = frame.clone();
        bad[at] ^= 1 << (at % 8);
        assert!(llmc::decompress(&bad, &opts()).is_err(), "bit flip at {at}");
    }
    let mut long = frame.clone();
    long.push(0);
    assert!(llmc::decompress(&long, &opts()).is_err(), "trailing byte");
}

fn name(status: u32) -> String {
    // SAFETY: llmc_get_error_name returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(llmc_get_error_name(status)) }.to_str().unwrap().to_owned()
}

#[test]
fn ffi_versions_and_error_names() {
    assert_eq!(llmc_abi_version(), llmc::ffi::types::LLMC_ABI_VERSION);
    assert_eq!(llmc_version_number(), 100);
    // SAFETY: a static NUL-terminated string.
    assert_eq!(unsafe { CStr::from_ptr(llmc_version_string()) }.to_str().unwrap(), llmc::VERSION);
    assert_eq!(name(0), "no error");
    assert_eq!(name(24), "checksum mismatch");
    assert_eq!(name(9999), "unknown error");
    assert_eq!(llmc_set_isa(99), 3);
    // SAFETY: a static NUL-terminated string.
    assert_eq!(unsafe { CStr::from_ptr(llmc_isa_name(1)) }.to_str().unwrap(), "scalar");
}

#[test]
fn ffi_bf16_roundtrip_and_errors() {
    let src = bf16_words(150);
    let mut p = core::mem::MaybeUninit::<llmc_params>::uninit();
    // SAFETY: llmc_params_init fills the whole struct; every call below passes
    // pointers to live buffers of the stated sizes (or deliberately NULL).
    unsafe {
        llmc_params_init(p.as_mut_ptr());
        let mut p = p.assume_init();
        p.chunk_size = 1024;
        let cap = llmc_bf16_compress_bound(src.len());
        let mut frame = vec![0u8; cap];
        let mut size = 0usize;
        assert_eq!(llmc_bf16_compress(src.as_ptr().cast(), src.len(), frame.as_mut_ptr().cast(), cap, &mut size, &p), 0);
        frame.truncate(size);

        let mut info = llmc_frame_info { struct_size: core::mem::size_of::<llmc_frame_info>() as u32, codec: 0, format_version: 0, has_checksum: 0, content_size: 0, frame_size: 0 };
        assert_eq!(llmc_frame_info_get(frame.as_ptr().cast(), size, &mut info), 0);
        assert_eq!((info.codec, info.content_size, info.frame_size), (1, src.len() as u64, size as u64));

        let mut d = core::ptr::null_mut();
        assert_eq!(llmc_dctx_create(&mut d), 0);
        assert_eq!(llmc_dctx_set_isa(d, 1), 0);
        let mut out = vec![0u8; src.len()];
        let mut written = 0usize;
        assert_eq!(llmc_decompress_dctx(d, frame.as_ptr().cast(), size, out.as_mut_ptr().cast(), out.len(), &mut written), 0);
        assert_eq!((written, &out), (src.len(), &src));
        llmc_dctx_free(d);

        // NULL with a size, a short destination, a truncated frame, an odd size.
        let out_ptr: *mut c_void = out.as_mut_ptr().cast();
        assert_eq!(name(llmc_decompress(core::ptr::null(), 10, out_ptr, out.len(), &mut written)), "null pointer argument");
        assert_eq!(name(llmc_decompress(frame.as_ptr().cast(), size, out_ptr, 7, &mut written)), "destination buffer too small");
        assert_ne!(llmc_decompress(frame.as_ptr().cast(), size - 1, out_ptr, out.len(), &mut written), 0);
        assert_eq!(name(llmc_bf16_compress(src.as_ptr().cast(), 3, frame.as_mut_ptr().cast(), cap, &mut size, &p)), "invalid argument");
        assert_eq!(llmc_bf16_compress(src.as_ptr().cast(), src.len(), frame.as_mut_ptr().cast(), 8, &mut size, &p), 10);
        assert_eq!(llmc_frame_info_get(frame.as_ptr().cast(), 8, &mut info), 11);
        assert_eq!(llmc_dctx_create(core::ptr::null_mut()), 2);
    }
}
