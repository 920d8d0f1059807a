//! Container version 3: a tensor larger than `MAX_REGION_BYTES` is stored as a
//! tensor region followed by continuation regions, each its own frame, so a
//! writer whose output cannot seek holds one region's frame, not one tensor's.
//! Readers, streams and pipes still see one tensor; a continuation where none
//! may be is refused. Real data: MiniLM's fp32 word embeddings (46.9 MB).

mod common;

use common::hostile::{reseal_container_header, reseal_container_records};
use common::index::{raw_index, with_index, with_raw_index};
use common::{fetched, isas_under_test, opts, stream_decode};
use llmc::model::limits::MAX_REGION_BYTES;
use llmc::model::{Index, Role};
use llmc::{CompressParams, DecodeOptions, Error};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const EMBEDDINGS: &str = "embeddings.word_embeddings.weight";

fn minilm() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| std::fs::read(fetched("minilm")).unwrap())
}

fn container() -> &'static [u8] {
    static C: OnceLock<Vec<u8>> = OnceLock::new();
    C.get_or_init(|| llmc::model::compress(minilm(), &CompressParams { n_threads: 2, ..Default::default() }, None).unwrap())
}

#[test]
fn a_large_tensor_continues_in_regions_and_reads_back_whole() {
    let (file, c) = (minilm(), container());
    // Its norms and biases, side by side, share batch regions.
    assert_eq!(&c[4..6], &10u16.to_le_bytes(), "containers with batches are written as version 10");
    let index = Index::open(c).unwrap();
    let i = index.find(EMBEDDINGS).unwrap();
    let regions = index.entry_regions(i).unwrap();
    let (offset, size) = index.entry_span(i).unwrap();
    assert_eq!(size, 30522 * 384 * 4, "the entry spans the whole tensor");
    assert_eq!(regions.len() as u64, size.div_ceil(MAX_REGION_BYTES), "cut into regions of at most {MAX_REGION_BYTES} bytes");
    let parts = &index.regions[regions.clone()];
    assert_eq!(parts[0].role, Role::Tensor);
    assert!(parts[1..].iter().all(|r| r.role == Role::Continuation && r.orig_size <= MAX_REGION_BYTES));
    assert_eq!(parts[0].orig_offset, offset);
    // One codec for the whole tensor: the first region's choice.
    let codecs: Vec<_> = parts.iter().map(|r| llmc::frame::parse(&c[r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize]).unwrap().header.codec).collect();
    assert!(codecs.iter().all(|&k| k == codecs[0]), "{codecs:?}");
    // No other tensor of this file needs a continuation.
    let continued = index.regions.iter().filter(|r| r.role == Role::Continuation).count();
    assert_eq!(continued, regions.len() - 1);

    for isa in isas_under_test() {
        let mut whole = vec![0u8; size as usize];
        index.read_range(c, offset, &mut whole, &opts(isa)).unwrap();
        assert!(whole == file[offset as usize..(offset + size) as usize], "{isa:?}: the tensor read whole differs");
        // A read across the edge between the first region and its continuation.
        let edge = parts[1].orig_offset;
        let mut across = vec![0u8; 8192];
        index.read_range(c, edge - 4096, &mut across, &opts(isa)).unwrap();
        assert!(across == file[(edge - 4096) as usize..(edge + 4096) as usize], "{isa:?}: a read across a region edge differs");
    }
    assert!(llmc::model::decompress(c, &DecodeOptions::default()).unwrap() == file);
    assert!(stream_decode(c).unwrap() == file);
}

#[test]
fn a_pipe_output_gets_the_same_bytes_as_a_file() {
    // Without a seekable output each region's frame is held until it is
    // complete; the bytes do not depend on it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmc"))
        .args(["compress", "-T", "2", "-", "-o", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, minilm()));
    let o = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout == container(), "stdin -> stdout differs from the in-memory container");
}

/// Sets region `i`'s role in the index and in its record, resealed.
fn with_role(c: &[u8], i: usize, role: u8) -> Vec<u8> {
    let index = Index::open(c).unwrap();
    let r = index.regions[i];
    let mut f = with_raw_index(c, |raw| raw[4 + 33 * i + 32] = role);
    f[r.frame_offset as usize - 36 + 4] = role;
    reseal_container_records(&mut f);
    f
}

#[test]
fn continuations_where_none_may_be_are_corrupt() {
    let c = container();
    let index = Index::open(c).unwrap();
    let first = index.entry_regions(index.find(EMBEDDINGS).unwrap()).unwrap().start;
    let metadata_then_tensor = index.regions.iter().position(|r| r.role != Role::Metadata).unwrap();
    let cases = [
        ("version 2 with continuations", {
            // (Its index stored as version 2 stores it.)
            let mut f = c.to_vec();
            f[4] = 2;
            reseal_container_header(&mut f);
            with_index(&f, raw_index(c))
        }),
        ("a continuation right after the metadata", with_role(c, metadata_then_tensor, Role::Continuation as u8)),
        ("a tensor region turned padding before its continuation", with_role(c, first, Role::Padding as u8)),
    ];
    for (what, f) in cases {
        assert_eq!(Index::open(&f).err(), Some(Error::Corrupt), "{what}: open");
        assert_eq!(stream_decode(&f).err(), Some(Error::Corrupt), "{what}: stream");
    }
    // The resealing itself is sound: the same edit with the role unchanged opens.
    let same = with_role(c, first, Role::Tensor as u8);
    assert!(Index::open(&same).is_ok() && stream_decode(&same).is_ok());
}
