"""Shared cost model: rANS with 12-bit frequencies (M=4096), the project's alphabet
serialisation (FORMAT.md §3: Elias-gamma gaps + Elias-gamma freqs), integer-ish normalisation."""
import numpy as np
M = 4096

def gamma_bits(x):
    x = np.asarray(x, dtype=np.int64)
    return int(np.sum(2 * np.floor(np.log2(np.maximum(x, 1))).astype(np.int64) + 1))

def normalize(counts):
    """Approximation of src/rans/freq.rs normalize (rounded shares, >=1, greedy fix)."""
    c = np.asarray(counts, dtype=np.float64)
    tot = c.sum()
    f = np.maximum(1, np.floor(c * M / tot + 0.5)).astype(np.int64)
    s = f.sum()
    while s > M:
        cand = np.where(f > 1, c / (2 * f - 1), np.inf)
        i = int(np.argmin(cand)); f[i] -= 1; s -= 1
    while s < M:
        i = int(np.argmax(c / (2 * f + 1))); f[i] += 1; s += 1
    return f

def table_bits(values, freqs, value_bits=10):
    """Alphabet bits per FORMAT.md §3 (no escape)."""
    values = np.sort(np.asarray(values))
    b = 8 + 1 + value_bits
    if len(values) > 1:
        b += gamma_bits(np.diff(values))
    b += gamma_bits(freqs[:-1])
    return b + (-b) % 8  # byte padded

def coded_bits_hist(h, value_bits=10, with_table=True, max_sym=256):
    """Bits to code a histogram h (indexed by value) with its own quantised table.
    Returns (code_bits, table_bits). Single-symbol: escape-like tiny cost."""
    idx = np.nonzero(h)[0]
    cnt = h[idx].astype(np.float64)
    n = cnt.sum()
    if n == 0:
        return 0.0, 0
    if len(idx) == 1:
        # one symbol + escape (freq 4095/1): ~n*log2(4096/4095)
        return n * np.log2(M / (M - 1)), (table_bits(idx, np.array([M - 1, 1]), value_bits) if with_table else 0)
    esc_bits = 0.0
    if len(idx) > max_sym:
        order = np.argsort(-cnt)
        keep = order[:max_sym - 1]; rest = order[max_sym - 1:]
        resc = cnt[rest].sum()
        esc_bits = resc * (16 + 8)  # u16 value + ~1 byte varint
        idx_k = idx[keep]; cnt_k = np.append(cnt[keep], resc)
        f = normalize(cnt_k)
        code = float(np.sum(cnt_k * np.log2(M / f))) + esc_bits
        tb = table_bits(idx_k, f, value_bits) if with_table else 0
        return code, tb
    f = normalize(cnt)
    code = float(np.sum(cnt * np.log2(M / f)))
    tb = table_bits(idx, f, value_bits) if with_table else 0
    return code, tb

def ctx_cost(sym, ctx, nctx, nsym, value_bits=10, with_table=True):
    """Total bits coding sym (ints < nsym) with a table per context value."""
    H = np.bincount(ctx.astype(np.int64) * nsym + sym, minlength=nctx * nsym).reshape(nctx, nsym)
    code = 0.0; tb = 0
    for k in range(nctx):
        if H[k].sum() == 0: continue
        c, t = coded_bits_hist(H[k], value_bits, with_table)
        code += c; tb += t
    return code, tb

def ent(h):
    h = np.asarray(h, dtype=np.float64); h = h[h > 0]; n = h.sum()
    return float(-(h * np.log2(h / n)).sum())

def side_bits_array(classes, K):
    """Bits to store a class array: min(raw log2K bits, order-0 rANS + table)."""
    if K <= 1: return 0
    raw = len(classes) * int(np.ceil(np.log2(K)))
    h = np.bincount(classes, minlength=K)
    c, t = coded_bits_hist(h, value_bits=8)
    return int(min(raw, c + t + 8))
