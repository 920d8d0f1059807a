//! Any bytes as a frame of any codec: frame info, then decode on every ISA, with
//! and without checksum verification, and again after resealing the checksums so
//! mutations reach the payload decoders. Must never panic or read out of bounds;
//! a decode that succeeds returns exactly the declared content size.

use super::common::{decode_opts, reseal_frame};

fn decode_all(data: &[u8]) {
    let info = llmc::frame_info(data);
    for isa in llmc::isa::supported() {
        for verify in [true, false] {
            if let Ok(out) = llmc::decompress(data, &decode_opts(isa, verify)) {
                assert_eq!(out.len() as u64, info.as_ref().expect("decodable frames have info").content_size);
            }
        }
    }
}

pub fn run(data: &[u8]) {
    decode_all(data);
    let mut sealed = data.to_vec();
    reseal_frame(&mut sealed);
    decode_all(&sealed);
}
