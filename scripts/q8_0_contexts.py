#!/usr/bin/env python3
"""How far a GGUF's Q8_0 quants could go past order-0 (issue 15's question, for the type
that holds most of a Q4_K_M file's embeddings): estimates with numpy, nothing coded.

For each Q8_0 tensor, per chunk of 1 MiB of blocks (the container's chunking), in bits:

* order-0: the entropy of the chunk's quant bytes (what one table per chunk codes, before
  the table itself);
* max out: every llama.cpp Q8_0 block has a quant of magnitude exactly 127 (d = amax/127),
  so its first one is taken out and coded as position and sign (6 bits), the other 31
  quants by their own order-0 entropy;
* scale classes: blocks ranked by their scale against the row's (log2(d) less the row's
  median, or the f16 bits of d less the row's mean of them: integer work a decoder could
  do) into K equal-count classes, the quants coded with one table per class (K − 1 more tables a chunk at about
  300 bytes each, counted in the "net" column).

Usage (the pinned gguf-py: scripts/pyenv.sh): q8_0_contexts.py FILE.gguf [TENSOR_NAME]
"""
import sys

import numpy as np
from gguf import GGUFReader

CHUNK = 1 << 20
BLOCK = 34
ROW_TABLE_BITS = 300 * 8


def bits(counts):
    c = counts[counts > 0].astype(np.float64)
    return float(-(c * np.log2(c / c.sum())).sum())


def hist_bits(q):
    return bits(np.bincount(q.ravel(), minlength=256))


def class_bits(q, key, k):
    edges = np.quantile(key, np.linspace(0, 1, k + 1)[1:-1])
    cls = np.searchsorted(edges, key, side='right')
    return sum(hist_bits(q[cls == c]) for c in range(k))


def main():
    path = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) > 2 else None
    r = GGUFReader(path)
    for t in r.tensors:
        if t.tensor_type.name != 'Q8_0' or (only and t.name != only):
            continue
        raw = np.asarray(t.data).view(np.uint8).reshape(-1, BLOCK)
        row_blocks = int(t.shape[0]) // 32
        d16 = raw[:, :2].copy().view('<u2').ravel()
        d = d16.view('<f2').astype(np.float64)
        q = raw[:, 2:].view(np.int8).astype(np.int64) + 128
        logd = np.log2(np.maximum(d, 1e-30))
        rows = logd.reshape(-1, row_blocks)
        by_median = (rows - np.median(rows, axis=1, keepdims=True)).ravel()
        bits16 = d16.astype(np.int64).reshape(-1, row_blocks)
        by_mean = (bits16 * row_blocks - bits16.sum(axis=1, keepdims=True)).ravel()
        per_chunk = CHUNK // BLOCK
        total = {'order0': 0.0, 'max out': 0.0}
        classes = {(name, k): [0.0, 0] for name in ('row median', 'row mean') for k in (2, 4, 8)}
        skipped = 0
        for s in range(0, len(q), per_chunk):
            qq = q[s:s + per_chunk]
            total['order0'] += hist_bits(qq)
            big = np.abs(qq - 128) == 127
            has = big.any(axis=1)
            skipped += int((~has).sum())
            keep = np.ones_like(qq, dtype=bool)
            idx = np.nonzero(has)[0]
            keep[idx, np.argmax(big[idx], axis=1)] = False
            total['max out'] += hist_bits(qq[keep]) + 6 * len(idx)
            for (name, k), acc in classes.items():
                key = (by_median if name == 'row median' else by_mean)[s:s + per_chunk]
                acc[0] += class_bits(qq, key, k)
                acc[1] += 1
        n = q.size
        base = total['order0']
        print(f"{t.name}: {len(q)} blocks, rows of {row_blocks} blocks; order-0 {base / n:.4f} bits/quant")
        print(f"  max out (position and sign of a ±127, 6 bits): {100 * (base - total['max out']) / base:+.3f} %"
              + (f" ({skipped} blocks without ±127 left as they are)" if skipped else ""))
        # Whole rows in two classes by their mean |q| (what byte streams' row classes
        # would do), in chunks of whole rows.
        rows_q = q.reshape(-1, 32 * row_blocks)
        mean_abs = np.abs(rows_q - 128).mean(axis=1)
        per_rows = max(1, per_chunk // row_blocks)
        plain = by_rows = 0.0
        for s in range(0, len(rows_q), per_rows):
            plain += hist_bits(rows_q[s:s + per_rows])
            by_rows += class_bits(rows_q[s:s + per_rows], mean_abs[s:s + per_rows], 2)
        print(f"  2 classes of whole rows by their mean |q|: {100 * (plain - by_rows) / plain:+.3f} % before tables")
        for (name, k), (b, chunks) in classes.items():
            net = b + (k - 1) * ROW_TABLE_BITS * chunks
            print(f"  {k} classes by d against the {name}: {100 * (base - b) / base:+.3f} % before tables, {100 * (base - net) / base:+.3f} % net")


if __name__ == '__main__':
    main()
