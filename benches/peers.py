#!/usr/bin/env python3
"""llmc beside its peers (ZipNN, OpenZL, zstd) on the same files, in one process.

    bash benches/peers.sh [--json] [--scaling] [--quick] [FILES...]

(peers.sh makes the pinned virtual environment and runs this script in it.)

For every file: ratio, encode GB/s and decode GB/s (GB/s of *uncompressed* bytes,
wall time of one in-memory call, best of several repetitions and rounds; no disk in
the timed region), at one thread and at all threads (nproc), with a numpy copy of the
same buffer (memcpy) measured in the same run, and the CPU model printed. Codecs are
measured in turns (round after round, best kept), so load on a shared machine hits
them all alike.

How each codec is called (all in this process):

* llmc: target/release/libllmc.so through ctypes (the C API in include/llmc.h; ctypes
  releases the GIL). bf16 and Q4_K fixtures: llmc_bf16_compress / llmc_q4k_compress
  with params.n_threads ("llmc rows": llmc_bf16_compress_rows with the row length from
  the fixture's sidecar, the row classes a container gives every 2-D bf16 tensor), and llmc_decompress_dctx with llmc_dctx_set_threads, into a
  preallocated buffer. Whole GGUF files: encode is llmc_container_compress_file from a
  tmpfs file to a tmpfs file (the C API has no in-memory container compressor), decode
  is llmc_container_open_buffer on the container in memory, then
  llmc_container_read_range over the whole file: one call on one thread, or pieces cut
  on llmc_container_chunk_size() edges read by N Python threads.
* ZipNN: zipnn.ZipNN(input_format="byte", bytearray_dtype="bfloat16", threads=T).
  Its compress() rewrites its input buffer in place (even a `bytes` object), so every
  call gets a fresh copy made outside the timed region. Only bf16 (its byte mode takes
  float dtypes; "uint8" raises), so Q4_K and GGUF rows say n/a.
* OpenZL (Meta's `openzl` package): bf16 through BFloat16Deconstruct, exponents to
  FSE, sign+fraction bytes stored (of the graphs tried on word_embeddings this had the
  best ratio: 1.5136; Huffman on both 1.5072); other files through the generic
  `Compress` graph on serial bytes. One thread (the bindings have no thread setting).
* zstd: the `zstandard` package, levels 3 and 19; threads=0 (one thread) or nproc
  workers for compression; decompression is single-threaded in zstd, read into a
  preallocated buffer (stream_reader().readinto).

ZipNN and OpenZL return a newly allocated output from each decompress call (their
Python APIs have no into-buffer call); llmc and zstd decode into a buffer allocated
once, the way the C API is meant to be used. --fresh-output makes llmc and zstd
allocate too (np.empty per call), for that comparison.
"""

import argparse
import concurrent.futures as cf
import ctypes as C
import datetime
import glob
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("LLMC_CACHE_DIR") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "llmc")
GEMMA = os.path.join(CACHE, "gemma-3-270m-q4_k_m.gguf")

warnings.filterwarnings("ignore")  # torch's deprecation chatter on `import zipnn`


# ---------------------------------------------------------------- machine

def cpu_info():
    model, fam, mod, flags = "?", "?", "?", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k == "model name" and model == "?":
                    model = v
                elif k == "cpu family" and fam == "?":
                    fam = v
                elif k == "model" and mod == "?":
                    mod = v
                elif k == "flags" and not flags:
                    flags = set(v.split())
    except OSError:
        model = platform.processor() or "?"
    isa = [f for f in ("avx2", "avx512f", "avx512bw", "avx512vbmi", "avx512_vbmi2") if f in flags]
    return {"model": model, "family": fam, "model_number": mod, "isa_flags": isa}


def nproc():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---------------------------------------------------------------- timing

class Timer:
    """Best wall time of fn(setup()) over repetitions lasting min_time (at least
    `reps`); a call slower than `slow` seconds is timed once and not repeated."""

    def __init__(self, min_time, reps, slow):
        self.min_time, self.reps, self.slow = min_time, reps, slow

    def best(self, fn, setup=None, first=None):
        """`first`: the time of a call already made (the warm-up), if any."""
        best = first if first is not None else float("inf")
        if first is not None and first > self.slow:
            return best
        start, n = time.perf_counter(), 0
        while n < self.reps or time.perf_counter() - start < self.min_time:
            arg = setup() if setup else None
            t = time.perf_counter()
            fn(arg)
            best = min(best, time.perf_counter() - t)
            n += 1
            if best > self.slow:
                break
        return best


def timed(fn, *a):
    t = time.perf_counter()
    r = fn(*a)
    return r, time.perf_counter() - t


def split(n, pieces, align=1):
    """[lo, hi) pieces of range(n), edges on multiples of `align`."""
    step = max(align, -(-n // pieces) // align * align)
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


class Memcpy:
    """numpy copy of a buffer into a preallocated one, on T threads (numpy's copy
    releases the GIL)."""

    def __init__(self, src):
        self.src = np.frombuffer(src, dtype=np.uint8)
        self.dst = np.empty_like(self.src)
        self.pool = {}

    def run(self, threads):
        if threads <= 1:
            np.copyto(self.dst, self.src)
            return
        pool = self.pool.get(threads)
        if pool is None:
            pool = self.pool[threads] = cf.ThreadPoolExecutor(threads)
        parts = split(len(self.src), threads, 64)
        list(pool.map(lambda p: np.copyto(self.dst[p[0]:p[1]], self.src[p[0]:p[1]]), parts))


# ---------------------------------------------------------------- llmc via ctypes

class Params(C.Structure):
    _fields_ = [("struct_size", C.c_uint32), ("level", C.c_int32), ("n_threads", C.c_uint32),
                ("chunk_size", C.c_uint32), ("format_version", C.c_uint32), ("flags", C.c_uint32)]


class Llmc:
    def __init__(self, path):
        L = self.L = C.CDLL(path)
        vp, sz, u32, u64 = C.c_void_p, C.c_size_t, C.c_uint32, C.c_uint64
        for name, res, args in [
            ("llmc_version_string", C.c_char_p, []),
            ("llmc_get_error_name", C.c_char_p, [u32]),
            ("llmc_active_isa", u32, []),
            ("llmc_isa_name", C.c_char_p, [u32]),
            ("llmc_params_init", None, [C.POINTER(Params)]),
            ("llmc_bf16_compress_bound", sz, [sz]),
            ("llmc_q4k_compress_bound", sz, [sz]),
            ("llmc_bf16_compress", u32, [vp, sz, vp, sz, C.POINTER(sz), C.POINTER(Params)]),
            ("llmc_bf16_compress_rows", u32, [vp, sz, u32, vp, sz, C.POINTER(sz), C.POINTER(Params)]),
            ("llmc_q4k_compress", u32, [vp, sz, vp, sz, C.POINTER(sz), C.POINTER(Params)]),
            ("llmc_dctx_create", u32, [C.POINTER(vp)]),
            ("llmc_dctx_free", None, [vp]),
            ("llmc_dctx_set_threads", u32, [vp, u32]),
            ("llmc_decompress_dctx", u32, [vp, vp, sz, vp, sz, C.POINTER(sz)]),
            ("llmc_container_compress_file", u32, [C.c_char_p, C.c_char_p, C.POINTER(Params)]),
            ("llmc_container_open_buffer", u32, [vp, sz, u32, C.POINTER(vp)]),
            ("llmc_container_close", None, [vp]),
            ("llmc_container_original_size", u64, [vp]),
            ("llmc_container_chunk_size", u64, [vp]),
            ("llmc_container_read_range", u32, [vp, vp, u64, vp, sz, C.POINTER(sz)]),
        ]:
            f = getattr(L, name)
            f.restype, f.argtypes = res, args
        self.version = L.llmc_version_string().decode()
        self.isa = L.llmc_isa_name(L.llmc_active_isa()).decode()

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"llmc: {what}: {self.L.llmc_get_error_name(status).decode()}")

    def params(self, threads):
        p = Params()
        self.L.llmc_params_init(C.byref(p))
        p.n_threads = threads
        return p


def addr(buf):
    """Address of a writable numpy array or a read-only bytes object."""
    if isinstance(buf, np.ndarray):
        return buf.ctypes.data
    return C.cast(C.c_char_p(buf), C.c_void_p).value


class Codec:
    def compress_args(self, threads):
        """What compress() gets, made outside the timed region."""
        return None


class LlmcFrame(Codec):
    """bf16 or Q4_K fixtures: one frame per file."""

    def __init__(self, lib, kind, fresh_output):
        self.lib, self.kind, self.fresh = lib, kind, fresh_output
        self.name = "llmc"
        self.compress_fn = lib.L.llmc_bf16_compress if kind == "bf16" else lib.L.llmc_q4k_compress
        self.bound = lib.L.llmc_bf16_compress_bound if kind == "bf16" else lib.L.llmc_q4k_compress_bound
        self.dctx = {}

    def prepare(self, src):
        self.src = src
        self.cbuf = np.empty(self.bound(len(src)), dtype=np.uint8)
        self.out = np.empty(len(src), dtype=np.uint8)

    def compress(self, threads, arg=None):
        n = C.c_size_t()
        p = self.lib.params(threads)
        self.lib.check(self.compress_fn(addr(self.src), len(self.src), self.cbuf.ctypes.data, len(self.cbuf),
                                        C.byref(n), C.byref(p)), "compress")
        return self.cbuf[:n.value]

    def decompress(self, frame, threads):
        d = self.dctx.get(threads)
        if d is None:
            d = C.c_void_p()
            self.lib.check(self.lib.L.llmc_dctx_create(C.byref(d)), "dctx_create")
            self.lib.check(self.lib.L.llmc_dctx_set_threads(d, threads), "dctx_set_threads")
            self.dctx[threads] = d
        out = np.empty(len(self.src), dtype=np.uint8) if self.fresh else self.out
        n = C.c_size_t()
        self.lib.check(self.lib.L.llmc_decompress_dctx(d, frame.ctypes.data, len(frame), out.ctypes.data, len(out),
                                                       C.byref(n)), "decompress")
        return out


class LlmcRows(LlmcFrame):
    """bf16 fixtures told their row length (the last dimension, from the sidecar):
    row classes, as a container codes every 2-D bf16 tensor."""

    def __init__(self, lib, row, fresh_output):
        super().__init__(lib, "bf16", fresh_output)
        self.name, self.row = "llmc rows", row

    def compress(self, threads, arg=None):
        n = C.c_size_t()
        p = self.lib.params(threads)
        self.lib.check(self.lib.L.llmc_bf16_compress_rows(addr(self.src), len(self.src), self.row, self.cbuf.ctypes.data,
                                                          len(self.cbuf), C.byref(n), C.byref(p)), "compress_rows")
        return self.cbuf[:n.value]


class LlmcContainer(Codec):
    """Whole GGUF / safetensors files as containers."""

    def __init__(self, lib, fresh_output, tmpdir):
        self.lib, self.fresh, self.tmp = lib, fresh_output, tmpdir
        self.name = "llmc"
        self.pool = {}
        self.handle = None
        self.frame_id = None

    def prepare(self, src):
        self.src = src
        self.in_path = os.path.join(self.tmp, "in")
        self.out_path = os.path.join(self.tmp, "out.llmc")
        with open(self.in_path, "wb") as f:
            f.write(src)
        self.out = np.empty(len(src), dtype=np.uint8)

    def compress(self, threads, arg=None):
        p = self.lib.params(threads)
        self.lib.check(self.lib.L.llmc_container_compress_file(self.in_path.encode(), self.out_path.encode(),
                                                               C.byref(p)), "container_compress_file")
        with open(self.out_path, "rb") as f:
            return f.read()

    def open(self, frame):
        if self.frame_id is not frame:
            if self.handle:
                self.lib.L.llmc_container_close(self.handle)
            self.frame, self.frame_id = frame, frame
            h = C.c_void_p()
            self.lib.check(self.lib.L.llmc_container_open_buffer(addr(frame), len(frame), 0, C.byref(h)), "open_buffer")
            self.handle = h
            self.size = self.lib.L.llmc_container_original_size(h)
            self.chunk = max(1, self.lib.L.llmc_container_chunk_size(h))
        return self.handle

    def read(self, out, lo, hi):
        n = C.c_size_t()
        self.lib.check(self.lib.L.llmc_container_read_range(self.handle, None, lo, out.ctypes.data + lo, hi - lo,
                                                            C.byref(n)), "read_range")

    def decompress(self, frame, threads):
        self.open(frame)
        out = np.empty(self.size, dtype=np.uint8) if self.fresh else self.out
        if threads <= 1:
            self.read(out, 0, self.size)
        else:
            pool = self.pool.get(threads)
            if pool is None:
                pool = self.pool[threads] = cf.ThreadPoolExecutor(threads)
            # 8 pieces per thread, taken in turn: balances fast and slow tensors.
            list(pool.map(lambda p: self.read(out, *p), split(self.size, 8 * threads, self.chunk)))
        return out


# ---------------------------------------------------------------- peers

class ZipNN(Codec):
    name = "zipnn"

    def __init__(self, kind):
        import zipnn
        self.mod, self.kind = zipnn, kind
        self.objs = {}

    def z(self, threads):
        if threads not in self.objs:
            self.objs[threads] = self.mod.ZipNN(input_format="byte", bytearray_dtype="bfloat16", threads=threads)
        return self.objs[threads]

    def prepare(self, src):
        self.src = src

    def compress_args(self, threads):
        return bytearray(self.src)  # ZipNN rewrites its input: a fresh copy per call

    def compress(self, threads, arg=None):
        return self.z(threads).compress(arg if arg is not None else bytearray(self.src))

    def decompress(self, frame, threads):
        return self.z(threads).decompress(frame)


class OpenZL(Codec):
    name = "openzl"

    def __init__(self, kind):
        import openzl.ext as zl
        self.zl, self.kind = zl, kind
        c = zl.Compressor()
        if kind == "bf16":
            g = zl.nodes.BFloat16Deconstruct()(c, sign_frac=zl.graphs.Store()(c), exponent=zl.graphs.Fse()(c))
        else:
            g = zl.graphs.Compress()(c)
        c.select_starting_graph(g)
        self.cctx = zl.CCtx()
        self.cctx.set_parameter(zl.CParam.FormatVersion, zl.MAX_FORMAT_VERSION)
        self.cctx.set_parameter(zl.CParam.StickyParameters, 1)
        self.cctx.ref_compressor(c)
        self.compressor = c
        self.dctx = zl.DCtx()

    def prepare(self, src):
        if self.kind == "bf16":
            self.input = self.zl.Input(self.zl.Type.Numeric, np.frombuffer(src, dtype=np.uint16))
        else:
            self.input = self.zl.Input(self.zl.Type.Serial, np.frombuffer(src, dtype=np.uint8))

    def compress(self, threads, arg=None):
        return self.cctx.compress([self.input])

    def decompress(self, frame, threads):
        return self.dctx.decompress(frame)[0].content.as_nparray()


class Zstd(Codec):
    def __init__(self, level, fresh_output):
        import zstandard
        self.zs, self.level, self.fresh = zstandard, level, fresh_output
        self.name = f"zstd -{level}"
        self.cctx = {}
        self.dctx = zstandard.ZstdDecompressor()

    def prepare(self, src):
        self.src = src
        self.out = np.empty(len(src), dtype=np.uint8)

    def compress(self, threads, arg=None):
        c = self.cctx.get(threads)
        if c is None:
            # threads=0: no worker threads; N: N compression workers.
            c = self.cctx[threads] = self.zs.ZstdCompressor(level=self.level, threads=0 if threads <= 1 else threads)
        return c.compress(self.src)

    def decompress(self, frame, threads):
        out = np.empty(len(self.src), dtype=np.uint8) if self.fresh else self.out
        mv, pos = memoryview(out), 0
        with self.dctx.stream_reader(frame, read_size=1 << 20) as r:
            while pos < len(out):
                n = r.readinto(mv[pos:])
                if n == 0:
                    break
                pos += n
        if pos != len(out):
            raise RuntimeError("zstd: short output")
        return out


# ---------------------------------------------------------------- the run

THREADED = {"llmc": (True, True), "zipnn": (True, True), "openzl": (False, False)}  # (encode, decode)


def threads_used(codec, threads, what):
    """Threads the codec really uses when asked for `threads`."""
    if codec.startswith("zstd"):
        return threads if what == "encode" else 1
    enc, dec = THREADED.get(codec, (True, True))
    return threads if (enc if what == "encode" else dec) else 1


def bytes_of(x):
    if isinstance(x, np.ndarray):
        return x.tobytes()
    return bytes(x)


def measure_file(path, kind, codecs, thread_counts, timer, rounds, log):
    with open(path, "rb") as f:
        src = f.read()
    sha = hashlib.sha256(src).digest()
    n = len(src)
    name = os.path.basename(path)
    mem = Memcpy(src)
    rows = {}  # (codec, threads) -> dict
    for c in codecs:
        c.prepare(src)
    for r in range(rounds):
        for t in thread_counts:
            key = ("memcpy", t)
            best = timer.best(lambda _: mem.run(t))
            row = rows.setdefault(key, {"codec": "memcpy", "threads": t, "ratio": 1.0, "encode_s": None,
                                        "decode_s": float("inf"), "compressed_bytes": n, "roundtrip": True})
            row["decode_s"] = min(row["decode_s"], best)
            for c in codecs:
                if t > 1 and c.name == "openzl":
                    continue  # no thread setting: measured at one thread only
                key = (c.name, t)
                row = rows.get(key)
                if row is None:
                    row = rows[key] = {"codec": c.name, "threads": t, "encode_s": float("inf"),
                                       "decode_s": float("inf"), "roundtrip": None}
                if row.get("slow_done"):
                    continue
                setup = (lambda c=c, t=t: c.compress_args(t))
                if "frame" not in row:
                    frame, t_enc0 = timed(c.compress, t, setup())
                    if not isinstance(frame, (bytes, np.ndarray)):
                        frame = bytes(frame)
                    row["frame"] = frame
                    row["compressed_bytes"] = len(frame)
                    row["ratio"] = n / len(frame)
                    out, t_dec0 = timed(c.decompress, frame, t)
                    row["roundtrip"] = hashlib.sha256(bytes_of(out)).digest() == sha
                    if not row["roundtrip"]:
                        log(f"!! {c.name} {name} T={t}: decompressed bytes differ from the input")
                    del out
                else:
                    t_enc0 = t_dec0 = None
                frame = row["frame"]
                enc = timer.best(lambda a: c.compress(t, a), setup=setup, first=t_enc0)
                dec = timer.best(lambda _: c.decompress(frame, t), first=t_dec0)
                row["encode_s"] = min(row["encode_s"], enc)
                row["decode_s"] = min(row["decode_s"], dec)
                if max(enc, dec) > timer.slow:
                    row["slow_done"] = True  # a slow codec is timed in one round only
        log(f"   {name}: round {r + 1}/{rounds} done")
    out = []
    for (codec, t), row in rows.items():
        row.pop("frame", None)
        row.pop("slow_done", None)
        rec = {"file": name, "kind": kind, "input_bytes": n, **row}
        rec["encode_gbps"] = n / rec.pop("encode_s") / 1e9 if rec.get("encode_s") else None
        rec["decode_gbps"] = n / rec.pop("decode_s") / 1e9
        rec["encode_threads_used"] = threads_used(codec, t, "encode") if codec != "memcpy" else None
        rec["decode_threads_used"] = threads_used(codec, t, "decode") if codec != "memcpy" else t
        rec["memcpy_gbps"] = n / rows[("memcpy", t)]["decode_s"] / 1e9
        out.append(rec)
    return out


def make_codecs(path, kind, lib, args, tmpdir, notes):
    codecs = []
    if kind in ("bf16", "q4k"):
        codecs.append(LlmcFrame(lib, kind, args.fresh_output))
        shape = json.load(open(path + ".json")).get("shape", []) if os.path.exists(path + ".json") else []
        if kind == "bf16" and len(shape) >= 2:
            codecs.append(LlmcRows(lib, shape[-1], args.fresh_output))
    else:
        codecs.append(LlmcContainer(lib, args.fresh_output, tmpdir))
    if kind == "bf16":
        try:
            codecs.append(ZipNN(kind))
        except Exception as e:  # noqa: BLE001 - report any import failure
            notes.add(f"ZipNN not measured: import failed ({type(e).__name__}: {e})")
    try:
        codecs.append(OpenZL(kind))
    except Exception as e:  # noqa: BLE001
        notes.add(f"OpenZL not measured: import failed ({type(e).__name__}: {e})")
    try:
        codecs.append(Zstd(3, args.fresh_output))
        codecs.append(Zstd(19, args.fresh_output))
    except Exception as e:  # noqa: BLE001
        notes.add(f"zstd not measured: import failed ({type(e).__name__}: {e})")
    if args.quick and os.path.getsize(path) > 64 << 20:
        codecs = [c for c in codecs if c.name != "zstd -19"]
    return codecs


def fmt(x, d=2):
    return "—" if x is None else f"{x:.{d}f}"


def gb(x):
    """GB/s with about three significant digits."""
    if x is None:
        return "—"
    if x < 0.01:
        return f"{x * 1000:.2g} MB/s"
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"


def short(name):
    for pre in ("all-minilm-l6-v2.", "qwen2.5-coder-1.5b.blk.0."):
        if name.startswith(pre):
            return name[len(pre):]
    return name


def mib(n):
    return f"{n / 2**20:.1f} MiB"


def print_table(records, thread_counts, header):
    tmax = max(thread_counts)
    cols = ["file", "codec", "ratio", "encode 1T", "decode 1T"] + ([f"encode {tmax}T", f"decode {tmax}T"] if tmax > 1 else [])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    by_file = {}
    for r in records:
        by_file.setdefault(r["file"], []).append(r)
    for f, rs in by_file.items():
        size = rs[0]["input_bytes"]
        order = []
        for r in rs:
            if r["codec"] not in order:
                order.append(r["codec"])
        order = [c for c in order if c != "memcpy"] + ["memcpy"]
        for i, c in enumerate(order):
            one = next((r for r in rs if r["codec"] == c and r["threads"] == 1), None)
            many = next((r for r in rs if r["codec"] == c and r["threads"] == tmax), None) if tmax > 1 else None
            label = f"{short(f)} ({mib(size)})" if i == 0 else ""
            if c == "memcpy":
                cells = ["", "", gb(one["decode_gbps"]), "", gb(many["decode_gbps"]) if many else "—"]
            else:
                ratio = fmt(one["ratio"], 4) if one else fmt(many["ratio"], 4)
                if one and many and abs(one["ratio"] - many["ratio"]) > 5e-5:
                    ratio += f" ({tmax}T: {many['ratio']:.4f})"
                if one and not one["roundtrip"]:
                    ratio += " **roundtrip FAILED**"

                def cell(r, what):
                    if r is None:
                        return "—"
                    v = r[f"{what}_gbps"]
                    s = gb(v)
                    used = r[f"{what}_threads_used"]
                    if r["threads"] > 1 and used == 1:
                        s += " (1 thread)"
                    return s
                cells = [ratio, cell(one, "encode"), cell(one, "decode"),
                         cell(many, "encode") if tmax > 1 else "—",
                         cell(many, "decode") if tmax > 1 else "—"]
                if c.startswith("llmc"):
                    cells = [f"**{x}**" if x not in ("—", "") else x for x in cells]
            print(f"| {label} | {c} | " + " | ".join(cells[:len(cols) - 2]) + " |")


def print_bars(records):
    """The issue's bars against ZipNN, one thread, per bf16 fixture: one table per
    chunk ("llmc") and row classes ("llmc rows", what containers use)."""
    one = lambda f, c: next((r for r in records if r["file"] == f and r["codec"] == c and r["threads"] == 1), None)
    rows = []
    for f in dict.fromkeys(r["file"] for r in records if r["kind"] == "bf16"):
        zz = one(f, "zipnn")
        for c in ("llmc", "llmc rows"):
            ll = one(f, c)
            if ll and zz:
                rows.append((f, c, ll["decode_gbps"] / zz["decode_gbps"], ll["encode_gbps"] / zz["encode_gbps"], ll["ratio"] - zz["ratio"]))
    if not rows:
        return
    print()
    print("llmc ÷ ZipNN, one thread (issue 14's bars: decode ≥ 2.0×, encode ≥ 1.5×):")
    print()
    print("| bf16 fixture | llmc | decode llmc ÷ ZipNN | encode llmc ÷ ZipNN | ratio llmc − ZipNN |")
    print("|---|---|---|---|---|")
    for f, c, d, e, dr in rows:
        print(f"| {short(f)} | {c} | {d:.2f}× {'(meets)' if d >= 2.0 else '(**below**)'} | "
              f"{e:.2f}× {'(meets)' if e >= 1.5 else '(**below**)'} | {dr:+.4f} |")


# ---------------------------------------------------------------- scaling

def scaling(lib, args, tmpdir, log, notes):
    """Decode GB/s at 1..nproc threads beside memcpy of the same size on as many threads."""
    items = [("bf16", os.path.join(ROOT, "fixtures/bf16/all-minilm-l6-v2.word_embeddings.bf16")),
             ("q4k", os.path.join(ROOT, "fixtures/q4k/qwen2.5-coder-1.5b.blk.0.ffn_gate.q4k")),
             ("gguf", GEMMA)]
    ts = list(range(1, nproc() + 1))
    timer = Timer(args.min_time, args.reps, args.slow)
    res = []
    for kind, path in items:
        if not os.path.exists(path):
            notes.add(f"scaling: {path} missing (run `target/release/llmc fetch gemma`)")
            continue
        with open(path, "rb") as f:
            src = f.read()
        n = len(src)
        mem = Memcpy(src)
        codecs = [LlmcFrame(lib, kind, args.fresh_output) if kind != "gguf" else LlmcContainer(lib, args.fresh_output, tmpdir)]
        if kind == "bf16":
            try:
                codecs.append(ZipNN(kind))
            except Exception:  # noqa: BLE001 - noted in the main table already
                pass
        frames = {}
        for c in codecs:
            c.prepare(src)
            fr = c.compress(nproc(), c.compress_args(nproc()))
            frames[c.name] = fr if isinstance(fr, (bytes, np.ndarray)) else bytes(fr)
        best = {}
        for _ in range(args.rounds):
            for t in ts:
                k = ("memcpy", t)
                best[k] = min(best.get(k, float("inf")), timer.best(lambda _: mem.run(t)))
                for c in codecs:
                    k = (c.name, t)
                    fr = frames[c.name]
                    best[k] = min(best.get(k, float("inf")), timer.best(lambda _: c.decompress(fr, t)))
        for c in ["memcpy"] + [c.name for c in codecs]:
            for t in ts:
                res.append({"file": os.path.basename(path), "kind": kind, "codec": c, "threads": t,
                            "input_bytes": n, "decode_gbps": n / best[(c, t)] / 1e9,
                            "memcpy_gbps": n / best[("memcpy", t)] / 1e9})
        log(f"   scaling: {os.path.basename(path)} done")
    return res


def print_scaling(res):
    ts = sorted({r["threads"] for r in res})
    print("| data | codec | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}" for t in ts) + " |")
    print("|---|---|" + "---|" * len(ts))
    files = list(dict.fromkeys(r["file"] for r in res))
    for f in files:
        rs = [r for r in res if r["file"] == f]
        codecs = [c for c in dict.fromkeys(r["codec"] for r in rs) if c != "memcpy"] + ["memcpy"]
        for i, c in enumerate(codecs):
            cells = []
            for t in ts:
                r = next(r for r in rs if r["codec"] == c and r["threads"] == t)
                if c == "memcpy":
                    cells.append(gb(r["decode_gbps"]))
                else:
                    cells.append(f"{gb(r['decode_gbps'])} ({r['decode_gbps'] / r['memcpy_gbps']:.2f}× memcpy)")
            label = f"{short(f)} ({mib(rs[0]['input_bytes'])})" if i == 0 else ""
            print(f"| {label} | {c} | " + " | ".join(cells) + " |")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="files to measure (default: every bf16 and Q4_K fixture and the whole gemma GGUF); "
                    "the kind comes from the extension: .bf16, .q4k, .gguf/.safetensors")
    ap.add_argument("--lib", default=os.path.join(ROOT, "target/release/libllmc.so"))
    ap.add_argument("--json", action="store_true", help="one JSON document on stdout instead of markdown")
    ap.add_argument("--json-out", metavar="FILE", help="also write the JSON document to FILE")
    ap.add_argument("--scaling", action="store_true", help="also the multi-core decode scaling table (threads 1..nproc)")
    ap.add_argument("--scaling-only", action="store_true", help="only the scaling table")
    ap.add_argument("--threads", type=int, default=nproc(), help="the 'all threads' column (default: nproc)")
    ap.add_argument("--rounds", type=int, help="rounds over all codecs; best kept (default 3; 1 with --quick)")
    ap.add_argument("--reps", type=int, default=3, help="at least this many timed calls per measurement")
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per measurement at least (default 0.3)")
    ap.add_argument("--slow", type=float, default=3.0, help="a call slower than this is timed once, in one round")
    ap.add_argument("--quick", action="store_true", help="one round unless --rounds, no zstd -19 on files over 64 MiB (it takes minutes)")
    ap.add_argument("--fresh-output", action="store_true", help="llmc and zstd allocate their output per call, as ZipNN and OpenZL do")
    args = ap.parse_args()
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if not os.path.exists(args.lib):
        sys.exit(f"peers.py: {args.lib} not found: run `cargo build --release` first")
    lib = Llmc(args.lib)
    cpu = cpu_info()
    notes = set()
    files = args.files or (sorted(glob.glob(os.path.join(ROOT, "fixtures/bf16/*.bf16")))[::-1]
                           + sorted(glob.glob(os.path.join(ROOT, "fixtures/q4k/*.q4k")))[::-1]
                           + ([GEMMA] if os.path.exists(GEMMA) else []))
    if not args.files and not os.path.exists(GEMMA):
        notes.add(f"{GEMMA} missing: the whole-GGUF rows are left out (`target/release/llmc fetch gemma`)")
    # Largest files first within each kind, as listed above.
    files = sorted(files, key=lambda p: ({"bf16": 0, "q4k": 1}.get(p.rsplit(".", 1)[-1], 2), -os.path.getsize(p)))
    thread_counts = [1] + ([args.threads] if args.threads > 1 else [])
    timer = Timer(args.min_time, args.reps, args.slow)
    versions = {"llmc": lib.version, "python": platform.python_version(), "numpy": np.__version__}
    for mod in ("zipnn", "openzl", "zstandard", "torch"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod)
        except Exception:  # noqa: BLE001
            versions[mod] = None
    load = os.getloadavg()
    head = {"cpu": cpu, "nproc": nproc(), "threads": thread_counts, "llmc_isa": lib.isa,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg_start": [round(x, 2) for x in load], "versions": versions,
            "llmc_calls": "in process, libllmc.so through ctypes",
            "fresh_output": args.fresh_output, "rounds": args.rounds}
    log(f"CPU: {cpu['model']} (family {cpu['family']} model {cpu['model_number']}; {' '.join(cpu['isa_flags'])}), "
        f"{nproc()} threads; llmc {lib.version} decodes with {lib.isa}; load average {load[0]:.2f}")
    records, scal = [], []
    with tempfile.TemporaryDirectory(prefix="llmc-peers-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as tmp:
        if not args.scaling_only:
            for path in files:
                ext = path.rsplit(".", 1)[-1].lower()
                kind = {"bf16": "bf16", "q4k": "q4k"}.get(ext, "gguf")
                log(f"== {os.path.basename(path)} ({kind}, {os.path.getsize(path)} bytes)")
                codecs = make_codecs(path, kind, lib, args, tmp, notes)
                records += measure_file(path, kind, codecs, thread_counts, timer, args.rounds, log)
        if args.scaling or args.scaling_only:
            scal = scaling(lib, args, tmp, log, notes)
    head["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    doc = json.dumps({**head, "notes": sorted(notes), "results": records, "scaling": scal}, indent=1)
    if args.json_out:
        with open(args.json_out, "w") as f:
            f.write(doc + "\n")
    if args.json:
        print(doc)
        return
    print(f"CPU: {cpu['model']} (family {cpu['family']}, model {cpu['model_number']}; {', '.join(cpu['isa_flags'])}); "
          f"{nproc()} threads; llmc decodes with {lib.isa}")
    print(f"{head['date']}; load average {head['loadavg_start'][0]:.2f} at start, {head['loadavg_end'][0]:.2f} at end; "
          f"best of {args.rounds} round(s); " + ", ".join(f"{k} {v}" for k, v in versions.items() if v))
    print("GB/s of uncompressed bytes, in memory; llmc through ctypes in this process"
          + ("; every codec allocates its output per call" if args.fresh_output else
             "; llmc and zstd decode into a preallocated buffer, ZipNN and OpenZL allocate theirs"))
    for n in sorted(notes):
        print(f"NOTE: {n}")
    if records:
        print()
        print_table(records, thread_counts, head)
        print_bars(records)
    if scal:
        print()
        print("Decode scaling (GB/s, and ÷ memcpy of the same size on as many threads):")
        print()
        print_scaling(scal)
    if any(r.get("roundtrip") is False for r in records):
        sys.exit(1)


if __name__ == "__main__":
    main()
