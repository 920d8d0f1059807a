//! Status codes shared by the Rust API and the C ABI.
//!
//! The numbers are part of the stable ABI: they are never renumbered or reused.

use core::ffi::CStr;
use core::fmt;

/// `LLMC_STATUS_OK`: success (not an error, so not one of `llmc_status`'s variants).
pub const LLMC_STATUS_OK: u32 = 0;

/// Every way a call can fail (`llmc_status`, `LLMC_STATUS_*` in C): `Error as u32`
/// is the status code. The numbers are stable and never reused.
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    Generic = 1,
    NullPointer = 2,
    /// A caller-supplied argument is out of range (odd bf16 size, unknown flag, ...).
    InvalidArgument = 3,
    Allocation = 4,
    /// An internal bug was caught at the C boundary.
    Panic = 5,
    DstTooSmall = 10,
    SrcTruncated = 11,
    SizeOverflow = 12,
    /// A declared size exceeds a hard limit or what the input can justify.
    LimitExceeded = 13,
    BadMagic = 20,
    VersionUnsupported = 21,
    CodecUnsupported = 22,
    Corrupt = 23,
    ChecksumMismatch = 24,
    GgufInvalid = 25,
    SafetensorsInvalid = 26,
    IsaUnsupported = 30,
    Io = 40,
    /// No such name (a tensor, a file).
    NotFound = 41,
    /// An index or offset past the end of what the object holds.
    OutOfRange = 42,
}

pub type Result<T> = core::result::Result<T, Error>;

/// All errors, for tables and tests.
pub const ALL_ERRORS: [Error; 20] = [
    Error::Generic,
    Error::NullPointer,
    Error::InvalidArgument,
    Error::Allocation,
    Error::Panic,
    Error::DstTooSmall,
    Error::SrcTruncated,
    Error::SizeOverflow,
    Error::LimitExceeded,
    Error::BadMagic,
    Error::VersionUnsupported,
    Error::CodecUnsupported,
    Error::Corrupt,
    Error::ChecksumMismatch,
    Error::GgufInvalid,
    Error::SafetensorsInvalid,
    Error::IsaUnsupported,
    Error::Io,
    Error::NotFound,
    Error::OutOfRange,
];

impl Error {
    /// The pinned C status number.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// Validates a number coming from C; never transmutes.
    pub fn from_code(code: u32) -> Option<Error> {
        ALL_ERRORS.iter().copied().find(|e| e.code() == code)
    }

    /// Short, stable, human-readable name (what `llmc_get_error_name` returns).
    pub fn name(self) -> &'static str {
        self.c_name().to_str().expect("names are ASCII")
    }

    /// [`Error::name`], NUL-terminated: the one table of names, for Rust and C.
    pub const fn c_name(self) -> &'static CStr {
        match self {
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
            Error::OutOfRange => c"index or offset out of range",
        }
    }

    /// For errors raised while reading a structure whose extent was already
    /// checked against the input (a frame's payload, a container's index): the
    /// input is whole, so a length inside it that runs past its end is
    /// corruption, not a truncated source.
    pub fn overrun_is_corrupt(self) -> Error {
        match self {
            Error::SrcTruncated => Error::Corrupt,
            e => e,
        }
    }
}

/// Name for any status number, including success and unknown values.
pub fn status_name(code: u32) -> &'static str {
    status_c_name(code).to_str().expect("names are ASCII")
}

/// [`status_name`], NUL-terminated (for `llmc_get_error_name`).
pub fn status_c_name(code: u32) -> &'static CStr {
    if code == LLMC_STATUS_OK {
        return c"no error";
    }
    Error::from_code(code).map_or(c"unknown error", Error::c_name)
}

/// The status's name ("source truncated"); the number is [`Error::code`]. A
/// message for people: the CLI prints it after the file it is about.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Error {}

std::thread_local! {
    static LAST_OS_ERROR: core::cell::Cell<i32> = const { core::cell::Cell::new(0) };
}

/// The OS error number (`errno`) of the last filesystem failure turned into an
/// [`Error`] on this thread, 0 if none since [`clear_os_error`].
pub fn last_os_error() -> i32 {
    LAST_OS_ERROR.with(core::cell::Cell::get)
}

/// Keeps `e`'s OS error number for [`last_os_error`].
pub fn record_os_error(e: &std::io::Error) {
    LAST_OS_ERROR.with(|c| c.set(e.raw_os_error().unwrap_or(0)));
}

/// Keeps an OS error number seen on another thread (a worker's failed write).
pub fn record_os_code(code: i32) {
    LAST_OS_ERROR.with(|c| c.set(code));
}

/// Forgets the last OS error (the C boundary does so at the start of every call).
pub fn clear_os_error() {
    LAST_OS_ERROR.with(|c| c.set(0));
}

impl Error {
    /// A filesystem failure: `NotFound` for a missing file, `Io` otherwise; its
    /// `errno` is kept for [`last_os_error`].
    pub fn from_io(e: &std::io::Error) -> Error {
        record_os_error(e);
        match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound,
            _ => Error::Io,
        }
    }
}

/// `Io` (its `errno` kept for [`last_os_error`]).
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        record_os_error(&e);
        Error::Io
    }
}
