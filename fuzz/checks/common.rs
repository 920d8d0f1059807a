//! Helpers shared by the checks: checksum resealing (so mutations reach the
//! decoders behind the CRCs) and "roundtrip on every ISA".

use llmc::{CompressParams, DecodeOptions, Isa};

/// Cap on what a fuzzed decode may allocate, far below the library default.
pub const MAX_OUTPUT: u64 = 1 << 26;

#[path = "../../tests/common/hostile.rs"]
mod hostile;
pub use hostile::reseal as reseal_frame;

/// Rewrites a container's index CRC and header check, so mutations reach the
/// index parser.
pub fn reseal_container(c: &mut [u8]) {
    hostile::reseal_container_records(c);
    hostile::reseal_container_index(c);
    hostile::reseal_container_header(c);
}

pub fn decode_opts(isa: Isa, verify: bool) -> DecodeOptions {
    DecodeOptions { isa: Some(isa), verify_checksums: verify, max_output: MAX_OUTPUT, ..Default::default() }
}

/// Compresses with the scalar kernels, checks that every ISA encodes the same
/// bytes, and that every ISA decodes them back to `data`.
pub fn roundtrip_every_isa(data: &[u8], p: CompressParams, compress: impl Fn(&[u8], &CompressParams) -> llmc::Result<Vec<u8>>) {
    let scalar = CompressParams { isa: Some(Isa::Scalar), ..p };
    let frame = compress(data, &scalar).expect("compress");
    for isa in llmc::isa::supported() {
        let q = CompressParams { isa: Some(isa), ..p };
        assert!(compress(data, &q).unwrap() == frame, "{isa:?} encodes differently");
        let out = llmc::decompress(&frame, &decode_opts(isa, true)).expect("decode");
        assert!(out == data, "{isa:?} roundtrip");
    }
}
