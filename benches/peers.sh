#!/usr/bin/env bash
# llmc beside ZipNN, OpenZL and zstd on the same files, in one process (benches/peers.py):
#
#   bash benches/peers.sh [--scaling] [--json] [--quick] [FILES...]
#
# Makes a virtual environment with pinned versions of the peers under the llmc cache
# (~/.cache/llmc/peers-venv; LLMC_CACHE_DIR moves it) once, builds the release library
# if it is missing, fetches the whole gemma GGUF if it is missing, then runs peers.py.
# ZipNN depends on torch: the first run downloads a few GB from PyPI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cache="${LLMC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/llmc}"
venv="$cache/peers-venv"
# The peers, pinned. OpenZL is installed on its own: if it does not install here,
# peers.py says so in its output and measures the others.
want="zipnn==0.5.4 torch==2.15.0 safetensors==0.8.0 zstandard==0.25.0 numpy==2.4.6"
want_openzl="openzl==0.3.0"
stamp="$venv/.llmc-packages"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want $want_openzl" ]]; then
    mkdir -p "$cache"
    python3 -m venv "$venv" >&2 || { echo "peers.sh: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
    echo "peers.sh: installing $want $want_openzl into $venv (once)" >&2
    # shellcheck disable=SC2086
    if ! "$venv/bin/pip" install --quiet $want >&2; then
        echo "peers.sh: pip could not install $want: offline, or PyPI unreachable? Nothing was measured." >&2
        exit 1
    fi
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet $want_openzl >&2 \
        || echo "peers.sh: $want_openzl did not install; the run will say OpenZL was not measured" >&2
    echo "$want $want_openzl" > "$stamp"
fi
cargo build --release --quiet  # a no-op when up to date: measure the code as it is
[ -f "$cache/gemma-3-270m-q4_k_m.gguf" ] || target/release/llmc fetch gemma >&2 \
    || echo "peers.sh: could not fetch the gemma GGUF; its rows are left out" >&2
exec "$venv/bin/python" benches/peers.py "$@"
