//! Checksums: CRC32C (Castagnoli). The crc-fast crate picks a carry-less-multiply
//! kernel at run time (~80 GB/s with AVX-512 VPCLMULQDQ on our machine), so
//! verifying chunks costs a few percent of decode time.

/// CRC32C of `data`.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, data) as u32
}
