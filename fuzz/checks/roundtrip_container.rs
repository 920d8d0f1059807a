//! Whole files through containers. Input starting with `GGUF` is compressed as
//! a GGUF file (most are rejected: fine; what is accepted must roundtrip). Any
//! other input becomes a small safetensors file whose tensors (dtype, size and
//! bytes chosen by the input) cover every per-dtype codec. Accepted files must
//! compress identically on 1 and 2 threads and every ISA, and rebuild byte for byte.

use super::common::decode_opts;
use llmc::CompressParams;

const DTYPES: [(&str, usize); 9] =
    [("BF16", 2), ("F16", 2), ("F32", 4), ("I64", 8), ("U8", 1), ("BOOL", 1), ("F64", 8), ("I32", 4), ("X9", 1)];

/// A safetensors file from `input`: per tensor, a dtype byte, an element count
/// byte, then its bytes; a gap byte between tensors when `gaps` is set.
fn safetensors_from(input: &[u8]) -> Vec<u8> {
    let (mut header, mut data, mut rest) = (Vec::new(), Vec::new(), input);
    while let [dt, count, tail @ ..] = rest {
        let (name, size) = DTYPES[usize::from(*dt) % DTYPES.len()];
        let n = (usize::from(*count) * 4 * size).min(tail.len() / size * size);
        let begin = data.len();
        data.extend_from_slice(&tail[..n]);
        header.push(format!(
            r#""t{}":{{"dtype":"{name}","shape":[{}],"data_offsets":[{begin},{}]}}"#,
            header.len(),
            n / size,
            data.len()
        ));
        if dt & 0x80 != 0 {
            data.push(0xa5); // bytes no tensor claims are kept too
        }
        rest = &tail[n..];
    }
    let json = format!("{{{}}}", header.join(","));
    let mut file = (json.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(json.as_bytes());
    file.extend_from_slice(&data);
    file
}

pub fn run(input: &[u8]) {
    let file = if input.starts_with(b"GGUF") { input.to_vec() } else { safetensors_from(input) };
    let p = CompressParams { level: 1, isa: Some(llmc::Isa::Scalar), ..Default::default() };
    let Ok(container) = llmc::model::compress(&file, &p, None) else { return };
    for isa in llmc::isa::supported() {
        for n_threads in [1, 2] {
            let q = CompressParams { isa: Some(isa), n_threads, ..p };
            assert!(llmc::model::compress(&file, &q, None).unwrap() == container, "{isa:?} x{n_threads}");
        }
        let out = llmc::model::decompress(&container, &decode_opts(isa, true)).expect("rebuild");
        assert!(out == file, "{isa:?} rebuild");
    }
}
