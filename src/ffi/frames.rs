//! Frame compression and decompression, parameters, frame inspection, and the
//! decompression context.

use super::boundary::{bytes, bytes_mut, call, call_value, reference, store};
use super::types::{llmc_frame_info, llmc_isa, llmc_params, llmc_status};
use crate::error::{Error, Result};
use crate::format::frame::CodecId;
use crate::engine::frames;
use crate::isa::{Isa, ISA_AUTO};
use crate::params::{CompressParams, DecodeOptions};
use core::ffi::c_void;

/// ==== Frames: one tensor in one self-describing frame (the simple API) ====
///
/// Fills `p` with defaults and sets `p->struct_size`. NULL is ignored. Thread-safe.
///
/// # Safety
/// `p` is NULL or valid for writing an `llmc_params`.
#[no_mangle]
pub unsafe extern "C" fn llmc_params_init(p: *mut llmc_params) {
    let defaults = llmc_params {
        struct_size: core::mem::size_of::<llmc_params>() as u32,
        level: 0,
        n_threads: 0,
        chunk_size: 0,
        format_version: 0,
        flags: 0,
    };
    // SAFETY: NULL or valid for writes per the contract above.
    unsafe { store(p, defaults) };
}

/// Reads C parameters (NULL = defaults). A struct smaller than version 1 of
/// `llmc_params` is rejected; a larger one (from a newer header) is read up to
/// the fields this library knows.
///
/// # Safety
/// `p` is NULL or points to an `llmc_params` of at least `p->struct_size`
/// readable bytes.
pub(crate) unsafe fn read_params(p: *const llmc_params) -> Result<CompressParams> {
    if p.is_null() {
        return Ok(CompressParams::default());
    }
    // SAFETY: non-null; the caller passes a valid llmc_params.
    let size = unsafe { core::ptr::addr_of!((*p).struct_size).read_unaligned() };
    if (size as usize) < core::mem::size_of::<llmc_params>() {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: the struct is at least as large as ours.
    let p = unsafe { p.read_unaligned() };
    Ok(CompressParams {
        level: p.level,
        n_threads: p.n_threads,
        chunk_size: p.chunk_size,
        format_version: p.format_version,
        flags: p.flags,
        isa: None,
    })
}

fn isa_request(isa: u32) -> Result<Option<Isa>> {
    if isa == ISA_AUTO {
        return Ok(None);
    }
    let isa = Isa::from_code(isa).ok_or(Error::InvalidArgument)?;
    if !isa.is_supported() {
        return Err(Error::IsaUnsupported);
    }
    Ok(Some(isa))
}

/// Reads the header and chunk table of the frame at the start of `src` (nothing is
/// decoded). `info->struct_size` must be at least `sizeof(llmc_frame_info)`.
/// Thread-safe.
///
/// # Safety
/// `src` is NULL or points to `src_size` readable bytes; `info` is NULL or points
/// to `info->struct_size` readable and writable bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_frame_info_get(src: *const c_void, src_size: usize, info: *mut llmc_frame_info) -> llmc_status {
    call(|| {
        if info.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: non-null; the caller passes a valid llmc_frame_info.
        let size = unsafe { core::ptr::addr_of!((*info).struct_size).read_unaligned() };
        if (size as usize) < core::mem::size_of::<llmc_frame_info>() {
            return Err(Error::InvalidArgument);
        }
        // SAFETY: per the function contract.
        let src = unsafe { bytes(src, src_size) }?;
        let f = frames::frame_info(src)?;
        let out = llmc_frame_info {
            struct_size: size,
            codec: f.codec as u32,
            format_version: u32::from(f.format_version),
            has_checksum: u32::from(f.has_checksum),
            content_size: f.content_size,
            frame_size: f.frame_size,
        };
        // SAFETY: checked non-null and large enough above.
        unsafe { store(info, out) };
        Ok(())
    })
}

fn method_of(codec: CodecId) -> crate::codec::Method {
    match codec {
        CodecId::Bf16 => crate::codec::Method::Bf16,
        CodecId::Q4k => crate::codec::Method::Q4k,
        _ => crate::codec::Method::Stored,
    }
}

fn bound(codec: CodecId, src_size: usize) -> usize {
    frames::compress_bound(codec, src_size as u64).and_then(|b| usize::try_from(b).ok()).unwrap_or(0)
}

/// The body of `llmc_bf16_compress` and `llmc_q4k_compress`.
///
/// # Safety
/// As `llmc_bf16_compress`.
unsafe fn compress(
    method: crate::codec::Method,
    src: *const c_void,
    src_size: usize,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
    params: *const llmc_params,
) -> llmc_status {
    // SAFETY: NULL or valid per the public contract.
    unsafe { store(dst_written, 0) };
    call(|| {
        // SAFETY: per the public contract of the calling function.
        let params = unsafe { read_params(params) }?;
        // SAFETY: as above.
        let src = unsafe { bytes(src, src_size) }?;
        // SAFETY: as above.
        let dst = unsafe { bytes_mut(dst, dst_capacity) }?;
        // Straight into the caller's buffer: no frame-sized buffer, no copy of it.
        let written = frames::compress_into(&method, src, &params, dst)?;
        // SAFETY: as above.
        unsafe { store(dst_written, written) };
        Ok(())
    })
}

/// The body of the frame decompression functions.
///
/// # Safety
/// As `llmc_bf16_decompress`.
unsafe fn decompress(
    expect: Option<CodecId>,
    opts: DecodeOptions,
    src: *const c_void,
    src_size: usize,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
) -> llmc_status {
    // SAFETY: NULL or valid per the public contract.
    unsafe { store(dst_written, 0) };
    call(|| {
        // SAFETY: per the public contract of the calling function.
        let src = unsafe { bytes(src, src_size) }?;
        // SAFETY: as above.
        let dst = unsafe { bytes_mut(dst, dst_capacity) }?;
        let f = frames::parse(src)?;
        if expect.is_some_and(|c| c != f.header.codec) {
            return Err(Error::CodecUnsupported);
        }
        let n = frames::decode_exact(&f, src.len(), dst, &opts)?;
        // SAFETY: as above.
        unsafe { store(dst_written, n) };
        Ok(())
    })
}

/// Largest frame `llmc_bf16_compress` can produce for `src_size` bytes (any
/// parameters); 0 if that does not fit in `size_t`. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_bf16_compress_bound(src_size: usize) -> usize {
    call_value(0, || bound(CodecId::Bf16, src_size))
}

/// Compresses a little-endian bf16 array (`src_size` even) into one frame.
/// `params` may be NULL (defaults). `*dst_written` (may be NULL) receives the
/// frame size, or 0 on error. `dst_capacity >= llmc_bf16_compress_bound(src_size)`
/// always suffices. The frame is written straight into `dst`, so on error
/// (`LLMC_STATUS_DST_TOO_SMALL` included) the contents of `dst` are unspecified.
/// Thread-safe; starts threads only if `params->n_threads > 1`.
///
/// # Safety
/// `src` is NULL or points to `src_size` readable bytes; `dst` is NULL or points to
/// `dst_capacity` writable bytes, not overlapping `src`; `dst_written` is NULL or
/// valid for writing a `size_t`; `params` is NULL or points to an `llmc_params` of
/// at least `params->struct_size` readable bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_bf16_compress(
    src: *const c_void,
    src_size: usize,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
    params: *const llmc_params,
) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { compress(method_of(CodecId::Bf16), src, src_size, dst, dst_capacity, dst_written, params) }
}

/// `llmc_bf16_compress` for a matrix stored row after row, `row_len` values per
/// row (its last dimension): the rows of each chunk may fall into classes by
/// magnitude, each with its own table, where that is smaller (chunks whose
/// lane count does not divide `row_len` and the chunk's first column use one
/// table). `row_len` 0 is `llmc_bf16_compress`. Any `llmc_decompress` of this
/// version decodes the frame; older libraries report such chunks as corrupt.
/// `llmc_bf16_compress_bound` applies. Thread-safe; starts threads only if
/// `params->n_threads > 1`.
///
/// # Safety
/// As `llmc_bf16_compress`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_bf16_compress_rows(
    src: *const c_void,
    src_size: usize,
    row_len: u32,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
    params: *const llmc_params,
) -> llmc_status {
    let method = method_of(CodecId::Bf16).with_rows(Some(u64::from(row_len)));
    // SAFETY: forwarded contract.
    unsafe { compress(method, src, src_size, dst, dst_capacity, dst_written, params) }
}

/// Decompresses a bf16 frame (other codecs: `LLMC_STATUS_CODEC_UNSUPPORTED`).
/// `src_size` must be exactly one frame; `dst_capacity` at least its content size
/// (see `llmc_frame_info_get`). On error the contents of `dst` are unspecified.
/// Thread-safe.
///
/// # Safety
/// `src` is NULL or points to `src_size` readable bytes; `dst` is NULL or points to
/// `dst_capacity` writable bytes, not overlapping `src`; `dst_written` is NULL or
/// valid for writing a `size_t`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_bf16_decompress(
    src: *const c_void,
    src_size: usize,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { decompress(Some(CodecId::Bf16), DecodeOptions::default(), src, src_size, dst, dst_capacity, dst_written) }
}

/// Largest frame `llmc_q4k_compress` can produce for `src_size` bytes; 0 if that does
/// not fit in `size_t`. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_q4k_compress_bound(src_size: usize) -> usize {
    call_value(0, || bound(CodecId::Q4k, src_size))
}

/// Compresses an array of GGUF `block_q4_K` (`src_size` a multiple of
/// `LLMC_Q4K_BLOCK_BYTES` = 144, else `LLMC_STATUS_INVALID_ARGUMENT`) into one
/// frame. Conventions as `llmc_bf16_compress`. Thread-safe.
///
/// # Safety
/// As `llmc_bf16_compress`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_q4k_compress(
    src: *const c_void,
    src_size: usize,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
    params: *const llmc_params,
) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { compress(method_of(CodecId::Q4k), src, src_size, dst, dst_capacity, dst_written, params) }
}

/// Decompresses a Q4_K frame (other codecs: `LLMC_STATUS_CODEC_UNSUPPORTED`).
/// Conventions as `llmc_bf16_decompress`. Thread-safe.
///
/// # Safety
/// As `llmc_bf16_decompress`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_q4k_decompress(
    src: *const c_void,
    src_size: usize,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { decompress(Some(CodecId::Q4k), DecodeOptions::default(), src, src_size, dst, dst_capacity, dst_written) }
}

/// Decompresses any llmc frame; the codec is read from the frame header. Same
/// rules as `llmc_bf16_decompress`. Thread-safe.
///
/// # Safety
/// As `llmc_bf16_decompress`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_decompress(
    src: *const c_void,
    src_size: usize,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { decompress(None, DecodeOptions::default(), src, src_size, dst, dst_capacity, dst_written) }
}

/// ==== Decompression contexts (advanced: per-call ISA and threads) ====
///
/// A decompression context: carries an ISA override and a thread count. Must not
/// be used by two threads at the same time; use one per thread. Frame decodes
/// (`llmc_decompress_dctx`) and container reads (`llmc_container_read_*`) take one.
pub struct llmc_dctx {
    isa: Option<Isa>,
    n_threads: u32,
}

impl llmc_dctx {
    /// Decode options for this context (`verify`: check chunk checksums).
    pub(super) fn options(&self, verify_checksums: bool) -> DecodeOptions {
        DecodeOptions { isa: self.isa, n_threads: self.n_threads, verify_checksums, ..Default::default() }
    }
}

/// Creates a context (ISA: process-wide setting; threads: calling thread only).
/// Thread-safe.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_dctx_create(out: *mut *mut llmc_dctx) -> llmc_status {
    call(|| {
        if out.is_null() {
            return Err(Error::NullPointer);
        }
        let d = Box::into_raw(Box::new(llmc_dctx { isa: None, n_threads: 1 }));
        // SAFETY: checked non-null; the caller passes a valid out-pointer.
        unsafe { out.write_unaligned(d) };
        Ok(())
    })
}

/// Frees a context; NULL is ignored. No other call may be using it.
///
/// # Safety
/// `d` is NULL or a context from `llmc_dctx_create`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn llmc_dctx_free(d: *mut llmc_dctx) {
    if !d.is_null() {
        // SAFETY: `d` came from llmc_dctx_create and is freed once, per the contract.
        drop(unsafe { Box::from_raw(d) });
    }
}

/// Forces the ISA this context decodes with (`LLMC_ISA_AUTO` = process-wide
/// setting). `LLMC_STATUS_ISA_UNSUPPORTED` if the CPU lacks it (context unchanged).
/// Not while another thread uses the context.
///
/// # Safety
/// `d` is NULL or a live context (from `llmc_dctx_create`, not freed).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_dctx_set_isa(d: *mut llmc_dctx, isa: u32) -> llmc_status {
    call(|| {
        // SAFETY: NULL or a live context per the contract.
        let d = unsafe { d.as_mut() }.ok_or(Error::NullPointer)?;
        d.isa = isa_request(isa)?;
        Ok(())
    })
}

/// The ISA this context decodes with now (never `LLMC_ISA_AUTO`; scalar for NULL).
/// Not while another thread changes the context.
///
/// # Safety
/// `d` is NULL or a live context (from `llmc_dctx_create`, not freed).
#[no_mangle]
pub unsafe extern "C" fn llmc_dctx_get_isa(d: *const llmc_dctx) -> llmc_isa {
    call_value(Isa::Scalar as u32, || {
        // SAFETY: NULL or a live context per the contract.
        match unsafe { reference(d) } {
            Ok(d) => d.isa.unwrap_or_else(crate::isa::active) as u32,
            Err(_) => Isa::Scalar as u32,
        }
    })
}

/// Threads this context may use to decode chunks in parallel (0 or 1 = calling
/// thread only). Output does not depend on it.
///
/// # Safety
/// `d` is NULL or a live context (from `llmc_dctx_create`, not freed).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_dctx_set_threads(d: *mut llmc_dctx, n_threads: u32) -> llmc_status {
    call(|| {
        // SAFETY: NULL or a live context per the contract.
        let d = unsafe { d.as_mut() }.ok_or(Error::NullPointer)?;
        d.n_threads = n_threads.max(1);
        Ok(())
    })
}

/// `llmc_decompress` with the context's ISA and thread count.
///
/// # Safety
/// `d` is NULL or a live context that no other thread uses during the call; the
/// buffers as for `llmc_bf16_decompress`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_decompress_dctx(
    d: *mut llmc_dctx,
    src: *const c_void,
    src_size: usize,
    dst: *mut c_void,
    dst_capacity: usize,
    dst_written: *mut usize,
) -> llmc_status {
    // SAFETY: NULL or a live context per the contract.
    let Some(ctx) = (unsafe { d.as_ref() }) else {
        // SAFETY: NULL or valid per the contract.
        unsafe { store(dst_written, 0) };
        return Error::NullPointer.code();
    };
    let opts = DecodeOptions { isa: ctx.isa, n_threads: ctx.n_threads, ..Default::default() };
    // SAFETY: forwarded contract.
    unsafe { decompress(None, opts, src, src_size, dst, dst_capacity, dst_written) }
}
