//! Kernel tables: one per ISA, each reachable only through [`Kernels::get`],
//! which returns nothing when the CPU lacks the ISA. The scalar code in the
//! codecs is the specification; every SIMD kernel must produce identical bytes.
//!
//! A kernel advances a decoder as far as it can do so safely (whole steps, with
//! enough input left for its wide loads) and leaves the rest to the scalar code,
//! which also performs the final integrity checks.

use crate::codec::bf16::{Bf16Stream, Bf16Tables};
use crate::codec::q4k::decode::{assemble_scalar, Parts};
use crate::codec::stream::{ByteStream, TableRef};
use crate::isa::Isa;
use crate::rans::encode::{encode_full_steps, EncodeKernel};

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(target_arch = "x86_64")]
mod q4k_avx2;
#[cfg(target_arch = "x86_64")]
mod q4k_avx512;

pub type Bf16Kernel = fn(&Bf16Tables, &mut Bf16Stream<'_>);
pub type BytesKernel = fn(TableRef<'_>, &mut ByteStream<'_>);
/// Builds `n` Q4_K blocks into `out` from decoded parts.
pub type Q4kAssemble = fn(&Parts<'_>, usize, &mut [u8]);

pub struct Kernels {
    pub isa: Isa,
    pub bf16_decode: Bf16Kernel,
    pub bytes_decode: BytesKernel,
    /// Whether the decode kernels read the AVX2-layout slot tables
    /// (`rans::table::build_avx2`), which the codecs then build.
    pub avx2_tables: bool,
    pub rans_encode: EncodeKernel,
    pub q4k_assemble: Q4kAssemble,
}

fn q4k_scalar(parts: &Parts<'_>, n: usize, out: &mut [u8]) {
    assemble_scalar(parts, n, 0, out);
}

/// The scalar family decodes everything in the codecs' own scalar code.
fn bf16_none(_: &Bf16Tables, _: &mut Bf16Stream<'_>) {}
fn bytes_none(_: TableRef<'_>, _: &mut ByteStream<'_>) {}

static SCALAR: Kernels = Kernels {
    isa: Isa::Scalar,
    bf16_decode: bf16_none,
    bytes_decode: bytes_none,
    avx2_tables: false,
    rans_encode: encode_full_steps,
    q4k_assemble: q4k_scalar,
};

#[cfg(target_arch = "x86_64")]
static AVX2: Kernels = Kernels {
    isa: Isa::Avx2,
    bf16_decode: avx2::bf16_decode,
    bytes_decode: avx2::bytes_decode,
    avx2_tables: true,
    rans_encode: encode_full_steps,
    q4k_assemble: q4k_avx2::q4k_assemble,
};

#[cfg(target_arch = "x86_64")]
static AVX512: Kernels = Kernels {
    isa: Isa::Avx512,
    bf16_decode: avx512::bf16_decode,
    bytes_decode: avx512::bytes_decode,
    avx2_tables: false,
    rans_encode: avx512::rans_encode,
    q4k_assemble: q4k_avx512::q4k_assemble,
};

impl Kernels {
    /// The table for `isa`, or `None` if this CPU cannot run it.
    pub fn get(isa: Isa) -> Option<&'static Kernels> {
        if !isa.is_supported() {
            return None;
        }
        match isa {
            Isa::Scalar => Some(&SCALAR),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => Some(&AVX2),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => Some(&AVX512),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}
