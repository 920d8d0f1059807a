//! The first ABI's names for the container functions (`llmc_gguf_*`, from when
//! GGUF was the only source format), kept so programs built against them keep
//! working. Each forwards to its `llmc_container_*` counterpart and keeps the
//! first ABI's contract where it differs: an index past the end is
//! `LLMC_STATUS_NOT_FOUND`, and a range read past the end is
//! `LLMC_STATUS_INVALID_ARGUMENT`. New code should use `llmc_container_*`.

use super::boundary::call;
use super::container::*;
use super::frames::read_params;
use super::types::{llmc_params, llmc_status};
use crate::error::Error;
use core::ffi::{c_char, c_void};

/// ==== The first ABI's names (`llmc_gguf_*`), kept as aliases ====
///
/// The first ABI's name for `llmc_container`.
pub type llmc_gguf = llmc_container;

/// The first ABI's statuses: an index past the end was "not found".
fn v1_status(status: llmc_status) -> llmc_status {
    if status == Error::OutOfRange.code() {
        Error::NotFound.code()
    } else {
        status
    }
}

/// Alias of `llmc_container_compress_file` (GGUF or safetensors input). Thread-safe.
///
/// # Safety
/// As `llmc_container_compress_file`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_compress_file(gguf_path: *const c_char, llmc_path: *const c_char, params: *const llmc_params) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_compress_file(gguf_path, llmc_path, params) }
}

/// Compresses a safetensors file (refusing anything else) into a container;
/// otherwise as `llmc_container_compress_file`. Thread-safe.
///
/// # Safety
/// As `llmc_container_compress_file`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_safetensors_compress_file(safetensors_path: *const c_char, llmc_path: *const c_char, params: *const llmc_params) -> llmc_status {
    call(|| {
        // SAFETY: NULL or valid per the contract.
        let params = unsafe { read_params(params) }?;
        // SAFETY: `safetensors_path` as this function's contract requires.
        let input = unsafe { path_arg(safetensors_path) }?;
        let file = crate::engine::io::map(input)?;
        let container = crate::sources::safetensors::codec::compress(&file, &params, None)?;
        // SAFETY: `llmc_path` as this function's contract requires.
        crate::engine::io::write_atomic(unsafe { path_arg(llmc_path) }?, &container)
    })
}

/// Alias of `llmc_container_decompress_file` on the calling thread. Thread-safe.
///
/// # Safety
/// As `llmc_container_decompress_file`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_decompress_file(llmc_path: *const c_char, gguf_path: *const c_char) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_decompress_file(llmc_path, gguf_path, 1) }
}

/// Alias of `llmc_container_source_kind`. Thread-safe.
///
/// # Safety
/// As `llmc_container_source_kind`.
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_source_kind(g: *const llmc_gguf) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_source_kind(g) }
}

/// Alias of `llmc_container_open_file`. Thread-safe.
///
/// # Safety
/// As `llmc_container_open_file`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_open_file(file: *const c_char, flags: u32, out: *mut *mut llmc_gguf) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_open_file(file, flags, out) }
}

/// Alias of `llmc_container_open_buffer`. Thread-safe.
///
/// # Safety
/// As `llmc_container_open_buffer`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_open_buffer(data: *const c_void, size: usize, flags: u32, out: *mut *mut llmc_gguf) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_open_buffer(data, size, flags, out) }
}

/// Alias of `llmc_container_close`. No other call may be using the handle.
///
/// # Safety
/// As `llmc_container_close`.
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_close(g: *mut llmc_gguf) {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_close(g) }
}

/// Alias of `llmc_container_original_size`. Thread-safe.
///
/// # Safety
/// As `llmc_container_original_size`.
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_original_size(g: *const llmc_gguf) -> u64 {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_original_size(g) }
}

/// Alias of `llmc_container_metadata_size`. Thread-safe.
///
/// # Safety
/// As `llmc_container_metadata_size`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_metadata_size(g: *const llmc_gguf, size: *mut u64) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_metadata_size(g, size) }
}

/// `llmc_container_read_metadata` without a context or a written count. Thread-safe.
///
/// # Safety
/// `g` is NULL or an open handle (not closed); `dst` is NULL or points to
/// `dst_capacity` writable bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_read_metadata(g: *const llmc_gguf, dst: *mut c_void, dst_capacity: usize) -> llmc_status {
    // SAFETY: forwarded contract; NULL context and count are allowed.
    unsafe { llmc_container_read_metadata(g, core::ptr::null(), dst, dst_capacity, core::ptr::null_mut()) }
}

/// Alias of `llmc_container_n_tensors`. Thread-safe.
///
/// # Safety
/// As `llmc_container_n_tensors`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_n_tensors(g: *const llmc_gguf, n: *mut u64) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_n_tensors(g, n) }
}

/// Alias of `llmc_container_find_tensor`. Thread-safe.
///
/// # Safety
/// As `llmc_container_find_tensor`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_find_tensor(g: *const llmc_gguf, name: *const c_char, index: *mut u64) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_find_tensor(g, name, index) }
}

/// `llmc_container_tensor_info`, with `LLMC_STATUS_NOT_FOUND` past the last
/// tensor. Thread-safe.
///
/// # Safety
/// As `llmc_container_tensor_info`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_tensor_info(g: *const llmc_gguf, index: u64, info: *mut llmc_tensor_info) -> llmc_status {
    // SAFETY: forwarded contract.
    v1_status(unsafe { llmc_container_tensor_info(g, index, info) })
}

/// `llmc_container_read_tensor` without a context or a written count, with
/// `LLMC_STATUS_NOT_FOUND` past the last tensor. Thread-safe.
///
/// # Safety
/// As `llmc_gguf_read_metadata`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_read_tensor(g: *const llmc_gguf, index: u64, dst: *mut c_void, dst_capacity: usize) -> llmc_status {
    // SAFETY: forwarded contract; NULL context and count are allowed.
    v1_status(unsafe { llmc_container_read_tensor(g, core::ptr::null(), index, dst, dst_capacity, core::ptr::null_mut()) })
}

/// Reads exactly `size` bytes of the original file at `offset`
/// (`LLMC_STATUS_INVALID_ARGUMENT` if the range passes its end); see
/// `llmc_container_read_range`, which returns short counts instead. Thread-safe.
///
/// # Safety
/// `g` is NULL or an open handle (not closed); `dst` is NULL or points to `size`
/// writable bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_read_range(g: *const llmc_gguf, offset: u64, dst: *mut c_void, size: usize) -> llmc_status {
    let mut n = 0usize;
    // SAFETY: forwarded contract; NULL context is allowed.
    let status = unsafe { llmc_container_read_range(g, core::ptr::null(), offset, dst, size, &mut n) };
    if status == 0 && n != size {
        return Error::InvalidArgument.code();
    }
    status
}

/// Alias of `llmc_container_chunk_size`. Thread-safe.
///
/// # Safety
/// As `llmc_container_chunk_size`.
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_chunk_size(g: *const llmc_gguf) -> u64 {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_chunk_size(g) }
}

/// Alias of `llmc_container_reader_callback`. Thread-safe.
///
/// # Safety
/// As `llmc_container_reader_callback`.
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_reader_callback(g: *mut c_void, output: *mut c_void, offset: u64, len: usize) -> usize {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_reader_callback(g, output, offset, len) }
}

/// Alias of `llmc_container_last_status`. Thread-safe.
///
/// # Safety
/// As `llmc_container_last_status`.
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_last_status(g: *const llmc_gguf) -> llmc_status {
    // SAFETY: forwarded contract.
    unsafe { llmc_container_last_status(g) }
}
