//! Containers made from GGUF or safetensors files (`llmc_container_*`):
//! compress, rebuild, open (mmap or a borrowed buffer), read metadata, tensors
//! or any byte range of the original file. An open handle is immutable: any
//! number of threads may read from it at once. The first ABI's `llmc_gguf_*`
//! names are kept as aliases in `gguf_names.rs`.

use super::boundary::{bytes, bytes_mut, call, call_value, reference, store};
use super::frames::read_params;
use super::frames::llmc_dctx;
use super::types::{llmc_params, llmc_status};
use crate::container::read::Index;
use crate::container::SourceKind;
use crate::error::{Error, Result};
use crate::engine::frames;
use crate::params::DecodeOptions;
use core::ffi::{c_char, c_void, CStr};
use std::ffi::CString;
use std::sync::atomic::{AtomicU32, Ordering};

/// Skip per-chunk checksum verification on reads.
pub const LLMC_OPEN_NO_VERIFY: u32 = 1 << 0;
/// Read the file into memory instead of mapping it.
pub const LLMC_OPEN_NO_MMAP: u32 = 1 << 1;
const KNOWN_OPEN_FLAGS: u32 = LLMC_OPEN_NO_VERIFY | LLMC_OPEN_NO_MMAP;

enum Source {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
    /// Caller-owned memory, valid and unmodified until `llmc_container_close`.
    Borrowed(*const u8, usize),
}

impl Source {
    fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(m) => m,
            Source::Owned(v) => v,
            // SAFETY: the caller of llmc_gguf_open_buffer keeps the buffer alive and
            // unmodified until the handle is closed (documented contract).
            Source::Borrowed(p, n) => unsafe { core::slice::from_raw_parts(*p, *n) },
        }
    }
}

/// ==== Containers: whole GGUF / safetensors files, read by tensor or byte range ====
///
/// An open container. Immutable after open; safe to read from many threads.
pub struct llmc_container {
    source: Source,
    index: Index,
    /// One C string per distinct type name (a handful), not one per entry;
    /// entry names are C strings in the index's own name table.
    dtype_names: std::collections::BTreeMap<&'static str, CString>,
    opts: DecodeOptions,
    last_status: AtomicU32,
}

/// The container holds a GGUF file.
pub const LLMC_SOURCE_GGUF: u32 = 1;
/// The container holds a safetensors file.
pub const LLMC_SOURCE_SAFETENSORS: u32 = 2;

/// Most dimensions `llmc_tensor_info` reports.
pub const LLMC_MAX_DIMS: usize = 8;

/// What `llmc_container_tensor_info` reports.
#[repr(C)]
pub struct llmc_tensor_info {
    /// Set to `sizeof(llmc_tensor_info)` before calling. Callers built against
    /// an older header pass a smaller size (at least 8) and get the whole fields
    /// that fit in it; nothing past `struct_size` is written.
    pub struct_size: u32,
    /// The source's type id: the ggml type for GGUF, the safetensors dtype id
    /// (see `dtype_name`) for safetensors.
    pub ggml_type: u32,
    /// NUL-terminated, owned by the handle, valid until `llmc_container_close`.
    pub name: *const c_char,
    /// Absolute offset in the original file.
    pub orig_offset: u64,
    /// Bytes.
    pub size: u64,
    /// The codec of the frame holding the tensor (one of `llmc_codec`); tiny
    /// tensors side by side share one (a batch, container version 10).
    pub codec: u32,
    /// Number of dimensions in `shape`.
    pub n_dims: u32,
    /// The type's name ("Q4_K", "BF16", ...): NUL-terminated, owned by the
    /// handle, valid until `llmc_container_close`.
    pub dtype_name: *const c_char,
    /// Dimensions in the source's order: ggml's `ne[]` (contiguous first) for
    /// GGUF, row-major (outermost first) for safetensors. Unused entries are 0.
    pub shape: [u64; LLMC_MAX_DIMS],
}

/// Where each field of `llmc_tensor_info` ends: a caller's `struct_size` gets
/// the fields that end within it.
const TENSOR_INFO_FIELD_ENDS: [usize; 9] = {
    use core::mem::offset_of;
    type T = llmc_tensor_info;
    [
        offset_of!(T, struct_size) + 4,
        offset_of!(T, ggml_type) + 4,
        offset_of!(T, name) + 8,
        offset_of!(T, orig_offset) + 8,
        offset_of!(T, size) + 8,
        offset_of!(T, codec) + 4,
        offset_of!(T, n_dims) + 4,
        offset_of!(T, dtype_name) + 8,
        offset_of!(T, shape) + 8 * LLMC_MAX_DIMS,
    ]
};

/// The path in `p` (`NullPointer` for NULL).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives `'a`.
pub(super) unsafe fn path_arg<'a>(p: *const c_char) -> Result<&'a std::path::Path> {
    if p.is_null() {
        return Err(Error::NullPointer);
    }
    // SAFETY: non-null, NUL-terminated per this function's contract.
    let s = unsafe { CStr::from_ptr(p) };
    use std::os::unix::ffi::OsStrExt;
    Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(s.to_bytes())))
}

fn open(source: Source, flags: u32) -> Result<Box<llmc_container>> {
    if flags & !KNOWN_OPEN_FLAGS != 0 {
        return Err(Error::InvalidArgument);
    }
    let index = Index::open(source.bytes())?;
    let mut dtype_names = std::collections::BTreeMap::new();
    for e in &index.entries {
        let name = dtype_name(index.kind, e.dtype);
        dtype_names.entry(name).or_insert_with(|| CString::new(name).expect("type names have no NUL"));
    }
    let opts = DecodeOptions { verify_checksums: flags & LLMC_OPEN_NO_VERIFY == 0, ..Default::default() };
    Ok(Box::new(llmc_container { source, index, dtype_names, opts, last_status: AtomicU32::new(0) }))
}

/// The name of a tensor type ("Q4_K", "BF16").
fn dtype_name(kind: SourceKind, dtype: u32) -> &'static str {
    match kind {
        SourceKind::Safetensors => crate::sources::safetensors::dtypes::Dtype::from_id(dtype).name(),
        _ => crate::sources::gguf::types::type_name(dtype),
    }
}

/// The container behind `g` (`NullPointer` for NULL).
///
/// # Safety
/// `g` is NULL or a live handle (from an open call, not closed) for `'a`.
pub(super) unsafe fn handle<'a>(g: *const llmc_container) -> Result<&'a llmc_container> {
    // SAFETY: NULL or a live handle per this function's contract.
    unsafe { reference(g) }
}

impl llmc_container {
    /// Decode options for a read: the context's ISA and threads (process-wide
    /// setting and one thread for NULL), the handle's checksum setting.
    ///
    /// # Safety
    /// `dctx` is NULL or a live decode context.
    unsafe fn options(&self, dctx: *const llmc_dctx) -> Result<DecodeOptions> {
        // SAFETY: NULL or a live context per this function's contract.
        match unsafe { dctx.as_ref() } {
            Some(d) => Ok(d.options(self.opts.verify_checksums)),
            None => Ok(self.opts),
        }
    }

    fn entry(&self, index: u64) -> Result<usize> {
        usize::try_from(index).ok().filter(|&i| i < self.index.entries.len()).ok_or(Error::OutOfRange)
    }
}

/// Stores `n` through `written` unless it is NULL.
///
/// # Safety
/// `written` is NULL or valid for a write.
unsafe fn report(written: *mut usize, n: usize) {
    if !written.is_null() {
        // SAFETY: non-null and valid per the caller's contract.
        unsafe { store(written, n) };
    }
}

// ---- Whole files ----

/// Compresses a GGUF or safetensors file (detected from its first bytes) into
/// a container at `llmc_path`, written to a temporary name and renamed.
/// `params` may be NULL; `params->level` is the zstd level of the metadata
/// (0 = 19); `params->n_threads` codes chunks in parallel (the output does not
/// depend on it). The input is read with `read`/`pread`, not mapped: a file
/// that shrinks meanwhile gives `LLMC_STATUS_SRC_TRUNCATED`, never a signal. A
/// name or shape a container cannot record is refused before anything is
/// written. Thread-safe.
///
/// # Safety
/// `in_path` and `llmc_path` are NULL or NUL-terminated strings; `params` is NULL
/// or points to an `llmc_params` of at least `params->struct_size` readable bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_compress_file(in_path: *const c_char, llmc_path: *const c_char, params: *const llmc_params) -> llmc_status {
    call(|| {
        // SAFETY: NULL or valid per the contract.
        let params = unsafe { read_params(params) }?;
        // SAFETY: `in_path`, `llmc_path` as this function's contract requires.
        crate::sources::file::compress_file(unsafe { path_arg(in_path) }?, unsafe { path_arg(llmc_path) }?, &params, None)
    })
}

/// Rebuilds the original file (GGUF or safetensors) from any container, byte
/// for byte (verified against the stored SHA-256), decoding chunks on
/// `n_threads` threads (0 or 1: the calling thread only); written to a
/// temporary name and renamed. The input is read with `read`/`pread`, not
/// mapped: a container that shrinks meanwhile gives
/// `LLMC_STATUS_SRC_TRUNCATED`, never a signal. Thread-safe.
///
/// # Safety
/// `llmc_path` and `out_path` are NULL or NUL-terminated strings.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_decompress_file(llmc_path: *const c_char, out_path: *const c_char, n_threads: u32) -> llmc_status {
    call(|| {
        let opts = DecodeOptions { n_threads: n_threads.max(1), ..Default::default() };
        // SAFETY: `llmc_path`, `out_path` as this function's contract requires.
        crate::sources::file::decompress_file(unsafe { path_arg(llmc_path) }?, unsafe { path_arg(out_path) }?, &opts)
    })
}

// ---- Opening ----

/// Opens a container file (memory-mapped unless `LLMC_OPEN_NO_MMAP`); validates
/// its header, index and every frame header. A file cut short (an interrupted
/// download or copy) is `LLMC_STATUS_SRC_TRUNCATED`; one damaged elsewhere is
/// `LLMC_STATUS_CORRUPT` or `LLMC_STATUS_CHECKSUM_MISMATCH`. Thread-safe.
///
/// **A mapped file must not shrink while the handle is open.** Reads go
/// straight to the file's pages: if another process truncates the file, a read
/// of a page past its new end raises `SIGBUS`, which ends the process unless it
/// handles the signal (the contract of every mmap-based reader, llama.cpp's
/// included). Replace files by renaming a new one into place, never by
/// rewriting them in place, or open with `LLMC_OPEN_NO_MMAP`, which reads the
/// container into memory at open. Files that are not regular (pipes, devices)
/// are always read that way, as far as the container's header, records and
/// trailer declare and no further.
///
/// On failure `*out` is NULL (when `out` is not).
///
/// # Safety
/// `file` is NULL or a NUL-terminated string; `out` is NULL or valid for writing
/// one pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_open_file(file: *const c_char, flags: u32, out: *mut *mut llmc_container) -> llmc_status {
    call(|| {
        if out.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid for one pointer per the contract. A
        // failed open leaves NULL there, so a cleanup path may close it.
        unsafe { out.write_unaligned(core::ptr::null_mut()) };
        // SAFETY: `file` as this function's contract requires.
        let p = unsafe { path_arg(file) }?;
        let f = std::fs::File::open(p).map_err(|e| Error::from_io(&e))?;
        // Only regular files can be mapped; a pipe or device is read (as far as the container declares).
        let regular = f.metadata().map_err(|e| Error::from_io(&e))?.is_file();
        let source = if flags & LLMC_OPEN_NO_MMAP != 0 || !regular {
            Source::Owned(crate::container::load::read_all(&f)?)
        } else {
            // SAFETY: the map is read-only; like every mmap-based reader we rely on
            // the file not being truncated while open (documented).
            Source::Mapped(unsafe { memmap2::Mmap::map(&f) }?)
        };
        let c = open(source, flags)?;
        // SAFETY: checked non-null; the caller passes a valid out-pointer.
        unsafe { out.write_unaligned(Box::into_raw(c)) };
        Ok(())
    })
}

/// Opens a container in memory. Borrows `[data, data + size)`: the caller keeps it
/// alive and unmodified until `llmc_container_close` (if it maps a file, the
/// file must not shrink meanwhile: see `llmc_container_open_file`). Thread-safe.
///
/// On failure `*out` is NULL (when `out` is not).
///
/// # Safety
/// `data` is NULL or points to `size` readable bytes that stay valid and unmodified
/// until the handle is closed; `out` is NULL or valid for writing one pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_open_buffer(data: *const c_void, size: usize, flags: u32, out: *mut *mut llmc_container) -> llmc_status {
    call(|| {
        if out.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid for one pointer per the contract. A
        // failed open leaves NULL there, so a cleanup path may close it.
        unsafe { out.write_unaligned(core::ptr::null_mut()) };
        // SAFETY: per the contract (validates NULL and length).
        let b = unsafe { bytes(data, size) }?;
        let c = open(Source::Borrowed(b.as_ptr(), b.len()), flags)?;
        // SAFETY: checked non-null; the caller passes a valid out-pointer.
        unsafe { out.write_unaligned(Box::into_raw(c)) };
        Ok(())
    })
}

/// Closes a handle; NULL is ignored. No other call may be using it.
///
/// # Safety
/// `c` is NULL or a handle from `llmc_container_open_file` or
/// `llmc_container_open_buffer`, not closed before.
#[no_mangle]
pub unsafe extern "C" fn llmc_container_close(c: *mut llmc_container) {
    if !c.is_null() {
        // SAFETY: `c` came from an open function and is closed once, per the contract.
        drop(unsafe { Box::from_raw(c) });
    }
}

// ---- What the container holds (answered from the index; thread-safe) ----

/// What the container was made from: `LLMC_SOURCE_GGUF` or
/// `LLMC_SOURCE_SAFETENSORS` (0 for NULL). Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed).
#[no_mangle]
pub unsafe extern "C" fn llmc_container_source_kind(c: *const llmc_container) -> u32 {
    // SAFETY: `c` as this function's contract requires.
    call_value(0, || unsafe { handle(c) }.map_or(0, |c| c.index.kind as u32))
}

/// Size of the original file in bytes (0 for NULL). Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed).
#[no_mangle]
pub unsafe extern "C" fn llmc_container_original_size(c: *const llmc_container) -> u64 {
    // SAFETY: `c` as this function's contract requires.
    call_value(0, || unsafe { handle(c) }.map_or(0, |c| c.index.original_size))
}

/// Bytes of the original file before the tensor data: header, key-values, tensor
/// infos and padding (GGUF), or length and JSON header (safetensors) — what a
/// parser reads first. Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed); `size` is NULL or valid for writing
/// a `uint64_t`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_metadata_size(c: *const llmc_container, size: *mut u64) -> llmc_status {
    call(|| {
        // SAFETY: `c` as this function's contract requires.
        let c = unsafe { handle(c) }?;
        if size.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid per the contract.
        unsafe { store(size, c.index.metadata_size()) };
        Ok(())
    })
}

/// Number of tensors with bytes: a tensor of no elements (a dimension of 0,
/// which GGUF and safetensors allow) has no entry; the file's own header still
/// lists it. Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed); `n` is NULL or valid for writing a
/// `uint64_t`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_n_tensors(c: *const llmc_container, n: *mut u64) -> llmc_status {
    call(|| {
        // SAFETY: `c` as this function's contract requires.
        let c = unsafe { handle(c) }?;
        if n.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid per the contract.
        unsafe { store(n, c.index.entries.len() as u64) };
        Ok(())
    })
}

/// Index of the tensor called `name` (NUL-terminated); `LLMC_STATUS_NOT_FOUND`
/// if there is none, or if it has no elements (no bytes to read: a loader that
/// walks the original header skips those). Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed); `name` is NULL or a NUL-terminated
/// string; `index` is NULL or valid for writing a `uint64_t`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_find_tensor(c: *const llmc_container, name: *const c_char, index: *mut u64) -> llmc_status {
    call(|| {
        // SAFETY: `c` as this function's contract requires.
        let c = unsafe { handle(c) }?;
        if name.is_null() || index.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: non-null and NUL-terminated per the contract.
        let name = unsafe { CStr::from_ptr(name) }.to_str().map_err(|_| Error::NotFound)?;
        let i = c.index.find(name).ok_or(Error::NotFound)?;
        // SAFETY: checked non-null; valid per the contract.
        unsafe { store(index, i as u64) };
        Ok(())
    })
}

/// Describes tensor `index`: `LLMC_STATUS_OUT_OF_RANGE` past the last one.
/// `info->struct_size` says how many bytes the caller's struct has (at least 8):
/// the fields that fit are written, nothing else. Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed); `info` is NULL or points to
/// `info->struct_size` readable and writable bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_tensor_info(c: *const llmc_container, index: u64, info: *mut llmc_tensor_info) -> llmc_status {
    call(|| {
        // SAFETY: `c` as this function's contract requires.
        let c = unsafe { handle(c) }?;
        if info.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: non-null; the caller passes a struct whose first field is its size.
        let struct_size = unsafe { core::ptr::addr_of!((*info).struct_size).read_unaligned() };
        let n = TENSOR_INFO_FIELD_ENDS.iter().copied().filter(|&end| end <= struct_size as usize).max().ok_or(Error::InvalidArgument)?;
        if n < TENSOR_INFO_FIELD_ENDS[1] {
            return Err(Error::InvalidArgument);
        }
        let i = c.entry(index)?;
        let e = c.index.entries.get(i).ok_or(Error::OutOfRange)?;
        let r = &c.index.regions[e.region as usize];
        let (orig_offset, size) = c.index.entry_span(i).ok_or(Error::OutOfRange)?;
        let frame = &c.source.bytes()[r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize];
        // Open checked that an entry's region has a frame (only padding may be frameless).
        let codec = if r.frame_size == 0 { crate::format::abi::LLMC_CODEC_ZERO } else { frames::parse(frame)?.header.codec as u32 };
        let mut shape = [0u64; LLMC_MAX_DIMS];
        shape[..e.shape.len()].copy_from_slice(e.shape);
        let out = llmc_tensor_info {
            // The caller's size, unchanged: a struct reused for the next call
            // must still say how large it is (not this tensor's byte size).
            struct_size,
            ggml_type: e.dtype,
            name: c.index.entries.c_name(i).ok_or(Error::OutOfRange)?.as_ptr(),
            orig_offset,
            size,
            codec,
            n_dims: e.shape.len() as u32,
            dtype_name: c.dtype_names.get(dtype_name(c.index.kind, e.dtype)).map_or(c"unknown".as_ptr(), |n| n.as_ptr()),
            shape,
        };
        // SAFETY: `info` is non-null and valid for `struct_size >= n` bytes (the
        // caller's contract); `out` is a live local of at least `n` bytes.
        unsafe { core::ptr::copy_nonoverlapping((&raw const out).cast::<u8>(), info.cast::<u8>(), n) };
        Ok(())
    })
}

/// Uncompressed chunk size of the tensor frames (the largest one): a size for
/// the pieces of parallel reads, so that each piece decodes few chunks (each
/// frame picks its own size, relative to its tensor's start: 1 MiB, about
/// 4 MiB for Q4_K, a little more where a short last chunk is folded in, so
/// edges are a hint, not a guarantee). 0 for NULL or a container without
/// tensor frames. Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed).
#[no_mangle]
pub unsafe extern "C" fn llmc_container_chunk_size(c: *const llmc_container) -> u64 {
    // SAFETY: `c` as this function's contract requires.
    call_value(0, || unsafe { handle(c) }.map_or(0, |c| c.index.chunk_size))
}

// ---- Reading (any number of threads at once on one handle) ----
// `dctx` may be NULL (the process-wide ISA, the calling thread only); a context
// gives the read its ISA and threads and must not be used by another thread
// during the call. `written` / `n_read` may be NULL.

/// Copies the original metadata bytes (see `llmc_container_metadata_size`) into
/// `dst`, ready for `gguf_init_from_buffer`-style parsers; `*written` = their
/// size. `LLMC_STATUS_DST_TOO_SMALL` if they do not fit (nothing written).
/// Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed); `dctx` is NULL or a live context
/// that no other thread uses during the call; `dst` is NULL or points to
/// `dst_capacity` writable bytes; `written` is NULL or valid for writing a
/// `size_t`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_read_metadata(
    c: *const llmc_container,
    dctx: *const llmc_dctx,
    dst: *mut c_void,
    dst_capacity: usize,
    written: *mut usize,
) -> llmc_status {
    // SAFETY: NULL or valid per the contract.
    unsafe { report(written, 0) };
    call(|| {
        // SAFETY: `c` as this function's contract requires.
        let c = unsafe { handle(c) }?;
        let n = usize::try_from(c.index.metadata_size()).map_err(|_| Error::SizeOverflow)?;
        // SAFETY: per the contract.
        let dst = unsafe { bytes_mut(dst, dst_capacity) }?;
        let dst = dst.get_mut(..n).ok_or(Error::DstTooSmall)?;
        // SAFETY: `dctx` as this function's contract requires.
        c.index.read_range(c.source.bytes(), 0, dst, &unsafe { c.options(dctx) }?)?;
        // SAFETY: NULL or valid per the contract.
        unsafe { report(written, n) };
        Ok(())
    })
}

/// Decodes tensor `index` into `dst`; `*written` = its size. Only the chunks
/// holding the tensor are decoded and verified (a tiny tensor shares its chunk
/// with its neighbours: a batch of at most 256 KiB, container version 10).
/// `LLMC_STATUS_OUT_OF_RANGE` past the last tensor, `LLMC_STATUS_DST_TOO_SMALL`
/// if it does not fit. Thread-safe.
///
/// # Safety
/// As `llmc_container_read_metadata`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_read_tensor(
    c: *const llmc_container,
    dctx: *const llmc_dctx,
    index: u64,
    dst: *mut c_void,
    dst_capacity: usize,
    written: *mut usize,
) -> llmc_status {
    // SAFETY: NULL or valid per the contract.
    unsafe { report(written, 0) };
    call(|| {
        // SAFETY: `c` as this function's contract requires.
        let c = unsafe { handle(c) }?;
        let (offset, size) = c.index.entry_span(c.entry(index)?).ok_or(Error::OutOfRange)?;
        let size = usize::try_from(size).map_err(|_| Error::SizeOverflow)?;
        // SAFETY: per the contract.
        let dst = unsafe { bytes_mut(dst, dst_capacity) }?;
        let dst = dst.get_mut(..size).ok_or(Error::DstTooSmall)?;
        // SAFETY: `dctx` as this function's contract requires.
        c.index.read_range(c.source.bytes(), offset, dst, &unsafe { c.options(dctx) }?)?;
        // SAFETY: NULL or valid per the contract.
        unsafe { report(written, size) };
        Ok(())
    })
}

/// Reads up to `size` bytes of the original file at `offset` into `dst`, like
/// `pread`: `*n_read` is `size`, or fewer when the file ends first (0 at or past
/// its end, which is not an error). Decodes only the chunks involved. Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed); `dctx` is NULL or a live context
/// that no other thread uses during the call; `dst` is NULL or points to `size`
/// writable bytes; `n_read` is NULL or valid for writing a `size_t`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_read_range(
    c: *const llmc_container,
    dctx: *const llmc_dctx,
    offset: u64,
    dst: *mut c_void,
    size: usize,
    n_read: *mut usize,
) -> llmc_status {
    // SAFETY: NULL or valid per the contract.
    unsafe { report(n_read, 0) };
    call(|| {
        // SAFETY: `c` as this function's contract requires.
        let c = unsafe { handle(c) }?;
        // SAFETY: per the contract.
        let dst = unsafe { bytes_mut(dst, size) }?;
        let available = c.index.original_size.saturating_sub(offset);
        let n = dst.len().min(usize::try_from(available).unwrap_or(usize::MAX));
        // SAFETY: `dctx` as this function's contract requires.
        c.index.read_range(c.source.bytes(), offset.min(c.index.original_size), &mut dst[..n], &unsafe { c.options(dctx) }?)?;
        // SAFETY: NULL or valid per the contract.
        unsafe { report(n_read, n) };
        Ok(())
    })
}

/// Same shape as ggml's `gguf_reader_callback_t`: pass
/// `(llmc_container_reader_callback, c)` to a callback-based loader. Returns the
/// bytes read: `len`, fewer at the end of the file (like `fread`), or 0 on an
/// error, whose status is kept in `llmc_container_last_status(c)` (first error
/// wins). A return of 0 is therefore also what a read of `len == 0` bytes, or
/// one at or past the end, gives without error: when it matters, tell them
/// apart by `llmc_container_last_status(c)`, which only an error sets.
/// Thread-safe.
///
/// # Safety
/// `c` is NULL or an open `llmc_container *`; `output` is NULL or points to `len`
/// writable bytes.
#[no_mangle]
pub unsafe extern "C" fn llmc_container_reader_callback(c: *mut c_void, output: *mut c_void, offset: u64, len: usize) -> usize {
    let h = c.cast::<llmc_container>().cast_const();
    let mut n = 0usize;
    // SAFETY: forwarded contract (c is a live handle, output has len writable bytes).
    let status = unsafe { llmc_container_read_range(h, core::ptr::null(), offset, output, len, &mut n) };
    if status == 0 {
        return n;
    }
    // SAFETY: `h` as this function's contract requires.
    if let Ok(h) = unsafe { handle(h) } {
        let _ = h.last_status.compare_exchange(0, status, Ordering::AcqRel, Ordering::Acquire);
    }
    0
}

/// The first error a `llmc_container_reader_callback` call hit on this handle
/// (0 if none; `LLMC_STATUS_NULL_POINTER` for NULL). Thread-safe.
///
/// # Safety
/// `c` is NULL or an open handle (not closed).
#[no_mangle]
pub unsafe extern "C" fn llmc_container_last_status(c: *const llmc_container) -> llmc_status {
    // SAFETY: `c` as this function's contract requires.
    call_value(Error::NullPointer.code(), || unsafe { handle(c) }.map_or(Error::NullPointer.code(), |c| c.last_status.load(Ordering::Acquire)))
}
