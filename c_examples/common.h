/* Small helpers shared by the C examples (file reading, timing, decoding with every
 * ISA). Include after llmc.h; define _POSIX_C_SOURCE before any header. */
#ifndef LLMC_EXAMPLES_COMMON_H
#define LLMC_EXAMPLES_COMMON_H


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline unsigned char *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); return NULL; }
  if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
  long n = ftell(f);
  if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  if (buf) *size = (size_t)n;
  return buf;
}

static inline double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Decodes `frame` with every ISA this CPU supports (through a context), checks the
 * bytes against `src`, and prints one line per ISA:
 *   isa=... input=... compressed=... ratio=... decode_gbps=... memcpy_gbps=... roundtrip=ok|FAIL
 * Returns 1 if every ISA reproduced `src`. Needs llmc.h included first. */
static inline int decode_every_isa(const void *frame, size_t frame_size, const unsigned char *src, size_t n);

#define CHECK(call)                                                              \
  do {                                                                           \
    llmc_status s_ = (call);                                                     \
    if (s_ != LLMC_STATUS_OK) {                                                  \
      fprintf(stderr, "%s:%d: %s failed: %s (%u)\n", __FILE__, __LINE__, #call,  \
              llmc_get_error_name(s_), s_);                                      \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

static inline int decode_every_isa(const void *frame, size_t frame_size, const unsigned char *src, size_t n) {
  unsigned char *out = malloc(n ? n : 1), *copy = malloc(n ? n : 1);
  llmc_dctx *dctx = NULL;
  CHECK(llmc_dctx_create(&dctx));
  uint32_t mask = llmc_cpu_isa_mask();
  int all_ok = 1;
  for (uint32_t isa = LLMC_ISA_SCALAR; isa <= LLMC_ISA_AVX512_PERMUTE; isa++) {
    if (!(mask & (1u << isa))) continue;
    CHECK(llmc_dctx_set_isa(dctx, isa));
    double best = 1e30, best_copy = 1e30;
    int ok = 1;
    for (int rep = 0; rep < 10; rep++) {
      size_t written = 0;
      memset(out, 0, n);
      double t0 = now_seconds();
      CHECK(llmc_decompress_dctx(dctx, frame, frame_size, out, n, &written));
      double t = now_seconds() - t0;
      if (t < best) best = t;
      ok &= written == n && memcmp(out, src, n) == 0;
      t0 = now_seconds();
      memcpy(copy, src, n);
      t = now_seconds() - t0;
      if (t < best_copy) best_copy = t;
    }
    all_ok &= ok;
    printf("isa=%s input=%zu compressed=%zu ratio=%.4f decode_gbps=%.3f memcpy_gbps=%.3f roundtrip=%s\n",
           llmc_isa_name(isa), n, frame_size, (double)n / (double)frame_size, (double)n / best / 1e9,
           (double)n / best_copy / 1e9, ok ? "ok" : "FAIL");
  }
  llmc_dctx_free(dctx);
  free(out);
  free(copy);
  return all_ok;
}

#endif
