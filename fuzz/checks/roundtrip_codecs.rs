//! The remaining frame codecs — fields (any valid layout: byte planes, with
//! row classes for one plane, and multi-byte runs, folded as Q5_0/Q5_1 quants
//! where the block holds them), zstd (whole, as GGUF strings, or as the differences of 32-bit words) and stored — on arbitrary content: encode identically
//! on every ISA and decode back to the input on every ISA. The first bytes pick
//! the codec and its parameters.

use llmc::frame::{FieldFold as Fold, FieldLayout as Layout};
use llmc::frame::Method;
use llmc::CompressParams;

/// A layout over `block` bytes cut into runs at the bit positions of `cuts`, the
/// runs dealt round-robin to `n_streams` streams.
fn layout(block: u16, cuts: u64, n_streams: usize) -> Layout {
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=block {
        if i == block || cuts >> (i % 64) & 1 == 1 {
            runs.push((start, i - start));
            start = i;
        }
    }
    let n = n_streams.clamp(1, runs.len());
    let streams: Vec<Vec<(u16, u16)>> = (0..n).map(|s| runs.iter().copied().skip(s).step_by(n).collect()).collect();
    let refs: Vec<&[(u16, u16)]> = streams.iter().map(Vec::as_slice).collect();
    Layout::from_runs(block, &refs)
}

pub fn run(input: &[u8]) {
    if input.len() < 10 {
        return;
    }
    let (head, data) = input.split_at(10);
    let method = match head[0] % 5 {
        0 => Method::Stored,
        // GGUF numeric words (differences) or plain zstd.
        1 if head[2] % 2 == 1 => Method::ZstdWords { level: 1 + i32::from(head[1] % 3) },
        1 => Method::Zstd { level: 1 + i32::from(head[1] % 3) },
        // Byte planes; one plane may also get row classes (rows of 32..256).
        2 if head[1] % 16 == 0 && head[3] % 2 == 1 => Method::Fields(Layout::planes(1)).with_rows(Some(32 * (1 + u64::from(head[4] % 8)))),
        2 => Method::Fields(Layout::planes(1 + u16::from(head[1] % 16))),
        3 => {
            let block = 1 + u16::from(head[1] % 48);
            let cuts = u64::from_le_bytes(head[2..10].try_into().unwrap());
            let l = layout(block, cuts, 1 + usize::from(head[2] % 8));
            // A fold of 5-bit quants at any offset where its 20 bytes fit.
            let at = u16::from(head[8]) % 48;
            Method::Fields(if head[3] % 3 == 0 && at + 20 <= block { l.folded(Fold::Quants5 { at }) } else { l })
        }
        _ => Method::ZstdStrings { level: 1 + i32::from(head[1] % 3) },
    };
    let elem = method.element_size();
    let data = &data[..data.len() / elem as usize * elem as usize];
    // One to three KiB per chunk (whole elements), so inputs span several chunks.
    let chunk = (1024 * (1 + u32::from(head[9] % 3))).div_ceil(elem) * elem;
    let p = CompressParams { chunk_size: chunk, ..Default::default() };
    super::common::roundtrip_every_isa(data, p, |d, q| llmc::frame::compress(&method, d, q));
}
