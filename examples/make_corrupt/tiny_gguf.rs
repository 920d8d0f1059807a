//! A small valid GGUF v3 made from the committed Gemma fixture: its key-value
//! pairs (arrays cut to their first five elements) and a few real tensors cut to
//! their first rows, so every GGUF section is present in a few kilobytes.

use llmc::model::gguf::{self, Value, ValueType};

/// (name, rows kept): F32, Q4_K, Q6_K, Q8_0 and F32 again.
const TENSORS: [(&str, u64); 5] = [
    ("output_norm.weight", 1),
    ("blk.0.attn_output.weight", 2),
    ("blk.0.ffn_down.weight", 1),
    ("blk.0.attn_v.weight", 2),
    ("blk.0.attn_k_norm.weight", 1),
];
const KEEP_ELEMENTS: usize = 5;
const ALIGNMENT: usize = 32;

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s);
}

/// Bytes of the first `n` elements of an array payload.
fn prefix_len(elem: ValueType, payload: &[u8], n: usize) -> Option<usize> {
    if let Some(size) = elem.fixed_size() {
        return Some(n * size);
    }
    if elem != ValueType::String {
        return None;
    }
    let mut at = 0;
    for _ in 0..n {
        let len = u64::from_le_bytes(payload[at..at + 8].try_into().ok()?) as usize;
        at += 8 + len;
    }
    Some(at)
}

pub fn build(file: &[u8]) -> Vec<u8> {
    build_with(file, &TENSORS)
}

/// [`build`] with other tensors (name, rows kept).
pub fn build_with(file: &[u8], tensors: &[(&str, u64)]) -> Vec<u8> {
    let g = gguf::parse(file).expect("the fixture parses");
    let mut kv = Vec::new();
    let mut n_kv = 0u64;
    for pair in &g.kv {
        match pair.value {
            Value::Array(a) if a.len() > KEEP_ELEMENTS => {
                let Some(len) = prefix_len(a.elem_type(), a.payload(), KEEP_ELEMENTS) else { continue };
                put_str(&mut kv, pair.key.as_bytes());
                kv.extend_from_slice(&(ValueType::Array as u32).to_le_bytes());
                kv.extend_from_slice(&(a.elem_type() as u32).to_le_bytes());
                kv.extend_from_slice(&(KEEP_ELEMENTS as u64).to_le_bytes());
                kv.extend_from_slice(&a.payload()[..len]);
            }
            _ => kv.extend_from_slice(&file[pair.range.clone()]),
        }
        n_kv += 1;
    }
    let (mut infos, mut data) = (Vec::new(), Vec::new());
    for &(name, rows) in tensors {
        let t = g.tensors.iter().find(|t| t.name == name).expect("tensor in the fixture");
        let row_bytes = t.nbytes.unwrap() as u64 / (t.n_elements / t.ne[0]);
        let bytes = &g.tensor_data(t).unwrap()[..(row_bytes * rows) as usize];
        put_str(&mut infos, name.as_bytes());
        let dims: &[u64] = if t.n_dims == 1 { &[t.ne[0]] } else { &[t.ne[0], rows] };
        infos.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        for d in dims {
            infos.extend_from_slice(&d.to_le_bytes());
        }
        infos.extend_from_slice(&t.ggml_type.to_le_bytes());
        infos.extend_from_slice(&(data.len() as u64).to_le_bytes());
        data.extend_from_slice(bytes);
        data.resize(data.len().next_multiple_of(ALIGNMENT), 0);
    }
    let mut out = b"GGUF".to_vec();
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&n_kv.to_le_bytes());
    out.extend_from_slice(&kv);
    out.extend_from_slice(&infos);
    out.resize(out.len().next_multiple_of(ALIGNMENT), 0);
    out.extend_from_slice(&data);
    out
}
