//! Frequency normalisation and compact serialisation of frequency tables.
//!
//! Normalisation uses integer arithmetic only, so the same counts give the same
//! table on every machine (the compressed bytes must not depend on libm).

use super::{MAX_SYMBOLS, PROB_SCALE};
use crate::error::{Error, Result};
use crate::format::bitio::{BitReader, BitWriter};

/// Scales `counts` to frequencies summing to `PROB_SCALE`, every symbol at least 1.
///
/// Starts from rounded proportional shares, then moves single units where they
/// cost the fewest bits: the marginal cost of taking one unit from symbol `i` is
/// about `c_i / (f_i - 1/2)`, of giving one about `c_i / (f_i + 1/2)`; ties go to
/// the lowest index.
///
/// Needs `2 <= counts.len() <= MAX_SYMBOLS`.
pub fn normalize(counts: &[u64]) -> Vec<u32> {
    assert!((2..=MAX_SYMBOLS).contains(&counts.len()), "alphabet size out of range");
    let total: u128 = counts.iter().map(|&c| u128::from(c)).sum::<u128>().max(1);
    let scale = u128::from(PROB_SCALE);
    let mut f: Vec<u32> = counts
        .iter()
        .map(|&c| ((u128::from(c) * scale + total / 2) / total).max(1) as u32)
        .collect();
    let mut sum: i64 = f.iter().map(|&x| i64::from(x)).sum();
    while sum > i64::from(PROB_SCALE) {
        // Take from the symbol whose loss is cheapest: minimise c_i / (2 f_i - 1).
        let mut best: Option<usize> = None;
        for i in 0..f.len() {
            if f[i] <= 1 {
                continue;
            }
            best = match best {
                None => Some(i),
                Some(b) => {
                    let lhs = u128::from(counts[i]) * u128::from(2 * f[b] - 1);
                    let rhs = u128::from(counts[b]) * u128::from(2 * f[i] - 1);
                    Some(if lhs < rhs { i } else { b })
                }
            };
        }
        let b = best.expect("a symbol above 1 exists while the sum exceeds the scale");
        f[b] -= 1;
        sum -= 1;
    }
    while sum < i64::from(PROB_SCALE) {
        // Give to the symbol that gains most: maximise c_i / (2 f_i + 1).
        let mut b = 0;
        for i in 1..f.len() {
            let lhs = u128::from(counts[i]) * u128::from(2 * f[b] + 1);
            let rhs = u128::from(counts[b]) * u128::from(2 * f[i] + 1);
            if lhs > rhs {
                b = i;
            }
        }
        f[b] += 1;
        sum += 1;
    }
    f
}

/// Writes frequencies as Elias-gamma codes; the last one is implied by the sum.
pub fn write_freqs(w: &mut BitWriter, freqs: &[u32]) {
    for &f in &freqs[..freqs.len() - 1] {
        w.gamma(f);
    }
}

/// Reads `n` frequencies written by [`write_freqs`] and checks that every one is
/// in `[1, PROB_SCALE - 1]` and that they sum to `PROB_SCALE`.
pub fn read_freqs(r: &mut BitReader<'_>, n: usize) -> Result<Vec<u32>> {
    if !(2..=MAX_SYMBOLS).contains(&n) {
        return Err(Error::Corrupt);
    }
    let mut freqs = Vec::with_capacity(n);
    let mut sum = 0u32;
    for _ in 0..n - 1 {
        let f = r.gamma(13)?;
        sum += f;
        if sum >= PROB_SCALE {
            return Err(Error::Corrupt);
        }
        freqs.push(f);
    }
    freqs.push(PROB_SCALE - sum);
    Ok(freqs)
}

/// Ideal coded size in bits of `counts` under `freqs` (for tests).
#[cfg(test)]
fn coded_bits(counts: &[u64], freqs: &[u32]) -> f64 {
    counts
        .iter()
        .zip(freqs)
        .filter(|(&c, _)| c > 0)
        .map(|(&c, &f)| c as f64 * (f64::from(PROB_SCALE) / f64::from(f)).log2())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_to_scale_and_keeps_every_symbol() {
        let cases: Vec<Vec<u64>> = vec![
            vec![1, 1],
            vec![0, 5],
            vec![1_000_000, 1, 1, 1],
            (0..256).map(|i| (i * i) as u64).collect(),
            (0..256).map(|_| 1).collect(),
            vec![u64::MAX / 4, u64::MAX / 4, 3],
        ];
        for c in cases {
            let f = normalize(&c);
            assert_eq!(f.iter().sum::<u32>(), PROB_SCALE);
            assert!(f.iter().all(|&x| (1..PROB_SCALE).contains(&x)));
        }
    }

    #[test]
    fn close_to_entropy() {
        let counts: Vec<u64> = (1..=40).map(|i| 1000 * i * i).collect();
        let total: u64 = counts.iter().sum();
        let entropy: f64 = counts
            .iter()
            .map(|&c| {
                let p = c as f64 / total as f64;
                -(c as f64) * p.log2()
            })
            .sum();
        let bits = coded_bits(&counts, &normalize(&counts));
        assert!(bits / entropy < 1.0005, "loss {}", bits / entropy);
    }

    #[test]
    fn freqs_roundtrip_and_validation() {
        let f = normalize(&[10, 20, 30, 0, 5]);
        let mut w = BitWriter::new();
        write_freqs(&mut w, &f);
        let b = w.finish();
        assert_eq!(read_freqs(&mut BitReader::new(&b), f.len()).unwrap(), f);
        // A table whose prefix already reaches the scale is corrupt.
        let mut w = BitWriter::new();
        w.gamma(4095);
        w.gamma(1);
        let b = w.finish();
        assert_eq!(read_freqs(&mut BitReader::new(&b), 3), Err(Error::Corrupt));
    }
}
