"""Q4_K measurements for issue 15: conditional entropies of the quant nibbles and the block headers,
tables counted (FORMAT.md §3 alphabet format, 12-bit freqs). Usage: q4k_ctx.py FILE.q4k"""
import sys, json, time
import numpy as np
from common import *

def load(path):
    b = np.fromfile(path, dtype=np.uint8).reshape(-1, 144)
    d = b[:, 0:2].copy().view('<f2').ravel().astype(np.float32)
    dmin = b[:, 2:4].copy().view('<f2').ravel().astype(np.float32)
    q = b[:, 4:16].astype(np.int64)
    sc = np.zeros((len(b), 8), np.int64); m = np.zeros((len(b), 8), np.int64)
    for j in range(8):
        if j < 4:
            sc[:, j] = q[:, j] & 63; m[:, j] = q[:, j + 4] & 63
        else:
            sc[:, j] = (q[:, j + 4] & 0xF) | ((q[:, j - 4] >> 6) << 4)
            m[:, j] = (q[:, j + 4] >> 4) | ((q[:, j] >> 6) << 4)
    qs = b[:, 16:].astype(np.int64)  # 128 bytes
    # nibbles per sub-block: [nb, 8, 32]; sub-block 2g (low nibbles of qs[32g:32g+32]), 2g+1 (high)
    nib = np.zeros((len(b), 8, 32), np.int64)
    for g in range(4):
        nib[:, 2 * g] = qs[:, 32 * g:32 * g + 32] & 15
        nib[:, 2 * g + 1] = qs[:, 32 * g:32 * g + 32] >> 4
    return b, d, dmin, sc, m, nib

def cost(sym, ctx, nctx, nsym, vb=8):
    c, t = ctx_cost(sym.ravel(), ctx.ravel(), nctx, nsym, vb)
    return c + t, c, t

def main(path):
    meta = json.load(open(path + '.json'))
    b, d, dmin, sc, m, nib = load(path)
    nb = len(b); nw = nb * 256
    total_bytes = nb * 144
    res = {'fixture': path.split('/')[-1], 'n_blocks': nb}
    out = []
    def rep(name, bits_per_block_hdr, bits_q, note=''):
        tot = bits_per_block_hdr + bits_q
        r = total_bytes * 8 / tot
        out.append((name, r, bits_q / nw, bits_per_block_hdr / nb, note))
        print(f'  {name:66s} ratio {r:.4f}  quant {bits_q / nw:.4f} b/w  hdr {bits_per_block_hdr / nb:.1f} b/blk {note}', flush=True)
    # ---------- headers ----------
    hdr = b[:, :16].astype(np.int64)
    hdr_today = sum(cost(hdr[:, p], np.zeros(nb, np.int64), 1, 256)[0] for p in range(16))
    # per-position conditioned on previous block's same byte (order-1, 256 ctx would be too many tables): use coarse class
    def hdr_prevclass(shift):
        tot = 0
        for p in range(16):
            prev = np.concatenate([[0], hdr[:-1, p]]) >> shift
            tot += cost(hdr[:, p], prev, 256 >> shift, 256)[0]
        return tot
    # decoded fields: d, dmin as f16 (hi byte | lo byte), sc/m 6-bit values
    dbits = b[:, 0:2].copy().view('<u2').ravel().astype(np.int64); mbits = b[:, 2:4].copy().view('<u2').ravel().astype(np.int64)
    def f16_cost(x, ctxprev):
        hi, lo = x >> 8, x & 255
        if ctxprev:
            ph = np.concatenate([[0], hi[:-1]])
            vals, ph = np.unique(ph, return_inverse=True)
            a = cost(hi, ph, len(vals), 256)[0]
            b_ = cost(lo, hi - hi.min(), int(hi.max() - hi.min() + 1), 256)[0]
            return a + b_
        return cost(hi, np.zeros(nb, np.int64), 1, 256)[0] + cost(lo, hi - hi.min(), int(hi.max() - hi.min() + 1), 256)[0]
    # sc, m: 6-bit fields with sub-block position j as context / previous sub-block's value class
    scm_pos = sum(cost(sc[:, j], np.zeros(nb, np.int64), 1, 64)[0] + cost(m[:, j], np.zeros(nb, np.int64), 1, 64)[0] for j in range(8))
    sc_prev = np.concatenate([np.zeros((nb, 1), np.int64), sc[:, :-1]], 1)
    m_prev = np.concatenate([np.zeros((nb, 1), np.int64), m[:, :-1]], 1)
    scm_prev = cost(sc, sc_prev >> 2, 16, 64)[0] + cost(m, (m_prev >> 2) * 0 + (sc >> 2), 16, 64)[0]
    scm_prev2 = cost(sc, sc_prev >> 2, 16, 64)[0] + cost(m, m_prev >> 2, 16, 64)[0]
    # m given its own sc (same sub-block) and prev m
    scm_prev3 = cost(sc, sc_prev >> 2, 16, 64)[0] + cost(m, (m_prev >> 3) * 8 + (sc >> 3), 64, 64)[0]
    hdr_fields0 = f16_cost(dbits, False) + f16_cost(mbits, False) + scm_pos
    hdr_fields1 = f16_cost(dbits, True) + f16_cost(mbits, True) + scm_prev3
    res['hdr_bits_per_block'] = {
        'today: 16 byte positions order-0': hdr_today / nb,
        'byte positions | prev block same byte >>4': hdr_prevclass(4) / nb,
        'byte positions | prev block same byte >>2': hdr_prevclass(2) / nb,
        'fields: d,dmin hi|lo + sc_j,m_j per position j': hdr_fields0 / nb,
        'fields: d,dmin hi|prev hi, lo|hi; sc|prev sc; m|(prev m, sc)': hdr_fields1 / nb,
        'fields: ... sc|prev sc>>2; m|prev m>>2': (f16_cost(dbits, True) + f16_cost(mbits, True) + scm_prev2) / nb,
    }
    for k, v in res['hdr_bits_per_block'].items(): print(f'  hdr {k:70s} {v:.2f} bits/block', flush=True)
    hbest = min(res['hdr_bits_per_block'].values()) * nb
    # ---------- quants ----------
    # zero point z = dmin*m/(d*sc) in quant units; today's window start lo
    D = (d[:, None] * sc).astype(np.float32); Mn = (dmin[:, None] * m).astype(np.float32)
    lo = np.zeros((nb, 8), np.int64)
    for t in range(4, 12):
        lo += (Mn >= t * D)
    with np.errstate(divide='ignore', invalid='ignore'):
        z = np.where(D > 0, Mn / D, 16.0)
    z = np.nan_to_num(np.clip(z, 0, 16), nan=16.0)
    q = nib
    # today: flag per nibble, 8 flags per byte symbol (per sub-block), + 3 raw bits
    flag = ((q >= lo[:, :, None]) & (q < lo[:, :, None] + 8)).astype(np.int64)
    fb = (flag.reshape(nb, 8, 4, 8) << np.arange(8)).sum(3)  # flag bytes [nb, 8 sb, 4]
    ft = cost(fb, np.zeros_like(fb), 1, 256)[0]
    rep('today: flag bytes order-0 + 3 raw bits (model)', hdr_today, ft + 3 * nw)
    rep('today quants + best header model', hbest, ft + 3 * nw)
    res['H_q_order0'] = ent(np.bincount(q.ravel())) / nw
    # conditional entropies of whole nibble
    sbz = np.broadcast_to(sc[:, :, None], q.shape)
    def qctx(name, ctx, nctx, hdrb=hbest, note=''):
        tot, c, t = cost(q, np.broadcast_to(ctx, q.shape), nctx, 16)
        rep(name, hdrb, tot, note + f' tables {t / 8:.0f}B')
        return tot
    qctx('nibble order-0', np.zeros((nb, 8, 1), np.int64), 1)
    qctx('nibble | sc (64)', sc[:, :, None], 64)
    qctx('nibble | m (64)', m[:, :, None], 64)
    qctx('nibble | lo (today window, 9)', lo[:, :, None], 9)
    zc4 = np.minimum((z * 4).astype(np.int64), 63)
    zc2 = np.minimum((z * 2).astype(np.int64), 31)
    zc8 = np.minimum((z * 8).astype(np.int64), 127)
    qctx('nibble | z class (z*2, 32)', zc2[:, :, None], 32)
    qctx('nibble | z class (z*4, 64)', zc4[:, :, None], 64)
    qctx('nibble | z class (z*8, 128)', zc8[:, :, None], 128)
    scq = np.minimum(sc >> 3, 7)
    qctx('nibble | z*4 x sc>>3 (512)', (zc4 * 8 + scq)[:, :, None], 512)
    pos = np.broadcast_to(np.arange(32)[None, None, :], q.shape)
    qctx('nibble | z*2 x pos-in-sub-block (1024)', zc2[:, :, None] * 32 + pos, 1024)
    prevq = np.concatenate([np.full((nb, 8, 1), 16), q[:, :, :-1]], 2)
    qctx('nibble | z*2 x prev nibble (544)', zc2[:, :, None] * 17 + prevq, 32 * 17, note='serial within sub-block')
    prevq8 = np.concatenate([np.full((nb, 8, 8), 16), q[:, :, :-8]], 2)
    qctx('nibble | z*2 x nibble 8 back (544)', zc2[:, :, None] * 17 + prevq8, 32 * 17)
    # sub-block index j (position of the sub-block in the block)
    qctx('nibble | z*2 x j (256)', zc2[:, :, None] * 8 + np.arange(8)[None, :, None], 256)
    # pairs: two nibbles of the same qs byte? (low = sb 2g, high = 2g+1): byte symbol conditioned on (zc of both)
    # within-sub-block pairs (adjacent weights) conditioned on z*2
    pair = q[:, :, 0::2] * 16 + q[:, :, 1::2]
    tot, c, t = cost(pair, np.broadcast_to(zc2[:, :, None], pair.shape), 32, 256)
    rep('adjacent nibble pair (byte) | z*2', hbest, tot, f'tables {t / 8:.0f}B, 128 steps/block')
    # today's structure, better-conditioned: flag bytes | lo ; index bits: 3-bit idx | (flag, z frac)
    ft_lo = cost(fb, np.broadcast_to(lo[:, :, None], fb.shape), 9, 256)[0]
    rep('flag bytes | lo (9 tables) + 3 raw', hbest, ft_lo + 3 * nw)
    ft_z = cost(fb, np.broadcast_to(zc4[:, :, None], fb.shape), 64, 256)
    rep('flag bytes | z*4 (64 tables) + 3 raw', hbest, ft_z[0] + 3 * nw, f'tables {ft_z[2] / 8:.0f}B')
    idx = np.where(flag == 1, q - lo[:, :, None], np.where(q < lo[:, :, None], q, q - 8))
    fr = np.minimum(((z - lo) * 4).astype(np.int64), 15)  # position of z inside window
    for nm, cx, nc in (('idx | flag', flag, 2), ('idx | flag x lo', flag * 9 + lo[:, :, None], 18),
                       ('idx | flag x z*4', flag * 64 + zc4[:, :, None], 128)):
        ti = cost(idx, np.broadcast_to(cx, idx.shape), nc, 8)
        rep(f'flag bytes | z*4 + {nm} (rANS, 8-ary)', hbest, ft_z[0] + ti[0], f'idx {ti[0] / nw:.4f} b/w; 256 steps/block')
    # index top bit only coded (binary, 2 raw bits)
    top = idx >> 2
    tt = cost(top, np.broadcast_to(flag * 64 + zc4[:, :, None], top.shape), 128, 2)
    rep('flag bytes | z*4 + idx top bit | flag x z*4 + 2 raw', hbest, ft_z[0] + tt[0] + 2 * nw)
    # joint flag+top-bit packed 4 per byte symbol (nibble pairs of (flag,top)) = 64 steps/block
    ft2 = (flag * 2 + top).reshape(nb, 8, 8, 4)
    sym4 = (ft2 << (2 * np.arange(4))).sum(3)
    c4 = cost(sym4, np.broadcast_to(zc4[:, :, None], sym4.shape), 64, 256)
    rep('4 x (flag,top bit) per byte | z*4 + 2 raw', hbest, c4[0] + 2 * nw, f'tables {c4[2] / 8:.0f}B, 64 steps/block')
    c4b = cost(sym4, np.broadcast_to(zc2[:, :, None], sym4.shape), 32, 256)
    rep('4 x (flag,top bit) per byte | z*2 + 2 raw', hbest, c4b[0] + 2 * nw, f'tables {c4b[2] / 8:.0f}B, 64 steps/block')
    lo_b = np.broadcast_to(lo[:, :, None], pair.shape)
    tot, c, t = cost(pair, lo_b, 9, 256)
    rep('adjacent nibble pair (byte) | lo (9)', hbest, tot, f'tables {t / 8:.0f}B, 128 steps/block')
    quad_ok = True
    ft_lo2 = cost(fb, np.broadcast_to(np.minimum(lo, 4)[:, :, None], fb.shape), 5, 256)
    rep('flag bytes | min(lo,4) (5 tables) + 3 raw', hbest, ft_lo2[0] + 3 * nw, f'tables {ft_lo2[2] / 8:.0f}B')
    # top-index-bit bytes (plane 2), 8 per byte like the flags, | lo : +32 steps/block
    tb8 = (top.reshape(nb, 8, 4, 8) << np.arange(8)).sum(3)
    ct = cost(tb8, np.broadcast_to(lo[:, :, None], tb8.shape), 9, 256)
    rep('flag bytes | lo + top-bit bytes | lo + 2 raw (64 steps/blk)', hbest, ft_lo[0] if False else ft_lo + ct[0] + 2 * nw, f'tables {ct[2] / 8:.0f}B')
    s4 = cost(sym4, np.broadcast_to(lo[:, :, None], sym4.shape), 9, 256)
    rep('4 x (flag,top bit) per byte | lo + 2 raw (64 steps/blk)', hbest, s4[0] + 2 * nw, f'tables {s4[2] / 8:.0f}B')
    # idx | flag x lo coded via 8-ary is 256 steps; report H only
    res['H_idx_given_flag_lo'] = float(cost(idx, np.broadcast_to(flag * 9 + lo[:, :, None], idx.shape), 18, 8)[1] / nw)
    res['H_q_given_lo'] = float(cost(q, np.broadcast_to(lo[:, :, None], q.shape), 9, 16)[1] / nw)
    print('  H(idx|flag,lo)=%.4f  H(q|lo)=%.4f  H(flagbyte)/8=%.4f' % (res['H_idx_given_flag_lo'], res['H_q_given_lo'], ft / nw), flush=True)
    # per-byte whole qs byte as symbol conditioned on the two sub-blocks' z classes
    res['rows'] = out
    return res

if __name__ == '__main__':
    allr = []
    for p in sys.argv[1:]:
        print('##', p.split('/')[-1], flush=True)
        t = time.time(); allr.append(main(p)); print('  secs %.1f' % (time.time() - t), flush=True)
    json.dump(allr, open('./q4k_results_' + sys.argv[1].split('/')[-1] + '.json', 'w'), indent=1)
