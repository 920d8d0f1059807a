//! Q4_K chunk decoder: the streams, then the block assembly (scalar here: the
//! specification; the kernels have faster versions).

use super::model::{merge, sub_block, windows, BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES, QS};
use super::{MODE_STORED, MODE_WINDOWED};
use crate::codec::stream::{self, ByteTables, Dest};
use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use crate::kernels::Kernels;

/// Decoded pieces of a chunk, ready for assembly.
pub struct Parts<'a> {
    /// Header byte `p` of block `k` at `headers[p * n + k]`.
    pub headers: &'a [u8],
    pub flags: &'a [u8],
    pub planes: &'a [u8],
}

/// Assembles blocks `first..` of `out` (whole blocks) from `parts` (n blocks total).
pub fn assemble_scalar(parts: &Parts<'_>, n: usize, first: usize, out: &mut [u8]) {
    for (i, block) in out.chunks_exact_mut(BLOCK).enumerate() {
        let k = first + i;
        for p in 0..HEADER {
            block[p] = parts.headers[p * n + k];
        }
        let lo = windows(&block[..HEADER]);
        let f = &parts.flags[FLAG_BYTES * k..][..FLAG_BYTES];
        let pl = &parts.planes[PLANE_BYTES * k..][..PLANE_BYTES];
        for b in 0..QS {
            let mut byte = 0u8;
            for h in 0..2 {
                let (at, bit) = (16 * h + b / 8, b % 8);
                let flag = (f[at] >> bit) & 1 == 1;
                let index = ((pl[at] >> bit) & 1) | (((pl[32 + at] >> bit) & 1) << 1) | (((pl[64 + at] >> bit) & 1) << 2);
                byte |= merge(flag, index, lo[sub_block(b, h)]) << (4 * h);
            }
            block[HEADER + b] = byte;
        }
    }
}

/// Decodes a chunk payload into `out` (a multiple of 144 bytes). `staged` is
/// scratch for the header and flag streams.
pub fn decode_chunk(payload: &[u8], out: &mut [u8], kernels: &Kernels, tables: &mut ByteTables, staged: &mut Vec<u8>) -> Result<()> {
    if out.len() % BLOCK != 0 {
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
            let parts = Parts { headers, flags, planes };
            (kernels.q4k_assemble)(&parts, n, out);
            Ok(())
        }
        _ => Err(Error::Corrupt),
    }
}
