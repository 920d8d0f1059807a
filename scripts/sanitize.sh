#!/usr/bin/env bash
# Every C example under AddressSanitizer and UndefinedBehaviorSanitizer (gcc),
# linked against the release static library, run on the inputs the tests give
# it. Fails, naming the example, on any sanitizer report, leak or non-zero exit.
#
#   bash scripts/sanitize.sh            (from any directory, on a fresh clone)
#
# The Rust library itself is not instrumented (stable cannot); ASan still sees
# every allocation through malloc/free, so leaks and double frees across the C
# ABI are caught, and everything the C side does with the library's buffers is
# checked. LLMC_SANITIZE_RUST=1 also instruments the library (Rust with nightly
# -Zsanitizer=address, the bundled zstd with -fsanitize=address; about 4 more
# minutes of build), so out-of-bounds reads inside the Rust and SIMD code are
# caught too. LLMC_SANITIZE_CC overrides the compiler (default gcc).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
cc=${LLMC_SANITIZE_CC:-gcc}
started=$SECONDS

echo "sanitize: building the library and the CLI (release)"
cargo build --release --quiet --lib --bins
lib=$CARGO_TARGET_DIR/release/libllmc.a
llmc=$CARGO_TARGET_DIR/release/llmc
if [[ ${LLMC_SANITIZE_RUST:-0} == 1 ]]; then
  echo "sanitize: building the library with nightly -Zsanitizer=address (Rust and zstd instrumented)"
  triple=$(rustc -vV | sed -n 's/^host: //p')
  # --target keeps build scripts and proc macros uninstrumented.
  env RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes" "CFLAGS_${triple//-/_}=-fsanitize=address -fno-omit-frame-pointer" \
    cargo +nightly build --release --quiet --lib --target "$triple" --target-dir "$CARGO_TARGET_DIR/asan-rust"
  lib=$CARGO_TARGET_DIR/asan-rust/$triple/release/libllmc.a
fi
out=$CARGO_TARGET_DIR/sanitize
mkdir -p "$out"

flags=(-g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
       -Wall -Wextra -Werror -pedantic -I"$root/include" -I"$root/c_examples")
# What a Rust staticlib needs (`rustc --print native-static-libs`), as tests/common/c_build.rs.
native=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

fx=$root/fixtures
bf16_small=$fx/bf16/all-minilm-l6-v2.layer.0.query.bf16
bf16_mid=$fx/bf16/all-minilm-l6-v2.layer.3.output.bf16
q4k_small=$fx/q4k/qwen2.5-coder-1.5b.blk.0.attn_k.q4k
q4k_mid=$fx/q4k/qwen2.5-coder-1.5b.blk.0.attn_q.q4k
blk0=$fx/gguf/gemma-3-270m-q4_k_m.blk0.gguf

# Reports name the example; a sanitizer report is a failure even if the
# process somehow exited 0.
failed=()
run() {
  local name=$1 label=$2
  shift 2
  local log=$out/$name.$label.log t0=$SECONDS status=0
  "$@" >"$log" 2>&1 || status=$?
  if [[ $status -ne 0 ]] || grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer' "$log"; then
    echo "sanitize: FAIL $name ($label): exit $status after $((SECONDS - t0)) s; log $log:"
    sed 's/^/    /' "$log" | tail -40
    failed+=("$name ($label)")
  else
    local last
    last=$(grep -vE '^ *$' "$log" | tail -1 || true)
    echo "sanitize: ok   $name ($label) $((SECONDS - t0)) s: ${last:-exit 0, no output}"
  fi
}

build() {
  local name=$1 src=$2
  shift 2
  "$cc" "${flags[@]}" "$@" "$src" -o "$out/$name" "$lib" "${native[@]}" ||
    { echo "sanitize: FAIL $name: does not compile with sanitizers"; exit 1; }
}

# Inputs for each example, as in tests/c_api.rs, tests/smoke_gate.rs.
run_example() {
  local name=$1 bin=$out/$1
  case $name in
    header_check)
      run "$name" c99 "$bin"
      g++ "${flags[@]}" -std=c++17 -x c++ "$root/c_examples/header_check.c" -x none -o "$bin.cpp" "$lib" "${native[@]}"
      run "$name" c++17 "$bin.cpp" ;;
    bf16_roundtrip)
      run "$name" query "$bin" "$bf16_small"
      run "$name" output "$bin" "$bf16_mid" ;;
    q4k_roundtrip)
      run "$name" attn_k "$bin" "$q4k_small"
      run "$name" attn_q "$bin" "$q4k_mid" ;;
    gguf_loader)
      "$llmc" compress -f "$blk0" -o "$out/blk0.gguf.llmc" --level 3 -T 2 2>/dev/null
      run "$name" blk0 "$bin" "$out/blk0.gguf.llmc" "$blk0" 4 ;;
    safetensors_loader)
      local minilm
      minilm=$("$llmc" fetch minilm)
      run "$name" minilm "$bin" "$minilm" "$out/minilm.safetensors.llmc"
      run "$name" by-name "$bin" "$minilm" "$out/minilm.safetensors.llmc" \
        embeddings.word_embeddings.weight encoder.layer.5.output.dense.bias ;;
    smoke)
      local gemma
      gemma=$("$llmc" fetch gemma)
      run "$name" gate "$bin" "$fx/bf16/all-minilm-l6-v2.word_embeddings.bf16" \
        "$fx/q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k" "$gemma" "$out" ;;
    reader)
      "$llmc" compress -f "$blk0" -o "$out/reader-blk0.gguf.llmc" --level 3 -T 2 2>/dev/null
      run "$name" threads-0 "$bin" "$out/reader-blk0.gguf.llmc" "$blk0" 0
      run "$name" threads-2 "$bin" "$out/reader-blk0.gguf.llmc" "$blk0" 2 ;;
    corrupt_input)
      run "$name" hostile "$bin" "$bf16_small" "$q4k_small" "$blk0" "$out" ;;
    stream_decode)
      "$llmc" compress -f "$blk0" -o "$out/blk0-stream.gguf.llmc" --level 3 -T 2 2>/dev/null
      run "$name" container "$bin" "$out/blk0-stream.gguf.llmc" "$blk0" 2
      "$llmc" compress -f --codec bf16 --content-checksum "$bf16_mid" -o "$out/stream.llmf" 2>/dev/null
      run "$name" frame "$bin" "$out/stream.llmf" "$bf16_mid" 1 ;;
    *)
      echo "sanitize: FAIL $name: no inputs known for c_examples/$name.c; add it to scripts/sanitize.sh"
      failed+=("$name (no inputs)") ;;
  esac
}

for src in "$root"/c_examples/*.c; do
  name=$(basename "$src" .c)
  extra=()
  [[ $name == gguf_loader || $name == reader ]] && extra=(-pthread)
  build "$name" "$src" -std=c99 "${extra[@]}"
  run_example "$name"
done

if ((${#failed[@]})); then
  echo "sanitize: FAILED (${#failed[@]}): ${failed[*]} ($((SECONDS - started)) s)"
  exit 1
fi
echo "sanitize: all C examples clean under ASan+UBSan+LSan ($((SECONDS - started)) s)"
