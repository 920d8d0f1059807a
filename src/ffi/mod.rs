//! The C ABI: the only place where raw pointers from C become Rust slices.
//! Every `extern "C"` function goes through [`boundary::call`]. `include/llmc.h`
//! is generated from this module by cbindgen (see build.rs).

#![allow(non_camel_case_types)]

pub mod boundary;
pub mod frames;
pub mod container;
pub mod gguf_names;
pub mod info;
pub mod stream;
pub mod reader;
pub mod types;
pub mod util;
