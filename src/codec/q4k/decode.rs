//! Q4_K chunk decoder: the streams, then the block assembly (a kernel).

use crate::format::q4k_block::{BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES};
use super::{MODE_STORED, MODE_WINDOWED};
use crate::codec::stream;
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use super::super::stream::StreamScratch;
use crate::kernels::{Dest, Kernels, Q4kParts};

/// Decodes a chunk payload into `out` (a multiple of 144 bytes). `staged` is
/// scratch for the header and flag streams.
pub fn decode_chunk(payload: &[u8], out: &mut [u8], kernels: &Kernels, tables: &mut StreamScratch, staged: &mut Vec<u8>) -> Result<()> {
    if !out.len().is_multiple_of(BLOCK) {
        return Err(Error::Corrupt);
    }
    let n = out.len() / BLOCK;
    let mut r = ByteReader::new(payload);
    match r.u8()? {
        MODE_STORED => {
            if r.remaining() != out.len() {
                return Err(Error::Corrupt);
            }
            out.copy_from_slice(r.take(out.len())?);
            Ok(())
        }
        MODE_WINDOWED => {
            staged.resize((HEADER + FLAG_BYTES) * n, 0);
            let (headers, flags) = staged.split_at_mut(HEADER * n);
            for p in 0..HEADER {
                let len = r.u32()? as usize;
                stream::decode(r.take(len)?, n, Dest::contiguous(&mut headers[p * n..(p + 1) * n]), kernels, tables)?;
            }
            let len = r.u32()? as usize;
            stream::decode(r.take(len)?, FLAG_BYTES * n, Dest::contiguous(flags), kernels, tables)?;
            let planes = r.take(PLANE_BYTES * n)?;
            if r.remaining() != 0 {
                return Err(Error::Corrupt);
            }
            kernels.q4k_assemble(&Q4kParts { headers, flags, planes }, n, out)
        }
        _ => Err(Error::Corrupt),
    }
}
