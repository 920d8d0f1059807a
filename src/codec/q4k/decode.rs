//! Q4_K chunk decoder: the streams, then the block assembly (a kernel).

use crate::format::q4k_block::{BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES};
use super::{fields, MODE_FIELDS, MODE_STORED, MODE_WINDOWED};
use crate::codec::stream;
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use crate::format::checksum::RunningCrc;
use super::super::stream::StreamScratch;
use crate::kernels::{Dest, Kernels, Q4kParts};

/// Blocks assembled per kernel call: their index planes (48 KiB) are
/// checksummed right after the kernel read them, while they are in L2, instead
/// of in a separate pass over the whole payload from L3 or memory (a seventh of
/// the decode time). A multiple of the kernels' 16-block tiles.
const GROUP: usize = 512;

/// Decodes a chunk payload into `out` (a multiple of 144 bytes), covering the
/// payload's bytes in `crc` as it reads them. `staged` is scratch for the
/// header and flag streams (and, in mode 2, the scales and mins).
pub fn decode_chunk(payload: &[u8], out: &mut [u8], kernels: &Kernels, tables: &mut StreamScratch, staged: &mut Vec<u8>, crc: &mut RunningCrc<'_>) -> Result<()> {
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
        mode @ (MODE_WINDOWED | MODE_FIELDS) => {
            // Grown, never shrunk: every byte used is written first, so reuse costs
            // no zero fill. Mode 2 stages the scales and mins too (16 rows of n).
            let fields_len = if mode == MODE_FIELDS { 16 * n } else { 0 };
            let need = (HEADER + FLAG_BYTES) * n + fields_len;
            if staged.len() < need {
                staged.resize(need, 0);
            }
            let (headers, rest) = staged[..need].split_at_mut(HEADER * n);
            let (flags, scales) = rest.split_at_mut(FLAG_BYTES * n);
            let start = r.position();
            if mode == MODE_FIELDS {
                fields::decode(&mut r, n, headers, scales, kernels)?;
            } else {
                for p in 0..HEADER {
                    let len = r.u32()? as usize;
                    stream::decode(r.take(len)?, n, Dest::contiguous(&mut headers[p * n..(p + 1) * n]), kernels, tables)?;
                }
            }
            crc.cover(&payload[start..r.position()]);
            let len = r.u32()? as usize;
            let body = r.take(len)?;
            stream::decode(body, FLAG_BYTES * n, Dest::contiguous(flags), kernels, tables)?;
            crc.cover(body);
            let planes = r.take(PLANE_BYTES * n)?;
            if r.remaining() != 0 {
                return Err(Error::Corrupt);
            }
            for (g, out) in out.chunks_mut(GROUP * BLOCK).enumerate() {
                let (k0, k1) = (g * GROUP, g * GROUP + out.len() / BLOCK);
                let planes = &planes[PLANE_BYTES * k0..PLANE_BYTES * k1];
                let parts = Q4kParts { headers: &headers[k0..], stride: n, flags: &flags[FLAG_BYTES * k0..FLAG_BYTES * k1], planes };
                kernels.q4k_assemble(&parts, k1 - k0, out)?;
                crc.cover(planes);
            }
            Ok(())
        }
        _ => Err(Error::Corrupt),
    }
}
