//! The C reader (`llmc_reader_*`, the read path of `llmc mount`) through real C:
//! `c_examples/reader.c` streams and randomly reads a container from 8 threads.

mod common;
use common::c_build::{self, build, run, Link};
use common::fixtures_dir;

#[test]
fn reader_example_streams_and_reads_at_random_from_eight_threads() {
    let bin = build("reader", &["c_examples/reader.c"], "-std=c99", false, Link::Static, &["-lpthread"]);
    let original = fixtures_dir().join("gguf/gemma-3-270m-q4_k_m.blk0.gguf");
    let container = c_build::out_dir().join("reader-blk0.gguf.llmc");
    llmc::model::compress_file(&original, &container, &llmc::CompressParams { n_threads: 2, level: 3, ..Default::default() }, None).unwrap();
    for threads in ["0", "2"] {
        let (ok, out) = run(&bin, &[container.as_os_str(), original.as_os_str(), threads.as_ref()], &[]);
        assert!(ok && out.contains(&format!("reader: ok size=10510208 threads={threads} ")), "{out}");
        eprint!("{out}");
    }
}
