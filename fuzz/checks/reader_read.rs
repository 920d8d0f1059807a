//! Any bytes as a container read through the mount's read path (`model::Reader`:
//! the chunk cache, read-ahead workers, drop-behind), also after resealing the
//! header and index checksums. Open must fail cleanly or give a reader whose
//! reads agree with `Index::read_range` wherever both succeed, are pread-shaped
//! (short only at the end), and never panic.

use super::common::{reseal_container, MAX_OUTPUT};
use llmc::model::{ContainerBytes, Index, ReadEngine, Reader};
use llmc::DecodeOptions;

fn check(data: &[u8], picks: &[u8]) {
    let Ok(index) = Index::open(data) else { return };
    if index.original_size > MAX_OUTPUT {
        return;
    }
    // A small cache and one worker: eviction, read-ahead and readers racing
    // for the same chunks are all exercised.
    let engine = ReadEngine::new(64 << 10, 1).expect("start a worker");
    let reader = Reader::new(ContainerBytes::Owned(data.to_vec()), &engine, &DecodeOptions::default()).expect("the index opened");
    let size = reader.size();
    assert_eq!(size, index.original_size);
    let opts = DecodeOptions { max_output: MAX_OUTPUT, ..Default::default() };
    let agree = |off: u64, len: usize| {
        let mut got = vec![0u8; len];
        let n = match reader.read_at(off, &mut got) {
            Ok(n) => n,
            Err(f) => {
                let (lo, n) = reader.chunk_span(f.chunk).expect("a failure names a chunk");
                assert!(lo < off + len as u64 && off < lo + n, "failure outside the read");
                return;
            }
        };
        assert_eq!(n as u64, size.saturating_sub(off).min(len as u64), "pread-shaped count at {off}+{len}");
        let mut want = vec![0u8; n];
        if index.read_range(data, off, &mut want, &opts).is_ok() {
            assert!(got[..n] == want[..], "reader and read_range differ at {off}+{len}");
        }
    };
    // Front to back (sequential: read-ahead and drop-behind), then at random.
    let step = (size / 7).max(1) as usize;
    let mut off = 0;
    while off < size {
        agree(off, step);
        off += step as u64;
    }
    for w in picks.chunks(2) {
        let off = u64::from(w[0]) * size / 256;
        agree(off, usize::from(*w.get(1).unwrap_or(&1)) * 64 + 1);
    }
    agree(size, 16);
}

pub fn run(data: &[u8]) {
    let picks = &data[data.len().saturating_sub(8)..];
    check(data, picks);
    let mut sealed = data.to_vec();
    reseal_container(&mut sealed);
    check(&sealed, picks);
}
