//! What each fuzz target checks, as plain functions over the input bytes, so the
//! same checks replay kept reproducers in `cargo test` (`tests/fuzz_regressions.rs`).
#![allow(dead_code)]

pub mod common;
pub mod decode_frame;
pub mod gguf_parse;
pub mod container_read;
pub mod reader_read;
pub mod safetensors_parse;
pub mod roundtrip_bf16;
pub mod roundtrip_q4k;
pub mod roundtrip_codecs;
pub mod roundtrip_container;
pub mod stream_decode;

/// A fuzz target's check: runs one input, panics on a failed check.
pub type Check = fn(&[u8]);

/// Every target by name, for replaying reproducers.
pub const TARGETS: &[(&str, Check)] = &[
    ("decode_frame", decode_frame::run),
    ("gguf_parse", gguf_parse::run),
    ("container_read", container_read::run),
    ("reader_read", reader_read::run),
    ("safetensors_parse", safetensors_parse::run),
    ("roundtrip_bf16", roundtrip_bf16::run),
    ("roundtrip_q4k", roundtrip_q4k::run),
    ("roundtrip_codecs", roundtrip_codecs::run),
    ("roundtrip_container", roundtrip_container::run),
    ("stream_decode", stream_decode::run),
];
