//! Truncated, corrupted and malicious frames: every one gets an error status with a
//! clear name, or (for mutations a decoder cannot see) some output; never a panic,
//! an out-of-bounds access or an unjustified allocation.

mod common;
use common::hostile::{assert_every_flip_detected, decode_unverified, reseal, resealed_flips};
use common::*;
use llmc::frame::HEADER_SIZE;
use llmc::{compress_bf16, decompress, CompressParams, DecodeOptions, Error};

fn small_frame() -> (Vec<u8>, Vec<u8>) {
    // 3 chunks: two coded with 32 lanes, one short; enough to reach every field.
    let data = fixture("bf16/all-minilm-l6-v2.layer.0.query.bf16")[..6000].to_vec();
    let frame = compress_bf16(&data, &CompressParams { chunk_size: 2048, ..Default::default() }).unwrap();
    (data, frame)
}

#[test]
fn every_prefix_is_an_error() {
    let (_, frame) = small_frame();
    let isas = isas_under_test();
    for len in 0..frame.len() {
        let prefix = &frame[..len];
        let e = decompress(prefix, &DecodeOptions::default()).unwrap_err();
        assert!(matches!(e, Error::SrcTruncated | Error::Corrupt | Error::BadMagic), "prefix {len}: {e:?}");
        for r in decode_unverified(prefix, &isas) {
            assert!(r.is_err(), "prefix {len} decoded");
        }
    }
}

#[test]
fn every_single_bit_flip_is_detected() {
    let (data, frame) = small_frame();
    assert_every_flip_detected(&frame, &data, &isas_under_test());
}

#[test]
fn resealed_bit_flips_never_crash_the_decoders() {
    // With checksums recomputed, corruption reaches the payload parsers and the
    // SIMD kernels; they must fail cleanly or produce some output of the right size.
    let (data, frame) = small_frame();
    assert!(resealed_flips(&frame, (0..frame.len() * 8).step_by(3), data.len(), &isas_under_test()) > 0);
}

#[test]
fn resealed_random_garbage_never_crashes() {
    let (_, frame) = small_frame();
    let isas = isas_under_test();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..400 {
        let mut copy = frame.clone();
        for _ in 0..1 + round % 16 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let pos = HEADER_SIZE + (seed >> 33) as usize % (copy.len() - HEADER_SIZE);
            copy[pos] = (seed >> 24) as u8;
        }
        reseal(&mut copy);
        let _ = decode_unverified(&copy, &isas);
    }
}

#[test]
fn wrong_magic_and_version() {
    let (_, frame) = small_frame();
    let mut f = frame.clone();
    f[0] = b'X';
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::BadMagic));
    let mut f = frame.clone();
    f[4] = 9;
    reseal(&mut f);
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::VersionUnsupported));
    let mut f = frame.clone();
    f[6] = 77;
    reseal(&mut f);
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::CodecUnsupported));
    let mut f = frame.clone();
    f[7] = 0x02; // an unknown must-understand flag
    reseal(&mut f);
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::VersionUnsupported));
    let mut f = frame;
    f[10] ^= 1; // header changed without resealing
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::ChecksumMismatch));
}

#[test]
fn absurd_sizes_are_rejected_before_allocating() {
    let (_, frame) = small_frame();
    let set = |f: &mut Vec<u8>, at: usize, bytes: &[u8]| {
        f[at..at + bytes.len()].copy_from_slice(bytes);
        reseal(f);
    };
    // Content of 2^50 bytes: over the hard limit.
    let mut f = frame.clone();
    set(&mut f, 8, &(1u64 << 50).to_le_bytes());
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::LimitExceeded));
    // 512 GiB in the same three chunks: the chunk count no longer matches.
    let mut f = frame.clone();
    set(&mut f, 8, &(1u64 << 39).to_le_bytes());
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::Corrupt));
    // Huge chunks whose payloads cannot hold them.
    let mut f = frame.clone();
    set(&mut f, 8, &(3u64 << 27).to_le_bytes());
    set(&mut f, 16, &(1u32 << 27).to_le_bytes());
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::Corrupt));
    // Chunk size zero or above the limit.
    for cs in [0u32, 7, u32::MAX] {
        let mut f = frame.clone();
        set(&mut f, 16, &cs.to_le_bytes());
        assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::Corrupt), "chunk size {cs}");
    }
    // A caller cap below the content size.
    let opts = DecodeOptions { max_output: 100, ..Default::default() };
    assert_eq!(decompress(&frame, &opts), Err(Error::LimitExceeded));
}

#[test]
fn trailing_bytes_and_small_destinations() {
    let (data, frame) = small_frame();
    let mut f = frame.clone();
    f.push(0);
    assert_eq!(decompress(&f, &DecodeOptions::default()), Err(Error::Corrupt));
    let mut dst = vec![0u8; data.len() - 1];
    assert_eq!(llmc::decompress_into(&frame, &mut dst, &DecodeOptions::default()), Err(Error::DstTooSmall));
}

#[test]
fn c_api_rejects_null_pointers_and_bad_structs() {
    use llmc::ffi::frames::*;
    use llmc::ffi::types::*;
    let (data, frame) = small_frame();
    let mut out = vec![0u8; data.len()];
    let mut written = 99usize;
    // SAFETY (whole block): every pointer is NULL or points to a live buffer of the stated size.
    unsafe {
        let null = std::ptr::null();
        let null_mut: *mut std::ffi::c_void = std::ptr::null_mut();
        assert_eq!(llmc_decompress(null, 10, out.as_mut_ptr().cast(), out.len(), &mut written), Error::NullPointer.code());
        assert_eq!(written, 0);
        assert_eq!(llmc_decompress(frame.as_ptr().cast(), frame.len(), null_mut, 10, &mut written), Error::NullPointer.code());
        // (NULL, 0) is an empty buffer: not a frame.
        assert_eq!(llmc_decompress(null, 0, null_mut, 0, null_mut.cast()), Error::SrcTruncated.code());
        // NULL dst_written is allowed.
        assert_eq!(llmc_decompress(frame.as_ptr().cast(), frame.len(), out.as_mut_ptr().cast(), out.len(), null_mut.cast()), 0);
        assert!(out == data);
        // Compressing nothing into nothing: the frame header does not fit.
        assert_eq!(llmc_bf16_compress(null, 0, null_mut, 0, &mut written, std::ptr::null()), Error::DstTooSmall.code());
        let mut p = std::mem::zeroed::<llmc_params>();
        let mut tmp = vec![0u8; 1 << 16];
        assert_eq!(
            llmc_bf16_compress(data.as_ptr().cast(), data.len(), tmp.as_mut_ptr().cast(), tmp.len(), &mut written, &p),
            Error::InvalidArgument.code(),
            "struct_size 0 is rejected"
        );
        llmc_params_init(&mut p);
        p.flags = 1 << 30;
        assert_eq!(
            llmc_bf16_compress(data.as_ptr().cast(), data.len(), tmp.as_mut_ptr().cast(), tmp.len(), &mut written, &p),
            Error::InvalidArgument.code()
        );
        let mut info = std::mem::zeroed::<llmc_frame_info>();
        assert_eq!(llmc_frame_info_get(frame.as_ptr().cast(), frame.len(), &mut info), Error::InvalidArgument.code());
        assert_eq!(llmc_frame_info_get(frame.as_ptr().cast(), frame.len(), null_mut.cast()), Error::NullPointer.code());
        info.struct_size = std::mem::size_of::<llmc_frame_info>() as u32;
        assert_eq!(llmc_frame_info_get(frame.as_ptr().cast(), frame.len(), &mut info), 0);
        assert_eq!(info.content_size, data.len() as u64);
        assert_eq!(llmc_dctx_set_isa(null_mut.cast(), 1), Error::NullPointer.code());
        assert_eq!(llmc_dctx_create(null_mut.cast()), Error::NullPointer.code());
        llmc_dctx_free(null_mut.cast());
        let mut d: *mut llmc_dctx = null_mut.cast();
        assert_eq!(llmc_dctx_create(&mut d), 0);
        assert_eq!(llmc_dctx_set_isa(d, 77), Error::InvalidArgument.code());
        assert_eq!(llmc_dctx_set_isa(d, 1), 0);
        assert_eq!(llmc_dctx_get_isa(d), 1);
        assert_eq!(llmc_decompress_dctx(d, frame.as_ptr().cast(), frame.len(), out.as_mut_ptr().cast(), out.len(), &mut written), 0);
        assert_eq!(written, data.len());
        llmc_dctx_free(d);
        assert_eq!(llmc_decompress_dctx(null_mut.cast(), frame.as_ptr().cast(), frame.len(), out.as_mut_ptr().cast(), out.len(), &mut written), Error::NullPointer.code());
    }
}
