//! The mount's read path on damaged containers: a chunk whose payload was
//! altered fails exactly the reads that touch it (EIO through FUSE), every
//! other read returns the original bytes, and nothing crashes; truncated or
//! damaged indexes are refused at open with a named error.

mod common;
use common::fuse::{scratch, Mounted};
use common::hostile::{each_bit_flip, reseal};
use common::index::{raw_index, with_index};
use llmc::model::{ContainerBytes, Index, ReadEngine, Reader};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

const FIXTURE: &str = "gguf/gemma-3-270m-q4_k_m.blk0.gguf";

/// A chunk of the container: its payload's bytes in the container, its span
/// in the original file, and the frame it belongs to.
struct Chunk {
    payload: std::ops::Range<usize>,
    span: std::ops::Range<u64>,
    frame: std::ops::Range<usize>,
}

fn chunks(container: &[u8]) -> Vec<Chunk> {
    let index = Index::open(container).unwrap();
    let mut out = Vec::new();
    for r in index.regions.iter().filter(|r| r.frame_size > 0) {
        let frame = r.frame_offset as usize..(r.frame_offset + r.frame_size) as usize;
        let f = llmc::frame::parse(&container[frame.clone()]).unwrap();
        for c in &f.chunks {
            let start = c.payload.as_ptr() as usize - container.as_ptr() as usize;
            let lo = r.orig_offset + c.content_offset;
            out.push(Chunk { payload: start..start + c.payload.len(), span: lo..lo + c.content_len as u64, frame: frame.clone() });
        }
    }
    out
}

fn fixture_container() -> (Vec<u8>, Vec<u8>) {
    let original = common::fixture(FIXTURE);
    let container = llmc::model::compress(&original, &Default::default(), None).unwrap();
    (original, container)
}

fn open(bytes: Vec<u8>, engine: &Arc<ReadEngine>) -> llmc::Result<Arc<Reader>> {
    Reader::new(ContainerBytes::Owned(bytes), engine, &Default::default())
}

fn overlaps(a: &std::ops::Range<u64>, lo: u64, hi: u64) -> bool {
    a.start < hi && lo < a.end
}

#[test]
fn a_damaged_chunk_fails_only_the_reads_that_touch_it() {
    let (original, container) = fixture_container();
    let list = chunks(&container);
    assert!(list.len() >= 16, "{} chunks", list.len());
    let step = 200_000u64;
    for (k, c) in list.iter().enumerate() {
        for resealed in [false, true] {
            let mut bad = container.clone();
            bad[c.payload.start + c.payload.len() / 2] ^= 0x5a;
            if resealed {
                reseal(&mut bad[c.frame.clone()]);
            }
            // Read-ahead threads and a cache smaller than the file: the
            // damaged chunk is met by workers and readers alike.
            let engine = ReadEngine::new(1 << 20, 1).unwrap();
            let r = open(bad, &engine).unwrap();
            let mut buf = vec![0u8; step as usize];
            for lo in (0..original.len() as u64).step_by(step as usize) {
                let hi = (lo + step).min(original.len() as u64);
                match r.read_at(lo, &mut buf) {
                    Ok(n) => {
                        assert_eq!(n as u64, hi - lo);
                        // A resealed payload passes its CRC; the decoder may or may
                        // not notice. Untouched chunks are always exact.
                        if !(resealed && overlaps(&c.span, lo, hi)) {
                            assert!(buf[..n] == original[lo as usize..hi as usize], "chunk {k} resealed={resealed}: wrong bytes at {lo}");
                        }
                        assert!(resealed || !overlaps(&c.span, lo, hi), "chunk {k}: damaged chunk read as success at {lo}");
                    }
                    Err(f) => {
                        assert!(overlaps(&c.span, lo, hi), "chunk {k} resealed={resealed}: error {:?} at {lo}, away from the damage", f.error);
                        assert_eq!(r.chunk_span(f.chunk), Some((c.span.start, c.span.end - c.span.start)));
                    }
                }
            }
        }
    }
}

#[test]
fn reads_inside_one_chunk_are_lent_from_the_cache_and_others_are_left_to_read_at() {
    let (original, container) = fixture_container();
    let list = chunks(&container);
    let damaged = &list[list.len() / 2];
    let mut bad = container.clone();
    bad[damaged.payload.start + damaged.payload.len() / 2] ^= 0x5a;
    let engine = ReadEngine::new(1 << 20, 1).unwrap();
    let (good, bad) = (open(container, &engine).unwrap(), open(bad, &engine).unwrap());
    let size = original.len() as u64;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let (mut lent, mut left) = (0, 0);
    // Random reads, then a sequential walk in 128 KiB steps (read-ahead and
    // drop-behind), then reads that run past the end of the file.
    let mut reads: Vec<(u64, usize)> = (0..400)
        .map(|_| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((rng >> 16) % size, 1 + ((rng >> 8) % (300 << 10)) as usize)
        })
        .collect();
    reads.extend((0..size).step_by(128 << 10).map(|at| (at, 128 << 10)));
    reads.extend([(size - 1, 4096), (size - 100, 100), (size, 10)]);
    for (at, len) in reads {
        let want = &original[at.min(size) as usize..(at + len as u64).min(size) as usize];
        match good.read_in_chunk(at, len, |bytes| bytes.to_vec()) {
            Some(got) => {
                assert!(got.expect("an intact container") == want, "wrong bytes at {at}+{len}");
                lent += 1;
            }
            None => {
                let mut buf = vec![0u8; len];
                assert_eq!(good.read_at(at, &mut buf).unwrap(), want.len());
                left += 1;
            }
        }
        let touches = overlaps(&damaged.span, at, at + len as u64);
        match bad.read_in_chunk(at, len, |bytes| bytes.to_vec()) {
            Some(Ok(got)) => assert!(!touches && got == want, "damaged container, read at {at}+{len}"),
            Some(Err(f)) => assert!(touches && bad.chunk_span(f.chunk) == Some((damaged.span.start, damaged.span.end - damaged.span.start))),
            None => {}
        }
    }
    assert!(lent > 100 && left > 10, "{lent} reads lent, {left} left to read_at");
}

#[test]
fn truncated_or_bit_flipped_headers_and_indexes_are_refused_at_open() {
    let (original, container) = fixture_container();
    let engine = ReadEngine::new(1 << 20, 0).unwrap();
    let n = container.len();
    for len in (0..n).step_by(n / 300).chain(n - 64..n) {
        assert!(open(container[..len].to_vec(), &engine).is_err(), "truncated to {len} bytes: opened");
    }
    // Every bit of the header and of the index's last 512 bytes (CRCs
    // included): refused, or (a flip the checks cannot see) every read exact
    // or failed, never a panic.
    let index_tail = n - 512;
    let check = |copy: &[u8], what: &str| {
        if let Ok(r) = open(copy.to_vec(), &engine) {
            let mut buf = vec![0u8; original.len()];
            if let Ok(got) = r.read_at(0, &mut buf) {
                assert!(got == original.len() && buf == original, "{what}: wrong bytes read as success");
            }
        }
    };
    each_bit_flip(&container[..64], |head, bit| {
        let mut copy = container.clone();
        copy[..64].copy_from_slice(head);
        check(&copy, &format!("header bit {bit}"));
    });
    each_bit_flip(&container[index_tail..], |tail, bit| {
        let mut copy = container.clone();
        copy[index_tail..].copy_from_slice(tail);
        check(&copy, &format!("index bit {bit}"));
    });
}

#[test]
fn through_fuse_a_damaged_chunk_gives_eio_only_where_touched_and_is_logged_once() {
    let (original, container) = fixture_container();
    let list = chunks(&container);
    // A chunk of the largest tensor frame (the metadata is one 6.5 MB chunk).
    let metadata = Index::open(&container).unwrap().metadata_size();
    let c = list.iter().filter(|c| c.span.start >= metadata).max_by_key(|c| (c.frame.len(), c.span.start)).unwrap();
    let mut bad = container.clone();
    bad[c.payload.start + c.payload.len() / 2] ^= 0x5a;
    // Direct I/O (the default) and the page cache.
    for (name, args) in [("direct", &["-T", "1"][..]), ("page-cache", &["-T", "1", "--page-cache"][..])] {
        let dir = scratch(&format!("hostile-fuse-{name}"));
        let path = dir.join("blk0.gguf.llmc");
        std::fs::write(&path, &bad).unwrap();
        let m = Mounted::start(&path, &dir, args);
        damaged_reads(m, &original, &c.span);
    }
}

#[test]
fn a_source_truncated_under_the_mount_gives_eio_and_the_daemon_lives_on() {
    // `cp new.llmc old.llmc` or `curl -o` onto the mounted container truncates
    // it in place: reads of what is gone fail (EIO), the daemon does not die
    // of a bus error, and it unmounts cleanly.
    let (original, container) = fixture_container();
    let dir = scratch("hostile-fuse-truncated");
    let path = dir.join("blk0.gguf.llmc");
    std::fs::write(&path, &container).unwrap();
    let m = Mounted::start(&path, &dir, &["-T", "1", "--cache-size", "0"]);
    let f = std::fs::File::open(m.path("blk0.gguf")).unwrap();
    let mut head = vec![0u8; 4096];
    f.read_exact_at(&mut head, 0).unwrap();
    assert!(head == original[..4096]);
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(container.len() as u64 / 3).unwrap();
    let mut buf = vec![0u8; 64 << 10];
    let mut eio = 0;
    for lo in (0..original.len() as u64).step_by(buf.len()) {
        let n = (original.len() as u64 - lo).min(buf.len() as u64) as usize;
        match f.read_exact_at(&mut buf[..n], lo) {
            // Chunks whose payloads still lie before the cut decode as before.
            Ok(()) => assert!(buf[..n] == original[lo as usize..lo as usize + n], "wrong bytes at {lo}"),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EIO), "at {lo}: {e}");
                eio += 1;
            }
        }
    }
    assert!(eio > 0, "no read failed after the source lost two thirds of its bytes");
    drop(f);
    let (status, log) = m.unmount();
    assert!(status.success(), "the daemon did not exit cleanly: {status:?}\n{log}");
}

/// Reads the mounted file in 64 KiB blocks, twice: EIO exactly where the
/// damaged span is touched; the damage is logged once, naming its tensor.
fn damaged_reads(m: Mounted, original: &[u8], span: &std::ops::Range<u64>) {
    let block = 64u64 << 10;
    let f = std::fs::File::open(m.path("blk0.gguf")).unwrap();
    let mut buf = vec![0u8; block as usize];
    let (mut eio, mut ok) = (0, 0);
    for pass in 0..2 {
        for lo in (0..original.len() as u64).step_by(block as usize) {
            let hi = (lo + block).min(original.len() as u64);
            // pread returns what it read before an error (a short count),
            // then the error on the next call: both halves are checked.
            let mut at = lo;
            while at < hi {
                match f.read_at(&mut buf[..(hi - at) as usize], at) {
                    Ok(n) => {
                        assert!(n > 0, "pass {pass}: end of file at {at}");
                        let end = at + n as u64;
                        assert!(!overlaps(span, at, end), "pass {pass}: damaged bytes {at}..{end} read as success (damage {:?})", *span);
                        assert!(buf[..n] == original[at as usize..end as usize], "pass {pass}: wrong bytes at {at}");
                        ok += 1;
                        at = end;
                    }
                    Err(e) => {
                        assert_eq!(e.raw_os_error(), Some(5), "pass {pass}: {e} at {at}");
                        // The kernel reads whole pages: a page holding damaged bytes fails.
                        let page = at & !4095;
                        assert!(overlaps(span, page, hi), "pass {pass}: EIO at {at}..{hi}, away from the damage {:?}", *span);
                        eio += 1;
                        break;
                    }
                }
            }
        }
    }
    assert!(eio > 0 && ok > eio, "eio {eio}, ok {ok}");
    drop(f);
    let (status, log) = m.unmount();
    assert!(status.success(), "exit {status}:\n{log}");
    let reports: Vec<_> = log.lines().filter(|l| l.contains("cannot be decoded")).collect();
    assert_eq!(reports.len(), 1, "{log}");
    assert!(reports[0].contains("tensor blk.0."), "{}", reports[0]);
}

#[test]
fn a_truncated_container_is_refused_by_the_mount_with_its_name() {
    let (_, container) = fixture_container();
    let dir = scratch("hostile-truncated");
    let path = dir.join("cut.gguf.llmc");
    std::fs::write(&path, &container[..container.len() / 2]).unwrap();
    std::fs::create_dir_all(dir.join("mnt")).unwrap();
    let out = common::fuse::llmc().arg("mount").arg(&path).arg(dir.join("mnt")).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(1) && err.contains("cut.gguf.llmc") && !err.contains("panicked"), "{:?}: {err}", out.status);
}

#[test]
fn the_owner_drops_a_reader_and_its_engine_never_a_read_ahead_worker() {
    // A worker decoding ahead holds the reader for the job's length. If its
    // reference were the last, the reader and the engine would be dropped on
    // that worker, whose own thread then could not be joined and would exit
    // after its owner returned. Dropping the last `Arc<Reader>` must instead
    // wait for the job, so the owner's engine is the only reference left.
    let (original, container) = fixture_container();
    let mut buf = vec![0u8; 64 << 10];
    for round in 0..40 {
        let engine = ReadEngine::new(8 << 20, 2).unwrap();
        let r = open(container.clone(), &engine).unwrap();
        // Sequential reads queue the chunks ahead; the reader is dropped
        // while the workers are decoding them.
        for k in 0..8 {
            let lo = k * buf.len() as u64;
            assert_eq!(r.read_at(lo, &mut buf).unwrap(), buf.len());
            assert!(buf[..] == original[lo as usize..lo as usize + buf.len()]);
        }
        drop(r);
        assert_eq!(Arc::strong_count(&engine), 1, "round {round}: a read-ahead job outlived its reader");
    }
}

/// The gemma blk0 container with `pad` zero bytes slipped in after region 0's
/// frame (before region 1's record), every later frame offset and the index
/// offset moved to match, and the index and trailer resealed.
fn with_bytes_after_first_frame(container: &[u8], pad: usize) -> Vec<u8> {
    let first = &Index::open(container).unwrap().regions[0];
    let cut = (first.frame_offset + first.frame_size) as usize;
    let mut raw = raw_index(container);
    // FORMAT.md §10.3: u32 region count, then 33 bytes a region (original
    // offset, original size, frame offset, frame size, role).
    let n = u32::from_le_bytes(raw[..4].try_into().unwrap()) as usize;
    for i in 1..n {
        let at = 4 + 33 * i + 16;
        let moved = u64::from_le_bytes(raw[at..at + 8].try_into().unwrap()) + pad as u64;
        raw[at..at + 8].copy_from_slice(&moved.to_le_bytes());
    }
    let mut gapped = [&container[..cut], &vec![0u8; pad][..], &container[cut..]].concat();
    let t = gapped.len() - 64;
    let at = u64::from_le_bytes(gapped[t + 12..t + 20].try_into().unwrap()) + pad as u64;
    gapped[t + 12..t + 20].copy_from_slice(&at.to_le_bytes());
    with_index(&gapped, raw)
}

#[test]
fn bytes_slipped_between_frames_are_refused_at_open_as_by_a_stream() {
    let (original, container) = fixture_container();
    assert!(common::stream_decode(&container).unwrap() == original);
    // The edit itself keeps a container whole: with nothing slipped in (the
    // index now stored as it is) it opens and reads back.
    let same = with_bytes_after_first_frame(&container, 0);
    Index::open(&same).unwrap();
    assert!(common::stream_decode(&same).unwrap() == original);
    for pad in [4, 36, 4096] {
        let gapped = with_bytes_after_first_frame(&container, pad);
        // A one-pass reader meets the zeros where a record should start; the
        // index reader must not accept what the stream refuses.
        assert_eq!(Index::open(&gapped).err(), Some(llmc::Error::Corrupt), "{pad} bytes between frames");
        let engine = ReadEngine::new(1 << 20, 0).unwrap();
        assert_eq!(open(gapped.clone(), &engine).err(), Some(llmc::Error::Corrupt));
        assert!(common::stream_decode(&gapped).is_err(), "the stream refuses it too");
    }
}
