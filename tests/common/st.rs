//! Reading and writing safetensors files in tests (independently of the
//! library's parser): bf16 copies of fp32 checkpoints, as
//! `model.to(torch.bfloat16)` + `save_file` would make them, and shards.

use serde_json::{json, Map, Value};

pub struct Tensor {
    pub name: String,
    pub dtype: String,
    pub shape: Value,
    pub data: Vec<u8>,
}

/// Tensors in data order, and the `__metadata__` object if any.
pub fn read(file: &[u8]) -> (Vec<Tensor>, Option<Value>) {
    let n = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let header: Map<String, Value> = serde_json::from_slice(&file[8..8 + n]).unwrap();
    let data = &file[8 + n..];
    let mut tensors: Vec<(u64, Tensor)> = header
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(name, v)| {
            let (b, e) = (v["data_offsets"][0].as_u64().unwrap(), v["data_offsets"][1].as_u64().unwrap());
            let t = Tensor { name: name.clone(), dtype: v["dtype"].as_str().unwrap().into(), shape: v["shape"].clone(), data: data[b as usize..e as usize].to_vec() };
            (b, t)
        })
        .collect();
    tensors.sort_by_key(|(b, _)| *b);
    (tensors.into_iter().map(|(_, t)| t).collect(), header.get("__metadata__").cloned())
}

/// A file holding `tensors` back to back, header padded with spaces to a multiple of 8.
pub fn write(tensors: &[Tensor], metadata: Option<&Value>) -> Vec<u8> {
    let mut header = Map::new();
    if let Some(m) = metadata {
        header.insert("__metadata__".into(), m.clone());
    }
    let mut at = 0;
    for t in tensors {
        header.insert(t.name.clone(), json!({"dtype": t.dtype, "shape": t.shape, "data_offsets": [at, at + t.data.len()]}));
        at += t.data.len();
    }
    let mut json = serde_json::to_vec(&Value::Object(header)).unwrap();
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    for t in tensors {
        out.extend_from_slice(&t.data);
    }
    out
}

/// Puts `tensors` in the order the safetensors library writes them: by dtype
/// (its `Dtype` enum, last first), then by name, so that tensors of one dtype
/// (an FP8 checkpoint's F32 scales, norms and biases) are side by side.
#[allow(dead_code)]
pub fn safetensors_order(tensors: &mut [Tensor]) {
    const DTYPES: [&str; 19] = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"];
    let rank = |d: &str| DTYPES.iter().position(|&x| x == d).expect("a known dtype");
    tensors.sort_by(|a, b| rank(&b.dtype).cmp(&rank(&a.dtype)).then_with(|| a.name.cmp(&b.name)));
}

/// f32 bits to bf16 bits, rounding to nearest even; NaNs stay NaN (quieted).
pub fn f32_to_bf16(bits: u32) -> u16 {
    if bits & 0x7fff_ffff > 0x7f80_0000 {
        return ((bits >> 16) | 0x40) as u16;
    }
    let round = 0x7fff + ((bits >> 16) & 1);
    (bits.wrapping_add(round) >> 16) as u16
}

/// The same checkpoint with every F32 tensor in bf16.
pub fn to_bf16(file: &[u8]) -> Vec<u8> {
    let (mut tensors, metadata) = read(file);
    for t in tensors.iter_mut().filter(|t| t.dtype == "F32") {
        t.data = t.data.chunks_exact(4).flat_map(|w| f32_to_bf16(u32::from_le_bytes(w.try_into().unwrap())).to_le_bytes()).collect();
        t.dtype = "BF16".into();
    }
    write(&tensors, metadata.as_ref())
}

/// f32 to FP8 E4M3FN (1 sign, 4 exponent bits with bias 7, 3 mantissa bits,
/// no infinities, largest 448), rounding to nearest even; `x` must be finite
/// with `|x| <= 448`.
pub fn f32_to_e4m3(x: f32) -> u8 {
    assert!(x.is_finite() && x.abs() <= 448.0, "{x} is outside E4M3FN's range");
    let sign = if x.is_sign_negative() { 0x80 } else { 0 };
    let a = x.abs();
    if a == 0.0 {
        return sign;
    }
    // The spacing of E4M3 values around `a`: 2^(e-3) for normals, 2^-9 below 2^-6.
    let e = ((a.to_bits() >> 23) as i32 - 127).max(-6);
    let m = (a / 2f32.powi(e - 3)).round_ties_even() as u32;
    let (e, m) = if m == 16 { (e + 1, 8) } else { (e, m) };
    if m < 8 {
        return sign | m as u8; // subnormal (exponent field 0)
    }
    sign | (((e + 7) as u8) << 3) | (m - 8) as u8
}

/// The issue-15 FP8 recipe: every tensor of at least two dimensions becomes
/// E4M3FN with a per-tensor scale `max|W| / 448` (stored as the F32 scalar
/// `NAME_scale`); 1-D tensors and non-F32 tensors stay as they are.
pub fn to_fp8(file: &[u8]) -> Vec<u8> {
    let (tensors, metadata) = read(file);
    let mut out = Vec::new();
    for mut t in tensors {
        if t.dtype != "F32" || t.shape.as_array().unwrap().len() < 2 {
            out.push(t);
            continue;
        }
        let w: Vec<f32> = t.data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        let scale = w.iter().fold(0f32, |m, x| m.max(x.abs())) / 448.0;
        t.data = w.iter().map(|&x| f32_to_e4m3((x / scale).clamp(-448.0, 448.0))).collect();
        t.dtype = "F8_E4M3".into();
        let name = format!("{}_scale", t.name);
        out.push(t);
        out.push(Tensor { name, dtype: "F32".into(), shape: json!([]), data: scale.to_le_bytes().to_vec() });
    }
    write(&out, metadata.as_ref())
}

/// Splits a checkpoint into `n` shards named like Hugging Face's, plus the
/// `model.safetensors.index.json` that maps tensors to shards.
pub fn shard(file: &[u8], n: usize) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let (tensors, metadata) = read(file);
    let per = tensors.len().div_ceil(n);
    let mut shards = Vec::new();
    let mut map = Map::new();
    for (i, part) in tensors.chunks(per).enumerate() {
        let name = format!("model-{:05}-of-{n:05}.safetensors", i + 1);
        for t in part {
            map.insert(t.name.clone(), json!(name));
        }
        shards.push((name, write(part, metadata.as_ref())));
    }
    let index = json!({"metadata": {"total_size": file.len()}, "weight_map": map});
    (shards, serde_json::to_vec_pretty(&index).unwrap())
}

/// The order-0 bound of a safetensors file with FP8 tensors, per tensor: FP8
/// tensors over their bytes, the other tensors and the header at 8 bits.
#[allow(dead_code)]
pub fn fp8_byte_bound(file: &[u8]) -> f64 {
    let (tensors, _) = read(file);
    let mut bits = 8.0 * (file.len() - tensors.iter().map(|t| t.data.len()).sum::<usize>()) as f64;
    for t in &tensors {
        if t.dtype == "F8_E4M3" {
            let mut hist = [0u64; 256];
            for &b in &t.data {
                hist[usize::from(b)] += 1;
            }
            let n = t.data.len() as f64;
            bits += hist.iter().filter(|&&c| c > 0).map(|&c| -(c as f64) * (c as f64 / n).log2()).sum::<f64>();
        } else {
            bits += 8.0 * t.data.len() as f64;
        }
    }
    8.0 * file.len() as f64 / bits
}
