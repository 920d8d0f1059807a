"""Q4_K block headers (d, dmin, 8x(sc,m) 6-bit) coded as fields with contexts; tables counted.
Reports bits/block. Each context value must be known to a SIMD decoder that decodes one field for
many blocks at once (lane = block): only earlier fields of the same block or the previous block."""
import sys, numpy as np
from common import *
from q4k_ctx import load

def cost(sym, ctx, nsym, vb=8):
    sym = np.asarray(sym).ravel(); ctx = np.asarray(ctx).ravel()
    u, ci = np.unique(ctx, return_inverse=True)
    c, t = ctx_cost(sym, ci, len(u), nsym, vb)
    return c + t

for path in sys.argv[1:]:
    b, d, dmin, sc, m, nib = load(path); nb = len(b)
    hdr = b[:, :16].astype(np.int64)
    today = sum(cost(hdr[:, p], np.zeros(nb), 256) for p in range(16))
    db = b[:, 0:2].copy().view('<u2').ravel().astype(np.int64); mb = b[:, 2:4].copy().view('<u2').ravel().astype(np.int64)
    dh, dl, mh, ml = db >> 8, db & 255, mb >> 8, mb & 255
    prev = lambda a: np.concatenate([a[:1] * 0, a[:-1]])
    print('##', path.split('/')[-1], 'blocks', nb, 'today 16 byte streams: %.2f bits/block' % (today / nb))
    R = {}
    R['d: hi, lo|hi'] = cost(dh, 0 * dh, 256) + cost(dl, dh, 256)
    R['d: hi|prev hi, lo|hi'] = cost(dh, prev(dh), 256) + cost(dl, dh, 256)
    R['d: hi|prev hi, lo|(hi, prev lo>>5)'] = cost(dh, prev(dh), 256) + cost(dl, dh * 8 + (prev(dl) >> 5), 256)
    R['dmin: hi, lo|hi'] = cost(mh, 0 * mh, 256) + cost(ml, mh, 256)
    R['dmin: hi|prev hi, lo|hi'] = cost(mh, prev(mh), 256) + cost(ml, mh, 256)
    R['dmin: hi|(prev hi, d hi), lo|hi'] = cost(mh, prev(mh) * 256 + dh, 256) + cost(ml, mh, 256)
    # scales and mins
    scp = np.concatenate([np.full((nb, 1), 64), sc[:, :-1]], 1); mp = np.concatenate([np.full((nb, 1), 64), m[:, :-1]], 1)
    seen63 = np.concatenate([np.zeros((nb, 1), np.int64), (np.maximum.accumulate(sc, 1) == 63)[:, :-1]], 1)
    mseen63 = np.concatenate([np.zeros((nb, 1), np.int64), (np.maximum.accumulate(m, 1) == 63)[:, :-1]], 1)
    J = np.broadcast_to(np.arange(8), sc.shape)
    prevblk_sc = np.concatenate([np.zeros((1, 8), np.int64), sc[:-1]], 0); prevblk_m = np.concatenate([np.zeros((1, 8), np.int64), m[:-1]], 0)
    R['sc: order-0'] = cost(sc, 0 * sc, 64)
    R['sc: | j'] = cost(sc, J, 64)
    R['sc: | prev sc>>2'] = cost(sc, scp >> 2, 64)
    R['sc: | prev sc>>2, seen63'] = cost(sc, (scp >> 2) * 2 + seen63, 64)
    R['sc: | prev sc>>3, seen63, j==7'] = cost(sc, ((scp >> 3) * 2 + seen63) * 2 + (J == 7), 64)
    R['sc: | prev-block sc_j>>2, seen63'] = cost(sc, (prevblk_sc >> 2) * 2 + seen63, 64)
    R['sc: | prev sc>>3, prev-block sc_j>>3, seen63'] = cost(sc, ((scp >> 3) * 8 + (prevblk_sc >> 3)) * 2 + seen63, 64)
    R['m: order-0'] = cost(m, 0 * m, 64)
    R['m: | prev m>>2'] = cost(m, mp >> 2, 64)
    R['m: | sc>>2'] = cost(m, sc >> 2, 64)
    R['m: | prev m>>3, sc>>3'] = cost(m, (mp >> 3) * 8 + (sc >> 3), 64)
    R['m: | prev m>>3, sc>>3, mseen63'] = cost(m, ((mp >> 3) * 8 + (sc >> 3)) * 2 + mseen63, 64)
    R['m: | prev m>>3, sc>>3, prev-block m_j>>3, mseen63'] = cost(m, (((mp >> 3) * 8 + (sc >> 3)) * 8 + (prevblk_m >> 3)) * 2 + mseen63, 64)
    R['m: | sc>>1'] = cost(m, sc >> 1, 64)
    R['m: | sc>>2, mseen63'] = cost(m, (sc >> 2) * 2 + mseen63, 64)
    R['m: | sc>>2, prev m>>4, mseen63'] = cost(m, ((sc >> 2) * 4 + (mp >> 4)) * 2 + mseen63, 64)
    R['sc: | prev sc>>2, seen63, j==7'] = cost(sc, ((scp >> 2) * 2 + seen63) * 2 + (J == 7), 64)
    R['sc: | prev sc>>1, seen63'] = cost(sc, (scp >> 1) * 2 + seen63, 64)
    last_m = (J == 7) & (mseen63 == 0)
    last_s = (J == 7) & (seen63 == 0)
    R['m: | sc>>2, mseen63, last&!seen'] = cost(m, ((sc >> 2) * 2 + mseen63) * 2 + last_m, 64)
    R['m: | sc>>2, mseen63, sc==63'] = cost(m, ((sc >> 2) * 2 + mseen63) * 2 + (sc == 63), 64)
    R['sc: | prev sc>>2, seen63, last&!seen'] = cost(sc, ((scp >> 2) * 2 + seen63) * 2 + last_s, 64)
    R['sc: | prev sc>>3, seen63, last&!seen, prev m>>4'] = cost(sc, (((scp >> 3) * 2 + seen63) * 2 + last_s) * 4 + (mp >> 4), 64)
    R['d: hi|prev hi, lo|(hi, prev hi==hi)'] = cost(dh, prev(dh), 256) + cost(dl, dh * 2 + (prev(dh) == dh), 256)
    R['dmin: hi|(prev hi, d hi), lo|(hi, prev hi==hi)'] = cost(mh, prev(mh) * 256 + dh, 256) + cost(ml, mh * 2 + (prev(mh) == mh), 256)
    # pairs: the 12 packed scale bytes as today but conditioned on the previous block's same byte class
    for k, v in R.items(): print(f'  {k:55s} {v / nb:7.2f} bits/block')
    best_d = min(v for k, v in R.items() if k.startswith('d:')); best_m = min(v for k, v in R.items() if k.startswith('dmin:'))
    best_sc = min(v for k, v in R.items() if k.startswith('sc:')); best_mm = min(v for k, v in R.items() if k.startswith('m:'))
    tot = best_d + best_m + best_sc + best_mm
    print('  BEST fields total: %.2f bits/block (today %.2f); steps/block: 4 (d,dmin bytes) + 16 (sc,m)' % (tot / nb, today / nb))
