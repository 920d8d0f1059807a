#!/usr/bin/env bash
# End-to-end file -> file benchmark of `llmc compress` / `llmc decompress`
# beside zstd and cp of the same file, in the same run (issue 11):
#
#   bash benches/e2e.sh FILE [RUNS] [WORKDIR]
#
# For each command: best and median wall time of RUNS interleaved rounds
# (default 5, after WARMUP untimed ones, default 1), GB/s of the original file's size, and peak RSS (max over the runs). Outputs go to WORKDIR (default
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

# Every command runs once per round, rounds interleaved, so that a drift in
# the machine's speed hits all of them alike. Wall time in milliseconds from
# `date +%s%N` around `/usr/bin/time` (whose own %e has 10 ms steps); peak RSS
# from /usr/bin/time (max over the rounds). Outputs are new files each time.
# Thread counts: 1, 2 and all of the machine's CPUs (issue 11's bars are at 1
# and 2 threads, issue 14's compress bar at 2; all shows what more cores give).
threads=(1)
[ "$all" -ge 2 ] && threads+=(2)
[ "$all" -gt 2 ] && threads+=("$all")
labels=("cp"); cmds=("cp '$file' '$work/out'")
for t in "${threads[@]}"; do
    labels+=("llmc decompress -T $t"); cmds+=("'$llmc' decompress -T $t '$work/in.llmc' -o '$work/out'")
done
labels+=("zstd -d (of a zstd -19 copy)" "zstd -d (of a zstd -3 copy)" "cat X.llmc | llmc decompress - -o - (-T $all)")
cmds+=("zstd -q -d -f '$cache/$name.zst19' -o '$work/out'"
       "zstd -q -d -f '$work/in.zst3' -o '$work/out'"
       "cat '$work/in.llmc' | '$llmc' decompress -T $all - -o - > '$work/out'")
for t in "${threads[@]}"; do
    labels+=("llmc compress -T $t"); cmds+=("'$llmc' compress -T $t '$file' -o '$work/c.llmc'")
done
for t in "${threads[@]}"; do
    [ "$t" -eq 1 ] && continue
    labels+=("zstd -3 -T$t"); cmds+=("zstd -q -3 -T$t -f '$file' -o '$work/c.zst'")
done
# Index of a label, for the ratios below.
at() { local i; for i in "${!labels[@]}"; do [ "${labels[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo "e2e.sh: no row '$1'" >&2; exit 1; }
for i in "${!cmds[@]}"; do : > "$work/walls.$i"; echo 0 > "$work/rss.$i"; done
# One untimed round first: on a VM the first pass over freshly allocated or
# long-idle memory can take several times longer (the host backs the pages
# lazily; `cat` of a 232 MB tmpfs file measured 1.2 s, then 0.18 s), and it
# would land on whichever command happens to touch that memory first.
warmup=${WARMUP:-1}
for round in $(seq $((warmup + runs))); do
    for i in "${!cmds[@]}"; do
        # The previous round's output is removed untimed: freeing its pages is
        # not part of decoding (and every command would pay it, in its own way).
        rm -f "$work/out" "$work/c.zst"
        case ${labels[$i]} in "llmc compress"*) rm -f "$work/c.llmc" ;; esac
        t0=$(date +%s%N)
        /usr/bin/time -f "%M" -o "$work/t" sh -c "${cmds[$i]}" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
        t1=$(date +%s%N)
        [ "$round" -gt "$warmup" ] || continue
        echo $(( (t1 - t0) / 1000 )) >> "$work/walls.$i"
        kb=$(tail -1 "$work/t"); old=$(cat "$work/rss.$i")
        echo $(( kb > old ? kb : old )) > "$work/rss.$i"
    done
done

echo "# $name ($size bytes), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $all CPUs, outputs on $(df --output=fstype "$work" | tail -1), $runs interleaved rounds"
echo
echo "| command | best s | median s | GB/s (best) | peak RSS MiB |"
echo "|---|---|---|---|---|"
declare -A best med
for i in "${!cmds[@]}"; do
    read -r b m < <(sort -n "$work/walls.$i" | awk '{a[NR]=$1} END{print a[1], (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
    best[$i]=$b; med[$i]=$m
    printf "| %-46s | %7.3f | %7.3f | %6.2f | %6d |\n" "${labels[$i]}" "$(awk "BEGIN{print $b/1e6}")" "$(awk "BEGIN{print $m/1e6}")" "$(awk "BEGIN{print $size/1e3/$b}")" $(( $(cat "$work/rss.$i") / 1024 ))
done
echo
ratio() { awk "BEGIN{printf \"%.3f (median %.3f)\", ${best[$1]}/${best[$2]}, ${med[$1]}/${med[$2]}}"; }
z19=$(at "zstd -d (of a zstd -19 copy)")
echo "decompress -T 1 / zstd -d (zstd -19 copy): $(ratio "$(at "llmc decompress -T 1")" "$z19")  [issue 11 bar <= 0.6]"
for t in "${threads[@]:1}"; do
    echo "decompress -T $t / zstd -d (zstd -19 copy): $(ratio "$(at "llmc decompress -T $t")" "$z19")$([ "$t" -eq 2 ] && echo '  [issue 11 bar <= 0.4]')"
done
for t in "${threads[@]:1}"; do
    echo "compress -T $t / zstd -3 -T$t: $(ratio "$(at "llmc compress -T $t")" "$(at "zstd -3 -T$t")")$([ "$t" -eq 2 ] && echo '  [issue 14 bar <= 2]')"
done
cmp "$work/c.llmc" "$work/in.llmc"
echo
echo "ratio: llmc $(awk "BEGIN{printf \"%.4f\", $size/$(stat -c %s "$work/in.llmc")}"), zstd -3 $(awk "BEGIN{printf \"%.4f\", $size/$(stat -c %s "$work/in.zst3")}"), zstd -19 $(awk "BEGIN{printf \"%.4f\", $size/$(stat -c %s "$cache/$name.zst19")}")"
