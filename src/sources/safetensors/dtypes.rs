//! safetensors dtypes: names, sizes, stable ids (what the container index and
//! `llmc_tensor_info.ggml_type` report for safetensors sources) and codec choice.

use crate::codec::fields::Layout;
use crate::codec::Method;

/// A safetensors dtype (`llmc_dtype`, `LLMC_DTYPE_*` in C). The numbers are
/// stable ids, stored in containers and reported as `llmc_tensor_info.ggml_type`
/// for tensors of safetensors files.
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// A dtype this version does not know; its bytes are kept and zstd-coded.
    Unknown = 0,
    Bool = 1,
    U8 = 2,
    I8 = 3,
    F8E4M3 = 4,
    F8E5M2 = 5,
    I16 = 6,
    U16 = 7,
    F16 = 8,
    Bf16 = 9,
    I32 = 10,
    U32 = 11,
    F32 = 12,
    F64 = 13,
    I64 = 14,
    U64 = 15,
    F8E8M0 = 16,
    C64 = 17,
}

const ALL: [(Dtype, &str, u64); 17] = [
    (Dtype::Bool, "BOOL", 1),
    (Dtype::U8, "U8", 1),
    (Dtype::I8, "I8", 1),
    (Dtype::F8E4M3, "F8_E4M3", 1),
    (Dtype::F8E5M2, "F8_E5M2", 1),
    (Dtype::I16, "I16", 2),
    (Dtype::U16, "U16", 2),
    (Dtype::F16, "F16", 2),
    (Dtype::Bf16, "BF16", 2),
    (Dtype::I32, "I32", 4),
    (Dtype::U32, "U32", 4),
    (Dtype::F32, "F32", 4),
    (Dtype::F64, "F64", 8),
    (Dtype::I64, "I64", 8),
    (Dtype::U64, "U64", 8),
    (Dtype::F8E8M0, "F8_E8M0", 1),
    (Dtype::C64, "C64", 8),
];

/// zstd level for tensors no model covers.
const ZSTD_LEVEL: i32 = crate::sources::plan::TENSOR_ZSTD_LEVEL;

impl Dtype {
    /// Every dtype id a container may report, `Unknown` included.
    pub fn all() -> impl Iterator<Item = Dtype> {
        core::iter::once(Dtype::Unknown).chain(ALL.iter().map(|(d, _, _)| *d))
    }

    pub fn from_name(name: &str) -> Dtype {
        ALL.iter().find(|(_, n, _)| *n == name).map_or(Dtype::Unknown, |(d, _, _)| *d)
    }

    pub fn from_id(id: u32) -> Dtype {
        ALL.iter().find(|(d, _, _)| *d as u32 == id).map_or(Dtype::Unknown, |(d, _, _)| *d)
    }

    pub fn name(self) -> &'static str {
        ALL.iter().find(|(d, _, _)| *d == self).map_or("unknown", |(_, n, _)| n)
    }

    /// Bytes per element; `None` for unknown dtypes (including sub-byte ones).
    pub fn size(self) -> Option<u64> {
        ALL.iter().find(|(d, _, _)| *d == self).map(|(_, _, s)| *s)
    }

    /// Bytes a tensor of this dtype and shape takes: `None` if the dtype is
    /// unknown, `Some(None)` if the size overflows.
    pub fn nbytes(self, shape: &[u64]) -> Option<Option<u64>> {
        let size = self.size()?;
        Some(shape.iter().try_fold(size, |acc, &d| acc.checked_mul(d)))
    }

    /// Candidate codecs (the smallest result is kept): the bf16 codec for BF16,
    /// byte planes for the other multi-byte types (their high bytes carry
    /// exponents or sign extension), zstd as the fallback.
    pub fn methods(self) -> Vec<Method> {
        let zstd = Method::Zstd { level: ZSTD_LEVEL };
        match self {
            Dtype::Bf16 => vec![Method::Bf16],
            Dtype::F16 => vec![Method::Fields(Layout::planes(2))],
            Dtype::Unknown => vec![zstd],
            d => match d.size() {
                Some(s @ (2 | 4 | 8)) => vec![Method::Fields(Layout::planes(s as u16)), zstd],
                _ => vec![Method::Fields(Layout::planes(1)), zstd],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_round_trip() {
        for (d, name, _) in ALL {
            assert_eq!(Dtype::from_name(name), d);
            assert_eq!(Dtype::from_id(d as u32), d);
            assert_eq!(d.name(), name);
        }
        assert_eq!(Dtype::from_name("F4"), Dtype::Unknown);
    }
}
