//! The kinds an outside hostile-input test found (issue 16): bombs (tiny files
//! that declare huge outputs: a frameless region, a fields frame of constant
//! streams, per-stream files with forged sizes), names a container cannot
//! record, a tensor region without a frame, zero-element tensors and truncated
//! model files.

use crate::bases::Base;
use crate::corpus::Api::{ContainerCompress, ContainerRead, FrameDecode, GgufParse, PerstreamDecode, SafetensorsParse};
use crate::hostile::{reseal_container_header, reseal_container_index};
use crate::mutate::{get_u32, get_u64, put, with};
use crate::Corpus;
use llmc::model::Index;
use llmc::frame::crc32c;
use llmc::Error::*;
use sha2::{Digest, Sha256};

/// The cap the bomb cases are read with (1 MiB): each declares far more.
const CAP: u64 = 1 << 20;

/// A container of one frameless (all-zero) region of `size` bytes and `role`,
/// with one entry pointing at it if `entry`.
fn frameless_container(size: u64, role: u8, entry: bool) -> Vec<u8> {
    let mut index = Vec::new();
    index.extend_from_slice(&1u32.to_le_bytes());
    for v in [0u64, size, 64, 0] {
        index.extend_from_slice(&v.to_le_bytes());
    }
    index.push(role);
    index.extend_from_slice(&u32::from(entry).to_le_bytes());
    if entry {
        index.extend_from_slice(&0u32.to_le_bytes()); // region
        index.extend_from_slice(&0u32.to_le_bytes()); // dtype F32
        index.push(1);
        index.extend_from_slice(&(size / 4).to_le_bytes());
        index.extend_from_slice(&4u16.to_le_bytes());
        index.extend_from_slice(b"huge");
    }
    index.extend_from_slice(&crc32c(&index).to_le_bytes());
    // SHA-256 of `size` zero bytes, in pieces.
    let mut sha = Sha256::new();
    let zeros = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 && size <= 1 << 32 {
        let n = left.min(zeros.len() as u64);
        sha.update(&zeros[..n as usize]);
        left -= n;
    }
    let digest = sha.finalize();
    let mut c = b"LLMC".to_vec();
    c.extend_from_slice(&1u16.to_le_bytes());
    c.push(1);
    c.push(0);
    for v in [size, 64, index.len() as u64] {
        c.extend_from_slice(&v.to_le_bytes());
    }
    c.extend_from_slice(&digest[..28]);
    c.extend_from_slice(&[0; 4]);
    reseal_container_header(&mut c);
    c.extend_from_slice(&index);
    c
}

/// A fields frame whose chunks are all one constant-stream payload: a few
/// hundred bytes that declare `chunks` chunks of 256 MiB of zeros.
fn fields_bomb(chunks: u32) -> Vec<u8> {
    let chunk: u32 = 1 << 28;
    let method = llmc::model::gguf::methods_for_type(llmc::model::gguf::types::Q8_0).remove(0);
    let elem = method.element_size();
    let small = llmc::frame::compress(&method, &vec![0u8; elem as usize * 64], &llmc::CompressParams { chunk_size: 0, ..Default::default() }).unwrap();
    let f = llmc::frame::parse(&small).unwrap();
    assert_eq!(f.chunks.len(), 1);
    let payload = f.chunks[0].payload.to_vec();
    let chunk = chunk - chunk % elem;
    let content = u64::from(chunk) * u64::from(chunks);
    let mut out = b"LLMF".to_vec();
    out.extend_from_slice(&1u16.to_le_bytes());
    out.push(small[6]);
    out.push(0);
    out.extend_from_slice(&content.to_le_bytes());
    out.extend_from_slice(&chunk.to_le_bytes());
    out.extend_from_slice(&chunks.to_le_bytes());
    out.extend_from_slice(&small[24..28]);
    let check = crc32c(&out);
    out.extend_from_slice(&check.to_le_bytes());
    for _ in 0..chunks {
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32c(&payload).to_le_bytes());
    }
    for _ in 0..chunks {
        out.extend_from_slice(&payload);
    }
    out
}

/// The five streams of a per-stream file, inflated.
fn perstream_streams(llms: &[u8]) -> (Vec<Vec<u8>>, [u8; 32]) {
    let mut at = 16;
    let mut sizes = Vec::new();
    for _ in 0..5 {
        sizes.push((get_u64(llms, at) as usize, get_u64(llms, at + 8) as usize));
        at += 16;
    }
    let sha: [u8; 32] = llms[at..at + 32].try_into().unwrap();
    at += 32;
    let mut streams = Vec::new();
    for (raw, comp) in sizes {
        streams.push(decode_payload(&llms[at..at + comp], raw));
        at += comp;
    }
    (streams, sha)
}

/// The content of a zstd payload (FORMAT.md §9: mode 0 stored, 1 a zstd frame).
fn decode_payload(payload: &[u8], raw: usize) -> Vec<u8> {
    if payload[0] == 0 {
        return payload[1..].to_vec();
    }
    let mut out = vec![0u8; raw];
    // SAFETY: both slices are valid for their lengths; zstd writes at most `raw` bytes.
    let n = unsafe { zstd_sys::ZSTD_decompress(out.as_mut_ptr().cast(), raw, payload[1..].as_ptr().cast(), payload.len() - 1) };
    assert_eq!(n, raw, "a valid per-stream payload");
    out
}

/// A zstd payload of `data` at level 19: the single chunk of a zstd frame.
fn encode_payload(data: &[u8]) -> Vec<u8> {
    if data.is_empty() {
        return vec![0];
    }
    let chunk = (data.len() as u32).next_multiple_of(1024).min(1 << 28);
    let params = llmc::CompressParams { chunk_size: chunk, ..Default::default() };
    let frame = llmc::frame::compress(&llmc::frame::Method::Zstd { level: 19 }, data, &params).unwrap();
    let f = llmc::frame::parse(&frame).unwrap();
    assert_eq!(f.chunks.len(), 1);
    f.chunks[0].payload.to_vec()
}

/// A per-stream file from streams (each coded at level 19), declaring `original`.
fn perstream_file(streams: &[Vec<u8>], original: u64, sha: &[u8; 32]) -> Vec<u8> {
    let payloads: Vec<Vec<u8>> = streams.iter().map(|s| encode_payload(s)).collect();
    let mut out = b"LLMS".to_vec();
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&original.to_le_bytes());
    for (s, p) in streams.iter().zip(&payloads) {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
        out.extend_from_slice(&(p.len() as u64).to_le_bytes());
    }
    out.extend_from_slice(sha);
    for p in &payloads {
        out.extend_from_slice(p);
    }
    out
}

/// Rewrites entry 0's name in a container (index and header resealed), as an
/// old writer that checked nothing would have stored it.
fn rename_entry0(c: &[u8], name: &[u8]) -> Vec<u8> {
    let index_at = get_u64(c, 16) as usize;
    let n_regions = get_u32(c, index_at) as usize;
    let e0 = index_at + 4 + 33 * n_regions + 4;
    let len_at = e0 + 9 + 8 * usize::from(c[e0 + 8]);
    let old = usize::from(u16::from_le_bytes([c[len_at], c[len_at + 1]]));
    let mut out = c[..len_at].to_vec();
    out.extend_from_slice(&(name.len() as u16).to_le_bytes());
    out.extend_from_slice(name);
    out.extend_from_slice(&c[len_at + 2 + old..]);
    let index_size = get_u64(c, 24) + name.len() as u64 - old as u64;
    put(&mut out, 24, &index_size.to_le_bytes());
    reseal_container_header(&mut out);
    reseal_container_index(&mut out);
    out
}

pub fn add(c: &mut Corpus, gguf: &Base, st: &Base, gguf_llmc: &Base) {
    // Bombs: valid files that declare far more than the 1 MiB cap they are read with.
    let gib = frameless_container(1 << 30, 2, false);
    let how = "a 1 GiB padding region stored without a frame (all zeros), read with a 1 MiB cap";
    c.add("bomb-frameless-1gib.llmc", gib, ContainerRead, "built by hand", how, Err(LimitExceeded)).max_output(CAP);
    let tib = frameless_container(1 << 40, 1, true);
    let how = "a 1 TiB tensor region stored without a frame, with an entry (only padding may be frameless)";
    c.add("bomb-frameless-tensor-1tib.llmc", tib, ContainerRead, "built by hand", how, Err(Corrupt)).unverified(Err(Corrupt));
    let how = "fields (Q8_0) frame: 5 chunks of 256 MiB, each the same constant-stream payload, read with a 1 MiB cap";
    c.add("bomb-fields-1.25gib.llmf", fields_bomb(5), FrameDecode, "built by hand", how, Err(LimitExceeded)).max_output(CAP);

    // Per-stream files.
    let llms = llmc::model::perstream::compress(&gguf.bytes, 19).unwrap();
    let (streams, sha) = perstream_streams(&llms);
    let original = gguf.bytes.len() as u64;
    c.add("perstream.llms", llms.clone(), PerstreamDecode, gguf.file, "per-stream file of model.gguf (level 19)", Ok(()));
    let mut meta_zeros = streams.clone();
    meta_zeros[0] = vec![0u8; 64 << 20];
    let o = original - streams[0].len() as u64 + (64 << 20);
    let how = "metadata stream replaced by 64 MiB of zeros (no GGUF header; refused after its first 64 KiB)";
    c.add("perstream-meta-zeros.llms", perstream_file(&meta_zeros, o, &sha), PerstreamDecode, "perstream.llms", how, Err(GgufInvalid));
    let mut bad_magic = streams.clone();
    bad_magic[0][0] = b'g';
    let how = "the GGUF magic at the start of the metadata stream changed to gGUF";
    c.add("perstream-inner-bad-magic.llms", perstream_file(&bad_magic, original, &sha), PerstreamDecode, "perstream.llms", how, Err(GgufInvalid));
    let mut forged = streams.clone();
    forged[4] = vec![0u8; 256 << 20];
    let o = original - streams[4].len() as u64 + (256 << 20);
    let how = "F32 stream replaced by 256 MiB of zeros, sizes adjusted (they no longer match the GGUF header: refused before inflating)";
    c.add("perstream-f32-forged.llms", perstream_file(&forged, o, &sha), PerstreamDecode, "perstream.llms", how, Err(Corrupt));

    // Containers with what the writer now refuses.
    let b = &gguf_llmc.bytes;
    let long = vec![b'n'; 4097];
    let how = "entry 0's name 4,097 bytes long (the limit is 4,096); index and header resealed";
    c.add("model-gguf-entry-name-4097.llmc", rename_entry0(b, &long), ContainerRead, gguf_llmc.file, how, Err(Corrupt)).unverified(Err(Corrupt));
    let how = "entry 0's name with a NUL byte inside; index and header resealed";
    c.add("model-gguf-entry-name-nul.llmc", rename_entry0(b, b"blk\0x"), ContainerRead, gguf_llmc.file, how, Err(Corrupt)).unverified(Err(Corrupt));
    let index = Index::open(b).unwrap();
    let r = index.entries.get(0).unwrap().region as usize;
    let at = get_u64(b, 16) as usize + 4 + 33 * r + 24;
    let frameless = with(b, |f| {
        put(f, at, &0u64.to_le_bytes());
        reseal_container_index(f);
    });
    let how = "entry 0's tensor region given frame size 0 (frameless: only padding may be); index resealed";
    c.add("model-gguf-tensor-frameless.llmc", frameless, ContainerRead, gguf_llmc.file, how, Err(Corrupt)).unverified(Err(Corrupt));

    // Model files the writer must refuse, or accept, with the right status.
    let st_with_name = |name: &str| {
        let n = u64::from_le_bytes(st.bytes[..8].try_into().unwrap()) as usize;
        let mut h: serde_json::Value = serde_json::from_slice(&st.bytes[8..8 + n]).unwrap();
        let m = h.as_object_mut().unwrap();
        let first = m.keys().find(|k| *k != "__metadata__").unwrap().clone();
        let v = m.remove(&first).unwrap();
        m.insert(name.to_owned(), v);
        let mut json = serde_json::to_vec(&h).unwrap();
        json.resize(json.len().next_multiple_of(8), b' ');
        let mut out = (json.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&json);
        out.extend_from_slice(&st.bytes[8 + n..]);
        out
    };
    for (what, name, how, status) in [
        ("name-4097", "n".repeat(4097), "first tensor renamed to 4,097 bytes (a container records at most 4,096)", Err(LimitExceeded)),
        ("name-65541", format!("x{}", "y".repeat(65540)), "first tensor renamed to 65,541 bytes (its length would wrap in 16 bits)", Err(LimitExceeded)),
        ("name-nul", "a\0b".to_owned(), "first tensor renamed to \"a\\u0000b\" (a NUL byte)", Err(InvalidArgument)),
    ] {
        let file = format!("st-{what}.safetensors");
        c.add(&file, st_with_name(&name), SafetensorsParse, st.file, how, Ok(()));
        c.also(&file, ContainerCompress, st.file, how, status);
    }
    let cut = st.bytes[..st.bytes.len() / 2].to_vec();
    c.add("st-cut-in-half.safetensors", cut, SafetensorsParse, st.file, "truncated to half its size, inside the data", Err(SrcTruncated));
    c.also("st-cut-in-half.safetensors", ContainerCompress, st.file, "truncated to half its size, inside the data", Err(SrcTruncated));

    // A zero-element tensor: valid GGUF, no region, no entry; rebuilds byte for byte.
    let g = llmc::model::gguf::parse(&gguf.bytes).unwrap();
    let t = &g.tensors[1];
    let dim1 = t.range.start + 8 + t.name.len() + 4 + 8;
    let zero = with(&gguf.bytes, |f| put(f, dim1, &0u64.to_le_bytes()));
    let how = format!("{}: ne[1] = 0 (zero elements; its old bytes become padding)", t.name);
    c.add("gguf-zero-elements.gguf", zero, GgufParse, gguf.file, &how, Ok(()));
    c.also("gguf-zero-elements.gguf", ContainerCompress, gguf.file, &how, Ok(()));
}
