//! GGUF numeric arrays of 32-bit elements (a SentencePiece vocabulary's scores,
//! token types) as the differences of consecutive little-endian words before
//! zstd (zstd payload mode 3, container version 9 on). Scores that count down
//! by one are, as floats, words that step by a power of two: as they are, zstd
//! at level 19 leaves Gemma 3's 1 MiB of scores at 195 KB after 0.2 s of CPU; as
//! differences, level 19 takes them to 251 bytes in a few milliseconds.
//! Bytes after the last whole word are left as they are.

/// The differences of `src`'s consecutive little-endian u32 words (the first
/// against zero, wrapping), then its last `len % 4` bytes unchanged.
pub fn differences(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    let mut prev = 0u32;
    let words = src.chunks_exact(4);
    let tail = words.remainder();
    for w in words {
        let v = u32::from_le_bytes(w.try_into().expect("four bytes"));
        out.extend_from_slice(&v.wrapping_sub(prev).to_le_bytes());
        prev = v;
    }
    out.extend_from_slice(tail);
    out
}

/// Undoes [`differences`] in place: running sums of the whole words.
pub fn running_sums(buf: &mut [u8]) {
    let mut sum = 0u32;
    for w in buf.chunks_exact_mut(4) {
        sum = sum.wrapping_add(u32::from_le_bytes((&*w).try_into().expect("four bytes")));
        w.copy_from_slice(&sum.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_invert_for_every_length() {
        // Scores counting down as floats, then a few odd bytes for the tail.
        let mut src: Vec<u8> = (0..100u32).flat_map(|i| (-(i as f32)).to_le_bytes()).collect();
        src.extend_from_slice(&[1, 2, 3]);
        for len in 0..src.len() {
            let d = differences(&src[..len]);
            assert_eq!(d.len(), len);
            assert_eq!(d[len / 4 * 4..], src[len / 4 * 4..len], "tail bytes stay");
            let mut back = d.clone();
            running_sums(&mut back);
            assert_eq!(back, src[..len]);
        }
    }

    #[test]
    fn wrapping_steps_invert() {
        let src: Vec<u8> = [0u32, u32::MAX, 1, 0x8000_0000, 7].iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut back = differences(&src);
        assert_eq!(back[4..8], u32::MAX.to_le_bytes());
        running_sums(&mut back);
        assert_eq!(back, src);
    }
}
