//! Containers made from GGUF or safetensors files: compress, rebuild, open
//! (mmap or a borrowed buffer), read metadata, tensors or any byte range of the
//! original file. The reader functions keep their `llmc_gguf_` names (the
//! first source format) and work on every container. An open handle is
//! immutable: any number of threads may read from it at once.

use super::boundary::{bytes, bytes_mut, call, call_value, reference, store};
use super::frames::read_params;
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
    /// Caller-owned memory, valid and unmodified until `llmc_gguf_close`.
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

/// An open container. Immutable after open; safe to read from many threads.
pub struct llmc_gguf {
    source: Source,
    index: Index,
    names: Vec<CString>,
    dtype_names: Vec<CString>,
    opts: DecodeOptions,
    last_status: AtomicU32,
}

/// The container holds a GGUF file.
pub const LLMC_SOURCE_GGUF: u32 = 1;
/// The container holds a safetensors file.
pub const LLMC_SOURCE_SAFETENSORS: u32 = 2;

/// Most dimensions `llmc_tensor_info` reports.
pub const LLMC_MAX_DIMS: usize = 8;

/// What `llmc_gguf_tensor_info` reports.
#[repr(C)]
pub struct llmc_tensor_info {
    /// Set to `sizeof(llmc_tensor_info)` before calling. Callers built against
    /// an older header pass a smaller size and get the fields they know.
    pub struct_size: u32,
    /// The source's type id: the ggml type for GGUF, the safetensors dtype id
    /// (see `dtype_name`) for safetensors.
    pub ggml_type: u32,
    /// NUL-terminated, owned by the handle, valid until `llmc_gguf_close`.
    pub name: *const c_char,
    /// Absolute offset in the original file.
    pub orig_offset: u64,
    /// Bytes.
    pub size: u64,
    /// The codec of the tensor's frame (one of `llmc_codec`).
    pub codec: u32,
    /// Number of dimensions in `shape`.
    pub n_dims: u32,
    /// The type's name ("Q4_K", "BF16", ...): NUL-terminated, owned by the
    /// handle, valid until `llmc_gguf_close`.
    pub dtype_name: *const c_char,
    /// Dimensions in the source's order: ggml's `ne[]` (contiguous first) for
    /// GGUF, row-major (outermost first) for safetensors. Unused entries are 0.
    pub shape: [u64; LLMC_MAX_DIMS],
}

/// The size of `llmc_tensor_info` before `n_dims`, `dtype_name` and `shape`.
const TENSOR_INFO_V1_SIZE: usize = core::mem::offset_of!(llmc_tensor_info, codec) + 4;

fn path<'a>(p: *const c_char) -> Result<&'a std::path::Path> {
    if p.is_null() {
        return Err(Error::NullPointer);
    }
    // SAFETY: non-null, NUL-terminated per the contract of the calling function.
    let s = unsafe { CStr::from_ptr(p) };
    use std::os::unix::ffi::OsStrExt;
    Ok(std::path::Path::new(std::ffi::OsStr::from_bytes(s.to_bytes())))
}

fn open(source: Source, flags: u32) -> Result<Box<llmc_gguf>> {
    if flags & !KNOWN_OPEN_FLAGS != 0 {
        return Err(Error::InvalidArgument);
    }
    let index = Index::open(source.bytes())?;
    let names = index.entries.iter().map(|e| CString::new(e.name.as_bytes()).map_err(|_| Error::Corrupt)).collect::<Result<_>>()?;
    let dtype_names = index.entries.iter().map(|e| CString::new(dtype_name(index.kind, e.dtype)).expect("type names have no NUL")).collect();
    let opts = DecodeOptions { verify_checksums: flags & LLMC_OPEN_NO_VERIFY == 0, ..Default::default() };
    Ok(Box::new(llmc_gguf { source, index, names, dtype_names, opts, last_status: AtomicU32::new(0) }))
}

/// The name of a tensor type ("Q4_K", "BF16").
fn dtype_name(kind: SourceKind, dtype: u32) -> &'static str {
    match kind {
        SourceKind::Safetensors => crate::sources::safetensors::dtypes::Dtype::from_id(dtype).name(),
        _ => crate::sources::gguf::types::type_name(dtype),
    }
}

fn handle<'a>(g: *const llmc_gguf) -> Result<&'a llmc_gguf> {
    // SAFETY: NULL or a live handle per the contract of every function taking one.
    unsafe { reference(g) }
}

/// Compresses a GGUF file into a container (written to a temporary name, then
/// renamed). `params` may be NULL; `params->level` is the zstd level of the
/// metadata (0 = 19); `params->n_threads` codes regions in parallel.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_compress_file(gguf_path: *const c_char, llmc_path: *const c_char, params: *const llmc_params) -> llmc_status {
    call(|| {
        // SAFETY: NULL or valid per the contract.
        let params = unsafe { read_params(params) }?;
        crate::sources::file::compress_file(path(gguf_path)?, path(llmc_path)?, &params, None)
    })
}

/// Rebuilds the original GGUF from a container, byte for byte (verified against
/// the stored SHA-256), written to a temporary name and renamed. Works on any
/// container; see `llmc_container_decompress_file` for threads.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_decompress_file(llmc_path: *const c_char, gguf_path: *const c_char) -> llmc_status {
    call(|| crate::sources::file::decompress_file(path(llmc_path)?, path(gguf_path)?, &DecodeOptions::default()))
}

/// Compresses a safetensors file into a container (written to a temporary
/// name, then renamed): the header is kept verbatim, each tensor coded by dtype
/// (BF16: the bf16 codec; F16, F32 and integers: byte planes or zstd).
/// `params` may be NULL; `params->level` is the zstd level of the JSON header
/// (0 = 19); `params->n_threads` codes chunks in parallel (the output does not
/// depend on it).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_safetensors_compress_file(safetensors_path: *const c_char, llmc_path: *const c_char, params: *const llmc_params) -> llmc_status {
    call(|| {
        // SAFETY: NULL or valid per the contract.
        let params = unsafe { read_params(params) }?;
        let file = crate::engine::io::map(path(safetensors_path)?)?;
        let container = crate::sources::safetensors::codec::compress(&file, &params, None)?;
        crate::engine::io::write_atomic(path(llmc_path)?, &container)
    })
}

/// Rebuilds the original file (GGUF or safetensors) from any container, byte
/// for byte (verified against the stored SHA-256), decoding chunks on
/// `n_threads` threads (0 or 1: the calling thread only); written to a
/// temporary name and renamed.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_container_decompress_file(llmc_path: *const c_char, out_path: *const c_char, n_threads: u32) -> llmc_status {
    call(|| {
        let opts = DecodeOptions { n_threads: n_threads.max(1), ..Default::default() };
        crate::sources::file::decompress_file(path(llmc_path)?, path(out_path)?, &opts)
    })
}

/// What the container was made from: `LLMC_SOURCE_GGUF` or
/// `LLMC_SOURCE_SAFETENSORS` (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_source_kind(g: *const llmc_gguf) -> u32 {
    call_value(0, || handle(g).map_or(0, |g| g.index.kind as u32))
}

/// Opens a container file (memory-mapped unless `LLMC_OPEN_NO_MMAP`); validates
/// its header, index and every frame header.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_open_file(file: *const c_char, flags: u32, out: *mut *mut llmc_gguf) -> llmc_status {
    call(|| {
        if out.is_null() {
            return Err(Error::NullPointer);
        }
        let p = path(file)?;
        let f = std::fs::File::open(p).map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { Error::NotFound } else { Error::Io })?;
        let source = if flags & LLMC_OPEN_NO_MMAP != 0 {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut &f, &mut v)?;
            Source::Owned(v)
        } else {
            // SAFETY: the map is read-only; like every mmap-based reader we rely on
            // the file not being truncated while open (documented).
            Source::Mapped(unsafe { memmap2::Mmap::map(&f) }?)
        };
        let g = open(source, flags)?;
        // SAFETY: checked non-null; the caller passes a valid out-pointer.
        unsafe { out.write_unaligned(Box::into_raw(g)) };
        Ok(())
    })
}

/// Opens a container in memory. Borrows `[data, data + size)`: the caller keeps it
/// alive and unmodified until `llmc_gguf_close`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_open_buffer(data: *const c_void, size: usize, flags: u32, out: *mut *mut llmc_gguf) -> llmc_status {
    call(|| {
        if out.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: per the contract (validates NULL and length).
        let b = unsafe { bytes(data, size) }?;
        let g = open(Source::Borrowed(b.as_ptr(), b.len()), flags)?;
        // SAFETY: checked non-null; the caller passes a valid out-pointer.
        unsafe { out.write_unaligned(Box::into_raw(g)) };
        Ok(())
    })
}

/// Closes a handle; NULL is ignored. No other call may be using it.
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_close(g: *mut llmc_gguf) {
    if !g.is_null() {
        // SAFETY: `g` came from an open function and is closed once, per the contract.
        drop(unsafe { Box::from_raw(g) });
    }
}

/// Size of the original file in bytes (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_original_size(g: *const llmc_gguf) -> u64 {
    call_value(0, || handle(g).map_or(0, |g| g.index.original_size))
}

/// Bytes of the original file before the tensor data: header, key-values, tensor
/// infos and padding — what a GGUF parser reads first.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_metadata_size(g: *const llmc_gguf, size: *mut u64) -> llmc_status {
    call(|| {
        let g = handle(g)?;
        if size.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid per the contract.
        unsafe { store(size, g.index.metadata_size()) };
        Ok(())
    })
}

/// Copies the original metadata bytes (see `llmc_gguf_metadata_size`) into `dst`,
/// ready for `gguf_init_from_buffer`-style parsers.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_read_metadata(g: *const llmc_gguf, dst: *mut c_void, dst_capacity: usize) -> llmc_status {
    call(|| {
        let g = handle(g)?;
        let n = usize::try_from(g.index.metadata_size()).map_err(|_| Error::SizeOverflow)?;
        // SAFETY: per the contract.
        let dst = unsafe { bytes_mut(dst, dst_capacity) }?;
        let dst = dst.get_mut(..n).ok_or(Error::DstTooSmall)?;
        g.index.read_range(g.source.bytes(), 0, dst, &g.opts)
    })
}

/// Number of tensors.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_n_tensors(g: *const llmc_gguf, n: *mut u64) -> llmc_status {
    call(|| {
        let g = handle(g)?;
        if n.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: checked non-null; valid per the contract.
        unsafe { store(n, g.index.entries.len() as u64) };
        Ok(())
    })
}

/// Index of the tensor called `name` (NUL-terminated); `LLMC_STATUS_NOT_FOUND` if none.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_find_tensor(g: *const llmc_gguf, name: *const c_char, index: *mut u64) -> llmc_status {
    call(|| {
        let g = handle(g)?;
        if name.is_null() || index.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: non-null and NUL-terminated per the contract.
        let name = unsafe { CStr::from_ptr(name) }.to_str().map_err(|_| Error::NotFound)?;
        let i = g.index.find(name).ok_or(Error::NotFound)?;
        // SAFETY: checked non-null; valid per the contract.
        unsafe { store(index, i as u64) };
        Ok(())
    })
}

/// Describes tensor `index` (`LLMC_STATUS_NOT_FOUND` past the last one).
/// `info->struct_size` must be at least `sizeof(llmc_tensor_info)`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_tensor_info(g: *const llmc_gguf, index: u64, info: *mut llmc_tensor_info) -> llmc_status {
    call(|| {
        let g = handle(g)?;
        if info.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: non-null; the caller passes a valid struct.
        let size = unsafe { core::ptr::addr_of!((*info).struct_size).read_unaligned() };
        if (size as usize) < TENSOR_INFO_V1_SIZE {
            return Err(Error::InvalidArgument);
        }
        let i = usize::try_from(index).ok().filter(|&i| i < g.index.entries.len()).ok_or(Error::NotFound)?;
        let e = &g.index.entries[i];
        let r = &g.index.regions[e.region as usize];
        let frame = &g.source.bytes()[r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize];
        let codec = if r.frame_size == 0 { 0 } else { frames::parse(frame)?.header.codec as u32 };
        let mut shape = [0u64; LLMC_MAX_DIMS];
        shape[..e.shape.len()].copy_from_slice(&e.shape);
        let out = llmc_tensor_info {
            struct_size: size,
            ggml_type: e.dtype,
            name: g.names[i].as_ptr(),
            orig_offset: r.orig_offset,
            size: r.orig_size,
            codec,
            n_dims: e.shape.len() as u32,
            dtype_name: g.dtype_names[i].as_ptr(),
            shape,
        };
        let n = (size as usize).min(core::mem::size_of::<llmc_tensor_info>());
        // SAFETY: `info` is non-null and valid for `struct_size >= n` bytes (the
        // caller's contract); `out` is a live local of at least `n` bytes.
        unsafe { core::ptr::copy_nonoverlapping((&raw const out).cast::<u8>(), info.cast::<u8>(), n) };
        Ok(())
    })
}

/// Decodes tensor `index` into `dst` (`dst_capacity` at least its size). Only the
/// tensor's own chunks are decoded and verified.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_read_tensor(g: *const llmc_gguf, index: u64, dst: *mut c_void, dst_capacity: usize) -> llmc_status {
    call(|| {
        let g = handle(g)?;
        let i = usize::try_from(index).ok().filter(|&i| i < g.index.entries.len()).ok_or(Error::NotFound)?;
        let (offset, size) = g.index.entry_span(i).ok_or(Error::NotFound)?;
        // SAFETY: per the contract.
        let dst = unsafe { bytes_mut(dst, dst_capacity) }?;
        let dst = dst.get_mut(..size as usize).ok_or(Error::DstTooSmall)?;
        g.index.read_range(g.source.bytes(), offset, dst, &g.opts)
    })
}

/// Reads `size` bytes of the original file at `offset` into `dst` (random access in
/// the original file's byte space, decoding only the chunks involved).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_gguf_read_range(g: *const llmc_gguf, offset: u64, dst: *mut c_void, size: usize) -> llmc_status {
    call(|| {
        let g = handle(g)?;
        // SAFETY: per the contract.
        let dst = unsafe { bytes_mut(dst, size) }?;
        g.index.read_range(g.source.bytes(), offset, dst, &g.opts)
    })
}

/// Uncompressed chunk size of the tensor frames: split parallel work on these edges.
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_chunk_size(g: *const llmc_gguf) -> u64 {
    call_value(0, || handle(g).map_or(0, |g| g.index.chunk_size))
}

/// Same shape as ggml's `gguf_reader_callback_t`: pass `(llmc_gguf_reader_callback,
/// g)` to a callback-based GGUF loader. Returns the bytes read (`len`), or 0 on
/// error, whose status is kept in `llmc_gguf_last_status(g)` (first error wins).
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_reader_callback(g: *mut c_void, output: *mut c_void, offset: u64, len: usize) -> usize {
    let h = g.cast::<llmc_gguf>().cast_const();
    // SAFETY: forwarded contract (g is a live handle, output has len writable bytes).
    let status = unsafe { llmc_gguf_read_range(h, offset, output, len) };
    if status == 0 {
        return len;
    }
    if let Ok(h) = handle(h) {
        let _ = h.last_status.compare_exchange(0, status, Ordering::AcqRel, Ordering::Acquire);
    }
    0
}

/// The first error a `llmc_gguf_reader_callback` call hit on this handle (0 if none).
#[no_mangle]
pub unsafe extern "C" fn llmc_gguf_last_status(g: *const llmc_gguf) -> llmc_status {
    call_value(Error::NullPointer.code(), || handle(g).map_or(Error::NullPointer.code(), |g| g.last_status.load(Ordering::Acquire)))
}
