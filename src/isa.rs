//! Instruction-set detection and the process-wide ISA setting.
//!
//! The CPU is probed once and cached. The process-wide setting starts from the
//! `LLMC_ISA` environment variable (`scalar|avx2|avx512|avx512-permute|auto`, read once, at first
//! use) and can be changed with [`set_process_isa`]. Nothing here ever selects an
//! ISA the CPU lacks: requests for one are refused with `IsaUnsupported`.

use crate::error::{Error, Result};
use core::ffi::CStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// A kernel family (`llmc_isa`, `LLMC_ISA_*` in C).
///
/// cbindgen:rename-all=QualifiedScreamingSnakeCase
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Isa {
    /// Portable Rust; the specification every other kernel must match bit for bit.
    Scalar = 1,
    /// AVX2 + BMI2 + POPCNT (Haswell and later).
    Avx2 = 2,
    /// AVX-512 F/BW/VL/VBMI/VBMI2 + BMI2 + POPCNT (Ice Lake and later, Zen 4 and later).
    Avx512 = 3,
    /// The AVX-512 kernels with one change: the bf16 and byte-stream decoders
    /// look symbols up with byte permutes on register-resident tables instead
    /// of gathers. `Avx512`'s features plus BITALG; the default on AMD (Zen 4
    /// gathers are slow), while Intel keeps `Avx512`.
    Avx512Permute = 4,
}

/// `LLMC_ISA_AUTO`: let detection choose (not a kernel family itself).
pub const LLMC_ISA_AUTO: u32 = 0;
/// [`LLMC_ISA_AUTO`] under its Rust name.
pub const ISA_AUTO: u32 = LLMC_ISA_AUTO;

/// Every ISA, lowest first.
pub const ALL_ISAS: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Permute];

impl Isa {
    pub fn name(self) -> &'static str {
        self.c_name().to_str().expect("names are ASCII")
    }

    /// [`Isa::name`], NUL-terminated: the one table of names, for Rust and C.
    pub const fn c_name(self) -> &'static CStr {
        match self {
            Isa::Scalar => c"scalar",
            Isa::Avx2 => c"avx2",
            Isa::Avx512 => c"avx512",
            Isa::Avx512Permute => c"avx512-permute",
        }
    }

    /// Validates a number coming from C (0 = auto is not an `Isa`).
    pub fn from_code(code: u32) -> Option<Isa> {
        ALL_ISAS.iter().copied().find(|i| *i as u32 == code)
    }

    /// Parses `scalar`, `avx2`, `avx512` (case-insensitive).
    pub fn parse(s: &str) -> Option<Isa> {
        ALL_ISAS.iter().copied().find(|i| i.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Whether this CPU (and this build) can run the ISA's kernels.
    pub fn is_supported(self) -> bool {
        cpu_mask() & (1 << self as u32) != 0
    }
}

/// Name of any ISA number: "auto", "scalar", "avx2", "avx512" or "unknown".
pub fn isa_name(code: u32) -> &'static str {
    isa_c_name(code).to_str().expect("names are ASCII")
}

/// [`isa_name`], NUL-terminated (for `llmc_isa_name`).
pub fn isa_c_name(code: u32) -> &'static CStr {
    if code == ISA_AUTO {
        return c"auto";
    }
    Isa::from_code(code).map_or(c"unknown", Isa::c_name)
}

fn probe_cpu() -> u32 {
    let mut mask = 1 << Isa::Scalar as u32;
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi2")
            && std::arch::is_x86_feature_detected!("popcnt");
        if avx2 {
            mask |= 1 << Isa::Avx2 as u32;
        }
        let avx512 = avx2
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512vbmi")
            && std::arch::is_x86_feature_detected!("avx512vbmi2");
        if avx512 {
            mask |= 1 << Isa::Avx512 as u32;
        }
        // The permute family's byte kernel counts symbol starts with BITALG's
        // byte popcount (every CPU with VBMI2 has it; checked all the same).
        if avx512 && std::arch::is_x86_feature_detected!("avx512bitalg") {
            mask |= 1 << Isa::Avx512Permute as u32;
        }
    }
    mask
}

/// Bit `1 << isa` is set for every ISA this CPU and build can run.
pub fn cpu_mask() -> u32 {
    static MASK: OnceLock<u32> = OnceLock::new();
    *MASK.get_or_init(probe_cpu)
}

/// The best ISA this CPU can run: the widest, and of the two AVX-512 families
/// the one measured faster on this CPU's vendor.
pub fn cpu_best() -> Isa {
    // Probed once: `active()` asks on every call that uses the process setting,
    // and CPUID traps to the hypervisor in a VM.
    static BEST: OnceLock<Isa> = OnceLock::new();
    *BEST.get_or_init(|| {
        let mask = cpu_mask();
        let widest = ALL_ISAS.iter().rev().copied().find(|i| mask & (1 << *i as u32) != 0).unwrap_or(Isa::Scalar);
        match widest {
            Isa::Avx512Permute if !slow_gathers() => Isa::Avx512,
            isa => isa,
        }
    })
}

/// Whether vector gathers are slow here compared with byte permutes (AVX-512)
/// or scalar loads (AVX2): on AMD (Zen 4: a 16-lane gather costs about 16
/// cycles, a 64-byte two-table permute one; Zen 3: an 8-lane gather about 10).
/// Intel CPUs are not counted in: there the gather kernels were measured and
/// the others not yet. Probed once (CPUID traps to the hypervisor in a VM).
pub(crate) fn slow_gathers() -> bool {
    static SLOW: OnceLock<bool> = OnceLock::new();
    *SLOW.get_or_init(amd)
}

fn amd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // Leaf 0 returns the vendor string in EBX, EDX, ECX.
        let id = core::arch::x86_64::__cpuid(0);
        [id.ebx, id.edx, id.ecx] == [u32::from_le_bytes(*b"Auth"), u32::from_le_bytes(*b"enti"), u32::from_le_bytes(*b"cAMD")]
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

const UNINIT: u32 = u32::MAX;
static SETTING: AtomicU32 = AtomicU32::new(UNINIT);

/// What `LLMC_ISA` asked for, if it was set: `Ok(code)` when usable, or the
/// refused value (unknown name, or an ISA this CPU lacks). A refused value leaves
/// the setting at auto.
pub fn env_request() -> Option<core::result::Result<u32, String>> {
    let raw = std::env::var("LLMC_ISA").ok()?;
    if raw.trim().eq_ignore_ascii_case("auto") || raw.trim().is_empty() {
        return Some(Ok(ISA_AUTO));
    }
    match Isa::parse(&raw) {
        Some(isa) if isa.is_supported() => Some(Ok(isa as u32)),
        _ => Some(Err(raw)),
    }
}

fn setting() -> u32 {
    let cur = SETTING.load(Ordering::Acquire);
    if cur != UNINIT {
        return cur;
    }
    let from_env = match env_request() {
        Some(Ok(code)) => code,
        _ => ISA_AUTO,
    };
    // First caller wins; later callers read what it stored.
    match SETTING.compare_exchange(UNINIT, from_env, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => from_env,
        Err(existing) => existing,
    }
}

/// Changes the process-wide ISA. `ISA_AUTO` restores detection. An ISA the CPU
/// lacks (or an unknown number) is refused and the setting is left unchanged.
pub fn set_process_isa(code: u32) -> Result<()> {
    if code != ISA_AUTO {
        let isa = Isa::from_code(code).ok_or(Error::InvalidArgument)?;
        if !isa.is_supported() {
            return Err(Error::IsaUnsupported);
        }
    }
    setting(); // make sure a later first read does not overwrite us with the env value
    SETTING.store(code, Ordering::Release);
    Ok(())
}

/// The ISA the process-wide dispatcher uses now.
pub fn active() -> Isa {
    match setting() {
        ISA_AUTO => cpu_best(),
        code => Isa::from_code(code).unwrap_or_else(cpu_best),
    }
}

/// Resolves a per-call request: `None` = the process-wide setting.
pub fn resolve(request: Option<Isa>) -> Result<Isa> {
    match request {
        None => Ok(active()),
        Some(isa) if isa.is_supported() => Ok(isa),
        Some(_) => Err(Error::IsaUnsupported),
    }
}

/// The ISAs this machine supports, lowest first.
pub fn supported() -> Vec<Isa> {
    ALL_ISAS.iter().copied().filter(|i| i.is_supported()).collect()
}
