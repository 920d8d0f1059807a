//! Version, error names and ISA control.

use super::boundary::{call, call_value};
use super::types::{llmc_isa, llmc_status};
use crate::error::Error;
use crate::isa::{self, Isa};
use core::ffi::{c_char, CStr};

/// The ABI version this library implements; compare with `LLMC_ABI_VERSION`.
const ABI_VERSION: u32 = 1;

/// `LLMC_VERSION_NUMBER` of the loaded library (major * 10000 + minor * 100 + patch).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_version_number() -> u32 {
    let v = |s: &str| s.parse::<u32>().unwrap_or(0);
    v(env!("CARGO_PKG_VERSION_MAJOR")) * 10000 + v(env!("CARGO_PKG_VERSION_MINOR")) * 100 + v(env!("CARGO_PKG_VERSION_PATCH"))
}

/// The library version as a static string, e.g. "0.1.0"; never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_version_string() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the loaded library; compare with `LLMC_ABI_VERSION` at startup.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_abi_version() -> u32 {
    ABI_VERSION
}

fn error_cname(code: u32) -> &'static CStr {
    if code == 0 {
        return c"no error";
    }
    match Error::from_code(code) {
        None => c"unknown error",
        Some(e) => match e {
            Error::Generic => c"generic error",
            Error::NullPointer => c"null pointer argument",
            Error::InvalidArgument => c"invalid argument",
            Error::Allocation => c"memory allocation failed",
            Error::Panic => c"internal error (please report)",
            Error::DstTooSmall => c"destination buffer too small",
            Error::SrcTruncated => c"source truncated",
            Error::SizeOverflow => c"size overflow",
            Error::LimitExceeded => c"declared size exceeds limit",
            Error::BadMagic => c"unknown magic number",
            Error::VersionUnsupported => c"format version unsupported",
            Error::CodecUnsupported => c"codec unsupported",
            Error::Corrupt => c"corrupted data",
            Error::ChecksumMismatch => c"checksum mismatch",
            Error::GgufInvalid => c"invalid GGUF file",
            Error::SafetensorsInvalid => c"invalid safetensors file",
            Error::IsaUnsupported => c"instruction set not supported by this CPU",
            Error::Io => c"I/O error",
            Error::NotFound => c"not found",
        },
    }
}

/// A static, NUL-terminated description of a status code ("unknown error" for
/// numbers that are not status codes); never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_get_error_name(status: u32) -> *const c_char {
    error_cname(status).as_ptr()
}

/// The OS error number (`errno`) behind the last `LLMC_STATUS_IO` or
/// `LLMC_STATUS_NOT_FOUND` a function returned on this thread, e.g. `ENOSPC`
/// for a full disk or `ENOENT` for a missing directory; 0 when that call had no
/// filesystem failure. Every status-returning call resets it, so read it right
/// after the call that failed. Thread-safe (one value per thread).
#[no_mangle]
pub extern "C" fn llmc_last_os_error() -> i32 {
    call_value(0, crate::error::last_os_error)
}

/// Bit `(1u << isa)` is set for every ISA this CPU and build can run. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_cpu_isa_mask() -> u32 {
    call_value(1 << Isa::Scalar as u32, isa::cpu_mask)
}

/// The best ISA this CPU and build can run. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_cpu_isa() -> llmc_isa {
    call_value(Isa::Scalar as u32, || isa::cpu_best() as u32)
}

/// The ISA the process-wide dispatcher uses now (never `LLMC_ISA_AUTO`). The
/// setting starts from the `LLMC_ISA` environment variable (scalar|avx2|avx512|auto,
/// read once at first use; a value the CPU cannot run is ignored). Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_active_isa() -> llmc_isa {
    call_value(Isa::Scalar as u32, || isa::active() as u32)
}

/// "auto", "scalar", "avx2", "avx512", or "unknown"; static, never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_isa_name(isa: u32) -> *const c_char {
    let name: &'static CStr = match isa {
        0 => c"auto",
        1 => c"scalar",
        2 => c"avx2",
        3 => c"avx512",
        _ => c"unknown",
    };
    name.as_ptr()
}

/// Forces the process-wide ISA (`LLMC_ISA_AUTO` restores detection); meant for
/// tests and benchmarks, prefer `llmc_dctx_set_isa`. Never selects an ISA the CPU
/// lacks: returns `LLMC_STATUS_ISA_UNSUPPORTED` and leaves the setting unchanged
/// (`LLMC_STATUS_INVALID_ARGUMENT` for unknown numbers). Thread-safe; affects calls
/// that start after it returns.
#[no_mangle]
#[must_use]
pub extern "C" fn llmc_set_isa(isa: u32) -> llmc_status {
    call(|| isa::set_process_isa(isa))
}
