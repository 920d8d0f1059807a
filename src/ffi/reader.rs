//! Readers: a container's original bytes through a cache of decoded chunks,
//! with decoding ahead of sequential reads on worker threads — the read path
//! of `llmc mount`, for loaders that pull bytes themselves (pread-style).

use super::boundary::{bytes_mut, call, call_value, reference, store};
use super::container::{LLMC_OPEN_NO_MMAP, LLMC_OPEN_NO_VERIFY};
use super::types::llmc_status;
use crate::container::reader::{ContainerBytes, ReadEngine, Reader, DEFAULT_CACHE_SIZE};
use crate::error::{Error, Result};
use crate::params::DecodeOptions;
use core::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

/// Options for `llmc_reader_open`; fill with `llmc_reader_options_init`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct llmc_reader_options {
    /// Set to `sizeof(llmc_reader_options)` (done by `llmc_reader_options_init`).
    pub struct_size: u32,
    /// Read-ahead worker threads (default 0: none are started, and chunks are
    /// decoded only by the threads calling `llmc_reader_read`).
    pub n_threads: u32,
    /// Bytes of decoded chunks kept (default 256 MiB; 0 keeps none).
    pub cache_size: u64,
    /// `LLMC_OPEN_NO_VERIFY`, `LLMC_OPEN_NO_MMAP` (default 0).
    pub flags: u32,
    /// Reserved, set to 0.
    pub reserved: u32,
}

/// An open reader. `llmc_reader_read` may be called from any number of
/// threads at once; `llmc_reader_free` must not overlap any other call on it.
pub struct llmc_reader {
    reader: Arc<Reader>,
}

fn defaults() -> llmc_reader_options {
    llmc_reader_options { struct_size: core::mem::size_of::<llmc_reader_options>() as u32, n_threads: 0, cache_size: DEFAULT_CACHE_SIZE as u64, flags: 0, reserved: 0 }
}

/// Fills `o` with defaults and sets `o->struct_size`. NULL is ignored. Thread-safe.
///
/// # Safety
/// `o` is NULL or valid for writing an `llmc_reader_options`.
#[no_mangle]
pub unsafe extern "C" fn llmc_reader_options_init(o: *mut llmc_reader_options) {
    // SAFETY: NULL or valid for writes per the contract above.
    unsafe { store(o, defaults()) };
}

/// # Safety
/// `o` is NULL or points to a valid `llmc_reader_options`.
unsafe fn read_options(o: *const llmc_reader_options) -> Result<llmc_reader_options> {
    if o.is_null() {
        return Ok(defaults());
    }
    // SAFETY: non-null; the caller passes a valid struct.
    let size = unsafe { core::ptr::addr_of!((*o).struct_size).read_unaligned() };
    if (size as usize) < core::mem::size_of::<llmc_reader_options>() {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: the struct is at least as large as ours.
    let o = unsafe { o.read_unaligned() };
    if o.flags & !(LLMC_OPEN_NO_VERIFY | LLMC_OPEN_NO_MMAP) != 0 || o.reserved != 0 {
        return Err(Error::InvalidArgument);
    }
    Ok(o)
}

/// Opens the container at `path` (NUL-terminated) for reads of its original
/// bytes; `options` may be NULL (defaults). Validates the header, index and
/// every frame's chunk table; starts `options->n_threads` threads (at most
/// 256), which `llmc_reader_free` stops. On failure `*out` is
/// NULL (when `out` is not). The index is parsed at open; payloads are then
/// read from the file (`pread`) as chunks are decoded, so a file truncated or
/// rewritten while open fails the reads that touch it (`LLMC_STATUS_SRC_TRUNCATED`
/// or a checksum error), never with a signal. With `LLMC_OPEN_NO_MMAP` the
/// whole file is read into memory at open instead. A directory is
/// `LLMC_STATUS_IO` (EISDIR); a pipe or device, which has no offsets to read at,
/// `LLMC_STATUS_INVALID_ARGUMENT` (`llmc_container_open_file` reads one). Thread-safe.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `options` is NULL or points to an
/// `llmc_reader_options` of at least `options->struct_size` readable bytes; `out`
/// is NULL or valid for writing one pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_reader_open(path: *const c_char, options: *const llmc_reader_options, out: *mut *mut llmc_reader) -> llmc_status {
    call(|| {
        if out.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid for one pointer per the contract. A
        // failed open leaves NULL there.
        unsafe { out.write_unaligned(core::ptr::null_mut()) };
        if path.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: NULL or valid per the contract.
        let o = unsafe { read_options(options) }?;
        // SAFETY: non-null and NUL-terminated per the contract.
        let p = unsafe { CStr::from_ptr(path) };
        let p = std::path::Path::new(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(p.to_bytes()));
        let source = if o.flags & LLMC_OPEN_NO_MMAP != 0 {
            ContainerBytes::Owned(std::fs::read(p).map_err(|e| Error::from_io(&e))?)
        } else {
            ContainerBytes::open(p)?
        };
        let cache = usize::try_from(o.cache_size).unwrap_or(usize::MAX);
        let engine = ReadEngine::new(cache, o.n_threads.min(crate::format::limits::MAX_THREADS) as usize)?;
        let opts = DecodeOptions { verify_checksums: o.flags & LLMC_OPEN_NO_VERIFY == 0, ..Default::default() };
        let reader = Reader::new(source, &engine, &opts)?;
        // SAFETY: checked non-null; the caller passes a valid out-pointer.
        unsafe { out.write_unaligned(Box::into_raw(Box::new(llmc_reader { reader }))) };
        Ok(())
    })
}

/// The reader behind `r` (`NullPointer` for NULL).
///
/// # Safety
/// `r` is NULL or a live reader (not freed) for `'a`.
unsafe fn handle<'a>(r: *const llmc_reader) -> Result<&'a llmc_reader> {
    // SAFETY: NULL or a live reader per this function's contract.
    unsafe { reference(r) }
}

/// Reads up to `len` bytes at `offset` of the original file into `dst`, like
/// `pread`: `*n_read` is the bytes read, fewer than `len` only at the end of
/// the file (0 at or past it). A chunk that fails its check fails the call
/// (`LLMC_STATUS_CHECKSUM_MISMATCH` or `LLMC_STATUS_CORRUPT`, `*n_read` = 0);
/// reads that do not touch it still succeed. Thread-safe.
///
/// # Safety
/// `r` is NULL or an open reader (not freed); `dst` is NULL or points to `len`
/// writable bytes; `n_read` is NULL or valid for writing a `size_t`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_reader_read(r: *const llmc_reader, offset: u64, dst: *mut c_void, len: usize, n_read: *mut usize) -> llmc_status {
    call(|| {
        // SAFETY: `r` as this function's contract requires.
        let r = unsafe { handle(r) }?;
        if n_read.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid per the contract.
        unsafe { store(n_read, 0) };
        // SAFETY: per the contract.
        let dst = unsafe { bytes_mut(dst, len) }?;
        let n = r.reader.read_at(offset, dst)?;
        // SAFETY: as above.
        unsafe { store(n_read, n) };
        Ok(())
    })
}

/// Size of the original file in bytes (0 for NULL). Thread-safe.
///
/// # Safety
/// `r` is NULL or an open reader (not freed).
#[no_mangle]
pub unsafe extern "C" fn llmc_reader_size(r: *const llmc_reader) -> u64 {
    // SAFETY: `r` as this function's contract requires.
    call_value(0, || unsafe { handle(r) }.map_or(0, |r| r.reader.size()))
}

/// Bytes of decoded chunks the reader's cache holds now (0 for NULL). Thread-safe.
///
/// # Safety
/// `r` is NULL or an open reader (not freed).
#[no_mangle]
pub unsafe extern "C" fn llmc_reader_cached_bytes(r: *const llmc_reader) -> u64 {
    // SAFETY: `r` as this function's contract requires.
    call_value(0, || unsafe { handle(r) }.map_or(0, |r| r.reader.cached_bytes() as u64))
}

/// Stops the reader's threads and frees it; NULL is ignored. No other call may
/// be using it.
///
/// # Safety
/// `r` is NULL or a reader from `llmc_reader_open`, not freed before.
#[no_mangle]
pub unsafe extern "C" fn llmc_reader_free(r: *mut llmc_reader) {
    if !r.is_null() {
        // SAFETY: `r` came from llmc_reader_open and is freed once, per the contract.
        let r = unsafe { Box::from_raw(r) };
        // Threads are joined here, before returning. Dropping the reader would
        // do it too (it waits for its running read-ahead jobs, then drops the
        // engine); stopping first drops the queued jobs, so it waits for fewer.
        call_value((), move || {
            r.reader.engine().stop();
            drop(r);
        });
    }
}
