//! Entropy bounds and hashes reported by `bench`.

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
