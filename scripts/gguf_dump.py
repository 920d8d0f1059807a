#!/usr/bin/env python3
"""Canonical JSON summary of a GGUF file, read with the reference reader (gguf-py).

Usage:
    pip install gguf==0.19.0
    scripts/gguf_dump.py FILE.gguf   > FILE.gguf.expected.json
    scripts/gguf_dump.py --types     > fixtures/gguf/ggml-types.gguf-py.expected.json

tests/gguf_parser.rs compares llmc's parser with this output field by field, so the
format below is a contract:

* scalars verbatim; floats also as "bits" (hex of the IEEE encoding) so the test can
  compare exactly, whatever a JSON float parser does with the last digit;
* arrays as element type, length and the sha256 of the canonical element encoding:
  integers and floats as fixed-width little-endian, bools as one byte, strings as
  u64 LE byte length + UTF-8 bytes, nested arrays as u32 LE element type + u64 LE
  length + their elements. (This is the GGUF encoding itself, rebuilt element by
  element from what the reader parsed.)
* tensors with the raw ggml type id, the type name gguf-py knows (or null), dims in
  file order (ne[0] first), offsets relative to the data section and absolute, nbytes.
"""
import hashlib
import json
import struct
import sys

import gguf
from gguf import GGUFReader, GGUFValueType, GGMLQuantizationType, GGML_QUANT_SIZES

SCALAR_FMT = {
    GGUFValueType.UINT8: "<B", GGUFValueType.INT8: "<b",
    GGUFValueType.UINT16: "<H", GGUFValueType.INT16: "<h",
    GGUFValueType.UINT32: "<I", GGUFValueType.INT32: "<i",
    GGUFValueType.UINT64: "<Q", GGUFValueType.INT64: "<q",
    GGUFValueType.FLOAT32: "<f", GGUFValueType.FLOAT64: "<d",
    GGUFValueType.BOOL: "<B",
}
FLOATS = (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64)


def le_bytes(part):
    """The little-endian bytes of one numpy part, whatever the host order."""
    return part.astype(part.dtype.newbyteorder("<")).tobytes()


def scalar_json(vtype, part):
    raw = le_bytes(part)
    (value,) = struct.unpack(SCALAR_FMT[vtype], raw)
    out = {}
    if vtype == GGUFValueType.BOOL:
        if value not in (0, 1):
            raise ValueError(f"bool byte {value} is neither 0 nor 1")
        out["value"] = bool(value)
    elif vtype in FLOATS:
        out["value"] = value if value == value and abs(value) != float("inf") else repr(value)
        out["bits"] = "0x" + raw[::-1].hex()
    else:
        out["value"] = value
    return out


def array_json(field):
    # parts: key len, key, value type, array elem type, array len, then elements.
    elem_type = GGUFValueType(int(field.parts[3][0]))
    length = int(field.parts[4][0])
    h = hashlib.sha256()
    if elem_type == GGUFValueType.ARRAY:
        # gguf-py flattens nested arrays; its parts are still the elements' own
        # encodings in order, so hash them as they are.
        for part in field.parts[5:]:
            h.update(le_bytes(part))
    elif elem_type == GGUFValueType.STRING:
        assert len(field.data) == length
        for idx in field.data:
            s = bytes(field.parts[idx])
            s.decode("utf-8")  # gguf-py would fail on it too
            h.update(struct.pack("<Q", len(s)) + s)
    else:
        assert len(field.data) == length
        for idx in field.data:
            raw = le_bytes(field.parts[idx])
            if elem_type == GGUFValueType.BOOL and raw not in (b"\0", b"\1"):
                raise ValueError("bool byte neither 0 nor 1")
            h.update(raw)
    return {"type": elem_type.name, "len": length, "sha256": h.hexdigest()}


def field_end(field):
    return field.offset + sum(int(p.nbytes) for p in field.parts)


def dump(path):
    r = GGUFReader(path)
    fields = list(r.fields.values())
    # The first three entries are gguf-py's pseudo-fields for the header.
    assert [f.name for f in fields[:3]] == ["GGUF.version", "GGUF.tensor_count", "GGUF.kv_count"]
    version = int(fields[0].parts[0][0])
    kvs = []
    for f in fields[3:]:
        vtype = GGUFValueType(int(f.parts[2][0]))
        kv = {"key": f.name, "type": vtype.name}
        if vtype == GGUFValueType.STRING:
            kv["value"] = bytes(f.parts[-1]).decode("utf-8")
        elif vtype == GGUFValueType.ARRAY:
            kv["array"] = array_json(f)
        else:
            kv.update(scalar_json(vtype, f.parts[-1]))
        kvs.append(kv)
    tensors = []
    for t in r.tensors:
        tid = int(t.field.parts[4][0])
        tensors.append({
            "name": t.name,
            "type_id": tid,
            "type": t.tensor_type.name,
            "dims": [int(d) for d in t.shape],
            "offset": int(t.field.parts[5][0]),
            "abs_offset": int(t.data_offset),
            "nbytes": int(t.n_bytes),
        })
    last = r.tensors[-1].field if r.tensors else (fields[-1])
    return {
        "reader": f"gguf-py {gguf_version()}",
        "version": version,
        "file_size": int(r.data.shape[0]),
        "alignment": int(r.alignment),
        "infos_end": field_end(last),
        "data_offset": int(r.data_offset),
        "n_kv": len(kvs),
        "n_tensors": len(tensors),
        "kv": kvs,
        "tensors": tensors,
    }


def gguf_version():
    try:
        from importlib.metadata import version
        return version("gguf")
    except Exception:  # pragma: no cover - metadata missing
        return "unknown"


def types_table():
    rows = []
    for t in GGMLQuantizationType:
        block, size = GGML_QUANT_SIZES[t]
        rows.append({"id": int(t), "name": t.name, "block_size": block, "type_size": size})
    return {"reader": f"gguf-py {gguf_version()}", "types": rows}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = types_table() if sys.argv[1] == "--types" else dump(sys.argv[1])
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
