//! Generates the C header with cbindgen. The header always goes to OUT_DIR (a test
//! compares it with the committed include/llmc.h); `LLMC_UPDATE_HEADER=1` also
//! rewrites include/llmc.h.

use std::path::PathBuf;

const FFI_SOURCES: [&str; 7] =
    ["src/ffi/types.rs", "src/ffi/info.rs", "src/ffi/frames.rs", "src/ffi/container.rs", "src/ffi/reader.rs", "src/ffi/util.rs", "src/ffi/boundary.rs"];

fn version_block() -> String {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let minor = env!("CARGO_PKG_VERSION_MINOR");
    let patch = env!("CARGO_PKG_VERSION_PATCH");
    format!(
        "\n/* Library, ABI and format versions are three different numbers. */\n\
         #define LLMC_VERSION_MAJOR {major}\n\
         #define LLMC_VERSION_MINOR {minor}\n\
         #define LLMC_VERSION_PATCH {patch}\n\
         #define LLMC_VERSION_NUMBER (LLMC_VERSION_MAJOR * 10000 + LLMC_VERSION_MINOR * 100 + LLMC_VERSION_PATCH)\n\
         #define LLMC_ABI_VERSION 1\n\
         #define LLMC_FORMAT_VERSION_MIN 1\n\
         #define LLMC_FORMAT_VERSION_MAX 1\n\
         #define LLMC_Q4K_BLOCK_BYTES 144u   /* ggml block_q4_K: 256 weights */\n\
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
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
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
