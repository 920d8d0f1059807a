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
