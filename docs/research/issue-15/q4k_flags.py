"""Flag-byte contexts that keep today's 32 rANS steps per block (8 flags per symbol)."""
import sys, numpy as np
from common import *
from q4k_ctx import load
def cost(sym, ctx, nsym=256):
    sym = np.asarray(sym).ravel(); ctx = np.asarray(ctx).ravel(); u, ci = np.unique(ctx, return_inverse=True)
    c, t = ctx_cost(sym, ci, len(u), nsym, 8); return c + t
p = sys.argv[1]
b, d, dmin, sc, m, nib = load(p); nb = len(b); nw = nb * 256
D = (d[:, None] * sc).astype(np.float32); Mn = (dmin[:, None] * m).astype(np.float32)
lo = np.zeros((nb, 8), np.int64)
for t in range(4, 12): lo += (Mn >= t * D)
with np.errstate(divide='ignore', invalid='ignore'): z = np.nan_to_num(np.clip(np.where(D > 0, Mn / D, 16.0), 0, 16), nan=16.0)
flag = ((nib >= lo[:, :, None]) & (nib < lo[:, :, None] + 8)).astype(np.int64)
fb = (flag.reshape(nb, 8, 4, 8) << np.arange(8)).sum(3)
B = lambda c: np.broadcast_to(c[:, :, None], fb.shape)
fr = np.clip(((z - lo) * 2).astype(np.int64), 0, 15)
scc = np.minimum(sc >> 4, 3)
for name, c in (('order-0', np.zeros((nb, 8), np.int64)), ('lo', lo), ('lo x frac(z-lo)*2', lo * 16 + fr),
                ('frac(z-lo)*2', fr), ('lo x sc>>4', lo * 4 + scc), ('min(lo,4) x frac', np.minimum(lo, 4) * 16 + fr),
                ('lo x flag-byte position (4)', None)):
    if c is None:
        cc = lo[:, :, None] * 4 + np.arange(4)[None, None, :]
        print(f'  flags | {name:30s} {cost(fb, cc) / nw:.4f} b/w'); continue
    print(f'  flags | {name:30s} {cost(fb, B(c)) / nw:.4f} b/w')
# (flag, idx top bit) x 4 per symbol with few tables
idx = np.where(flag == 1, nib - lo[:, :, None], np.where(nib < lo[:, :, None], nib, nib - 8)); top = idx >> 2
sym4 = ((flag * 2 + top).reshape(nb, 8, 8, 4) << (2 * np.arange(4))).sum(3)
B8 = lambda c: np.broadcast_to(c[:, :, None], sym4.shape)
for k in (0, 1, 2, 3, 4, 8):
    print(f'  4x(flag,top) | min(lo,{k}) ({k + 1} tables) + 2 raw: {cost(sym4, B8(np.minimum(lo, k))) / nw + 2:.4f} b/w')
