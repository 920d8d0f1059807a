//! Small utilities for C callers (the checksum gate's C driver uses them).

use super::boundary::{bytes, call};
use super::types::llmc_status;
use crate::error::Error;
use core::ffi::c_void;
use sha2::{Digest, Sha256};

/// SHA-256 of `[data, data + size)` into `out[32]`. Thread-safe.
///
/// # Safety
/// `data` is NULL or points to `size` readable bytes; `out` is NULL or valid for
/// writing 32 bytes.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn llmc_sha256(data: *const c_void, size: usize, out: *mut u8) -> llmc_status {
    call(|| {
        if out.is_null() {
            return Err(Error::NullPointer);
        }
        // SAFETY: per the contract (NULL and length checked).
        let d = unsafe { bytes(data, size) }?;
        let digest = Sha256::digest(d);
        // SAFETY: `out` has 32 writable bytes per the contract.
        unsafe { core::ptr::copy_nonoverlapping(digest.as_ptr(), out, 32) };
        Ok(())
    })
}
