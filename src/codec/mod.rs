//! Codecs: how one chunk of content becomes one payload and back.

pub mod bf16;

use crate::error::{Error, Result};
use crate::format::frame::CodecId;
use crate::kernels::Kernels;

/// Per-thread decoder scratch, reused across chunks and frames.
#[derive(Default)]
pub struct Scratch {
    bf16: Option<Box<bf16::Bf16Tables>>,
}

/// Codecs this build can write with [`encode_chunk`].
pub fn can_encode(codec: CodecId) -> bool {
    matches!(codec, CodecId::Bf16 | CodecId::Stored)
}

/// Appends the payload of one chunk to `out`. `chunk` is non-empty and a
/// multiple of the element size.
pub fn encode_chunk(codec: CodecId, chunk: &[u8], kernels: &Kernels, out: &mut Vec<u8>) -> Result<()> {
    match codec {
        CodecId::Bf16 => bf16::encode_chunk(chunk, kernels, out),
        CodecId::Stored => out.extend_from_slice(chunk),
        _ => return Err(Error::CodecUnsupported),
    }
    Ok(())
}

/// Decodes one payload into `out`, whose length is the chunk's content length.
pub fn decode_chunk(codec: CodecId, payload: &[u8], out: &mut [u8], kernels: &Kernels, scratch: &mut Scratch) -> Result<()> {
    match codec {
        CodecId::Bf16 => {
            let tables = scratch.bf16.get_or_insert_with(bf16::Bf16Tables::new_boxed);
            bf16::decode_chunk(payload, out, kernels, tables)
        }
        CodecId::Stored => {
            if payload.len() != out.len() {
                return Err(Error::Corrupt);
            }
            out.copy_from_slice(payload);
            Ok(())
        }
        _ => Err(Error::CodecUnsupported),
    }
}

/// Smallest payload able to hold `content_len` bytes (rejects absurd declared sizes).
pub fn min_payload(codec: CodecId, content_len: usize) -> usize {
    match codec {
        CodecId::Bf16 => bf16::min_payload(content_len),
        CodecId::Stored => content_len,
        // Other codecs: at least one byte per 2^16 of content.
        _ => content_len >> 16,
    }
}

/// Bytes a chunk may need beyond its content when it falls back to storing.
pub fn stored_overhead(codec: CodecId) -> u64 {
    match codec {
        CodecId::Bf16 => 1,
        _ => 0,
    }
}
