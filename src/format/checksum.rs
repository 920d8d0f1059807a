//! Checksums: CRC32C (Castagnoli). The crc-fast crate picks a carry-less-multiply
//! kernel at run time (~80 GB/s with AVX-512 VPCLMULQDQ on our machine), so
//! verifying chunks costs a few percent of decode time.

/// CRC32C of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, data) as u32
}

/// The CRC32C of a payload, computed front to back in pieces while a decoder
/// reads it: a decoder that streams through a large payload covers each piece
/// right after reading it, while it is still in L1, instead of leaving a second
/// pass over the whole payload for after the decode, when the decode's own
/// output has pushed it out of L2 (on Q8_0 tensors that pass cost an eighth of
/// the decode time). A decoder that never covers anything leaves all of it to
/// [`RunningCrc::finish`], which always covers the whole payload.
pub struct RunningCrc<'a> {
    data: &'a [u8],
    done: usize,
    /// `None` when no checksum is wanted: covering is then free.
    digest: Option<crc_fast::Digest>,
}

impl<'a> RunningCrc<'a> {
    /// A checksum of `data`, covered piece by piece.
    pub fn new(data: &'a [u8]) -> Self {
        RunningCrc { data, done: 0, digest: Some(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi)) }
    }

    /// No checksum: every call is a no-op and [`RunningCrc::finish`] gives `None`.
    pub fn off() -> RunningCrc<'static> {
        RunningCrc { data: &[], done: 0, digest: None }
    }

    /// Covers the data up to the end of `part`, a sub-slice of it (everything
    /// before `part` too). A slice that ends at or before what is covered, or is
    /// not part of the data, changes nothing.
    pub fn cover_through(&mut self, part: &[u8]) {
        let Some(digest) = &mut self.digest else { return };
        let start = (part.as_ptr() as usize).wrapping_sub(self.data.as_ptr() as usize);
        let Some(end) = start.checked_add(part.len()).filter(|&e| start <= self.data.len() && e <= self.data.len()) else { return };
        if end > self.done {
            digest.update(&self.data[self.done..end]);
            self.done = end;
        }
    }

    /// The CRC32C of all the data (`None` for [`RunningCrc::off`]).
    pub fn finish(mut self) -> Option<u32> {
        self.cover_through(self.data);
        self.digest.map(|d| d.finalize() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_crc_matches_one_pass_whatever_the_pieces() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 + i / 7) as u8).collect();
        let want = crc32c(&data);
        assert_eq!(RunningCrc::new(&data).finish(), Some(want));
        let mut c = RunningCrc::new(&data);
        c.cover_through(&data[..100]);
        c.cover_through(&data[50..90]); // behind what is covered: nothing
        c.cover_through(&data[3000..4000]); // ahead: covers the gap too
        c.cover_through(&[1, 2, 3]); // not part of the data: nothing
        c.cover_through(&data[..0]);
        assert_eq!(c.finish(), Some(want));
        let mut off = RunningCrc::off();
        off.cover_through(&data);
        assert_eq!(off.finish(), None);
    }
}
