//! On-disk formats: frames, byte and bit I/O, checksums and hard limits.
//! `FORMAT.md` at the repository root is the prose specification.

pub mod bitio;
pub mod bytes;
pub mod checksum;
pub mod frame;
pub mod limits;
