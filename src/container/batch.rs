//! Runs of tiny tensors gathered into one region (`Role::Batch`, container
//! version 10). Alone, each tensor costs a region record, a frame header and
//! chunk table, an index region and its own tables, about 130 bytes before it
//! holds a byte: more than a four-byte FP8 scale or a norm of a few hundred
//! values is worth. The safetensors writer lays tensors out by dtype, then
//! name, so a checkpoint's scales, norms and biases follow each other; GGUF
//! puts a block's norms side by side. A batch holds such a run, coded as one
//! frame with the method its members share, and each member's index entry says
//! where in the region it lies. Which spans form a batch depends only on the
//! spans, so the bytes do not depend on threads or on the input being a pipe.

use super::build::{Member, Span};
use super::Role;
use crate::codec::Method;
use crate::format::limits::DEFAULT_CHUNK_SIZE;

/// Largest tensor a batch takes. Its own frame costs about 1 % of this.
pub const TINY_TENSOR: u64 = 16 << 10;
/// Largest batch: reading one member decodes at most this much (one chunk).
pub const MAX_BATCH: u64 = 256 << 10;
/// zstd level for a batch of tensors of several types (as for tensors of types
/// without a codec of their own).
const MIXED_ZSTD_LEVEL: i32 = 3;

/// `spans` (tiling the file in order) with every run of at least two tiny
/// tensors (and the padding between them) replaced by one batch span.
pub fn gather(spans: Vec<Span>) -> Vec<Span> {
    let mut out = Vec::with_capacity(spans.len());
    let mut run: Vec<Span> = Vec::new();
    // The run's bytes, kept as it grows: a run may hold 2^18 one-byte tensors.
    let mut size = 0u64;
    for s in spans {
        if extends(&run, size, &s) {
            size += s.size;
            run.push(s);
            continue;
        }
        flush(&mut run, &mut out);
        size = 0;
        if opens(&s) {
            size = s.size;
            run.push(s);
        } else {
            out.push(s);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A tensor's methods for content without rows.
fn flat(methods: &[Method]) -> Vec<Method> {
    methods.iter().map(|m| m.clone().for_batch()).collect()
}

fn opens(s: &Span) -> bool {
    s.role == Role::Tensor && s.entry.is_some() && s.size <= TINY_TENSOR
}

/// May `s` join `run` (of `size` bytes): a tiny tensor, or padding that keeps
/// the first tensor's elements whole, within the batch's size.
fn extends(run: &[Span], size: u64, s: &Span) -> bool {
    let Some(first) = run.first() else { return false };
    if s.size > TINY_TENSOR || size + s.size > MAX_BATCH {
        return false;
    }
    match s.role {
        Role::Tensor => opens(s),
        Role::Padding => first.methods.iter().all(|m| s.size.is_multiple_of(u64::from(m.element_size()))),
        _ => false,
    }
}

/// Moves `run` to `out`: as one batch span if it holds two tensors or more,
/// else as it was; padding after its last tensor stays outside.
fn flush(run: &mut Vec<Span>, out: &mut Vec<Span>) {
    let tail = run.iter().rposition(|s| s.role == Role::Tensor).map_or(0, |i| i + 1);
    let rest: Vec<Span> = run.drain(tail..).collect();
    if run.iter().filter(|s| s.role == Role::Tensor).count() >= 2 {
        let offset = run[0].offset;
        let members = run
            .iter()
            .filter_map(|s| Some(Member { at: s.offset - offset, size: s.size, desc: s.entry.clone()? }))
            .collect();
        out.push(Span {
            offset,
            size: run.iter().map(|s| s.size).sum(),
            role: Role::Batch,
            methods: methods(run),
            entry: None,
            batch: members,
        });
        run.clear();
    } else {
        out.append(run);
    }
    out.extend(rest);
}

/// How a batch is coded: as its tensors are when they share their methods
/// (safetensors files keep a dtype's tensors together); else the smallest of
/// zstd and the members' methods for elements of 1, 2, 4 or 8 bytes (byte
/// planes, bf16) that fit the batch's size. Block layouts (Q8_0's 34 bytes,
/// Q4_K) are left out: their chunk sizes are not zstd's, and every candidate
/// of a frame must share one.
fn methods(run: &[Span]) -> Vec<Method> {
    let first = flat(&run[0].methods);
    let tensors = run.iter().filter(|s| s.role == Role::Tensor);
    if tensors.clone().all(|s| flat(&s.methods) == first) {
        return first;
    }
    let size: u64 = run.iter().map(|s| s.size).sum();
    let mut out: Vec<Method> = Vec::new();
    for m in tensors.flat_map(|s| flat(&s.methods)).chain([Method::Zstd { level: MIXED_ZSTD_LEVEL }]) {
        let elem = m.element_size();
        if elem.is_power_of_two() && elem <= 8 && m.default_chunk_size() == DEFAULT_CHUNK_SIZE && size.is_multiple_of(u64::from(elem)) && !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::fields::Layout;
    use crate::container::TensorDesc;

    fn tensor(offset: u64, size: u64, methods: Vec<Method>) -> Span {
        let desc = TensorDesc { name: format!("t{offset}"), dtype: 0, shape: vec![size] };
        Span { offset, size, role: Role::Tensor, methods, entry: Some(desc), batch: Vec::new() }
    }

    fn padding(offset: u64, size: u64) -> Span {
        Span { offset, size, role: Role::Padding, methods: vec![Method::Stored], entry: None, batch: Vec::new() }
    }

    #[test]
    fn runs_of_tiny_tensors_with_one_method_become_batches() {
        let f32s = || vec![Method::Fields(Layout::planes(4)), Method::Zstd { level: 3 }];
        let spans = vec![
            tensor(0, 4, f32s()),
            tensor(4, 8, f32s()),
            padding(12, 4),
            tensor(16, 4, f32s()),
            padding(20, 12),
            tensor(32, 1 << 20, vec![Method::Bf16Rows { row: 512, phase: 0 }]),
            tensor(32 + (1 << 20), 64, vec![Method::Bf16Rows { row: 8, phase: 0 }]),
            tensor(96 + (1 << 20), 64, vec![Method::Bf16]),
            tensor(160 + (1 << 20), 64, f32s()),
        ];
        let out = gather(spans);
        let roles: Vec<Role> = out.iter().map(|s| s.role).collect();
        assert_eq!(roles, [Role::Batch, Role::Padding, Role::Tensor, Role::Batch]);
        // The first three tensors and the padding between them; the padding after stays.
        assert_eq!((out[0].offset, out[0].size), (0, 20));
        assert_eq!(out[0].methods, f32s());
        let places: Vec<(u64, u64)> = out[0].batch.iter().map(|m| (m.at, m.size)).collect();
        assert_eq!(places, [(0, 4), (4, 8), (16, 4)]);
        // Two bf16 tensors, one with rows, and an F32 one: the smallest of
        // their methods and zstd.
        assert_eq!(out[3].methods, [Method::Bf16, Method::Fields(Layout::planes(4)), Method::Zstd { level: 3 }]);
        assert_eq!(out[3].batch.len(), 3);
        // A block layout (here Q4_K's 144 bytes) is no candidate of a mixed
        // batch, even where the batch is whole blocks: its chunks are not zstd's.
        let mixed = gather(vec![tensor(0, 144, vec![Method::Q4k]), tensor(144, 144, f32s())]);
        assert_eq!(mixed[0].methods, f32s());
        let same = gather(vec![tensor(0, 64, vec![Method::Bf16Rows { row: 8, phase: 0 }]), tensor(64, 64, vec![Method::Bf16])]);
        assert_eq!((same.len(), &same[0].methods[..]), (1, &[Method::Bf16][..]));
        // The spans still tile the file.
        assert!(out.windows(2).all(|w| w[0].offset + w[0].size == w[1].offset));
    }

    #[test]
    fn a_batch_stops_at_its_size_and_lone_tensors_stay() {
        let n = MAX_BATCH / TINY_TENSOR + 1;
        let spans: Vec<Span> = (0..n).map(|i| tensor(i * TINY_TENSOR, TINY_TENSOR, vec![Method::Stored])).collect();
        let out = gather(spans);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].role, out[0].size), (Role::Batch, MAX_BATCH));
        assert_eq!(out[1].role, Role::Tensor);
        // Padding that would split a four-byte element ends the run.
        let out = gather(vec![tensor(0, 4, vec![Method::Fields(Layout::planes(4))]), padding(4, 2), tensor(6, 4, vec![Method::Fields(Layout::planes(4))])]);
        assert!(out.iter().all(|s| s.role != Role::Batch));
    }
}
