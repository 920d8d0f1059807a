#!/usr/bin/env bash
# The Python packages the mount tests drive (llama.cpp's gguf-py, Hugging Face
# safetensors, numpy), in a virtual environment under the llmc cache; prints
# its python. Created once; rerun to repair. Used by tests/common/fuse.rs and .ci/run.
set -euo pipefail
cache="${LLMC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/llmc}"
venv="$cache/pyenv"
want="gguf==0.19.0 safetensors==0.8.0 numpy"
stamp="$venv/.llmc-packages"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    mkdir -p "$cache"
    python3 -m venv "$venv" >&2
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet $want >&2
    echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
