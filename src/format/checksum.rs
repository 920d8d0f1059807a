//! Checksums: CRC32C (Castagnoli). The crc-fast crate picks a carry-less-multiply
//! kernel at run time (~80 GB/s with AVX-512 VPCLMULQDQ on our machine), so
//! verifying chunks costs a few percent of decode time.

/// CRC32C of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, data) as u32
}

/// The CRC32C of a payload, computed in pieces while a decoder reads it: a
/// decoder that streams through a large payload covers each piece right after
/// reading it, while it is still in L1, instead of leaving a second pass over
/// the whole payload for after the decode, when the decode's own output has
/// pushed it out of L2 (on Q8_0 tensors that pass cost an eighth of the decode
/// time). Pieces may be covered in any order ([`RunningCrc::cover`]): each
/// piece out of order gets a digest of its own, and the digests are combined
/// in payload order (a GF(2) matrix product per piece). What no call covers is
/// left to [`RunningCrc::finish`], which always covers the whole payload.
pub struct RunningCrc<'a> {
    data: &'a [u8],
    /// Everything before `done` is in `digest`.
    done: usize,
    /// `None` when no checksum is wanted: covering is then free.
    digest: Option<crc_fast::Digest>,
    /// Pieces covered ahead of `done` (start, end, digest), disjoint.
    ahead: Vec<(usize, usize, crc_fast::Digest)>,
    /// Every piece is left to `finish` (a small payload).
    at_finish: bool,
}

/// Payloads below this many bytes are checksummed whole at the end.
const SMALL_PAYLOAD: usize = 16 << 10;

impl<'a> RunningCrc<'a> {
    /// A checksum of `data`, covered piece by piece; a small payload (below
    /// [`SMALL_PAYLOAD`], which stays in cache however it is read) in one go by
    /// [`RunningCrc::finish`], since covering the many tiny pieces of a small
    /// tensor's streams cost a tenth of its decode time.
    pub fn new(data: &'a [u8]) -> Self {
        RunningCrc { data, done: 0, digest: Some(new_digest()), ahead: Vec::new(), at_finish: data.len() < SMALL_PAYLOAD }
    }

    /// No checksum: every call is a no-op and [`RunningCrc::finish`] gives `None`.
    pub fn off() -> RunningCrc<'static> {
        RunningCrc { data: &[], done: 0, digest: None, ahead: Vec::new(), at_finish: false }
    }

    /// Where `part` lies in the data, if it is a sub-slice of it.
    fn span(&self, part: &[u8]) -> Option<(usize, usize)> {
        let start = (part.as_ptr() as usize).wrapping_sub(self.data.as_ptr() as usize);
        let end = start.checked_add(part.len())?;
        (start <= self.data.len() && end <= self.data.len()).then_some((start, end))
    }

    /// Moves `done` to at least `end`, taking in the pieces covered ahead.
    fn advance(&mut self, end: usize) {
        let Some(digest) = &mut self.digest else { return };
        while self.done < end {
            let next = self.ahead.iter().enumerate().filter(|(_, p)| p.0 < end).min_by_key(|(_, p)| p.0).map(|(i, _)| i);
            match next {
                Some(i) => {
                    let (start, stop, piece) = self.ahead.swap_remove(i);
                    digest.update(&self.data[self.done..start]);
                    let joined = crc32c_combine(digest.finalize() as u32, piece.finalize() as u32, (stop - start) as u64);
                    // The digest's register is its checksum before the final xor.
                    *digest = crc_fast::Digest::new_with_init_state(crc_fast::CrcAlgorithm::Crc32Iscsi, u64::from(!joined));
                    self.done = stop;
                }
                None => {
                    digest.update(&self.data[self.done..end]);
                    self.done = end;
                }
            }
        }
    }

    /// Covers exactly `part`, a sub-slice of the data, wherever it lies: a
    /// decoder covers each piece of each stream while it is in cache, in
    /// whatever order it reads them. A piece that continues one covered before
    /// extends it. A piece that overlaps what is covered already (or is not
    /// part of the data) changes nothing: `finish` covers it in order instead.
    pub fn cover(&mut self, part: &[u8]) {
        if self.digest.is_none() || part.is_empty() || self.at_finish {
            return;
        }
        let Some((start, end)) = self.span(part) else { return };
        if start == self.done {
            return self.advance(end);
        }
        if start < self.done || self.ahead.iter().any(|p| start < p.1 && p.0 < end) {
            return;
        }
        match self.ahead.iter_mut().find(|p| p.1 == start) {
            Some(p) => {
                p.2.update(part);
                p.1 = end;
            }
            None => {
                let mut d = new_digest();
                d.update(part);
                self.ahead.push((start, end, d));
            }
        }
    }

    /// The CRC32C of all the data (`None` for [`RunningCrc::off`]).
    pub fn finish(mut self) -> Option<u32> {
        self.advance(self.data.len());
        self.digest.map(|d| d.finalize() as u32)
    }
}

/// CRC-32C's polynomial, bit-reflected: the coefficient of x^0 is the top bit
/// (the order in which a reflected CRC's register holds it).
const POLY_REFLECTED: u32 = 0x82F6_3B78;

/// `a · b mod P` over GF(2), both reflected.
const fn mul_mod(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut i = 0;
    while i < 32 {
        // Bit 31 - i of `a` is its coefficient of x^i: add b·x^i.
        if a & (0x8000_0000 >> i) != 0 {
            product ^= b;
        }
        // b·x: a shift toward the high powers, reduced by P.
        b = if b & 1 != 0 { (b >> 1) ^ POLY_REFLECTED } else { b >> 1 };
        i += 1;
    }
    product
}

/// `x^(8·2^k) mod P` for every k: appending `n` bytes multiplies a CRC register
/// by `x^(8n)`, the product of the entries of n's set bits.
const SHIFT_POW2: [u32; 64] = {
    let mut t = [0u32; 64];
    t[0] = 0x0080_0000; // x^8
    let mut k = 1;
    while k < 64 {
        t[k] = mul_mod(t[k - 1], t[k - 1]);
        k += 1;
    }
    t
};

/// The CRC32C of `A ‖ B` from the CRC32C of `A`, that of `B`, and B's length:
/// `crc(A) · x^(8·|B|) ⊕ crc(B)` mod P (the initial value and the final xor,
/// both all ones, cancel). About 64 GF(2) shift-and-adds per set bit of the
/// length, a fraction of a microsecond: crc-fast's own combine takes about 50.
pub(crate) fn crc32c_combine(crc_a: u32, crc_b: u32, len_b: u64) -> u32 {
    let mut shift = 0x8000_0000; // x^0
    let mut k = 0;
    while len_b >> k != 0 {
        if (len_b >> k) & 1 != 0 {
            shift = mul_mod(shift, SHIFT_POW2[k]);
        }
        k += 1;
    }
    mul_mod(shift, crc_a) ^ crc_b
}

fn new_digest() -> crc_fast::Digest {
    crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combining_checksums_gives_the_checksum_of_the_concatenation() {
        let data: Vec<u8> = (0..70_000u32).map(|i| (i * 131 + i / 13) as u8).collect();
        for cut in [0usize, 1, 7, 8, 255, 4096, 65_537, 70_000] {
            let (a, b) = data.split_at(cut);
            assert_eq!(crc32c_combine(crc32c(a), crc32c(b), b.len() as u64), crc32c(&data), "cut at {cut}");
        }
        assert_eq!(crc32c_combine(crc32c(b"1234"), crc32c(b"56789"), 5), 0xE306_9283, "the check value of 123456789");
    }

    #[test]
    fn running_crc_matches_one_pass_whatever_the_pieces() {
        // Large enough to be covered piece by piece (not whole at the end).
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 31 + i / 7) as u8).collect();
        assert!(data.len() >= SMALL_PAYLOAD);
        let want = crc32c(&data);
        assert_eq!(RunningCrc::new(&data).finish(), Some(want));
        let mut c = RunningCrc::new(&data);
        c.cover(&data[..400]);
        assert_eq!(c.done, 400, "an in-order piece is taken in at once");
        c.cover(&data[200..360]); // behind what is covered: nothing
        c.cover(&[1, 2, 3]); // not part of the data: nothing
        c.cover(&data[..0]);
        assert_eq!(c.finish(), Some(want));
        // Out of order, in pieces that continue each other, overlapping ones
        // (ignored), then in order again.
        let mut c = RunningCrc::new(&data);
        c.cover(&data[20_000..24_000]);
        c.cover(&data[8000..10_000]);
        c.cover(&data[24_000..24_400]); // extends the first piece
        c.cover(&data[22_000..28_000]); // overlaps: nothing
        assert_eq!(c.ahead.len(), 2);
        c.cover(&data[0..40]); // at `done`: in order
        c.cover(&data[40..20_800]); // in order: takes in the piece at 8000, and 20_000..24_400 (overlapped, so whole)
        c.cover(&data[36_000..]);
        assert_eq!(c.finish(), Some(want));
        // Every order of every cut into pieces gives the one-pass checksum.
        let cuts = [0usize, 7, 64, 4000, 4001, 16_384, 39_999, 40_000];
        for rot in 0..cuts.len() - 1 {
            let mut c = RunningCrc::new(&data);
            for k in (0..cuts.len() - 1).map(|k| (k + rot) % (cuts.len() - 1)) {
                c.cover(&data[cuts[k]..cuts[k + 1]]);
            }
            assert_eq!(c.finish(), Some(want), "rotation {rot}");
        }
        // A small payload: pieces are left to `finish`, which covers it whole.
        let small = &data[..SMALL_PAYLOAD - 1];
        let mut c = RunningCrc::new(small);
        c.cover(&small[100..200]);
        c.cover(&small[..100]);
        assert!(c.done == 0 && c.ahead.is_empty());
        assert_eq!(c.finish(), Some(crc32c(small)));
        let mut off = RunningCrc::off();
        off.cover(&data);
        assert_eq!(off.finish(), None);
    }
}
