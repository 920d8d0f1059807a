//! The one path every C call takes: NULL and length checks, `(NULL, 0)` as an
//! empty buffer, panics caught and turned into `LLMC_STATUS_PANIC`.

use crate::error::{Error, Result};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static IN_C_CALL: Cell<bool> = const { Cell::new(false) };
}

/// The library never prints: a panic inside a C call is reported as a status,
/// not on stderr. Panics elsewhere in the process keep the previous hook.
fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_C_CALL.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, mapping errors and panics to a status code.
/// Every call starts with no OS error recorded (see `llmc_last_os_error`).
pub fn call(f: impl FnOnce() -> Result<()>) -> u32 {
    install_quiet_panic_hook();
    crate::error::clear_os_error();
    let outer = IN_C_CALL.with(|c| c.replace(true));
    let status = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => e.code(),
        Err(_) => Error::Panic.code(),
    };
    IN_C_CALL.with(|c| c.set(outer));
    status
}

/// Runs `f` for functions that return a value rather than a status; `fallback` on panic.
pub fn call_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    install_quiet_panic_hook();
    let outer = IN_C_CALL.with(|c| c.replace(true));
    let v = catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback);
    IN_C_CALL.with(|c| c.set(outer));
    v
}

/// A read-only buffer from C.
///
/// # Safety
/// Unless `len == 0`, `ptr` must point to `len` readable bytes that stay valid and
/// unmodified for the returned lifetime.
pub unsafe fn bytes<'a>(ptr: *const core::ffi::c_void, len: usize) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::NullPointer);
    }
    if len > isize::MAX as usize {
        return Err(Error::SizeOverflow);
    }
    // SAFETY: non-null, length checked, validity guaranteed by the caller.
    Ok(unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// A writable buffer from C.
///
/// # Safety
/// Unless `len == 0`, `ptr` must point to `len` writable bytes, not aliased by any
/// other argument, valid for the returned lifetime.
pub unsafe fn bytes_mut<'a>(ptr: *mut core::ffi::c_void, len: usize) -> Result<&'a mut [u8]> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Error::NullPointer);
    }
    if len > isize::MAX as usize {
        return Err(Error::SizeOverflow);
    }
    // SAFETY: non-null, length checked, validity and exclusivity guaranteed by the caller.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr.cast::<u8>(), len) })
}

/// Stores `v` through an optional out-pointer.
///
/// # Safety
/// `ptr` is NULL or valid for a write of `T`.
pub unsafe fn store<T>(ptr: *mut T, v: T) {
    if !ptr.is_null() {
        // SAFETY: non-null and valid per the caller.
        unsafe { ptr.write_unaligned(v) };
    }
}

/// A required reference from C.
///
/// # Safety
/// `ptr` is NULL or points to a valid `T` for the returned lifetime.
pub unsafe fn reference<'a, T>(ptr: *const T) -> Result<&'a T> {
    // SAFETY: validity guaranteed by the caller when non-null.
    unsafe { ptr.as_ref() }.ok_or(Error::NullPointer)
}
