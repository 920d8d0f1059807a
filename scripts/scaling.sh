#!/usr/bin/env bash
# Multi-core decode scaling (issue 14): in-memory decode GB/s of each codec at
# 1, 2, 4, … threads up to the machine's cores, against memcpy of the same
# buffer on as many threads, measured in the same run by `llmc bench -T N`.
#
#   bash scripts/scaling.sh [LLMC] [WORKDIR]
#
# Inputs are the real fixtures repeated to ~370 MB (a scale run: a 23 MB file
# splits into too few chunks for 16 threads, and fits in the caches):
# word_embeddings.bf16 x16 (bf16 codec) and ffn_gate.q4k x48 (Q4_K codec),
# plus the gemma layer-0 GGUF as a container (10.5 MB: its metadata and
# Q5_0/Q6_K/Q4_K/Q8_0 tensors, too small to fill many threads).
# Prints one markdown table; by-type rates of the GGUF follow on one thread.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
llmc=$(realpath "${1:-target/release/llmc}")
work=${2:-${TMPDIR:-/tmp}}/llmc-scaling-$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
min_time=${LLMC_SCALING_MIN_TIME:-0.5}
cores=$(nproc)

tile() {  # SRC TIMES DST
    for _ in $(seq "$2"); do cat "$1"; done > "$3"
}
tile fixtures/bf16/all-minilm-l6-v2.word_embeddings.bf16 16 "$work/word_embeddings_x16.bf16"
tile fixtures/q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k 48 "$work/ffn_gate_x48.q4k"

threads=()
for ((t = 1; t <= cores; t *= 2)); do threads+=("$t"); done
[[ ${threads[-1]} -ne $cores ]] && threads+=("$cores")

echo "# decode scaling: $(lscpu | sed -n 's/^Model name: *//p'), $cores CPUs, $(uname -r)"
echo
echo "| input | codec | threads | decode GB/s | memcpy GB/s (same threads) | decode / memcpy | speed-up vs 1 thread |"
echo "|---|---|---|---|---|---|---|"
run() {  # CODEC FILE
    for t in "${threads[@]}"; do
        "$llmc" bench --codec "$1" --isa auto --json --min-time "$min_time" -T "$t" "$2" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    one = r.get("decode_gbps_1_thread") or r["decode_gbps"]
    name, mib, codec, isa, t = r["file"], r["input_bytes"] / 2**20, r["codec"], r["isa"], r["threads"]
    dec, mcp, ratio = r["decode_gbps"], r["memcpy_gbps"], r["decode_memcpy_ratio"]
    print(f"| {name} ({mib:.0f} MiB) | {codec} {isa} | {t} | {dec:.2f} | {mcp:.2f} | {ratio:.2f} | {dec / one:.2f} |")
'
    done
}
run bf16 "$work/word_embeddings_x16.bf16"
run q4k "$work/ffn_gate_x48.q4k"
run container fixtures/gguf/gemma-3-270m-q4_k_m.blk0.gguf
echo
"$llmc" bench --codec container --by-type --isa auto fixtures/gguf/gemma-3-270m-q4_k_m.blk0.gguf
