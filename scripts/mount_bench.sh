#!/usr/bin/env bash
# What reading a model through `llmc mount` costs, against the in-memory decode
# rate `llmc bench` reports for the same container in the same run:
#   * sequential `dd bs=1M` of the mounted file (fresh mounts: nothing cached; best of
#     three), -T 1 and -T 2;
#   * the daemon's resident set after that read (VmRSS, and the peak VmHWM);
#   * random 4 KiB preads (kernel read-ahead off for the file): p50 / p99 latency,
#     mounted and on the uncompressed file (from the page cache).
#
#   bash scripts/mount_bench.sh [MODEL.gguf|MODEL.safetensors]   (default: the gemma GGUF)
#
# Needs /dev/fuse and fusermount3 (fuse3). Numbers depend on the machine and its
# load: compare the ratios, and rerun.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --quiet --bins
llmc=$CARGO_TARGET_DIR/release/llmc
original=${1:-$("$llmc" fetch gemma)}
name=$(basename "$original")
work=$CARGO_TARGET_DIR/mount-bench
mnt=$work/mnt
mkdir -p "$work" "$mnt"
container=$work/$name.llmc
[[ -f $container ]] || "$llmc" compress "$original" -o "$container" 2>/dev/null
size=$(stat -c %s "$original")

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "file: $name, $size bytes; container $(stat -c %s "$container") bytes"

ref=$("$llmc" bench --codec container --isa auto -T 1 --json --min-time 2 "$original")
decode=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["decode_gbps"])' "$ref")
memcpy=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["memcpy_gbps"])' "$ref")
echo "reference (llmc bench --codec container -T 1, same run): decode ${decode} GB/s, memcpy ${memcpy} GB/s"

random_reads() {  # FILE -> "p50_us p99_us" of 2000 random 4 KiB preads
  python3 - "$1" <<'PY'
import os, random, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
size = os.fstat(fd).st_size
rng = random.Random(1)
lat = []
for _ in range(2000):
    off = rng.randrange(0, size - 4096) & ~4095
    t = time.perf_counter()
    assert len(os.pread(fd, 4096, off)) == 4096
    lat.append(time.perf_counter() - t)
lat.sort()
print(f"{lat[len(lat) // 2] * 1e6:.0f} {lat[len(lat) * 99 // 100] * 1e6:.0f}")
PY
}

dd_gbps() {  # FILE -> GB/s of dd bs=1M to /dev/null
  # dd's report is parsed after dd has finished: a parser started beside it
  # (python in a pipe) took CPU from the 0.15 s being timed on 2 cores.
  local report
  report=$(dd if="$1" of=/dev/null bs=1M 2>&1)
  python3 -c 'import sys,re; m=re.search(r"(\d+) bytes.* copied, ([\d.]+) s", sys.argv[1]); print(f"{int(m.group(1))/float(m.group(2))/1e9:.2f}")' "$report"
}

mount_fresh() {  # THREADS
  "$llmc" mount "$container" "$mnt" -T "$1" 2>"$work/mount.log" &
  pid=$!
  for _ in $(seq 600); do grep -q " $mnt " /proc/self/mountinfo && return 0; sleep 0.05; done
  echo "mount failed:"; cat "$work/mount.log"; exit 1
}

unmount() {
  fusermount3 -u "$mnt"
  wait "$pid"
}
trap 'fusermount3 -u -z "$mnt" 2>/dev/null || true' EXIT

shown=${name%.llmc}
for t in 1 2; do
  # Best of three fresh mounts (the reference is a best-of too).
  best=0
  for _ in 1 2 3; do
    mount_fresh "$t"
    gbps=$(dd_gbps "$mnt/$shown")
    rss=$(awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{printf "%d MiB (peak %d MiB)", r/1024, h/1024}' "/proc/$pid/status")
    unmount
    best=$(python3 -c "print(max($best, $gbps))")
  done
  ratio=$(python3 -c "print(f'{$best / $decode:.2f}')")
  echo "mounted, -T $t: dd bs=1M ${best} GB/s (best of 3) = ${ratio} x decode; daemon RSS after the whole file: $rss"
done
mount_fresh 2
read -r p50 p99 <<<"$(random_reads "$mnt/$shown")"
echo "mounted, -T 2: random 4 KiB preads (fresh mount) p50 ${p50} us, p99 ${p99} us"
unmount
cat "$original" >/dev/null
read -r p50 p99 <<<"$(random_reads "$original")"
echo "uncompressed file (page cache): random 4 KiB preads p50 ${p50} us, p99 ${p99} us; dd bs=1M $(dd_gbps "$original") GB/s"
