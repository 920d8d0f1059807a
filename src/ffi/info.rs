//! Version, error names and ISA control.

use super::boundary::{call, call_value};
use super::types::{llmc_isa, llmc_status};
use crate::isa::{self, Isa};
use core::ffi::c_char;

/// ==== Versions, status names, instruction sets ====
///
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
    super::types::LLMC_ABI_VERSION
}

/// A static, NUL-terminated description of a status code ("unknown error" for
/// numbers that are not status codes); never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_get_error_name(status: u32) -> *const c_char {
    crate::error::status_c_name(status).as_ptr()
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
/// setting starts from the `LLMC_ISA` environment variable (scalar|avx2|avx512|avx512-permute|auto,
/// read once at first use; a value the CPU cannot run is ignored). Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_active_isa() -> llmc_isa {
    call_value(Isa::Scalar as u32, || isa::active() as u32)
}

/// "auto", "scalar", "avx2", "avx512", "avx512-permute", or "unknown"; static, never NULL. Thread-safe.
#[no_mangle]
pub extern "C" fn llmc_isa_name(isa: u32) -> *const c_char {
    isa::isa_c_name(isa).as_ptr()
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
