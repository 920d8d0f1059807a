#!/usr/bin/env bash
# End-to-end file -> file benchmark of `llmc compress` / `llmc decompress`
# beside zstd and cp of the same file, in the same run (issue 11):
#
#   bash benches/e2e.sh FILE [RUNS] [WORKDIR]
#
# For each command: best wall time of RUNS (default 5), GB/s of the original
# file's size, and peak RSS (max over the runs). Outputs go to WORKDIR (default
# /dev/shm, a tmpfs, so the disk does not set the pace). The zstd -19 copy of
# FILE is made once and kept as ~/.cache/llmc/NAME.zst19 (it takes minutes).
# Needs /usr/bin/time and zstd (apt-get install zstd time).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
file=$(realpath "$1")
runs=${2:-5}
work=${3:-/dev/shm}/llmc-e2e-$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
llmc=target/release/llmc
[ -x "$llmc" ] || cargo build --release --quiet
all=$(nproc)
size=$(stat -c %s "$file")
name=$(basename "$file")
cache=$HOME/.cache/llmc
mkdir -p "$cache"
if [ ! -s "$cache/$name.zst19" ]; then
    echo "making $cache/$name.zst19 (zstd -19 -T0, once)" >&2
    zstd -q -19 -T0 "$file" -o "$cache/$name.zst19.tmp" && mv "$cache/$name.zst19.tmp" "$cache/$name.zst19"
fi
"$llmc" compress -T "$all" "$file" -o "$work/in.llmc" 2>/dev/null
zstd -q -3 -T0 -f "$file" -o "$work/in.zst3"
cp "$file" "$work/warm" && rm "$work/warm"

# measure LABEL CMD...: best wall time and max RSS over $runs runs.
measure() {
    local label=$1; shift
    local best="" rss=0
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
        read -r wall kb < "$work/t"
        rss=$(( kb > rss ? kb : rss ))
        if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; fi
    done
    printf "| %-40s | %7.3f | %6.2f | %6d |\n" "$label" "$best" "$(awk "BEGIN{print $size/1e9/($best > 0 ? $best : 0.001)}")" $((rss / 1024))
}

echo "# $name ($size bytes), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $all CPUs, outputs on $(df --output=fstype "$work" | tail -1), best of $runs"
echo
echo "| command | wall s | GB/s | peak RSS MiB |"
echo "|---|---|---|---|"
measure "cp" cp "$file" "$work/out"
measure "llmc decompress -T 1" "$llmc" decompress -T 1 "$work/in.llmc" -o "$work/out"
measure "llmc decompress -T $all" "$llmc" decompress -T "$all" "$work/in.llmc" -o "$work/out"
measure "zstd -d (of a zstd -19 copy)" zstd -q -d -f "$cache/$name.zst19" -o "$work/out"
measure "zstd -d (of a zstd -3 copy)" zstd -q -d -f "$work/in.zst3" -o "$work/out"
measure "cat X.llmc | llmc decompress - -o - (-T $all)" sh -c "cat '$work/in.llmc' | '$llmc' decompress -T $all - -o - > '$work/out'"
measure "llmc compress -T 1" "$llmc" compress -T 1 "$file" -o "$work/c.llmc"
measure "llmc compress -T $all" "$llmc" compress -T "$all" "$file" -o "$work/c.llmc"
measure "zstd -3 -T0" zstd -q -3 -T0 -f "$file" -o "$work/c.zst"
cmp "$work/c.llmc" "$work/in.llmc"
echo
echo "ratio: llmc $(awk "BEGIN{printf \"%.4f\", $size/$(stat -c %s "$work/in.llmc")}"), zstd -3 $(awk "BEGIN{printf \"%.4f\", $size/$(stat -c %s "$work/in.zst3")}"), zstd -19 $(awk "BEGIN{printf \"%.4f\", $size/$(stat -c %s "$cache/$name.zst19")}")"
