//! The ggml tensor type table: id, name, elements per block, bytes per block.
//!
//! Matches llama.cpp's `ggml_type` enum and `type_traits` (ggml/include/ggml.h,
//! ggml/src/ggml.c, block structs in ggml/src/ggml-common.h) as of NVFP4 and Q1_0.
//! Names are the enum names without the `GGML_TYPE_` prefix (what gguf-py prints).
//! Ids llama.cpp removed from GGUF files (4, 5, 31-33, 36-38) are unknown here, as
//! they are to llama.cpp's loader.

/// One ggml tensor type: `block_size` elements are stored in `type_size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgmlType {
    pub id: u32,
    pub name: &'static str,
    pub block_size: u32,
    pub type_size: u32,
}

impl GgmlType {
    /// Bytes taken by `n_elements` elements; `None` if they are not whole blocks
    /// or the size does not fit in a `u64`.
    pub fn nbytes(&self, n_elements: u64) -> Option<u64> {
        let block = u64::from(self.block_size);
        if !n_elements.is_multiple_of(block) {
            return None;
        }
        (n_elements / block).checked_mul(u64::from(self.type_size))
    }
}

pub const F32: u32 = 0;
pub const F16: u32 = 1;
pub const Q4_0: u32 = 2;
pub const Q4_1: u32 = 3;
pub const Q5_0: u32 = 6;
pub const Q5_1: u32 = 7;
pub const Q8_0: u32 = 8;
pub const Q8_1: u32 = 9;
pub const Q2_K: u32 = 10;
pub const Q3_K: u32 = 11;
pub const Q4_K: u32 = 12;
pub const Q5_K: u32 = 13;
pub const Q6_K: u32 = 14;
pub const Q8_K: u32 = 15;
pub const IQ2_XXS: u32 = 16;
pub const IQ2_XS: u32 = 17;
pub const IQ3_XXS: u32 = 18;
pub const IQ1_S: u32 = 19;
pub const IQ4_NL: u32 = 20;
pub const IQ3_S: u32 = 21;
pub const IQ2_S: u32 = 22;
pub const IQ4_XS: u32 = 23;
pub const I8: u32 = 24;
pub const I16: u32 = 25;
pub const I32: u32 = 26;
pub const I64: u32 = 27;
pub const F64: u32 = 28;
pub const IQ1_M: u32 = 29;
pub const BF16: u32 = 30;
pub const TQ1_0: u32 = 34;
pub const TQ2_0: u32 = 35;
pub const MXFP4: u32 = 39;
pub const NVFP4: u32 = 40;
pub const Q1_0: u32 = 41;

/// One past the largest id in the table.
pub const TYPE_ID_END: u32 = 42;

/// K-quant super-block size (`QK_K`).
const QK_K: u32 = 256;

const fn t(id: u32, name: &'static str, block_size: u32, type_size: u32) -> GgmlType {
    GgmlType { id, name, block_size, type_size }
}

/// Every known type, by increasing id. Sizes are `sizeof(block_*)` in ggml-common.h.
pub const GGML_TYPES: [GgmlType; 34] = [
    t(F32, "F32", 1, 4),
    t(F16, "F16", 1, 2),
    t(Q4_0, "Q4_0", 32, 2 + 16),
    t(Q4_1, "Q4_1", 32, 2 + 2 + 16),
    t(Q5_0, "Q5_0", 32, 2 + 4 + 16),
    t(Q5_1, "Q5_1", 32, 2 + 2 + 4 + 16),
    t(Q8_0, "Q8_0", 32, 2 + 32),
    // Two f16 (d, s) since 2024; gguf-py 0.19.0 still says two f32 (40 bytes).
    t(Q8_1, "Q8_1", 32, 2 + 2 + 32),
    t(Q2_K, "Q2_K", QK_K, QK_K / 16 + QK_K / 4 + 2 + 2),
    t(Q3_K, "Q3_K", QK_K, QK_K / 8 + QK_K / 4 + 12 + 2),
    t(Q4_K, "Q4_K", QK_K, 2 + 2 + 12 + QK_K / 2),
    t(Q5_K, "Q5_K", QK_K, 2 + 2 + 12 + QK_K / 8 + QK_K / 2),
    t(Q6_K, "Q6_K", QK_K, QK_K / 2 + QK_K / 4 + QK_K / 16 + 2),
    t(Q8_K, "Q8_K", QK_K, 4 + QK_K + QK_K / 16 * 2),
    t(IQ2_XXS, "IQ2_XXS", QK_K, 2 + QK_K / 8 * 2),
    t(IQ2_XS, "IQ2_XS", QK_K, 2 + QK_K / 8 * 2 + QK_K / 32),
    t(IQ3_XXS, "IQ3_XXS", QK_K, 2 + 3 * QK_K / 8),
    t(IQ1_S, "IQ1_S", QK_K, 2 + QK_K / 8 + QK_K / 32 * 2),
    t(IQ4_NL, "IQ4_NL", 32, 2 + 16),
    t(IQ3_S, "IQ3_S", QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 8 + QK_K / 64),
    t(IQ2_S, "IQ2_S", QK_K, 2 + QK_K / 4 + QK_K / 32 + QK_K / 32),
    t(IQ4_XS, "IQ4_XS", QK_K, 2 + 2 + QK_K / 64 + QK_K / 2),
    t(I8, "I8", 1, 1),
    t(I16, "I16", 1, 2),
    t(I32, "I32", 1, 4),
    t(I64, "I64", 1, 8),
    t(F64, "F64", 1, 8),
    t(IQ1_M, "IQ1_M", QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32),
    t(BF16, "BF16", 1, 2),
    t(TQ1_0, "TQ1_0", QK_K, (QK_K - 4 * QK_K / 64) / 5 + QK_K / 64 + 2),
    t(TQ2_0, "TQ2_0", QK_K, QK_K / 4 + 2),
    t(MXFP4, "MXFP4", 32, 1 + 16),
    t(NVFP4, "NVFP4", 64, 64 / 16 + 64 / 2),
    t(Q1_0, "Q1_0", 128, 2 + 128 / 8),
];

/// Direct index from id to table entry, built at compile time.
const BY_ID: [Option<GgmlType>; TYPE_ID_END as usize] = {
    let mut by_id = [None; TYPE_ID_END as usize];
    let mut i = 0;
    while i < GGML_TYPES.len() {
        by_id[GGML_TYPES[i].id as usize] = Some(GGML_TYPES[i]);
        i += 1;
    }
    by_id
};

/// The type with this id, or `None` for removed and future ids.
pub fn ggml_type(id: u32) -> Option<&'static GgmlType> {
    BY_ID.get(id as usize)?.as_ref()
}

/// The type's name ("Q4_K"), or "unknown".
pub fn type_name(id: u32) -> &'static str {
    ggml_type(id).map_or("unknown", |t| t.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_indexed() {
        for w in GGML_TYPES.windows(2) {
            assert!(w[0].id < w[1].id);
        }
        for ty in &GGML_TYPES {
            assert_eq!(ggml_type(ty.id), Some(ty));
        }
        for removed in [4, 5, 31, 32, 33, 36, 37, 38, TYPE_ID_END, u32::MAX] {
            assert_eq!(ggml_type(removed), None);
        }
    }

    #[test]
    fn sizes_of_common_blocks() {
        let size = |id| ggml_type(id).unwrap().type_size;
        assert_eq!([size(Q4_K), size(Q5_K), size(Q6_K), size(Q8_0), size(Q8_1)], [144, 176, 210, 34, 36]);
        assert_eq!(ggml_type(Q4_K).unwrap().nbytes(512), Some(288));
        assert_eq!(ggml_type(Q4_K).unwrap().nbytes(100), None);
        assert_eq!(ggml_type(F64).unwrap().nbytes(u64::MAX), None);
    }
}
