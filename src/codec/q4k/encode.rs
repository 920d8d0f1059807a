//! Q4_K chunk encoder (its kernels match their scalar specifications: the bytes
//! never depend on the ISA).

use crate::format::q4k_block::{BLOCK, FLAG_BYTES, HEADER, PLANE_BYTES};
use super::{fields, MODE_FIELDS, MODE_STORED, MODE_WINDOWED};
use crate::codec::{profiles, stream};
use crate::kernels::Kernels;

/// Headers by byte position, flags, planes of whole blocks (the profile trainer's view).
#[cfg(test)]
pub fn split_blocks(src: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let n = src.len() / BLOCK;
    let mut parts = (vec![0u8; HEADER * n], vec![0u8; FLAG_BYTES * n], vec![0u8; PLANE_BYTES * n]);
    let scalar = Kernels::get(crate::isa::Isa::Scalar).expect("scalar kernels run everywhere");
    scalar.q4k_split(&src[..BLOCK * n], &mut parts.0, &mut parts.1, &mut parts.2);
    parts
}

/// Per-thread buffers reused across chunks (fresh pages per chunk cost more than coding).
#[derive(Default)]
struct Scratch {
    headers: Vec<u8>,
    flags: Vec<u8>,
    planes: Vec<u8>,
    /// Mode 1's header streams, while they compete with mode 2's fields.
    alt: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

fn put_stream(bytes: &[u8], kernels: &Kernels, profile_stream: usize, out: &mut Vec<u8>) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    stream::encode_with(bytes, kernels, Some((profiles::Q4K_V1, profile_stream)), None, out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

/// What mode 1's headers (the mode byte, then sixteen streams, each after a
/// 4-byte length) cannot be smaller than: each stream's entropy floor.
fn mode1_floor(headers: &[u8], n: usize, kernels: &Kernels) -> usize {
    1 + (0..HEADER).map(|p| 4 + stream::size_floor(&headers[p * n..(p + 1) * n], kernels)).sum::<usize>()
}

/// Appends the payload of a chunk (a non-empty multiple of 144 bytes) to `out`:
/// payload mode 1 or 2, whichever is smaller (or stored).
pub fn encode_chunk(src: &[u8], kernels: &Kernels, out: &mut Vec<u8>) {
    encode_chunk_with(src, kernels, true, out)
}

/// [`encode_chunk`]; without `fields`, never payload mode 2 (for readers from
/// before it).
pub fn encode_chunk_with(src: &[u8], kernels: &Kernels, fields: bool, out: &mut Vec<u8>) {
    SCRATCH.with(|s| encode_with(src, &mut s.borrow_mut(), kernels, fields, out))
}

fn encode_with(src: &[u8], s: &mut Scratch, kernels: &Kernels, allow_fields: bool, out: &mut Vec<u8>) {
    let n = src.len() / BLOCK;
    // Grown, never shrunk: the split writes every byte, so reuse costs no zero fill.
    for (buf, width) in [(&mut s.headers, HEADER), (&mut s.flags, FLAG_BYTES), (&mut s.planes, PLANE_BYTES)] {
        if buf.len() < width * n {
            buf.resize(width * n, 0);
        }
    }
    let (headers, flags, planes) = (&mut s.headers[..HEADER * n], &mut s.flags[..FLAG_BYTES * n], &mut s.planes[..PLANE_BYTES * n]);
    kernels.q4k_split(src, headers, flags, planes);
    let start = out.len();
    out.reserve(1 + src.len());
    // The headers: as fields (mode 2) or as sixteen byte streams (mode 1), whichever is smaller.
    if allow_fields {
        out.push(MODE_FIELDS);
        fields::encode(headers, n, kernels, out);
    }
    // Mode 1 is coded only when it might be smaller. Same choice, less work.
    if !allow_fields || out.len() - start > mode1_floor(headers, n, kernels) {
        let alt = &mut s.alt;
        alt.clear();
        alt.push(MODE_WINDOWED);
        for p in 0..HEADER {
            put_stream(&headers[p * n..(p + 1) * n], kernels, p, alt);
        }
        if !allow_fields || alt.len() < out.len() - start {
            out.truncate(start);
            out.extend_from_slice(alt);
        }
    }
    put_stream(flags, kernels, profiles::Q4K_FLAG_STREAM, out);
    out.extend_from_slice(planes);
    if out.len() - start > src.len() {
        out.truncate(start);
        out.push(MODE_STORED);
        out.extend_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On the ffn_gate fixture, chunk by chunk (the default 4 MiB chunks): the
    /// fields (mode 2) are chosen and are smaller than the header streams (mode 1).
    #[test]
    fn fields_beat_header_streams_on_ffn_gate() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k");
        let src = std::fs::read(path).expect("fixture");
        let k = Kernels::get(crate::isa::Isa::Scalar).expect("scalar");
        let (mut both, mut windowed) = (0, 0);
        for chunk in src.chunks(29127 * BLOCK) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            encode_chunk(chunk, k, &mut a);
            encode_chunk_with(chunk, k, false, &mut b);
            assert_eq!((a[0], b[0]), (MODE_FIELDS, MODE_WINDOWED));
            assert!(a.len() < b.len());
            // The fields beat even mode 1's floor, so mode 1 was never coded.
            let (headers, _, _) = split_blocks(chunk);
            let n = chunk.len() / BLOCK;
            let mut fields_only = vec![MODE_FIELDS];
            fields::encode(&headers, n, k, &mut fields_only);
            assert!(fields_only.len() <= mode1_floor(&headers, n, k), "{} > {}", fields_only.len(), mode1_floor(&headers, n, k));
            (both, windowed) = (both + a.len(), windowed + b.len());
        }
        eprintln!("ffn_gate payloads: fields {both} bytes, header streams {windowed} bytes ({} saved)", windowed - both);
        assert!(windowed - both > 30_000, "{windowed} - {both}");
    }
}
