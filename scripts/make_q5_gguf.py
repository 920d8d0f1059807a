#!/usr/bin/env python3
"""Q5_0, Q5_1 (and Q5_K) GGUF files made from the real MiniLM fp32 weights, to measure the
5-bit quant fold (FORMAT.md §6) on types no reachable package ships a file of.

Every 2-D tensor whose rows are a multiple of the type's block is quantised with llama.cpp's
reference quantiser as gguf-py implements it (`gguf.quants.quantize`); the others (norms,
biases, position ids) stay as they are (F32; I64 as I32 is not needed: it is left out).
Usage (the pinned gguf-py: scripts/pyenv.sh): make_q5_gguf.py IN.safetensors OUT_PREFIX
writes OUT_PREFIX.q5_0.gguf, OUT_PREFIX.q5_1.gguf and, where gguf-py can quantise it,
OUT_PREFIX.q5_k.gguf."""
import json
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T


def read_f32_tensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        hdr = json.loads(f.read(n))
        data = f.read()
    hdr.pop('__metadata__', None)
    for name in sorted(hdr, key=lambda k: hdr[k]['data_offsets'][0]):
        t = hdr[name]
        if t['dtype'] == 'F32':
            a, b = t['data_offsets']
            yield name, np.frombuffer(data[a:b], dtype='<f4').reshape(t['shape'])


def write(path, tensors, qtype):
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    w = gguf.GGUFWriter(path, 'bert')
    w.add_description(f'all-MiniLM-L6-v2 fp32 weights, 2-D tensors quantised to {qtype.name} by gguf-py')
    for name, a in tensors:
        if a.ndim == 2 and a.shape[1] % block == 0:
            q = gguf.quants.quantize(a, qtype)
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)
        else:
            w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    src, prefix = sys.argv[1], sys.argv[2]
    tensors = list(read_f32_tensors(src))
    for qtype, suffix in ((T.Q5_0, 'q5_0'), (T.Q5_1, 'q5_1'), (T.Q5_K, 'q5_k')):
        try:
            write(f'{prefix}.{suffix}.gguf', tensors, qtype)
            print(f'{prefix}.{suffix}.gguf')
        except NotImplementedError as e:
            print(f'{suffix}: gguf-py cannot quantise it ({e})', file=sys.stderr)


if __name__ == '__main__':
    main()
