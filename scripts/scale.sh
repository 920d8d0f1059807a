#!/usr/bin/env bash
# Scale evidence, run by hand (not CI): builds a safetensors checkpoint of at
# least SIZE_GIB (default 32) GiB from real tensors — the all-MiniLM-L6-v2 fp32
# safetensors file (`llmc fetch minilm`) and the bf16 fixtures — repeated
# under distinct names, then compresses and decompresses it with llmc on all
# CPUs and reports wall time, GB/s and peak RSS of each step, and checks the
# SHA-256 of the round trip.
#
#   bash scripts/scale.sh [SIZE_GIB] [WORKDIR]     (LLMC_SCALE_PIPE=1: pipes even with disk to spare)
#
# Disk: with about 2 x SIZE_GIB free in WORKDIR (default ~/.cache/llmc/scale)
# the original is written, compressed file -> file, deleted, and the container
# decompressed file -> file. With less, nothing is stored: the generator pipes
# the checkpoint into `llmc compress - -o -`, which pipes the container into
# `llmc decompress - -o -`, which pipes the result into sha256sum (each
# process's time and peak RSS are its own). Everything is deleted at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
gib=${1:-32}
work=${2:-$HOME/.cache/llmc/scale}
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet
llmc=$PWD/target/release/llmc
minilm=$("$llmc" fetch minilm)
src=$work/big.safetensors

generator=$work/make_checkpoint.py
cat > "$generator" <<'PY'
# make_checkpoint.py MINILM OUT GIB SHA_FILE BF16...: writes the checkpoint to OUT
# (a file or /dev/stdout) and its SHA-256 to SHA_FILE; OUT = --size prints its
# size and writes nothing.
import hashlib, json, struct, sys
minilm, out, gib, sha_file, bf16s = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
raw = open(minilm, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
hdr = json.loads(raw[8:8 + n])
base = 8 + n
pieces = []  # (name, dtype, shape, bytes)
for name, d in hdr.items():
    if name == "__metadata__":
        continue
    b, e = d["data_offsets"]
    pieces.append((name, d["dtype"], d["shape"], raw[base + b:base + e]))
for p in bf16s:
    data = open(p, "rb").read()
    pieces.append((p.split("/")[-1].removesuffix(".bf16"), "BF16", [len(data) // 2], data))
per_copy = sum(len(p[3]) for p in pieces)
copies = -(-(gib << 30) // per_copy)
header, at = {"__metadata__": {"format": "pt", "source": "llmc scale test"}}, 0
for c in range(copies):
    for name, dtype, shape, data in pieces:
        header[f"copy{c}.{name}"] = {"dtype": dtype, "shape": shape, "data_offsets": [at, at + len(data)]}
        at += len(data)
js = json.dumps(header, separators=(",", ":")).encode()
js += b" " * (-len(js) % 8)
if out == "--size":
    print(8 + len(js) + at)
    sys.exit()
h = hashlib.sha256()
with open(out, "wb", buffering=1 << 24) as f:
    for chunk in (struct.pack("<Q", len(js)), js):
        f.write(chunk); h.update(chunk)
    for c in range(copies):
        for _, _, _, data in pieces:
            f.write(data); h.update(data)
open(sha_file, "w").write(h.hexdigest())
PY
size=$(python3 "$generator" "$minilm" --size "$gib" - fixtures/bf16/*.bf16)
echo "checkpoint: $size bytes from $(basename "$minilm") and fixtures/bf16/*.bf16" >&2

echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GiB RAM; $size-byte safetensors"
echo
t=$(nproc)
if [ -z "${LLMC_SCALE_PIPE:-}" ] && [ "$(df --output=avail -B1 "$work" | tail -1)" -gt $((size + size)) ]; then
    # Room for the container beside the original: file -> file both ways.
    python3 "$generator" "$minilm" "$src" "$gib" "$work/sha" fixtures/bf16/*.bf16 2>/dev/null
    sha=$(cat "$work/sha")
    /usr/bin/time -f "%e %M" -o "$work/c.t" "$llmc" compress -T "$t" "$src" -o "$work/big.llmc" 2>/dev/null
    csize=$(stat -c %s "$work/big.llmc")
    rm -f "$src"
    /usr/bin/time -f "%e %M" -o "$work/d.t" "$llmc" decompress -T "$t" "$work/big.llmc" -o "$src" 2>/dev/null
    back=$(sha256sum "$src" | cut -d' ' -f1)
    how="file -> file"
else
    # Not enough disk: nothing is stored (the generator's own time is not
    # counted in either step's, but it paces the compressor's input).
    python3 "$generator" "$minilm" /dev/stdout "$gib" "$work/sha" fixtures/bf16/*.bf16 2>/dev/null \
        | /usr/bin/time -f "%e %M" -o "$work/c.t" "$llmc" compress -T "$t" - -o - 2>/dev/null \
        | tee >(wc -c > "$work/csize") \
        | /usr/bin/time -f "%e %M" -o "$work/d.t" "$llmc" decompress -T "$t" - -o - 2>/dev/null | sha256sum > "$work/back"
    sleep 1
    sha=$(cat "$work/sha")
    csize=$(cat "$work/csize")
    back=$(cut -d' ' -f1 "$work/back")
    how="generator → compress - -o - → decompress - -o - → sha256sum, nothing stored"
fi
read -r cw ckb < "$work/c.t"
read -r dw dkb < "$work/d.t"
echo "| step ($how) | wall s | GB/s of the original | peak RSS MiB |"
echo "|---|---|---|---|"
printf "| llmc compress -T %s | %.1f | %.2f | %d |\n" "$t" "$cw" "$(awk "BEGIN{print $size/1e9/$cw}")" $((ckb / 1024))
printf "| llmc decompress -T %s | %.1f | %.2f | %d |\n" "$t" "$dw" "$(awk "BEGIN{print $size/1e9/$dw}")" $((dkb / 1024))
echo
echo "ratio $(awk "BEGIN{printf \"%.4f\", $size/$csize}") ($csize bytes); sha256 of the original $sha, of the round trip $back"
[ "$sha" = "$back" ] && echo "SHA-256 round trip: ok" || { echo "SHA-256 round trip: MISMATCH"; exit 1; }
