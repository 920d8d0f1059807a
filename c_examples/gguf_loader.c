/*
 * gguf_loader: what a llama.cpp-style loader does with a compressed GGUF.
 *
 *   gguf_loader MODEL.llmc ORIGINAL.gguf [THREADS]
 *
 * 1. opens the container (memory-mapped) and reads the original metadata bytes;
 * 2. parses them as GGUF (header, key-values skipped by type, tensor infos) and
 *    checks every tensor's name, type and offset against llmc_gguf_tensor_info;
 * 3. reads every tensor into its own buffer from THREADS threads at once (the
 *    handle is shared and immutable) and compares with the original file;
 * 4. reads the file again through llmc_gguf_reader_callback (ggml's
 *    gguf_reader_callback_t shape) in odd-sized pieces.
 * Prints "loader: ok ..." and exits 0 only if everything matched.
 */
#define _POSIX_C_SOURCE 200809L
#include "llmc.h"
#include "common.h"
#include <pthread.h>

/* ---- a minimal GGUF reader over the metadata bytes ---- */
typedef struct {
  const unsigned char *p, *end;
  int ok;
} cursor;

static uint64_t take(cursor *c, size_t n) {
  uint64_t v = 0;
  if ((size_t)(c->end - c->p) < n) { c->ok = 0; return 0; }
  for (size_t i = 0; i < n; i++) v |= (uint64_t)c->p[i] << (8 * i);
  c->p += n;
  return v;
}

static void skip(cursor *c, uint64_t n) {
  if ((uint64_t)(c->end - c->p) < n) { c->ok = 0; return; }
  c->p += n;
}

static void skip_value(cursor *c, uint32_t type, int depth) {
  static const size_t scalar[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  if (!c->ok || type > 12 || depth > 2) { c->ok = 0; return; }
  if (type == 8) { skip(c, take(c, 8)); return; }              /* string */
  if (type == 9) {                                              /* array */
    uint32_t elem = (uint32_t)take(c, 4);
    uint64_t n = take(c, 8);
    if (elem != 8 && elem != 9 && elem <= 12) { skip(c, n * scalar[elem]); return; }
    for (uint64_t i = 0; i < n && c->ok; i++) skip_value(c, elem, depth + 1);
    return;
  }
  skip(c, scalar[type]);
}

typedef struct {
  char name[64];
  uint32_t type;
  uint64_t offset; /* absolute */
  int empty;       /* no elements: no bytes, and no entry in the container */
} tinfo;

/* Parses header, key-values (remembering general.alignment) and tensor infos. */
static tinfo *parse_gguf(const unsigned char *meta, size_t size, uint64_t *n_tensors) {
  cursor c = {meta, meta + size, 1};
  if (take(&c, 4) != 0x46554747u) return NULL; /* "GGUF" */
  uint32_t version = (uint32_t)take(&c, 4);
  if (version < 2 || version > 3) return NULL;
  uint64_t nt = take(&c, 8), nkv = take(&c, 8);
  uint64_t alignment = 32;
  for (uint64_t i = 0; i < nkv && c.ok; i++) {
    uint64_t klen = take(&c, 8);
    const unsigned char *key = c.p;
    skip(&c, klen);
    uint32_t type = (uint32_t)take(&c, 4);
    if (c.ok && klen == 17 && memcmp(key, "general.alignment", 17) == 0 && type == 4) {
      alignment = take(&c, 4);
      continue;
    }
    skip_value(&c, type, 0);
  }
  if (!c.ok || nt > (1u << 20)) return NULL;
  tinfo *t = calloc(nt ? nt : 1, sizeof *t);
  for (uint64_t i = 0; i < nt && c.ok; i++) {
    uint64_t len = take(&c, 8);
    if (len >= sizeof t[i].name) { c.ok = 0; break; }
    memcpy(t[i].name, c.p, len);
    skip(&c, len);
    uint32_t n_dims = (uint32_t)take(&c, 4);
    for (uint32_t d = 0; d < n_dims && c.ok; d++) t[i].empty |= take(&c, 8) == 0;
    t[i].type = (uint32_t)take(&c, 4);
    t[i].offset = take(&c, 8);
  }
  if (!c.ok) { free(t); return NULL; }
  uint64_t data = ((uint64_t)(c.p - meta) + alignment - 1) / alignment * alignment;
  for (uint64_t i = 0; i < nt; i++) t[i].offset += data;
  *n_tensors = nt;
  return t;
}

/* ---- parallel tensor reads ---- */
typedef struct {
  const llmc_gguf *g;
  const unsigned char *original;
  uint64_t first, step, n;
  int ok;
} job;

static void *read_tensors(void *arg) {
  job *j = arg;
  j->ok = 1;
  for (uint64_t i = j->first; i < j->n; i += j->step) {
    llmc_tensor_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (llmc_gguf_tensor_info(j->g, i, &info) != LLMC_STATUS_OK) { j->ok = 0; continue; }
    unsigned char *buf = malloc(info.size ? info.size : 1);
    llmc_status s = llmc_gguf_read_tensor(j->g, i, buf, info.size);
    j->ok &= s == LLMC_STATUS_OK && memcmp(buf, j->original + info.orig_offset, info.size) == 0;
    free(buf);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.llmc ORIGINAL.gguf [THREADS]\n", argv[0]);
    return 2;
  }
  int threads = argc > 3 ? atoi(argv[3]) : 4;
  if (threads < 1 || threads > 64) threads = 4;
  size_t orig_size = 0;
  unsigned char *original = read_file(argv[2], &orig_size);
  if (!original) return 1;
  llmc_gguf *g = NULL;
  CHECK(llmc_gguf_open_file(argv[1], 0, &g));
  int ok = llmc_gguf_original_size(g) == orig_size;

  uint64_t meta_size = 0;
  CHECK(llmc_gguf_metadata_size(g, &meta_size));
  unsigned char *meta = malloc(meta_size);
  CHECK(llmc_gguf_read_metadata(g, meta, meta_size));
  ok &= memcmp(meta, original, meta_size) == 0;

  uint64_t n = 0, parsed_n = 0;
  CHECK(llmc_gguf_n_tensors(g, &n));
  tinfo *t = parse_gguf(meta, meta_size, &parsed_n);
  uint64_t with_bytes = 0;
  for (uint64_t i = 0; t && i < parsed_n; i++) with_bytes += !t[i].empty;
  ok &= t != NULL && with_bytes == n;
  for (uint64_t i = 0; t && i < parsed_n; i++) {
    uint64_t idx = 0;
    if (t[i].empty) {
      /* A tensor with no elements has no entry: there is nothing to read. */
      ok &= llmc_gguf_find_tensor(g, t[i].name, &idx) == LLMC_STATUS_NOT_FOUND;
      continue;
    }
    llmc_tensor_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    ok &= llmc_gguf_find_tensor(g, t[i].name, &idx) == LLMC_STATUS_OK;
    ok &= llmc_gguf_tensor_info(g, idx, &info) == LLMC_STATUS_OK;
    ok &= info.ggml_type == t[i].type && info.orig_offset == t[i].offset && strcmp(info.name, t[i].name) == 0;
  }
  uint64_t missing = 0;
  ok &= llmc_gguf_find_tensor(g, "no.such.tensor", &missing) == LLMC_STATUS_NOT_FOUND;

  double t0 = now_seconds();
  pthread_t tid[64];
  job jobs[64];
  for (int k = 0; k < threads; k++) {
    jobs[k] = (job){g, original, (uint64_t)k, (uint64_t)threads, n, 0};
    pthread_create(&tid[k], NULL, read_tensors, &jobs[k]);
  }
  for (int k = 0; k < threads; k++) {
    pthread_join(tid[k], NULL);
    ok &= jobs[k].ok;
  }
  double secs = now_seconds() - t0;

  /* The whole file through the reader callback, in pieces that straddle regions. */
  unsigned char *piece = malloc(1 << 20);
  size_t step = 777777;
  for (uint64_t off = 0; off < orig_size; off += step) {
    size_t len = orig_size - off < step ? (size_t)(orig_size - off) : step;
    ok &= llmc_gguf_reader_callback(g, piece, off, len) == len && memcmp(piece, original + off, len) == 0;
  }
  /* Like fread: a read crossing the end returns what was there; past it, nothing. */
  ok &= llmc_gguf_reader_callback(g, piece, orig_size - 10, 20) == 10 && memcmp(piece, original + orig_size - 10, 10) == 0;
  ok &= llmc_gguf_reader_callback(g, piece, orig_size + 5, 20) == 0 && llmc_gguf_last_status(g) == LLMC_STATUS_OK;

  printf("loader: %s tensors=%llu metadata=%llu bytes threads=%d read_gbps=%.3f\n", ok ? "ok" : "FAIL", (unsigned long long)n,
         (unsigned long long)meta_size, threads, (double)orig_size / secs / 1e9);
  free(piece);
  free(t);
  free(meta);
  llmc_gguf_close(g);
  free(original);
  return ok ? 0 : 1;
}
