#!/usr/bin/env bash
# Miri (nightly) on the part of the library it can interpret: the scalar codecs
# (bf16, q4k, fields, stored), the frame parser, the byte and bit readers, the
# rANS tables, the GGUF/safetensors header parsers and the C ABI called from
# Rust (tests/miri_scalar.rs, plus the unit tests selected below).
#
#   bash scripts/miri.sh        (needs `rustup +nightly component add miri rust-src`)
#
# Left out, because Miri cannot run them: the AVX2/AVX-512 kernels (under Miri
# CPU detection reports no features, so the scalar code runs), zstd (C code
# through zstd-sys), mmap (memmap2) and files, so the container API and the CLI.
# Arithmetic-only exhaustive tests (rANS reciprocal division, every bf16 word,
# every Q4_K window) are skipped: Miri adds nothing to them and they take minutes.
# The f16 one stays (20 s): Miri perturbs float functions such as `powi`, which
# caught a test relying on their precision.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
started=$SECONDS

cargo +nightly miri --version >/dev/null 2>&1 || { echo "miri: needs the nightly toolchain with the miri component"; exit 1; }
cargo +nightly miri setup --quiet 2>/dev/null || cargo +nightly miri setup

echo "miri: tests/miri_scalar.rs"
cargo +nightly miri test --quiet --test miri_scalar

echo "miri: library unit tests (format, rans tables, fields, ranks, header parsers)"
cargo +nightly miri test --quiet --lib -- \
  format:: rans::alphabet rans::freq codec::fields codec::ranks sources::safetensors:: sources::gguf::parser sources::gguf::types

echo "miri: ok ($((SECONDS - started)) s)"
