//! Entropy bounds and hashes reported by `bench`.

use llmc::model::{Index, SourceKind};
use sha2::{Digest, Sha256};

/// 16 / H(u16): the order-0 bound of a bf16 array (table cost excluded).
pub fn bf16_bound_ratio(data: &[u8]) -> f64 {
    let mut hist = vec![0u64; 1 << 16];
    for c in data.chunks_exact(2) {
        hist[usize::from(u16::from_le_bytes([c[0], c[1]]))] += 1;
    }
    let n = (data.len() / 2) as f64;
    let h: f64 = hist.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / n) * (c as f64 / n).log2()).sum();
    if h > 0.0 { 16.0 / h } else { f64::INFINITY }
}

/// First 16 hex digits of SHA-256.
pub fn sha256_16(data: &[u8]) -> String {
    let d = Sha256::digest(data);
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Bits per symbol of a histogram.
fn entropy(hist: &[u64]) -> f64 {
    let n: u64 = hist.iter().sum();
    if n == 0 {
        return 0.0;
    }
    hist.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / n as f64) * (c as f64 / n as f64).log2()).sum()
}

/// The Q4_K field order-0 bound: 1152 bits per block over the order-0 entropies of
/// the 16 header byte positions plus 256 × that of the pooled 4-bit quants.
pub fn q4k_bound_ratio(data: &[u8]) -> f64 {
    let mut header = vec![[0u64; 256]; 16];
    let mut nib = [0u64; 16];
    for block in data.chunks_exact(144) {
        for (p, &b) in block[..16].iter().enumerate() {
            header[p][usize::from(b)] += 1;
        }
        for &b in &block[16..] {
            nib[usize::from(b & 15)] += 1;
            nib[usize::from(b >> 4)] += 1;
        }
    }
    let bits: f64 = header.iter().map(|h| entropy(h)).sum::<f64>() + 256.0 * entropy(&nib);
    1152.0 / bits
}

/// How a tensor's bytes count toward a container's bound.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Symbols {
    /// 2-byte floats: the order-0 entropy of their 16-bit words.
    Words,
    /// 1-byte types (FP8, int8, bool): the order-0 entropy of their bytes.
    Bytes,
    /// Wider floats and integers: 8 bits a byte.
    Raw,
}

/// The symbols of a tensor of `dtype` in a `kind` file, or `None` for a type
/// without an order-0 bound here (ggml block quantisations).
fn symbols(kind: SourceKind, dtype: u32) -> Option<Symbols> {
    use llmc::model::gguf::types;
    use llmc::model::safetensors::Dtype;
    match kind {
        SourceKind::Gguf => match dtype {
            types::F16 | types::BF16 => Some(Symbols::Words),
            types::I8 => Some(Symbols::Bytes),
            types::F32 | types::I16 | types::I32 | types::I64 | types::F64 => Some(Symbols::Raw),
            _ => None,
        },
        SourceKind::Safetensors => match Dtype::from_id(dtype) {
            Dtype::F16 | Dtype::Bf16 => Some(Symbols::Words),
            d => match d.size()? {
                1 => Some(Symbols::Bytes),
                _ => Some(Symbols::Raw),
            },
        },
        SourceKind::Opaque => None,
    }
}

/// The order-0 bound of a container's original (`original`, indexed by
/// `index`): per tensor, 16-bit entropy for 2-byte floats and byte entropy for
/// 1-byte types; every other byte (metadata, padding, wider types) at 8 bits.
/// Table and side-information costs are excluded. NaN when a tensor has no
/// such bound (ggml block quantisations) or no tensor has 1- or 2-byte symbols.
pub fn container_bound_ratio(index: &Index, original: &[u8]) -> f64 {
    let mut tensors = Vec::with_capacity(index.entries.len());
    for (i, e) in index.entries.iter().enumerate() {
        let Some(s) = symbols(index.kind, e.dtype) else { return f64::NAN };
        // The whole tensor: its regions, or its place in a batch.
        tensors.push((index.entry_span(i).expect("an entry"), s));
    }
    if !tensors.iter().any(|(_, s)| matches!(s, Symbols::Words | Symbols::Bytes)) {
        return f64::NAN;
    }
    // Every byte outside a tensor with 1- or 2-byte symbols costs 8 bits.
    let mut bits = 8.0 * original.len() as f64;
    for ((offset, size), s) in tensors {
        let part = &original[offset as usize..(offset + size) as usize];
        // The bits of the symbols replace their bytes' 8 bits each.
        let (coded, len) = match s {
            Symbols::Words => {
                let mut words = vec![0u64; 1 << 16];
                part.chunks_exact(2).for_each(|c| words[usize::from(u16::from_le_bytes([c[0], c[1]]))] += 1);
                (entropy(&words) * words.iter().sum::<u64>() as f64, part.len() / 2 * 2)
            }
            Symbols::Bytes => {
                let mut bytes = [0u64; 256];
                part.iter().for_each(|&b| bytes[usize::from(b)] += 1);
                (entropy(&bytes) * bytes.iter().sum::<u64>() as f64, part.len())
            }
            Symbols::Raw => continue,
        };
        bits += coded - 8.0 * len as f64;
    }
    8.0 * original.len() as f64 / bits
}
