//! Whole-GGUF containers on the committed fixture: byte-exact rebuild, random
//! access by tensor and byte range from many threads, isolation of corruption.

mod common;
use common::*;
use llmc::model::Index;
use llmc::{CompressParams, DecodeOptions, Error};

const GGUF: &str = "gguf/gemma-3-270m-q4_k_m.blk0.gguf";

fn container() -> (Vec<u8>, Vec<u8>) {
    let file = fixture(GGUF);
    let c = llmc::model::gguf::compress(&file, &CompressParams { n_threads: 2, ..Default::default() }, None).unwrap();
    (file, c)
}

#[test]
fn rebuilds_byte_for_byte_on_every_isa_and_thread_count() {
    let (file, c) = container();
    let index = Index::open(&c).unwrap();
    assert_eq!(index.original_size, file.len() as u64);
    for isa in isas_under_test() {
        for threads in [1, 2, 3] {
            let mut out = vec![0u8; file.len()];
            index.decompress_all(&c, &mut out, &DecodeOptions { isa: Some(isa), n_threads: threads, ..Default::default() }).unwrap();
            assert!(out == file, "{isa:?} x{threads}");
        }
    }
    assert!(llmc::model::decompress(&c, &DecodeOptions::default()).unwrap() == file);
}

#[test]
fn output_is_identical_for_every_thread_count_and_isa() {
    let file = fixture(GGUF);
    let reference = llmc::model::gguf::compress(&file, &CompressParams::default(), None).unwrap();
    for isa in isas_under_test() {
        for threads in [2, 4] {
            let p = CompressParams { n_threads: threads, isa: Some(isa), ..Default::default() };
            assert!(llmc::model::gguf::compress(&file, &p, None).unwrap() == reference, "{isa:?} x{threads}");
        }
    }
}

#[test]
fn every_tensor_and_the_metadata_read_alone() {
    let (file, c) = container();
    let index = Index::open(&c).unwrap();
    let g = llmc::model::gguf::parse(&file).unwrap();
    assert_eq!(index.entries.len(), g.tensors.len());
    for t in &g.tensors {
        let i = index.find(t.name).unwrap();
        let (offset, size) = index.entry_span(i).unwrap();
        assert_eq!((offset as usize, Some(size as usize)), (t.abs_offset, t.nbytes), "{}", t.name);
        let mut out = vec![0u8; size as usize];
        index.read_range(&c, offset, &mut out, &DecodeOptions::default()).unwrap();
        assert!(out[..] == file[offset as usize..(offset + size) as usize], "{}", t.name);
    }
    assert_eq!(index.metadata_size(), g.data_offset as u64);
    let mut meta = vec![0u8; g.data_offset];
    index.read_range(&c, 0, &mut meta, &DecodeOptions::default()).unwrap();
    assert!(meta[..] == file[..meta.len()]);
    assert!(llmc::model::gguf::parse_prefix(&meta, file.len()).is_ok());
}

#[test]
fn random_ranges_from_many_threads() {
    let (file, c) = container();
    let index = Index::open(&c).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let (file, c, index) = (&file, &c, &index);
            s.spawn(move || {
                let mut seed = 0x1234_5678_9abc_def0u64 ^ t;
                for _ in 0..200 {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let offset = (seed >> 20) % file.len() as u64;
                    let len = ((seed >> 5) % (3 << 20)).min(file.len() as u64 - offset) as usize;
                    let mut out = vec![0u8; len];
                    index.read_range(c, offset, &mut out, &DecodeOptions::default()).unwrap();
                    assert!(out[..] == file[offset as usize..offset as usize + len], "offset {offset} len {len}");
                }
            });
        }
    });
    let mut out = [0u8; 4];
    assert_eq!(index.read_range(&c, file.len() as u64 - 2, &mut out, &DecodeOptions::default()), Err(Error::InvalidArgument));
}

#[test]
fn a_corrupt_chunk_only_affects_its_own_tensor() {
    let (file, mut c) = container();
    let index = Index::open(&c).unwrap();
    let victim = index.find("blk.0.ffn_down.weight").unwrap();
    let other = index.find("blk.0.attn_q.weight").unwrap();
    let r = index.regions[index.entries.get(victim).unwrap().region as usize];
    // Flip a byte in the middle of the victim's frame payloads.
    c[(r.frame_offset + r.frame_size / 2) as usize] ^= 0x40;
    let index = Index::open(&c).unwrap();
    let read = |i: usize| {
        let (offset, size) = index.entry_span(i).unwrap();
        let mut out = vec![0u8; size as usize];
        index.read_range(&c, offset, &mut out, &DecodeOptions::default()).map(|()| (offset, out))
    };
    let (offset, out) = read(other).expect("an untouched tensor still reads");
    assert!(out[..] == file[offset as usize..offset as usize + out.len()]);
    assert_eq!(read(victim).unwrap_err(), Error::ChecksumMismatch);
    assert_eq!(llmc::model::decompress(&c, &DecodeOptions::default()).unwrap_err(), Error::ChecksumMismatch);
}

#[test]
fn truncated_and_corrupted_containers_are_rejected() {
    let (_, c) = container();
    for len in [0, 3, 4, 63, 64, 1000, c.len() / 2, c.len() - 1] {
        assert!(Index::open(&c[..len]).is_err(), "prefix {len}");
    }
    let mut bad = c.clone();
    bad[0] = b'X';
    assert_eq!(Index::open(&bad).unwrap_err(), Error::BadMagic);
    let mut bad = c.clone();
    bad[9] ^= 1;
    assert_eq!(Index::open(&bad).unwrap_err(), Error::ChecksumMismatch);
    let mut bad = c.clone();
    let n = bad.len();
    bad[n - 10] ^= 1; // inside the index
    assert_eq!(Index::open(&bad).unwrap_err(), Error::ChecksumMismatch);
}

#[test]
fn a_container_cut_anywhere_after_its_header_opens_as_truncated() {
    // An interrupted download or copy: the trailer is missing, and the open
    // says the file was cut short rather than damaged.
    let (_, c) = container();
    let index = Index::open(&c).unwrap();
    let n = c.len();
    let mut cuts = vec![16, 17, 52, n - 65, n - 64, n - 1];
    for r in &index.regions {
        let record = (r.frame_offset - 36) as usize;
        cuts.extend([record, record + 1, record + 35, (r.frame_offset + r.frame_size / 2) as usize]);
    }
    cuts.push(index.regions.last().map(|r| (r.frame_offset + r.frame_size) as usize + 10).unwrap()); // inside the end record
    for cut in cuts {
        assert_eq!(Index::open(&c[..cut]).unwrap_err(), Error::SrcTruncated, "cut at {cut} of {n}");
    }
    // A damaged record before the cut, or bytes after the trailer, are not cuts.
    let first_record = (index.regions[0].frame_offset - 36) as usize;
    let mut damaged = c[..n / 2].to_vec();
    damaged[first_record + 8] ^= 1;
    assert_ne!(Index::open(&damaged).unwrap_err(), Error::SrcTruncated);
    let mut longer = c.clone();
    longer.extend_from_slice(b"junk");
    assert_eq!(Index::open(&longer).unwrap_err(), Error::Corrupt);
}

#[test]
fn every_single_bit_flip_of_a_small_container_is_detected() {
    // The corpus's container of a small GGUF (five tensors, every section).
    let (file, c) = (fixture("corrupt/model.gguf"), fixture("corrupt/model.gguf.llmc"));
    assert!(llmc::model::decompress(&c, &DecodeOptions::default()).unwrap() == file);
    let mut errors = 0;
    for isa in isas_under_test() {
        common::hostile::each_bit_flip(&c, |copy, bit| match llmc::model::decompress(copy, &opts(isa)) {
            Err(_) => errors += 1,
            Ok(out) => assert!(out == file, "bit {bit}, {isa:?}: wrong file reported as success"),
        });
    }
    assert!(errors > 0);
}

#[test]
fn ranked_scales_batches_word_differences_and_folded_quants_make_a_version_11_container_that_older_numbers_do_not_read() {
    // Q8_0 scales may be coded as ranks (version 11, FORMAT.md §6), a block's
    // norms side by side share a batch region (version 10), the vocabulary's
    // scores and token types are coded as word differences (zstd mode 3),
    // Q5_0 field layouts fold their quants and Q4_K chunks may code their
    // headers as fields (q4k mode 2): readers before versions 11, 10, 9, 8 and
    // 6 do not know them, and the number makes them refuse the file.
    let (file, c) = container();
    assert_eq!(u16::from_le_bytes([c[4], c[5]]), 11);
    let index = Index::open(&c).unwrap();
    assert!(index.regions.iter().any(|r| r.role == llmc::model::Role::Batch), "the norms are batched");
    let with_version = |c: &[u8], v: u16| {
        let mut copy = c.to_vec();
        copy[4..6].copy_from_slice(&v.to_le_bytes());
        common::hostile::reseal_container_header(&mut copy);
        copy
    };
    // Frames carry their own modes, but before version 11 the coded index's
    // own CRC is read as part of its payload, and before version 10 the coded
    // index is no index (its checksum fails).
    for v in [2, 3, 4, 5, 6, 7, 8, 9, 10] {
        let e = llmc::model::decompress(&with_version(&c, v), &DecodeOptions::default()).unwrap_err();
        assert!(matches!(e, Error::ChecksumMismatch | Error::Corrupt), "version {v}: {e:?}");
    }
    assert_eq!(llmc::model::decompress(&with_version(&c, 12), &DecodeOptions::default()).unwrap_err(), Error::VersionUnsupported);
    assert_eq!(Index::open(&with_version(&c, 12)).unwrap_err(), Error::VersionUnsupported);
    // Without row classes the quants stay unfolded and the arrays as they are:
    // version 6 (for Q4_K), a larger file, the same original.
    let plain = llmc::model::gguf::compress(&file, &CompressParams { n_threads: 2, flags: llmc::PARAM_FLAG_NO_ROW_CLASSES, ..Default::default() }, None).unwrap();
    assert_eq!(u16::from_le_bytes([plain[4], plain[5]]), 6);
    assert!(plain.len() > c.len(), "{} vs {}", plain.len(), c.len());
    assert!(llmc::model::decompress(&plain, &DecodeOptions::default()).unwrap() == file);
}

#[test]
fn malformed_gguf_is_rejected_when_compressing() {
    let file = fixture(GGUF);
    let p = CompressParams::default();
    assert_eq!(llmc::model::gguf::compress(&file[..100], &p, None).unwrap_err(), Error::SrcTruncated);
    let mut bad = file[..1 << 20].to_vec();
    bad[0] = b'X';
    assert_eq!(llmc::model::gguf::compress(&bad, &p, None).unwrap_err(), Error::BadMagic);
    let mut bad = file.clone();
    bad[4] = 1; // GGUF v1
    assert_eq!(llmc::model::gguf::compress(&bad, &p, None).unwrap_err(), Error::VersionUnsupported);
    // A tensor data section cut short.
    assert!(llmc::model::gguf::compress(&file[..file.len() - 1000], &p, None).is_err());
}

#[test]
fn the_papers_perstream_mode_roundtrips() {
    let file = fixture(GGUF);
    let c = llmc::model::perstream::compress(&file, 19).unwrap();
    let ours = llmc::model::gguf::compress(&file, &CompressParams::default(), None).unwrap();
    eprintln!("{}: {:.4}, ours {:.4}", llmc::model::perstream::NAME, file.len() as f64 / c.len() as f64, file.len() as f64 / ours.len() as f64);
    assert!(llmc::model::perstream::decompress(&c, u64::MAX).unwrap() == file);
    let mut bad = c.clone();
    let n = bad.len();
    bad[n / 2] ^= 1;
    assert!(llmc::model::perstream::decompress(&bad, u64::MAX).is_err());
    for len in [0, 10, 100, n - 1] {
        assert!(llmc::model::perstream::decompress(&c[..len], u64::MAX).is_err());
    }
}

/// The metadata regions of `c` (they lead the container) and each one's frame.
fn metadata_frames(c: &[u8]) -> Vec<(llmc::model::Region, llmc::frame::FrameHeader)> {
    let index = Index::open(c).unwrap();
    let leading = index.regions.iter().take_while(|r| r.role == llmc::model::Role::Metadata);
    leading.map(|r| (*r, llmc::frame::parse(&c[r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize]).unwrap().header)).collect()
}

#[test]
fn the_vocabulary_is_coded_as_gguf_strings_and_its_scores_as_word_differences() {
    let (file, c) = container();
    let frames = metadata_frames(&c);
    let bytes = |r: &llmc::model::Region| &file[r.orig_offset as usize..(r.orig_offset + r.orig_size) as usize];
    // The key-values before the vocabulary at 19; the vocabulary (262,144
    // tokens, 4.4 MB) in record-aligned pieces of at most 1 MiB at 12, so that
    // they are coded in parallel; its scores and token types as words; the rest.
    let levels: Vec<u32> = frames.iter().map(|(_, h)| h.codec_param).collect();
    assert_eq!(levels[0], 19);
    let pieces: Vec<_> = frames.iter().filter(|(_, h)| h.codec_param == 12).map(|(r, _)| *r).collect();
    assert_eq!(pieces.len(), 5, "{levels:?}");
    assert!(pieces.iter().all(|r| r.orig_size <= 1 << 20));
    assert_eq!(u64::from_le_bytes(bytes(&pieces[0])[..8].try_into().unwrap()), 5, "starts at the first token, <pad>");
    // Each piece starts at a record: the pieces tile the array.
    for w in pieces.windows(2) {
        assert_eq!(w[0].orig_offset + w[0].orig_size, w[1].orig_offset);
    }
    // Lengths and bytes apart beat the same level on the records whole by far.
    let vocab = &pieces[0];
    let whole = llmc::frame::compress(&llmc::frame::Method::Zstd { level: 12 }, bytes(vocab), &CompressParams { chunk_size: vocab.orig_size.next_multiple_of(1024) as u32, ..Default::default() }).unwrap();
    assert!(vocab.frame_size * 100 < whole.len() as u64 * 90, "{} vs {}", vocab.frame_size, whole.len());
    // The scores (-1, -2, … as f32) and the token types: 262,144 words each,
    // a few hundred bytes as differences where zstd -19 leaves the scores at
    // 195 KB (in the committed fixture's 1 MiB chunk).
    let arrays: Vec<_> = frames.iter().map(|(r, _)| *r).filter(|r| r.orig_size == 4 * 262_144).collect();
    assert_eq!(arrays.len(), 2);
    let scores = bytes(&arrays[0]);
    assert_eq!(f32::from_le_bytes(scores[4 * 1000..4 * 1001].try_into().unwrap()), -506.0);
    let as_is = llmc::frame::compress(&llmc::frame::Method::Zstd { level: 19 }, scores, &CompressParams { chunk_size: 1 << 20, ..Default::default() }).unwrap();
    assert!(as_is.len() > 150_000, "{}", as_is.len());
    for r in &arrays {
        assert!(r.frame_size < 2_000, "{r:?}");
        let mut out = vec![0u8; r.orig_size as usize];
        Index::open(&c).unwrap().read_range(&c, r.orig_offset, &mut out, &DecodeOptions::default()).unwrap();
        assert!(out == bytes(r));
    }
}

#[test]
fn an_explicit_level_codes_all_metadata_at_that_level() {
    let file = fixture(GGUF);
    let c = llmc::model::gguf::compress(&file, &CompressParams { level: 5, ..Default::default() }, None).unwrap();
    assert!(metadata_frames(&c).iter().all(|(_, h)| h.codec_param == 5));
    assert!(llmc::model::decompress(&c, &DecodeOptions::default()).unwrap() == file);
}

/// A GGUF (edge-case input, not real weights) with one metadata array of `n`
/// elements of GGUF type `ty`, `size` bytes each (the low bytes of -i as f32),
/// and one F32 tensor.
fn gguf_with_array(ty: u32, size: usize, n: usize) -> Vec<u8> {
    let elements: Vec<u8> = (0..n).flat_map(|i| u64::from((-(i as f32)).to_bits()).to_le_bytes()[..size].to_vec()).collect();
    gguf_with_arrays(&[(ty, elements, n)])
}

/// A GGUF (edge-case input) whose metadata holds the arrays `(GGUF type,
/// elements' bytes, count)`, named `tokenizer.ggml.scores`, `a1`, `a2`, …, and
/// one F32 tensor.
fn gguf_with_arrays(arrays: &[(u32, Vec<u8>, usize)]) -> Vec<u8> {
    let s = |f: &mut Vec<u8>, v: &str| {
        f.extend_from_slice(&(v.len() as u64).to_le_bytes());
        f.extend_from_slice(v.as_bytes());
    };
    let mut f = b"GGUF".to_vec();
    f.extend_from_slice(&3u32.to_le_bytes());
    f.extend_from_slice(&1u64.to_le_bytes());
    f.extend_from_slice(&(1 + arrays.len() as u64).to_le_bytes());
    s(&mut f, "general.architecture");
    f.extend_from_slice(&8u32.to_le_bytes());
    s(&mut f, "llama");
    for (k, (ty, elements, n)) in arrays.iter().enumerate() {
        s(&mut f, &if k == 0 { "tokenizer.ggml.scores".to_string() } else { format!("a{k}") });
        f.extend_from_slice(&9u32.to_le_bytes());
        f.extend_from_slice(&ty.to_le_bytes());
        f.extend_from_slice(&(*n as u64).to_le_bytes());
        f.extend_from_slice(elements);
    }
    s(&mut f, "w");
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&64u64.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes());
    f.extend_from_slice(&0u64.to_le_bytes());
    f.resize(f.len().div_ceil(32) * 32, 0);
    for i in 0..64u32 {
        f.extend_from_slice(&(i as f32 * 0.5).to_le_bytes());
    }
    f
}

#[test]
fn only_arrays_of_32_bit_numbers_from_64_kib_on_make_a_version_9_container() {
    // (GGUF type, element size, elements, coded as word differences)
    let cases = [(6u32, 4usize, 16_383usize, false), (6, 4, 16_384, true), (5, 4, 16_384, true), (4, 4, 16_384, true), (3, 2, 40_000, false), (10, 8, 9_000, false)];
    for (ty, size, n, words) in cases {
        let f = gguf_with_array(ty, size, n);
        let mut first = None;
        for threads in [0, 1, 3] {
            let c = llmc::model::gguf::compress(&f, &CompressParams { n_threads: threads, ..Default::default() }, None).unwrap();
            assert_eq!(u16::from_le_bytes([c[4], c[5]]) == 9, words, "type {ty}, {n} elements");
            assert!(first.get_or_insert_with(|| c.clone()) == &c, "the same bytes on {threads} threads");
            assert!(llmc::model::decompress(&c, &DecodeOptions::default()).unwrap() == f);
            let plain = llmc::model::gguf::compress(&f, &CompressParams { n_threads: threads, flags: llmc::PARAM_FLAG_NO_ROW_CLASSES, ..Default::default() }, None).unwrap();
            assert!(u16::from_le_bytes([plain[4], plain[5]]) < 9);
            assert!(llmc::model::decompress(&plain, &DecodeOptions::default()).unwrap() == f);
            if words {
                assert!(c.len() + 1000 < plain.len(), "{} vs {}", c.len(), plain.len());
            }
        }
    }
}

#[test]
fn word_arrays_of_several_chunks_beside_other_arrays_code_alike_everywhere() {
    // From an independent review: 5 MiB of scores (several mode-3 chunks, each
    // summing from zero again), words that wrap, noise (stored) and words of a
    // small alphabet without order (mode 1), one container on every thread
    // count and ISA, read back at one and four threads.
    let mut x = 0x1234_5678u32;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let scores: Vec<u8> = (0..5u32 << 18).flat_map(|i| (-(i as f32) * 0.25).to_le_bytes()).collect();
    let wrapping: Vec<u8> = (0..40_000u32).flat_map(|i| i.wrapping_mul(0x9E37_79B9).to_le_bytes()).collect();
    let noise: Vec<u8> = (0..70_000).flat_map(|_| next().to_le_bytes()).collect();
    let few: Vec<u8> = (0..70_000).flat_map(|_| [1u32, 2, 3, 6][(next() % 4) as usize].to_le_bytes()).collect();
    let arrays: Vec<(u32, Vec<u8>, usize)> = [(6u32, scores), (4, wrapping), (5, noise), (4, few)].into_iter().map(|(t, e)| { let n = e.len() / 4; (t, e, n) }).collect();
    let file = gguf_with_arrays(&arrays);
    let reference = llmc::model::gguf::compress(&file, &CompressParams::default(), None).unwrap();
    assert_eq!(u16::from_le_bytes([reference[4], reference[5]]), 9);
    assert!(reference.len() < file.len() / 2, "{} of {}", reference.len(), file.len());
    for isa in isas_under_test() {
        for threads in [0, 1, 3, 8] {
            let p = CompressParams { n_threads: threads, isa: Some(isa), ..Default::default() };
            assert!(llmc::model::gguf::compress(&file, &p, None).unwrap() == reference, "{isa:?} x{threads}");
        }
    }
    for threads in [1, 4] {
        assert!(llmc::model::decompress(&reference, &DecodeOptions { n_threads: threads, ..Default::default() }).unwrap() == file, "read at {threads} threads");
    }
}
