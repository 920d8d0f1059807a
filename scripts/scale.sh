#!/usr/bin/env bash
# Scale evidence, run by hand (not CI): builds a safetensors checkpoint of at
# least SIZE_GIB (default 32) GiB from real tensors — the all-MiniLM-L6-v2 fp32
# safetensors file (`llmc fetch minilm`) and the bf16 fixtures — repeated
# under distinct names, then compresses and decompresses it with llmc on all
# CPUs and reports wall time, GB/s and peak RSS of each step, and checks the
# SHA-256 of the round trip.
#
#   bash scripts/scale.sh [SIZE_GIB] [WORKDIR]
#
# Disk: about 2 x SIZE_GIB in WORKDIR (default ~/.cache/llmc/scale): the
# original is deleted after compression, before the file is decompressed.
# Everything is deleted at the end.
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

echo "building $src (>= $gib GiB) from $(basename "$minilm") and fixtures/bf16/*.bf16" >&2
sha=$(python3 - "$minilm" "$src" "$gib" fixtures/bf16/*.bf16 <<'PY'
import hashlib, json, struct, sys
minilm, out, gib, bf16s = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
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
h = hashlib.sha256()
with open(out, "wb", buffering=1 << 24) as f:
    for chunk in (struct.pack("<Q", len(js)), js):
        f.write(chunk); h.update(chunk)
    for c in range(copies):
        for _, _, _, data in pieces:
            f.write(data); h.update(data)
print(h.hexdigest())
PY
)
size=$(stat -c %s "$src")
echo "original: $size bytes, sha256 $sha" >&2

echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $(free -g | awk '/Mem:/{print $2}') GiB RAM; $size-byte safetensors"
echo
t=$(nproc)
if [ "$(df --output=avail -B1 "$work" | tail -1)" -gt $((size + size)) ]; then
    # Room for the container beside the original: file -> file both ways.
    /usr/bin/time -f "%e %M" -o "$work/c.t" "$llmc" compress -T "$t" "$src" -o "$work/big.llmc" 2>/dev/null
    csize=$(stat -c %s "$work/big.llmc")
    rm -f "$src"
    /usr/bin/time -f "%e %M" -o "$work/d.t" "$llmc" decompress -T "$t" "$work/big.llmc" -o "$src" 2>/dev/null
    back=$(sha256sum "$src" | cut -d' ' -f1)
    how="file -> file"
else
    # Not enough disk for both: compress to a pipe straight into decompress
    # (the container is never stored; each process's time and RSS are its own).
    start=$(date +%s.%N)
    /usr/bin/time -f "%e %M" -o "$work/c.t" "$llmc" compress -T "$t" "$src" -o - 2>/dev/null \
        | tee >(wc -c > "$work/csize") \
        | /usr/bin/time -f "%e %M" -o "$work/d.t" "$llmc" decompress -T "$t" - -o - 2>/dev/null | sha256sum > "$work/back"
    sleep 1
    csize=$(cat "$work/csize")
    back=$(cut -d' ' -f1 "$work/back")
    how="compress -o - | decompress - -o - | sha256sum (no disk for the container)"
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
