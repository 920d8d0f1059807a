//! Heap use of decoding, measured with a counting global allocator: real frames
//! and a real container take at most their output plus the documented bound
//! (`llmc::limits::decode_overhead`), and hostile inputs that declare huge
//! outputs are refused before anything of that size is allocated.

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use common::hostile::reseal;
use common::*;
use llmc::model::Index;
use llmc::frame::crc32c;
use llmc::limits::{decode_overhead, MAX_CHUNK_SIZE};
use llmc::{CompressParams, DecodeOptions, Error};

// Measurements must not overlap: every test body runs through
// `counting_alloc::serial`. The test harness may still allocate a little while
// it records the previous test: "small" below means under `SMALL`.

const KIB: usize = 1 << 10;
const SMALL: usize = 64 * KIB;

use counting_alloc::{peak_of as peak, serial};

fn threads(n: u32) -> DecodeOptions {
    DecodeOptions { n_threads: n, ..Default::default() }
}

/// Decodes `frame` with 1 and 2 threads; the heap beyond the output must stay
/// within the documented bound. Returns the overheads.
fn frame_overhead(name: &str, frame: &[u8]) -> Vec<usize> {
    let info = llmc::frame_info(frame).unwrap();
    let size = info.content_size as usize;
    [1, 2]
        .iter()
        .map(|&n| {
            let (out, used) = peak(|| llmc::decompress(frame, &threads(n)).unwrap());
            assert_eq!(out.len(), size);
            let over = used - size;
            let bound = decode_overhead(n, u64::from(info.chunk_size).min(info.content_size), u64::from(info.n_chunks), 0);
            eprintln!("{name}: {size} bytes, {} chunks of {}, {n} thread(s): {over} bytes beyond the output (bound {bound})", info.n_chunks, info.chunk_size);
            assert!(over as u64 <= bound, "{name} x{n}: {over} > {bound}");
            over
        })
        .collect()
}

#[test]
fn real_frames_take_their_output_plus_the_documented_bound() {
    serial(|| {
        let bf16 = fixture("bf16/all-minilm-l6-v2.layer.3.intermediate.bf16");
        let frame = llmc::compress_bf16(&bf16, &CompressParams::default()).unwrap();
        frame_overhead("bf16", &frame);
        let q4k = fixture("q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k");
        let frame = llmc::compress_q4k(&q4k, &CompressParams::default()).unwrap();
        let over = frame_overhead("q4k", &frame);
        // Q4_K stages a third of a chunk per thread: the bound is not loose by orders.
        assert!(over[0] > (4 << 20) / 4, "{over:?}");
    });
}

#[test]
fn a_real_container_takes_its_file_plus_the_documented_bound() {
    serial(|| {
        let file = fixture("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
        let c = llmc::model::gguf::compress(&file, &CompressParams::default(), None).unwrap();
        let index = Index::open(&c).unwrap();
        let n_chunks: u64 = index.regions.iter().filter(|r| r.frame_size > 0).map(|r| llmc::frame::parse(&c[r.frame_offset as usize..][..r.frame_size as usize]).unwrap().chunks.len() as u64).sum();
        let index_size = u64::from_le_bytes(c[24..32].try_into().unwrap());
        for n in [1, 2] {
            let (out, used) = peak(|| llmc::model::decompress(&c, &threads(n)).unwrap());
            assert!(out == file);
            let over = used - file.len();
            let bound = decode_overhead(n, index.chunk_size, n_chunks, index_size);
            eprintln!("container: {} bytes, {n_chunks} chunks, largest {}, index {index_size} bytes, {n} thread(s): {over} beyond the file (bound {bound})", file.len(), index.chunk_size);
            assert!(over as u64 <= bound, "x{n}: {over} > {bound}");
        }
    });
}

/// A valid field-split frame of `n_chunks` chunks of `chunk` zero bytes, each the
/// same constant payload: tiny input, enormous declared output.
fn zero_bomb(chunk: u32, n_chunks: u32) -> Vec<u8> {
    let one = llmc::frame::compress(&llmc::frame::Method::Fields(llmc::frame::FieldLayout::planes(1)), &[0u8; 1024], &CompressParams::default()).unwrap();
    let payload = &one[32 + 8..];
    assert_eq!(payload.len(), llmc::frame::FIELDS_MIN_PAYLOAD, "a constant chunk is the smallest payload");
    let mut f = one[..32].to_vec();
    f[8..16].copy_from_slice(&(u64::from(chunk) * u64::from(n_chunks)).to_le_bytes());
    f[16..20].copy_from_slice(&chunk.to_le_bytes());
    f[20..24].copy_from_slice(&n_chunks.to_le_bytes());
    for _ in 0..n_chunks {
        f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        f.extend_from_slice(&crc32c(payload).to_le_bytes());
    }
    for _ in 0..n_chunks {
        f.extend_from_slice(payload);
    }
    reseal(&mut f);
    f
}

#[test]
fn huge_declared_outputs_are_refused_before_allocating() {
    serial(|| {
        // By the cap: 1 TiB of zeros, validly coded in 90 KB (field splits have no
        // ratio limit). The default cap (64 GiB) refuses it; a 16 MiB one decodes.
        let bomb = zero_bomb(MAX_CHUNK_SIZE, 4096);
        let (r, used) = peak(|| llmc::decompress(&bomb, &DecodeOptions::default()));
        assert_eq!((r, bomb.len() < 100 * KIB), (Err(Error::LimitExceeded), true));
        assert!(used < bomb.len() * 4, "{used} bytes for a {}-byte frame", bomb.len());
        let small = zero_bomb(1 << 20, 16);
        assert!(llmc::decompress(&small, &DecodeOptions::default()).unwrap().iter().all(|&b| b == 0));
        // By the input size: a bf16 frame claiming 2^40 bytes in 4096 chunks whose
        // table is there, but whose 16-byte payloads cannot hold 256 MiB each.
        let real = llmc::compress_bf16(&fixture(BF16_FIXTURES[3])[..4096], &CompressParams::default()).unwrap();
        let mut liar = real[..32].to_vec();
        liar[8..16].copy_from_slice(&(1u64 << 40).to_le_bytes());
        liar[16..20].copy_from_slice(&MAX_CHUNK_SIZE.to_le_bytes());
        liar[20..24].copy_from_slice(&4096u32.to_le_bytes());
        for _ in 0..4096 {
            liar.extend_from_slice(&[16, 0, 0, 0, 0, 0, 0, 0]);
        }
        liar.resize(liar.len() + 4096 * 16, 0);
        reseal(&mut liar);
        let no_cap = DecodeOptions { max_output: u64::MAX, ..Default::default() };
        let (r, used) = peak(|| llmc::decompress(&liar, &no_cap));
        assert_eq!(r, Err(Error::Corrupt));
        assert!(used < 256 * KIB, "{used} bytes");
        // The hard limit: over 2^40 whatever the cap.
        let mut over = real.clone();
        over[8..16].copy_from_slice(&((1u64 << 40) + 2).to_le_bytes());
        reseal(&mut over);
        let (r, used) = peak(|| llmc::decompress(&over, &no_cap));
        assert_eq!(r, Err(Error::LimitExceeded));
        assert!(used < SMALL, "{used} bytes");
    });
}

#[test]
fn a_lowered_cap_is_honoured() {
    serial(|| {
        let src = fixture(BF16_FIXTURES[3]);
        let frame = llmc::compress_bf16(&src, &CompressParams::default()).unwrap();
        let cap = |max_output| DecodeOptions { max_output, ..Default::default() };
        let (r, used) = peak(|| llmc::decompress(&frame, &cap(src.len() as u64 - 1)));
        assert_eq!(r, Err(Error::LimitExceeded));
        assert!(used < SMALL, "{used} bytes allocated before refusing");
        assert!(llmc::decompress(&frame, &cap(src.len() as u64)).unwrap() == src);
        let (file, c) = (fixture("corrupt/model.gguf"), fixture("corrupt/model.gguf.llmc"));
        let (r, used) = peak(|| llmc::model::decompress(&c, &cap(file.len() as u64 - 1)));
        assert_eq!(r, Err(Error::LimitExceeded));
        assert!(used < c.len() * 4, "{used} bytes allocated before refusing");
        assert!(llmc::model::decompress(&c, &cap(file.len() as u64)).unwrap() == file);
    });
}

#[test]
fn hostile_counts_do_not_size_allocations() {
    serial(|| {
        let c = fixture("corrupt/model.gguf.llmc");
        let at = u64::from_le_bytes(c[16..24].try_into().unwrap()) as usize;
        let size = u64::from_le_bytes(c[24..32].try_into().unwrap()) as usize;
        let n_regions = u32::from_le_bytes(c[at..at + 4].try_into().unwrap()) as usize;
        let entries_at = at + 4 + 33 * n_regions;
        let with_count = |pos: usize, n: u32| {
            let mut bad = c.clone();
            bad[pos..pos + 4].copy_from_slice(&n.to_le_bytes());
            let crc = crc32c(&bad[at..at + size - 4]);
            bad[at + size - 4..at + size].copy_from_slice(&crc.to_le_bytes());
            bad
        };
        // Counts at (and past) the limits, in an index of a few hundred bytes.
        for (what, bad) in [
            ("2^21 entries", with_count(entries_at, 1 << 21)),
            ("2^31 entries", with_count(entries_at, 1 << 31)),
            ("2^22 regions", with_count(at, 1 << 22)),
        ] {
            let (r, used) = peak(|| Index::open(&bad));
            assert_eq!(r.unwrap_err(), Error::Corrupt, "{what}");
            assert!(used < SMALL, "{what}: {used} bytes");
        }
        // GGUF: 2^20 tensors (the limit) declared in a small file.
        let mut g = fixture("corrupt/model.gguf");
        g[8..16].copy_from_slice(&(1u64 << 20).to_le_bytes());
        let (r, used) = peak(|| llmc::model::gguf::parse(&g).map(|_| ()));
        assert_eq!(r, Err(Error::SrcTruncated));
        assert!(used < SMALL, "gguf: {used} bytes");
    });
}

/// The process's peak resident set (VmHWM), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[test]
#[cfg(target_os = "linux")]
fn a_large_declared_output_that_fails_early_is_never_touched() {
    serial(|| {
        // 8 GiB declared (under the default cap), but chunk 0's checksum is wrong:
        // the output is allocated zeroed (lazily mapped), so only the first chunk's
        // pages are ever touched before the error.
        let mut bomb = zero_bomb(1 << 20, 8192);
        bomb[32 + 4] ^= 1;
        reseal_header(&mut bomb);
        let before = peak_rss();
        assert_eq!(llmc::decompress(&bomb, &DecodeOptions::default()), Err(Error::ChecksumMismatch));
        let grown = peak_rss().saturating_sub(before);
        assert!(grown < 256 << 20, "peak RSS grew by {grown} bytes for an 8 GiB declared output");
    });
}

/// Re-checks only the frame header (bytes 0..28, check at 28), leaving the
/// chunk table as mutated.
fn reseal_header(f: &mut [u8]) {
    let check = crc32c(&f[..28]);
    f[28..32].copy_from_slice(&check.to_le_bytes());
}
