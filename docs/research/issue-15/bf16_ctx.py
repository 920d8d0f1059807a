"""bf16 context-modelling measurements for issue 15. Usage: bf16_ctx.py FILE.bf16 [...]
All sizes in bits; ratios = 16*n / total bits, with tables and side info counted."""
import sys, json, time
import numpy as np
from common import *

CHUNK_WORDS = 1 << 19  # 1 MiB chunks
def lanes_for(n): return 128 if n >= 1 << 18 else (64 if n >= 1 << 16 else 32)

def frame_overhead(n, chunk=CHUNK_WORDS):
    nch = -(-n // chunk); b = 32 * 8
    for c in range(nch):
        m = min(chunk, n - c * chunk)
        b += 8 * 8 + 16 * 8 + 32 * lanes_for(m)  # chunk table entry, payload header, states
    return b

def quantile_classes(score, K):
    if K == 1: return np.zeros(len(score), np.int64)
    qs = np.quantile(score, np.linspace(0, 1, K + 1)[1:-1])
    return np.searchsorted(qs, score, side='right').astype(np.int64)

def hist_kmeans(Hm, init, K, iters=10):
    """Lloyd on code length: rows of Hm (n x S counts) into K classes."""
    cl = init.copy()
    for _ in range(iters):
        P = np.zeros((K, Hm.shape[1]))
        np.add.at(P, cl, Hm)
        P = (P + 0.02) / (P + 0.02).sum(1, keepdims=True)
        cost = Hm @ (-np.log2(P)).T
        new = cost.argmin(1)
        if (new == cl).all(): break
        cl = new
    # relabel by mean symbol so classes are ordered (nice for side-info coding)
    return cl

def cost_ctx(V, ctx, nctx, per_chunk=False):
    """bits for coding V under ctx (tables per ctx, optionally per chunk)."""
    if per_chunk:
        tot_c = tot_t = 0
        for s in range(0, len(V), CHUNK_WORDS):
            c, t = ctx_cost(V[s:s + CHUNK_WORDS], ctx[s:s + CHUNK_WORDS], nctx, 1024)
            tot_c += c; tot_t += t
        return tot_c, tot_t
    return ctx_cost(V, ctx, nctx, 1024)

def main(path):
    meta = json.load(open(path + '.json'))
    R, C = meta['shape']
    w = np.fromfile(path, dtype='<u2')
    n = len(w); assert n == R * C
    V = ((w >> 5) & 0x3ff).astype(np.int64)
    raw = (w & 0x1f) | ((w >> 15) << 5)
    res = {'fixture': path.split('/')[-1], 'shape': [R, C], 'n': n}
    H16 = ent(np.bincount(w, minlength=65536))
    res['bound16'] = 16 * n / H16
    fo = frame_overhead(n)
    rawbits = 6 * n
    def ratio(vbits, side=0, extra_raw=None):
        return 16 * n / (vbits + side + (rawbits if extra_raw is None else extra_raw) + fo)
    # today: per-chunk single table
    c, t = cost_ctx(V, np.zeros(n, np.int64), 1, per_chunk=True)
    res['today_model'] = ratio(c + t)
    c1, t1 = cost_ctx(V, np.zeros(n, np.int64), 1, per_chunk=False)
    res['order0_per_tensor_table'] = ratio(c1 + t1)
    res['H_V_bits'] = ent(np.bincount(V)) / n
    # (f) raw bits: sign & low mantissa
    res['H_raw6'] = ent(np.bincount(raw, minlength=64)) / n
    res['H_raw6_given_V'] = (ent(np.bincount(V * 64 + raw)) - ent(np.bincount(V))) / n
    res['H_sign_given_V'] = (ent(np.bincount(V * 2 + (w >> 15))) - ent(np.bincount(V))) / n
    Vm = V.reshape(R, C)
    # distinct-symbol map for histogram clustering
    vals, Vc = np.unique(V, return_inverse=True); S = len(vals); Vc = Vc.reshape(R, C)
    res['distinct_values'] = int(S)
    Hrow = np.zeros((R, S), np.float64); np.add.at(Hrow, (np.repeat(np.arange(R), C), Vc.ravel()), 1)
    Hcol = np.zeros((C, S), np.float64); np.add.at(Hcol, (np.tile(np.arange(C), R), Vc.ravel()), 1)
    rscore = Vm.mean(1); cscore = Vm.mean(0)
    rows_of = np.repeat(np.arange(R), C); cols_of = np.tile(np.arange(C), R)
    cand = {}
    def add(name, vbits_tb, side, K, note=''):
        vb, tb = vbits_tb
        cand[name] = dict(ratio=ratio(vb + tb, side), ideal=16 * n / (vb + rawbits + fo), code_bits=vb, table_bits=tb, side_bits=side, K=K,
                          vs_bound=ratio(vb + tb, side) / res['bound16'], note=note)
    add('order0 per-tensor', (c1, t1), 0, 1)
    add('order0 per-chunk (today)', (c, t), 0, 1)
    rc_km = {}; cc_km = {}
    for K in (2, 4, 8, 16):
        rq = quantile_classes(rscore, K)
        add(f'row quantile K={K}', cost_ctx(V, rq[rows_of], K), side_bits_array(rq, K), K)
        rk = hist_kmeans(Hrow, rq, K); rc_km[K] = rk
        add(f'row kmeans K={K}', cost_ctx(V, rk[rows_of], K), side_bits_array(rk, K), K)
        cq = quantile_classes(cscore, K)
        add(f'col quantile K={K}', cost_ctx(V, cq[cols_of], K), side_bits_array(cq, K), K)
        ck = hist_kmeans(Hcol, cq, K); cc_km[K] = ck
        add(f'col kmeans K={K}', cost_ctx(V, ck[cols_of], K), side_bits_array(ck, K), K)
        # position: column block
        add(f'col block K={K}', cost_ctx(V, (cols_of * K) // C, K), 0, K)
    # row x col products
    for Kr, Kc in ((2, 2), (4, 4), (8, 4), (4, 8), (8, 8), (16, 16)):
        ctx = rc_km[Kr][rows_of] * Kc + cc_km[Kc][cols_of]
        add(f'row{Kr} x col{Kc} product', cost_ctx(V, ctx, Kr * Kc),
            side_bits_array(rc_km[Kr], Kr) + side_bits_array(cc_km[Kc], Kc), Kr * Kc)
        # merged: cluster the Kr*Kc cell histograms into K tables
        cell = np.zeros((Kr * Kc, S)); np.add.at(cell, ctx, np.ones(1) * 0 + 1) if False else None
        cellH = np.bincount(ctx * S + Vc.ravel(), minlength=Kr * Kc * S).reshape(Kr * Kc, S).astype(float)
        for K in (4, 8, 16):
            if K >= Kr * Kc: continue
            # init by mean symbol quantile
            ms = (cellH * np.arange(S)).sum(1) / np.maximum(cellH.sum(1), 1)
            g = hist_kmeans(cellH, quantile_classes(ms, K), K, iters=20)
            add(f'row{Kr} x col{Kc} -> {K} tables', cost_ctx(V, g[ctx], K),
                side_bits_array(rc_km[Kr], Kr) + side_bits_array(cc_km[Kc], Kc) + Kr * Kc * 4, K)
    # co-clustering refinement (alternate row / col reassignment under product tables)
    for Kr, Kc in ((4, 4), (8, 8), (16, 16)):
        if R * Kc * S > 2e8: continue
        rcl, ccl = rc_km[Kr].copy(), cc_km[Kc].copy()
        for it in range(4):
            ctx = rcl[rows_of] * Kc + ccl[cols_of]
            P = np.bincount(ctx * S + Vc.ravel(), minlength=Kr * Kc * S).reshape(Kr, Kc, S) + 0.02
            L = -np.log2(P / P.sum(2, keepdims=True))
            # rows: counts per row per col class
            HrC = np.bincount((rows_of * Kc + ccl[cols_of]) * S + Vc.ravel(), minlength=R * Kc * S).reshape(R, Kc * S).astype(np.float32)
            rcl = (HrC @ L.reshape(Kr, Kc * S).T).argmin(1)
            del HrC
            HcR = np.bincount((cols_of * Kr + rcl[rows_of]) * S + Vc.ravel(), minlength=C * Kr * S).reshape(C, Kr * S).astype(np.float32)
            ctx = rcl[rows_of] * Kc + ccl[cols_of]
            P = np.bincount(ctx * S + Vc.ravel(), minlength=Kr * Kc * S).reshape(Kr, Kc, S) + 0.02
            L = -np.log2(P / P.sum(2, keepdims=True))
            ccl = (HcR @ L.transpose(1, 0, 2).reshape(Kc, Kr * S).T).argmin(1)
            del HcR
        ctx = rcl[rows_of] * Kc + ccl[cols_of]
        add(f'row{Kr} x col{Kc} co-clustered', cost_ctx(V, ctx, Kr * Kc),
            side_bits_array(rcl, Kr) + side_bits_array(ccl, Kc), Kr * Kc)
        cellH = np.bincount(ctx * S + Vc.ravel(), minlength=Kr * Kc * S).reshape(Kr * Kc, S).astype(float)
        for K in (4, 8, 16):
            if K >= Kr * Kc: continue
            ms = (cellH * np.arange(S)).sum(1) / np.maximum(cellH.sum(1), 1)
            g = hist_kmeans(cellH, quantile_classes(ms, K), K, iters=20)
            add(f'row{Kr} x col{Kc} co-clustered -> {K} tables', cost_ctx(V, g[ctx], K),
                side_bits_array(rcl, Kr) + side_bits_array(ccl, Kc) + Kr * Kc * 4, K)
            if Kr == 16 and K == 16:
                add(f'row{Kr} x col{Kc} co-clustered -> {K} tables, per-chunk tables', cost_ctx(V, g[ctx], K, per_chunk=True),
                    side_bits_array(rcl, Kr) + side_bits_array(ccl, Kc) + Kr * Kc * 4, K)
    # (d) previous symbol in the same row, at distance d (1 = serial; lanes = SIMD-friendly)
    ex = Vm >> 2  # exponent
    e_q = quantile_classes(V.astype(float), 4).reshape(R, C)
    for d in (1, 32, 128):
        if d >= C: continue
        pc = np.full((R, C), 4, np.int64); pc[:, d:] = e_q[:, :-d]
        add(f'prev(d={d}) class4', cost_ctx(V, pc.ravel(), 5), 0, 5,
            'd=1 serialises lanes' if d == 1 else 'same lane, previous step')
        ctx = rc_km[4][rows_of] * 5 + pc.ravel()
        add(f'row4 x prev(d={d}) class4', cost_ctx(V, ctx, 20), side_bits_array(rc_km[4], 4), 20)
    # previous row, same column
    pr = np.full((R, C), 4, np.int64); pr[1:] = e_q[:-1]
    add('prev row same col class4', cost_ctx(V, pr.ravel(), 5), 0, 5)
    # raw-bits conditioning on best row x col context: sign given ctx
    # wider value symbols: exponent + 3 / 4 mantissa bits (low bits raw), order-0 and with row kmeans K=4
    for extra in (1, 2):
        Vw = ((w >> (5 - extra)) & ((1 << (10 + extra)) - 1)).astype(np.int64)
        rb = (6 - extra) * n
        nd = len(np.unique(Vw))
        for K, cl in ((1, np.zeros(R, np.int64)), (4, rc_km[4])):
            H = np.bincount(cl[rows_of] * (1 << (10 + extra)) + Vw, minlength=K << (10 + extra)).reshape(K, -1)
            vb = tb = 0
            for k in range(K):
                for s0 in range(0, n, CHUNK_WORDS) if K == 1 else [0]:
                    hh = np.bincount(Vw[s0:s0 + CHUNK_WORDS], minlength=1 << (10 + extra)) if K == 1 else H[k]
                    c_, t_ = coded_bits_hist(hh, 10 + extra); vb += c_; tb += t_
            side = side_bits_array(cl, K) if K > 1 else 0
            cand[f'value {10+extra} bits, ' + ('order0 per-chunk' if K == 1 else 'row kmeans K=4')] = dict(
                ratio=16 * n / (vb + tb + side + rb + fo), ideal=16 * n / (vb + rb + fo), code_bits=vb, table_bits=tb,
                side_bits=side, K=K, vs_bound=16 * n / (vb + tb + side + rb + fo) / res['bound16'], note=f'{nd} distinct values (>256 escapes)')
    res['lane_state_bits'] = fo
    res['candidates'] = cand
    return res

if __name__ == '__main__':
    out = []
    for p in sys.argv[1:]:
        t = time.time(); r = main(p); r['secs'] = time.time() - t
        print(json.dumps(r, indent=1), flush=True); out.append(r)
    name = sys.argv[1].split('/')[-1] if len(sys.argv) == 2 else 'all'
    json.dump(out, open(f'./bf16_{name}.json', 'w'), indent=1)
