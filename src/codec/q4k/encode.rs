//! Q4_K chunk encoder (scalar; the bytes never depend on the ISA).

use crate::format::q4k_block::{split, sub_block, windows, BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES, QS};
use super::{MODE_STORED, MODE_WINDOWED};
use crate::codec::{profiles, stream};
use crate::kernels::Kernels;

/// Headers by byte position, flags, planes of one chunk (also used to train profiles).
pub fn split_blocks(src: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let n = src.len() / BLOCK;
    let mut headers = vec![0u8; HEADER * n];
    let mut flags = vec![0u8; FLAG_BYTES * n];
    let mut planes = vec![0u8; PLANE_BYTES * n];
    for (k, block) in src.chunks_exact(BLOCK).enumerate() {
        let header = &block[..HEADER];
        for (p, &byte) in header.iter().enumerate() {
            headers[p * n + k] = byte;
        }
        let lo = windows(header);
        let (f, pl) = (&mut flags[FLAG_BYTES * k..][..FLAG_BYTES], &mut planes[PLANE_BYTES * k..][..PLANE_BYTES]);
        // Eight consecutive qs bytes share their sub-blocks: one flag byte and three
        // plane bytes per nibble half, accumulated in registers.
        for (g, group) in block[HEADER..].chunks_exact(8).enumerate().take(QS / 8) {
            for h in 0..2 {
                let window = lo[sub_block(8 * g, h)];
                let (mut flag_bits, mut plane_bits) = (0u8, [0u8; 3]);
                for (bit, &byte) in group.iter().enumerate() {
                    let (flag, index) = split((byte >> (4 * h)) & 15, window);
                    flag_bits |= u8::from(flag) << bit;
                    for (p, pb) in plane_bits.iter_mut().enumerate() {
                        *pb |= ((index >> p) & 1) << bit;
                    }
                }
                let at = 16 * h + g;
                f[at] = flag_bits;
                for (p, pb) in plane_bits.iter().enumerate() {
                    pl[32 * p + at] = *pb;
                }
            }
        }
    }
    (headers, flags, planes)
}

fn put_stream(bytes: &[u8], kernels: &Kernels, profile_stream: usize, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    stream::encode_with(bytes, kernels, Some((profiles::Q4K_V1, profile_stream)), out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// Appends the payload of a chunk (a non-empty multiple of 144 bytes) to `out`.
pub fn encode_chunk(src: &[u8], kernels: &Kernels, out: &mut Vec<u8>) {
    let n = src.len() / BLOCK;
    let (headers, flags, planes) = split_blocks(src);
    let start = out.len();
    out.push(MODE_WINDOWED);
    for p in 0..HEADER {
        put_stream(&headers[p * n..(p + 1) * n], kernels, p, out);
    }
    put_stream(&flags, kernels, profiles::Q4K_FLAG_STREAM, out);
    out.extend_from_slice(&planes);
    if out.len() - start >= 1 + src.len() {
        out.truncate(start);
        out.push(MODE_STORED);
        out.extend_from_slice(src);
    }
}
