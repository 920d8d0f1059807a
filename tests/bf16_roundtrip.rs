mod common;
use common::*;
use llmc::{compress_bf16, decompress, CompressParams};

#[test]
fn every_fixture_roundtrips_on_every_isa() {
    let isas = isas_under_test();
    for rel in BF16_FIXTURES {
        let src = fixture(rel);
        let frame = compress_bf16(&src, &CompressParams::default()).unwrap();
        for &isa in &isas {
            let back = decompress(&frame, &opts(isa)).unwrap_or_else(|e| panic!("{rel} {isa:?}: {e}"));
            assert!(back == src, "{rel}: {isa:?} output differs");
        }
        eprintln!("{rel}: {} -> {} ratio {:.4}", src.len(), frame.len(), src.len() as f64 / frame.len() as f64);
    }
}
