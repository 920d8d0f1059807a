#!/usr/bin/env bash
# Runs the cargo-fuzz targets, each for SECONDS (default 30), seeded from the
# real fixtures, and prints executions per target. Exits non-zero on any crash,
# leak, timeout or out-of-memory; libFuzzer leaves the reproducer under
# fuzz/artifacts/TARGET/ (minimise it with `cargo +nightly fuzz tmin TARGET FILE`
# and keep it as a regression test).
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     (default: every target)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs=${1:-30}
shift || true

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: a nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

echo "fuzz: seeding corpora from fixtures"
cargo run --quiet --release --example make_seeds -- fuzz/corpus
echo "fuzz: building ${#targets[@]} targets"
(cd fuzz && cargo +nightly fuzz build -O)

mkdir -p fuzz/logs
status=0
for t in "${targets[@]}"; do
    log="fuzz/logs/$t.log"
    if (cd fuzz && cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
            -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
            -print_final_stats=1) >"$log" 2>&1; then
        result=ok
    else
        result=FAILED
        status=1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    printf 'fuzz %-20s %6ss %12s execs  %-10s %s\n' "$t" "$secs" "$execs" "$cov" "$result"
    if [ $result = FAILED ]; then
        grep -E "panicked|ERROR|SUMMARY|Test unit written" "$log" | head -8 | sed 's/^/    /'
    fi
done
exit $status
