"""bf16 round 2: which bits go into the rANS symbol (V10 today; +sign; +3rd mantissa bit) x which
context (row / column classes from code-length k-means, co-clustered, merged into K tables).
All costs counted: quantised 12-bit tables in the FORMAT.md §3 alphabet format, class arrays,
cell->table maps, per-chunk payload headers and lane states, frame header."""
import sys, json, time
import numpy as np
from common import *
from bf16_ctx import frame_overhead, quantile_classes, hist_kmeans, CHUNK_WORDS

def cost_tables(sym, ctx, nctx, nbits, per_chunk=False):
    if per_chunk:
        tc = tt = 0
        for s in range(0, len(sym), CHUNK_WORDS):
            c, t = ctx_cost(sym[s:s + CHUNK_WORDS], ctx[s:s + CHUNK_WORDS], nctx, 1 << nbits, nbits); tc += c; tt += t
        return tc, tt
    return ctx_cost(sym, ctx, nctx, 1 << nbits, nbits)

def coclust(Sc, R, C, rcl, ccl, Kr, Kc, S, iters=3):
    rows_of = np.repeat(np.arange(R), C); cols_of = np.tile(np.arange(C), R); sv = Sc.ravel()
    for _ in range(iters):
        ctx = rcl[rows_of] * Kc + ccl[cols_of]
        P = np.bincount(ctx * S + sv, minlength=Kr * Kc * S).reshape(Kr, Kc, S) + 0.05
        L = -np.log2(P / P.sum(2, keepdims=True))
        HrC = np.bincount((rows_of * Kc + ccl[cols_of]) * S + sv, minlength=R * Kc * S).reshape(R, Kc * S).astype(np.float32)
        rcl = (HrC @ L.reshape(Kr, Kc * S).T.astype(np.float32)).argmin(1); del HrC
        ctx = rcl[rows_of] * Kc + ccl[cols_of]
        P = np.bincount(ctx * S + sv, minlength=Kr * Kc * S).reshape(Kr, Kc, S) + 0.05
        L = -np.log2(P / P.sum(2, keepdims=True))
        HcR = np.bincount((cols_of * Kr + rcl[rows_of]) * S + sv, minlength=C * Kr * S).reshape(C, Kr * S).astype(np.float32)
        ccl = (HcR @ L.transpose(1, 0, 2).reshape(Kc, Kr * S).T.astype(np.float32)).argmin(1); del HcR
    return rcl, ccl

def main(path):
    meta = json.load(open(path + '.json')); R, C = meta['shape']
    w = np.fromfile(path, dtype='<u2').astype(np.int64); n = len(w)
    H16 = ent(np.bincount(w, minlength=65536)); bound = 16 * n / H16
    fo = frame_overhead(n)
    rows_of = np.repeat(np.arange(R), C); cols_of = np.tile(np.arange(C), R)
    syms = {
        'V10 (today)': (((w >> 5) & 0x3ff), 10, 6),
        'S+V10 (sign coded)': (((w >> 15) << 10) | ((w >> 5) & 0x3ff), 11, 5),
        'V11 (+3rd mantissa bit)': (((w >> 4) & 0x7ff), 11, 5),
        'S+V11': (((w >> 15) << 11) | ((w >> 4) & 0x7ff), 12, 4),
    }
    out = {'fixture': path.split('/')[-1], 'shape': [R, C], 'bound16': bound, 'rows': []}
    def row(symname, ctxname, cb, tb, side, K, nraw):
        r = 16 * n / (cb + tb + side + nraw * n + fo)
        out['rows'].append(dict(sym=symname, ctx=ctxname, ratio=r, vs_bound=r / bound, ideal=16 * n / (cb + nraw * n + fo),
                                table_B=tb / 8, side_B=side / 8, K=K))
        print(f"  {symname:24s} {ctxname:40s} {r:.4f} x{r / bound:.4f} ideal {16 * n / (cb + nraw * n + fo):.4f} K={K:2d} tables {tb / 8:7.0f}B side {side / 8:6.0f}B", flush=True)
    print('##', out['fixture'], R, C, 'bound16 %.4f' % bound, flush=True)
    for sname, (sym, nb, nraw) in syms.items():
        vals, Sc = np.unique(sym, return_inverse=True); S = len(vals); Sc = Sc.reshape(R, C)
        z = np.zeros(n, np.int64)
        cb, tb = cost_tables(sym, z, 1, nb, per_chunk=True); row(sname, 'none, per-chunk table', cb, tb, 0, 1, nraw)
        if n > CHUNK_WORDS:
            cb, tb = cost_tables(sym, z, 1, nb); row(sname, 'none, per-tensor table', cb, tb, 0, 1, nraw)
        Hrow = np.bincount(rows_of * S + Sc.ravel(), minlength=R * S).reshape(R, S).astype(float)
        Hcol = np.bincount(cols_of * S + Sc.ravel(), minlength=C * S).reshape(C, S).astype(float)
        mv = ((w >> 5) & 0x3ff).reshape(R, C)
        rk = {}; ck = {}
        for K in (2, 4, 8, 16):
            rk[K] = hist_kmeans(Hrow, quantile_classes(mv.mean(1), K), K, 15)
            ck[K] = hist_kmeans(Hcol, quantile_classes(mv.mean(0) + 1e-3 * (sym.reshape(R, C) >> (nb - 1)).mean(0), K), K, 15)
        for K in (2, 4, 8):
            cb, tb = cost_tables(sym, rk[K][rows_of], K, nb); row(sname, f'row kmeans K={K}', cb, tb, side_bits_array(rk[K], K), K, nraw)
        for K in (2, 4, 8):
            cb, tb = cost_tables(sym, ck[K][cols_of], K, nb); row(sname, f'col kmeans K={K}', cb, tb, side_bits_array(ck[K], K), K, nraw)
        for Kr, Kc in ((4, 4), (8, 8), (16, 16)):
            if R * Kc * S > 1.5e8: continue
            rcl, ccl = coclust(Sc, R, C, rk[Kr].copy(), ck[Kc].copy(), Kr, Kc, S)
            ctx = rcl[rows_of] * Kc + ccl[cols_of]
            sb = side_bits_array(rcl, Kr) + side_bits_array(ccl, Kc)
            if Kr * Kc <= 16:
                cb, tb = cost_tables(sym, ctx, Kr * Kc, nb); row(sname, f'row{Kr} x col{Kc} co-clustered', cb, tb, sb, Kr * Kc, nraw)
            cellH = np.bincount(ctx * S + Sc.ravel(), minlength=Kr * Kc * S).reshape(Kr * Kc, S).astype(float)
            ms = (cellH * np.arange(S)).sum(1) / np.maximum(cellH.sum(1), 1)
            for K in (2, 4, 8, 16):
                if K >= Kr * Kc: continue
                g = hist_kmeans(cellH, quantile_classes(ms, K), K, 25)
                cb, tb = cost_tables(sym, g[ctx], K, nb)
                row(sname, f'row{Kr} x col{Kc} co-cl -> {K} tables', cb, tb, sb + Kr * Kc * int(np.log2(K)), K, nraw)
                if n > CHUNK_WORDS and K in (4, 8):
                    cb, tb = cost_tables(sym, g[ctx], K, nb, per_chunk=True)
                    row(sname, f'row{Kr} x col{Kc} co-cl -> {K} tables/chunk', cb, tb, sb + Kr * Kc * int(np.log2(K)), K, nraw)
    return out

if __name__ == '__main__':
    res = []
    for p in sys.argv[1:]:
        t = time.time(); res.append(main(p)); print('  secs', time.time() - t, flush=True)
        json.dump(res, open('./bf16_round2_' + sys.argv[1].split('/')[-1] + '.json', 'w'), indent=1)
