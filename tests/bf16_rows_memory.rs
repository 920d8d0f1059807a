//! Heap beyond the output when decoding bf16 mode-2 frames (row classes), against
//! `llmc::limits::decode_overhead`.

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use common::hostile::reseal;
use common::*;
use counting_alloc::{peak_of, serial};
use llmc::limits::decode_overhead;
use llmc::{compress_bf16_rows, CompressParams, DecodeOptions};


fn overhead(frame: &[u8], n: u32) -> (usize, u64) {
    let info = llmc::frame_info(frame).unwrap();
    let size = info.content_size as usize;
    // On a new thread: the decoder's per-thread tables are then allocated inside
    // the measurement, not reused from an earlier call on this thread.
    let (out, used) = peak_of(|| std::thread::scope(|s| s.spawn(|| llmc::decompress(frame, &DecodeOptions { n_threads: n, ..Default::default() })).join().unwrap()));
    assert_eq!(out.unwrap().len(), size);
    (used - size, decode_overhead(n, u64::from(info.chunk_size).min(info.content_size), u64::from(info.n_chunks), 0))
}

/// The same one-chunk frame with its two classes' tables listed as `k` tables
/// (classes 0 and 1 as before, tables 2..k copies): valid for k = 4, the most
/// the format allows.
fn as_k_tables(frame: &[u8], k: usize) -> Vec<u8> {
    let bits = k.trailing_zeros() as usize;
    let size = u32::from_le_bytes(frame[32..36].try_into().unwrap()) as usize;
    let p = &frame[40..40 + size];
    assert_eq!((p[0], p[2]), (4, 2), "row classes, carrying lanes");
    let n = (u64::from_le_bytes(frame[8..16].try_into().unwrap()) / 2) as usize;
    let row = u32::from_le_bytes(p[4..8].try_into().unwrap()) as usize;
    let first = u32::from_le_bytes(p[8..12].try_into().unwrap()) as usize;
    let n_rows = (first + n).div_ceil(row);
    let l = [u16::from_le_bytes([p[24], p[25]]) as usize, u16::from_le_bytes([p[26], p[27]]) as usize];
    let cb = n_rows.div_ceil(8);
    let classes: Vec<u8> = (0..n_rows).map(|i| p[28 + i / 8] >> (i % 8) & 1).collect();
    let mut q = p[..24].to_vec();
    q[2] = k as u8;
    for c in 0..k {
        q.extend_from_slice(&(l[c % 2] as u16).to_le_bytes());
    }
    let mut packed = vec![0u8; (bits * n_rows).div_ceil(8)];
    for (i, &c) in classes.iter().enumerate() {
        let at = bits * i;
        let v = u16::from(c) << (at % 8);
        packed[at / 8] |= v as u8;
        if at % 8 + bits > 8 {
            packed[at / 8 + 1] |= (v >> 8) as u8;
        }
    }
    q.extend_from_slice(&packed);
    let a0 = &p[28 + cb..28 + cb + l[0]];
    let a1 = &p[28 + cb + l[0]..28 + cb + l[0] + l[1]];
    for c in 0..k {
        q.extend_from_slice(if c % 2 == 0 { a0 } else { a1 });
    }
    q.extend_from_slice(&p[28 + cb + l[0] + l[1]..]);
    let mut f = frame[..40].to_vec();
    f[32..36].copy_from_slice(&(q.len() as u32).to_le_bytes());
    f.extend_from_slice(&q);
    f.extend_from_slice(&frame[40 + size..]);
    reseal(&mut f);
    f
}

#[test]
fn mode2_decode_stays_within_the_documented_overhead() {
    serial(|| {
        let src = fixture("bf16/all-minilm-l6-v2.layer.3.output.bf16")[..2 * 65_536].to_vec();
        let frame = compress_bf16_rows(&src, 1536, &CompressParams { chunk_size: 131_072, ..Default::default() }).unwrap();
        let four = as_k_tables(&frame, 4);
        assert_eq!(llmc::decompress(&four, &DecodeOptions::default()).unwrap(), src, "K = 4 frame decodes");
        // Eight tables would exceed what a decoding thread is allowed to hold.
        assert_eq!(llmc::decompress(&as_k_tables(&frame, 8), &DecodeOptions::default()), Err(llmc::Error::Corrupt));
        let mut fail = Vec::new();
        for (name, f) in [("K=2", &frame), ("K=4", &four)] {
            for n in [1, 2] {
                let (over, bound) = overhead(f, n);
                eprintln!("{name} x{n}: {over} bytes beyond the output, bound {bound}");
                if over as u64 > bound {
                    fail.push(format!("{name} x{n}: {over} > {bound}"));
                }
            }
        }
        assert!(fail.is_empty(), "{fail:?}");
    });
}

#[test]
fn byte_row_class_decode_stays_within_the_documented_overhead() {
    serial(|| {
        // One-byte symbols with row classes (stream mode 4) in 1 MiB chunks of rows
        // of 128 (the shortest 128 lanes allow): the field is staged whole, plus the
        // class arrays.
        let words = fixture("bf16/all-minilm-l6-v2.word_embeddings.bf16");
        let bytes: Vec<u8> = words.chunks_exact(2).map(|w| w[1]).take(3 << 20).collect();
        let method = llmc::frame::Method::Fields(llmc::frame::FieldLayout::planes(1)).with_rows(Some(128));
        let frame = llmc::frame::compress(&method, &bytes, &CompressParams { chunk_size: 1 << 20, ..Default::default() }).unwrap();
        let n = u32::from_le_bytes(frame[20..24].try_into().unwrap()) as usize;
        let first = &frame[32 + 8 * n..];
        // Fields payload: layout (u16 block, u8 streams, per stream u8 runs + runs), u32 length, stream mode.
        assert_eq!(first[4 + 4 + 4], 4, "the stream uses row classes");
        for threads in [1, 2] {
            let (over, bound) = overhead(&frame, threads);
            eprintln!("bytes x{threads}: {over} bytes beyond the output, bound {bound}");
            assert!(over as u64 <= bound, "x{threads}: {over} > {bound}");
        }
    });
}
