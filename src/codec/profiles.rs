//! Trained profiles: static frequency tables compiled into the library (no file is
//! read at run time), used by a stream instead of its own table when that is
//! smaller (small tensors, small chunks). `profiles/` holds each profile's binary
//! and a JSON record of what it was trained on.
//!
//! Binary: magic "LLMP", u16 version, u8 profile id, u8 stream count, then per
//! stream a u16 length and an alphabet over byte values (every value present, so
//! any stream can be coded with it).

use crate::error::{Error, Result};
use crate::format::bytes::ByteReader;
use crate::rans::alphabet::Alphabet;
use std::sync::OnceLock;

/// Profile id 1: Q4_K header byte positions 0..16 and the flag stream (index 16).
pub const Q4K_V1: u8 = 1;
pub const Q4K_FLAG_STREAM: usize = 16;

static Q4K_V1_BIN: &[u8] = include_bytes!("../../profiles/q4k_v1.bin");

pub struct Profile {
    pub id: u8,
    pub streams: Vec<Alphabet>,
}

pub fn parse(bin: &[u8]) -> Result<Profile> {
    let mut r = ByteReader::new(bin);
    if r.array::<4>()? != *b"LLMP" || r.u16()? != 1 {
        return Err(Error::Corrupt);
    }
    let id = r.u8()?;
    let n = usize::from(r.u8()?);
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let len = usize::from(r.u16()?);
        let a = Alphabet::read(r.take(len)?, 8)?;
        if a.values.len() != 256 {
            return Err(Error::Corrupt);
        }
        streams.push(a);
    }
    Ok(Profile { id, streams })
}

/// Serialises a profile (used by the training tool).
#[cfg(test)]
pub fn write(id: u8, streams: &[Alphabet]) -> Vec<u8> {
    let mut out = b"LLMP".to_vec();
    out.extend_from_slice(&1u16.to_le_bytes());
    out.push(id);
    out.push(streams.len() as u8);
    for a in streams {
        let bytes = a.write(8);
        out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// The alphabet of `stream` in built-in profile `id`, if both exist.
pub fn lookup(id: u8, stream: usize) -> Option<&'static Alphabet> {
    static Q4K: OnceLock<Option<Profile>> = OnceLock::new();
    match id {
        Q4K_V1 => Q4K.get_or_init(|| parse(Q4K_V1_BIN).ok().filter(|p| p.id == Q4K_V1)).as_ref()?.streams.get(stream),
        _ => None,
    }
}

/// A histogram smoothed so every byte value is present (profiles must code anything).
#[cfg(test)]
pub fn smoothed_alphabet(hist: &[u64; 256]) -> Alphabet {
    // Scale counts to u32 range and add one to each so all 256 values get a slot.
    let max = hist.iter().copied().max().unwrap_or(0).max(1);
    let scaled: Vec<u32> = hist.iter().map(|&c| ((u128::from(c) * 1_000_000 / u128::from(max)) as u32).saturating_add(1)).collect();
    Alphabet::from_histogram(&scaled)
}
