"""Sign coded in the rANS symbol with a per-column sign-bias class (derived tables: f(s,v) from the
magnitude table and a 12-bit sign probability per class, so only K_s probabilities + the column class
array are side info). Reports bits/weight saved against 1 raw sign bit, costs counted."""
import sys, json
import numpy as np
from common import ent
for p in sys.argv[1:]:
    R, C = json.load(open(p + '.json'))['shape']
    w = np.fromfile(p, dtype='<u2').reshape(R, C).astype(np.int64); n = R * C
    s = w >> 15
    frac = s.mean(0)  # per-column negative fraction
    V = (w >> 5) & 0x3ff
    for K in (2, 4, 8, 16):
        qs = np.quantile(frac, np.linspace(0, 1, K + 1)[1:-1])
        cl = np.searchsorted(qs, frac, side='right')
        bits = 0.0
        for k in range(K):
            ss = s[:, cl == k]; p1 = ss.mean()
            f1 = min(4095, max(1, round(p1 * 4096))); f0 = 4096 - f1
            bits += -(ss.sum() * np.log2(f1 / 4096) + (ss.size - ss.sum()) * np.log2(f0 / 4096))
        side = C * np.ceil(np.log2(K)) + K * 12
        gain = (n - bits - side) / n
        # also magnitude-dependent: sign | (col class, V>=median?) -- large values more biased?
        big = (V >= np.median(V)).astype(int)
        bits2 = 0.0
        for k in range(K):
            for b in (0, 1):
                msk = (cl[None, :] == k) & (big == b); ss = s[msk]; p1 = ss.mean()
                f1 = min(4095, max(1, round(p1 * 4096))); bits2 += -(ss.sum() * np.log2(f1 / 4096) + (ss.size - ss.sum()) * np.log2((4096 - f1) / 4096))
        gain2 = (n - bits2 - side - K * 12) / n
        print(f'{p.split("/")[-1]:45s} K_s={K:2d} sign bits/w {(bits + side) / n:.5f}  saved {gain:.5f} b/w ({gain / (16 / 1.52) * 100:.3f}% of size)  | x big/small V: saved {gain2:.5f}')
