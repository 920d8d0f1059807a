//! Generates the C header with cbindgen. The header always goes to OUT_DIR (a test
//! compares it with the committed include/llmc.h); `LLMC_UPDATE_HEADER=1` also
//! rewrites include/llmc.h.

use std::path::PathBuf;

/// The C boundary, and the files that define the ABI's enums and numbers once.
const FFI_SOURCES: [&str; 13] = [
    "src/error.rs",
    "src/isa.rs",
    "src/format/abi.rs",
    "src/sources/safetensors/dtypes.rs",
    "src/ffi/types.rs",
    "src/ffi/info.rs",
    "src/ffi/frames.rs",
    "src/ffi/container.rs",
    "src/ffi/stream.rs",
    "src/ffi/reader.rs",
    "src/ffi/gguf_names.rs",
    "src/ffi/util.rs",
    "src/ffi/boundary.rs",
];

/// The ABI version, read from its one definition (`LLMC_ABI_VERSION` in
/// src/ffi/types.rs, which cbindgen also exports): the shared library's soname
/// (libllmc.so.N on Linux) follows it.
fn abi_version(root: &std::path::Path) -> u32 {
    let types = std::fs::read_to_string(root.join("src/ffi/types.rs")).expect("src/ffi/types.rs is readable");
    types
        .lines()
        .find_map(|l| l.trim().strip_prefix("pub const LLMC_ABI_VERSION: u32 = ")?.strip_suffix(';')?.parse().ok())
        .expect("src/ffi/types.rs defines `pub const LLMC_ABI_VERSION: u32 = N;`")
}

fn version_block() -> String {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let minor = env!("CARGO_PKG_VERSION_MINOR");
    let patch = env!("CARGO_PKG_VERSION_PATCH");
    format!(
        "\n/* Library, ABI and format versions are three different numbers (the ABI and format\n\
         versions come with the definitions below). */\n\
         #define LLMC_VERSION_MAJOR {major}\n\
         #define LLMC_VERSION_MINOR {minor}\n\
         #define LLMC_VERSION_PATCH {patch}\n\
         #define LLMC_VERSION_NUMBER (LLMC_VERSION_MAJOR * 10000 + LLMC_VERSION_MINOR * 100 + LLMC_VERSION_PATCH)\n\
         #if defined(__GNUC__) || defined(__clang__)\n\
         #  define LLMC_NODISCARD __attribute__((warn_unused_result))\n\
         #else\n\
         #  define LLMC_NODISCARD\n\
         #endif\n"
    )
}

fn main() {
    for src in FFI_SOURCES {
        println!("cargo:rerun-if-changed={src}");
    }
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-env-changed=LLMC_UPDATE_HEADER");
    // Tests compile the C examples with the `cc` crate, which needs the triples.
    for var in ["TARGET", "HOST"] {
        println!("cargo:rustc-env=LLMC_BUILD_{var}={}", std::env::var(var).unwrap_or_default());
    }
    // A versioned soname (cargo-c's convention): programs record libllmc.so.N and keep
    // working across library updates until the ABI version changes. Tests read it back.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux") {
        let soname = format!("libllmc.so.{}", abi_version(&root));
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
        println!("cargo:rustc-env=LLMC_SONAME={soname}");
    }
    let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    config.after_includes = Some(version_block());
    let mut builder = cbindgen::Builder::new().with_config(config);
    for src in FFI_SOURCES {
        builder = builder.with_src(root.join(src));
    }
    let header = builder.generate().expect("cbindgen can parse src/ffi");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("llmc.h");
    header.write_to_file(&out);
    if std::env::var("LLMC_UPDATE_HEADER").is_ok_and(|v| v == "1") {
        header.write_to_file(root.join("include/llmc.h"));
    }
}
