#!/usr/bin/env python3
"""Issue 15 fixtures: FP8 (E4M3FN) and F16 safetensors made from the MiniLM fp32 safetensors.

FP8 recipe (issue 15, exactly): for every tensor with >= 2 dimensions, scale = max|W| / 448 (computed in
f32), W / scale (f32 division) rounded to E4M3FN with round-to-nearest-even; the scale is stored as an F32
scalar tensor (shape []) named NAME_scale. 1-D tensors (norms, biases) stay F32.
F16 recipe: every tensor (1-D included) rounded from F32 to F16, round-to-nearest-even (numpy astype).

The E4M3FN rounding is done by ml_dtypes and checked element for element against an independent
reference (nearest representable value, ties to the even code, |x| > 448 saturating to 448 - not reached
here since |W/scale| <= 448 up to f32 rounding). Usage: make_fp8_f16.py IN.safetensors OUTDIR"""
import sys, os, json, struct
import numpy as np
import ml_dtypes

def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        hdr = json.loads(f.read(n))
        base = 8 + n
        data = f.read()
    meta = hdr.pop('__metadata__', None)
    out = {}
    for name, t in hdr.items():
        a, b = t['data_offsets']
        if t['dtype'] != 'F32':  # e.g. embeddings.position_ids (I64): copied unchanged to both outputs
            out[name] = (t['dtype'], t['shape'], data[a:b]); continue
        out[name] = np.frombuffer(data[a:b], dtype='<f4').reshape(t['shape'])
    # keep the source order (by offset)
    order = sorted(hdr, key=lambda k: hdr[k]['data_offsets'][0])
    return {k: out[k] for k in order}, meta

def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype_str, shape, bytes). Offsets in list order; header padded with spaces to 8."""
    hdr = {}
    if metadata: hdr['__metadata__'] = metadata
    off = 0
    for name, dt, shape, raw in tensors:
        hdr[name] = {'dtype': dt, 'shape': list(shape), 'data_offsets': [off, off + len(raw)]}
        off += len(raw)
    h = json.dumps(hdr, separators=(',', ':')).encode()
    h += b' ' * ((-len(h)) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h)
        for _, _, _, raw in tensors: f.write(raw)

# --- independent E4M3FN reference ---
_codes = np.arange(256, dtype=np.uint8)
_vals = _codes.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
_pos = [(c, v) for c, v in zip(_codes, _vals) if c < 0x80 and np.isfinite(v)]  # 0x00..0x7E (0x7F is NaN)
_pc = np.array([c for c, _ in _pos]); _pv = np.array([v for _, v in _pos])

def e4m3fn_reference(x):
    """RNE to E4M3FN in exact (float64) arithmetic; saturate |x| > 448 to 448."""
    ax = np.minimum(np.abs(x.astype(np.float64)), 448.0)
    i = np.searchsorted(_pv, ax)  # _pv increasing: first value >= ax
    i = np.clip(i, 1, len(_pv) - 1)
    lo, hi = _pv[i - 1], _pv[i]
    dlo, dhi = ax - lo, hi - ax
    pick_hi = (dhi < dlo) | ((dhi == dlo) & (_pc[i] % 2 == 0))
    code = np.where(ax <= _pv[0], _pc[0], np.where(pick_hi, _pc[i], _pc[i - 1])).astype(np.uint8)
    code = np.where(ax >= 448.0, 0x7E, code).astype(np.uint8)
    sign = (np.signbit(x)).astype(np.uint8) << 7
    return code | sign

def to_fp8(W):
    W = W.astype(np.float32)
    amax = np.float32(np.max(np.abs(W)))
    scale = np.float32(amax / np.float32(448.0))
    q = (W / scale).astype(np.float32)
    fp8 = q.astype(ml_dtypes.float8_e4m3fn)
    ref = e4m3fn_reference(q)
    got = fp8.view(np.uint8)
    # ml_dtypes keeps the sign of zero; the reference too (signbit)
    assert np.array_equal(got, ref), f'ml_dtypes != reference RNE on {np.sum(got != ref)} elements'
    assert np.isfinite(fp8.astype(np.float32)).all(), 'NaN/saturation problem'
    return fp8, scale

def main(src, outdir):
    os.makedirs(outdir, exist_ok=True)
    ts, meta = read_safetensors(src)
    fp8_out, f16_out, log = [], [], []
    for name, W in ts.items():
        if isinstance(W, tuple):
            fp8_out.append((name,) + W); f16_out.append((name,) + W); continue
        if W.ndim >= 2:
            q, scale = to_fp8(W)
            fp8_out.append((name, 'F8_E4M3', W.shape, q.tobytes()))
            fp8_out.append((name + '_scale', 'F32', [], np.array(scale, dtype='<f4').tobytes()))
            log.append({'name': name, 'shape': list(W.shape), 'scale': float(scale)})
        else:
            fp8_out.append((name, 'F32', W.shape, W.astype('<f4').tobytes()))
        h = W.astype(np.float16)  # IEEE RNE (numpy uses the hardware / npy_float_to_half with RNE)
        f16_out.append((name, 'F16', W.shape, h.astype('<f2').tobytes()))
    # F16 RNE spot check against an exact reference via float64 nearest
    base = os.path.splitext(os.path.basename(src))[0].replace('.f32', '')
    p8 = os.path.join(outdir, base + '.fp8-e4m3.safetensors'); p16 = os.path.join(outdir, base + '.f16.safetensors')
    write_safetensors(p8, fp8_out, meta); write_safetensors(p16, f16_out, meta)
    json.dump({'source': src, 'fp8_tensors': log,
               'recipe': 'FP8 E4M3FN: scale=f32(max|W|)/448 (f32), q=RNE_e4m3fn(f32(W/scale)) via ml_dtypes, verified equal to an exact RNE reference; '
                         'NAME_scale F32 scalar; 1-D tensors stay F32. F16: numpy astype(float16) (RNE) for every tensor.'},
              open(os.path.join(outdir, base + '.fp8-f16.json'), 'w'), indent=1)
    print(p8, os.path.getsize(p8)); print(p16, os.path.getsize(p16))

def _check_f16_rne():
    # exhaustive-ish: random f32 bit patterns in the normal/subnormal f16 range, compare with exact nearest-even
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1 << 20).astype(np.float32) * np.float32(0.05)
    h = x.astype(np.float16)
    allh = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    fin = np.isfinite(allh) & (allh.view(np.uint16) < 0x8000)
    pv = np.sort(allh[fin].astype(np.float64)); pc = np.array(sorted(allh[fin].view(np.uint16), key=lambda c: np.uint16(c).view(np.float16)))
    ax = np.abs(x.astype(np.float64)); i = np.clip(np.searchsorted(pv, ax), 1, len(pv) - 1)
    lo, hi = pv[i - 1], pv[i]
    pick = (hi - ax < ax - lo) | ((hi - ax == ax - lo) & (pc[i] % 2 == 0))
    ref = np.where(pick, hi, lo) * np.sign(x)
    assert np.array_equal(ref.astype(np.float16).view(np.uint16) & 0x7fff, h.view(np.uint16) & 0x7fff) or np.array_equal(np.abs(ref), np.abs(h.astype(np.float64)))

if __name__ == '__main__':
    _check_f16_rne()
    main(sys.argv[1], sys.argv[2])
