//! Byte surgery on frames and containers: every mutation is one documented edit
//! of a copy, optionally followed by resealing the checksums it broke.

/// A copy of `base` with `edit` applied.
pub fn with(base: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = base.to_vec();
    edit(&mut v);
    v
}

pub fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

pub fn get_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().unwrap())
}

pub fn get_u64(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().unwrap())
}

pub fn flip(buf: &mut [u8], bit: usize) {
    buf[bit / 8] ^= 1 << (bit % 8);
}

/// Adds `delta` to the u32 at `at` (wrapping).
pub fn bump_u32(buf: &mut [u8], at: usize, delta: i32) {
    let v = get_u32(buf, at).wrapping_add_signed(delta);
    put(buf, at, &v.to_le_bytes());
}

/// Adds `delta` to the u64 at `at` (wrapping).
pub fn bump_u64(buf: &mut [u8], at: usize, delta: i64) {
    let v = get_u64(buf, at).wrapping_add_signed(delta);
    put(buf, at, &v.to_le_bytes());
}
