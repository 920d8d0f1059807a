//! x86-64 kernels: one self-contained file per ISA and job, over `shared.rs`.

pub(super) mod avx2;
pub(super) mod avx512;
pub(super) mod encode_avx2;
pub(super) mod encode_avx512;
pub(super) mod q4k_avx2;
pub(super) mod q4k_avx512;
pub(super) mod q4k_ctx_avx2;
pub(super) mod q4k_ctx_avx512;
pub(super) mod quant_fold;
mod shared;
