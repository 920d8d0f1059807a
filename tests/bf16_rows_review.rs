//! bf16 row classes (payload modes 2 and 4), from an independent review: first columns in frames and containers, huge row lengths, an escape in one class only.

mod common;
use common::hostile::{decode_unverified, reseal};
use common::*;
use llmc::{compress_bf16_rows, decompress, CompressParams, Isa};

use common::frame_payloads as chunks;

fn u32_at(p: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(p[at..at + 4].try_into().unwrap())
}

/// Checks that each mode-2 or 4 chunk of the frame at `f` records its real column.
fn check_first_cols(f: &[u8], row: u32, what: &str) -> usize {
    let chunk_size = u32_at(f, 16) as u64;
    let mut mode2 = 0;
    for (i, p) in chunks(f).iter().enumerate() {
        if matches!(p[0], 2 | 4) {
            mode2 += 1;
            assert_eq!(u32_at(p, 4), row, "{what}: chunk {i} row");
            let want = (i as u64 * chunk_size / 2 % u64::from(row)) as u32;
            assert_eq!(u32_at(p, 8), want, "{what}: chunk {i} first_col");
        }
    }
    mode2
}

#[test]
fn raw_frames_record_each_chunks_real_column() {
    let src = &fixture("bf16/all-minilm-l6-v2.word_embeddings.bf16")[..3_000_000];
    let f = compress_bf16_rows(src, 384, &CompressParams::default()).unwrap();
    assert!(check_first_cols(&f, 384, "raw frame") > 0);
}

#[test]
fn container_chunks_record_their_tensors_real_column() {
    use serde_json::json;
    let data = fixture("bf16/all-minilm-l6-v2.word_embeddings.bf16")[..2 * 384 * 4000].to_vec();
    let file = st::write(&[st::Tensor { name: "w".into(), dtype: "BF16".into(), shape: json!([4000, 384]), data: data.clone() }], None);
    let c = llmc::model::compress(&file, &CompressParams::default(), None).unwrap();
    // The tensor's frame: codec 1, content size = the tensor.
    let at = (0..c.len() - 32)
        .find(|&i| &c[i..i + 4] == b"LLMF" && c[i + 6] == 1 && u64::from_le_bytes(c[i + 8..i + 16].try_into().unwrap()) == data.len() as u64)
        .expect("the tensor's frame");
    eprintln!("container {} bytes for a {}-byte tensor", c.len(), data.len());
    assert!(check_first_cols(&c[at..], 384, "container") > 0);
}

/// A mode-4 chunk rewritten with row = 2^32 - 128 and first_col = 2^32 - 256:
/// two rows, the first 128 values long. Must decode or fail, never panic.
#[test]
fn huge_rows_and_first_columns_are_safe() {
    let src = fixture("bf16/all-minilm-l6-v2.layer.3.output.bf16")[..2 * 65_536].to_vec();
    let frame = compress_bf16_rows(&src, 1536, &CompressParams { chunk_size: 131_072, ..Default::default() }).unwrap();
    let n = 1usize;
    let hdr = 32 + 8 * n;
    let p = chunks(&frame)[0].to_vec();
    assert_eq!(p[0], 4);
    assert_eq!(p[1], 7, "128 lanes");
    let k = p[2] as usize;
    let n_rows = 65_536usize.div_ceil(1536);
    let class_bytes = (n_rows * k.trailing_zeros() as usize).div_ceil(8);
    let fixed = 24 + 2 * k;
    let isas = isas_under_test();
    for (row, first_col, class) in [(u32::MAX - 127, u32::MAX - 255, 0b01u8), (u32::MAX - 127, u32::MAX - 255, 0b10), (u32::MAX - 127, 0, 0), (u32::MAX - 127, u32::MAX - 255, 0), (128, 0, 0)] {
        let mut q = p[..fixed].to_vec();
        q[4..8].copy_from_slice(&row.to_le_bytes());
        q[8..12].copy_from_slice(&first_col.to_le_bytes());
        let rows = (first_col as usize + 65_536).div_ceil(row as usize);
        let bytes = (rows * k.trailing_zeros() as usize).div_ceil(8);
        let mut classes = vec![0u8; bytes];
        if bytes > 0 {
            classes[0] = class;
        }
        q.extend_from_slice(&classes);
        q.extend_from_slice(&p[fixed + class_bytes..]);
        let mut f = frame[..hdr].to_vec();
        f[32..36].copy_from_slice(&(q.len() as u32).to_le_bytes());
        f.extend_from_slice(&q);
        reseal(&mut f);
        for out in decode_unverified(&f, &isas).into_iter().flatten() {
            assert_eq!(out.len(), src.len());
        }
    }
}

/// Lower-half rows use 8 values, upper-half rows 400 distinct ones: class 1's
/// table has an escape, class 0's none.
fn escape_in_one_class() -> Vec<u8> {
    let row = 256usize;
    let rows = 256usize;
    let mut out = Vec::with_capacity(2 * row * rows);
    let mut s = 0x1234_5678u32;
    for r in 0..rows {
        for _ in 0..row {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let v: u16 = if r % 2 == 0 { 100 + (s >> 29) as u16 } else { 500 + ((s >> 8) % 400) as u16 };
            let w = (v << 5) | ((s >> 3) as u16 & 0x1f) | if s & 1 == 1 { 0x8000 } else { 0 };
            out.extend_from_slice(&w.to_le_bytes());
        }
    }
    out
}

#[test]
fn escapes_in_one_class_only_roundtrip_and_encode_alike() {
    let src = escape_in_one_class();
    let reference = compress_bf16_rows(&src, 256, &CompressParams { isa: Some(Isa::Scalar), ..Default::default() }).unwrap();
    let ch = chunks(&reference);
    eprintln!("modes {:?}, esc_count {}", ch.iter().map(|p| p[0]).collect::<Vec<_>>(), u32_at(ch[0], 16));
    assert_eq!(ch[0][0], 4);
    assert!(u32_at(ch[0], 16) > 0, "escapes");
    for &isa in &isas_under_test() {
        for threads in [1, 2] {
            let p = CompressParams { isa: Some(isa), n_threads: threads, chunk_size: 16384, ..Default::default() };
            let f = compress_bf16_rows(&src, 256, &p).unwrap();
            assert_eq!(decompress(&f, &opts(isa)).unwrap(), src, "{isa:?}");
        }
        assert!(compress_bf16_rows(&src, 256, &CompressParams { isa: Some(isa), ..Default::default() }).unwrap() == reference);
        assert_eq!(decompress(&reference, &opts(isa)).unwrap(), src, "{isa:?}");
    }
}

#[test]
fn an_escape_in_a_row_whose_table_has_none_is_corrupt() {
    // The escape list's first position moved into an earlier row of class 0,
    // whose table has no escape symbol: the decoders must refuse it rather than
    // patch a regular value (the other escapes stay where they were).
    let src = escape_in_one_class();
    let frame = compress_bf16_rows(&src, 256, &CompressParams::default()).unwrap();
    assert_eq!(u32_at(&frame, 20), 1, "one chunk");
    let p = &frame[40..];
    assert_eq!((p[0], p[2]), (4, 2));
    let n_rows = src.len() / 2 / 256;
    let (esc_count, esc_len) = (u32_at(p, 16) as usize, u32_at(p, 20) as usize);
    let lens = [u16::from_le_bytes([p[24], p[25]]) as usize, u16::from_le_bytes([p[26], p[27]]) as usize];
    let esc_at = 28 + n_rows.div_ceil(8) + lens[0] + lens[1];
    let class = |r: usize| p[28 + r / 8] >> (r % 8) & 1;
    // Parse the list: (position, value) pairs, positions delta-coded as LEB128.
    let mut entries = Vec::new();
    let (mut at, mut next) = (esc_at, 0u64);
    for _ in 0..esc_count {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = p[at];
            at += 1;
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let pos = next + v;
        entries.push((pos, [p[at], p[at + 1]]));
        at += 2;
        next = pos + 1;
    }
    assert_eq!(at, esc_at + esc_len);
    let r0 = (0..n_rows).find(|&r| class(r) == 0 && ((r * 256) as u64) < entries[0].0).expect("an earlier class-0 row");
    entries[0].0 = (r0 * 256) as u64;
    let mut list = Vec::new();
    let mut next = 0u64;
    for (pos, value) in &entries {
        let mut d = pos - next;
        loop {
            let b = (d & 0x7f) as u8;
            d >>= 7;
            list.push(if d > 0 { b | 0x80 } else { b });
            if d == 0 {
                break;
            }
        }
        list.extend_from_slice(value);
        next = pos + 1;
    }
    let mut q = p[..esc_at].to_vec();
    q[20..24].copy_from_slice(&(list.len() as u32).to_le_bytes());
    q.extend_from_slice(&list);
    q.extend_from_slice(&p[esc_at + esc_len..u32_at(&frame, 32) as usize]);
    let mut bad = frame[..40].to_vec();
    bad[32..36].copy_from_slice(&(q.len() as u32).to_le_bytes());
    bad.extend_from_slice(&q);
    reseal(&mut bad);
    for r in decode_unverified(&bad, &isas_under_test()) {
        assert_eq!(r.err(), Some(llmc::Error::Corrupt), "decoded with an escape in a table without one");
    }
}
