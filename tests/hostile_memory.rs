//! Heap taken by what an outside hostile-input test found costly (issue 16),
//! measured with a counting allocator: per-stream files refused before their
//! streams are inflated, a container's index within its documented bound, a
//! safetensors header within a small multiple of its size.

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{peak_of, serial};
use common::*;
use llmc::model::Index;
use llmc::Error;




#[test]
fn per_stream_bombs_are_refused_before_their_streams_are_inflated() {
    serial(|| {
        // 64 MiB of zeros as the metadata stream; 256 MiB as the F32 stream.
        for (file, want) in [("perstream-meta-zeros.llms", Error::GgufInvalid), ("perstream-f32-forged.llms", Error::Corrupt)] {
            let bytes = fixture(&format!("corrupt/{file}"));
            let (r, peak) = peak_of(|| llmc::model::perstream::decompress(&bytes, u64::MAX));
            assert_eq!(r.unwrap_err(), want, "{file}");
            eprintln!("{file}: {peak} bytes at the peak");
            assert!(peak < 1 << 20, "{file}: {peak} bytes allocated before refusing it");
        }
        // The valid one still decodes.
        let ok = llmc::model::perstream::decompress(&fixture("corrupt/perstream.llms"), u64::MAX).unwrap();
        assert!(ok == fixture("corrupt/model.gguf"));
    });
}

/// The per-stream baseline streams both ways: the whole gemma GGUF (241 MiB,
/// 6.5 MB of it metadata) is written to a file and read back with a heap of a
/// few MiB beyond its metadata (the in-memory method held the file several
/// times over).
#[test]
fn per_stream_files_are_written_and_read_in_bounded_memory() {
    serial(|| {
        let gguf = std::fs::File::open(fetched("gemma")).unwrap();
        let len = gguf.metadata().unwrap().len();
        let src = llmc::io::FileAt { file: &gguf, len };
        let dir = std::env::temp_dir().join(format!("llmc-perstream-memory-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gemma.llms");
        let (r, peak) = peak_of(|| {
            let mut out = llmc::stream::Output::create(&path).unwrap();
            llmc::model::perstream::compress_to(&src, 1, &mut out)?;
            out.commit().map_err(|_| Error::Io)
        });
        r.unwrap();
        eprintln!("compress: {peak} bytes at the peak for a {len}-byte file");
        assert!(peak < 32 << 20, "compress: {peak} bytes at the peak for a {len}-byte file");
        let packed = std::fs::File::open(&path).unwrap();
        let packed = llmc::io::FileAt { len: packed.metadata().unwrap().len(), file: &packed };
        let mut back = Vec::new();
        let mut at = 0u64;
        let (r, peak) = peak_of(|| {
            llmc::model::perstream::decode(&packed, u64::MAX, &mut |b: &[u8]| {
                back.resize(b.len(), 0);
                std::os::unix::fs::FileExt::read_exact_at(&gguf, &mut back, at).unwrap();
                assert!(back == b, "bytes differ at {at}");
                at += b.len() as u64;
                Ok(())
            })
        });
        assert_eq!((r.unwrap(), at), (len, len));
        eprintln!("decode: {peak} bytes at the peak");
        assert!(peak < 32 << 20, "decode: {peak} bytes at the peak for a {len}-byte original");
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

/// A safetensors file of `n` one-element F32 tensors with short names.
fn many_tensors(n: usize) -> Vec<u8> {
    let tensors: Vec<st::Tensor> = (0..n)
        .map(|i| st::Tensor { name: format!("{i:x}"), dtype: "F32".into(), shape: serde_json::json!([1]), data: vec![0, 0, 128, 63] })
        .collect();
    st::write(&tensors, None)
}

#[test]
fn an_open_index_stays_within_four_times_its_size() {
    serial(|| {
        let container = llmc::model::compress(&many_tensors(40_000), &llmc::CompressParams::default(), None).unwrap();
        // Version 2 keeps the index's offset and size in the trailer (the last 64
        // bytes, offsets 12 and 20); version 10 codes it, its length first.
        let t = container.len() - 64;
        let index_at = u64::from_le_bytes(container[t + 12..t + 20].try_into().unwrap()) as usize;
        assert_eq!(container[4], 10, "tiny tensors side by side: batches and a coded index");
        let index_size = u64::from_le_bytes(container[index_at..index_at + 8].try_into().unwrap()) as usize;
        let (index, peak) = peak_of(|| Index::open(&container).unwrap());
        assert_eq!(index.entries.len(), 40_000);
        eprintln!("index of {index_size} bytes: {peak} bytes at the peak of open, {} held by the entries", index.entries.heap_size());
        assert!(peak <= 4 * index_size, "open took {peak} bytes for an index of {index_size}");
        // And through the C handle, which adds only its type names.
        let (_, peak) = peak_of(|| {
            let mut g = std::ptr::null_mut();
            // SAFETY: `container` outlives the handle, closed right away.
            unsafe {
                assert_eq!(llmc::ffi::container::llmc_container_open_buffer(container.as_ptr().cast(), container.len(), 0, &mut g), 0);
                llmc::ffi::container::llmc_container_close(g);
            }
        });
        assert!(peak <= 4 * index_size + (64 << 10), "C open took {peak} bytes for an index of {index_size}");
    });
}

#[test]
fn a_safetensors_header_is_parsed_within_a_small_multiple_of_its_size() {
    serial(|| {
        // Many tensors, each with 8 one-digit dimensions: the densest header a
        // generic JSON tree would inflate the most.
        let n = 60_000;
        let mut json = String::from("{");
        for i in 0..n {
            json.push_str(&format!("\"{i:x}\":{{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1],\"data_offsets\":[{i},{}]}},", i + 1));
        }
        json.push_str("\"__metadata__\":{\"a\":\"b\"}}");
        let mut file = (json.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(json.as_bytes());
        file.resize(file.len() + n, 1);
        let (st, peak) = peak_of(|| llmc::model::safetensors::parse(&file).unwrap());
        assert_eq!(st.tensors.len(), n);
        eprintln!("header of {} bytes: {peak} bytes at the peak of parsing", json.len());
        assert!(peak <= 4 * json.len(), "parsing took {peak} bytes for a header of {}", json.len());
        // Metadata values are checked, not kept: a large one costs nothing.
        let big = format!("{{\"__metadata__\":{{\"k\":\"{}\"}}}}", "v".repeat(4 << 20));
        let mut file = (big.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(big.as_bytes());
        let (st, peak) = peak_of(|| llmc::model::safetensors::parse(&file).unwrap());
        assert!(st.tensors.is_empty());
        assert!(peak < 64 << 10, "a 4 MiB metadata string cost {peak} bytes");
    });
}


/// A forged container: one 4-byte tensor region and `n` entries all pointing at
/// it, each as small as an entry can be (no dimensions, a 1-byte name).
fn smallest_entries(n: usize) -> Vec<u8> {
    use llmc::frame::crc32c;
    use sha2::Digest;
    let frame = llmc::frame::compress(&llmc::frame::Method::Stored, &[0u8; 4], &llmc::CompressParams::default()).unwrap();
    let mut index = 1u32.to_le_bytes().to_vec();
    for v in [0u64, 4, 64, frame.len() as u64] {
        index.extend_from_slice(&v.to_le_bytes());
    }
    index.push(1);
    index.extend_from_slice(&(n as u32).to_le_bytes());
    for i in 0..n {
        index.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, b'a' + (i % 26) as u8]);
    }
    index.extend_from_slice(&crc32c(&index).to_le_bytes());
    let mut c = b"LLMC".to_vec();
    c.extend_from_slice(&[1, 0, 1, 0]);
    for v in [4u64, 64 + frame.len() as u64, index.len() as u64] {
        c.extend_from_slice(&v.to_le_bytes());
    }
    c.extend_from_slice(&sha2::Sha256::digest([0u8; 4])[..28]);
    c.extend_from_slice(&crc32c(&c).to_le_bytes());
    c.extend_from_slice(&frame);
    c.extend_from_slice(&index);
    c
}

#[test]
fn the_smallest_entries_stay_within_the_bound_through_the_c_handle() {
    serial(|| {
        let c = smallest_entries(300_000);
        let index_size = u64::from_le_bytes(c[24..32].try_into().unwrap()) as usize;
        let (g, peak) = peak_of(|| {
            let mut g = std::ptr::null_mut();
            // SAFETY: `c` outlives the handle, closed below.
            assert_eq!(unsafe { llmc::ffi::container::llmc_container_open_buffer(c.as_ptr().cast(), c.len(), 0, &mut g) }, 0);
            g
        });
        let mut k = u64::MAX;
        // SAFETY: live handle, valid string and out-pointer; closed once.
        unsafe {
            assert_eq!(llmc::ffi::container::llmc_container_find_tensor(g, c"c".as_ptr(), &mut k), 0);
            llmc::ffi::container::llmc_container_close(g);
        }
        assert_eq!(k, 2, "the first entry of a name shared by many");
        eprintln!("{index_size}-byte index of 300,000 minimal entries: {peak} bytes at the peak of the C open");
        assert!(peak <= 4 * index_size, "C open took {peak} bytes for an index of {index_size}");
    });
}
