/*
 * reader: a loader that pulls bytes itself through libllmc's read path (the
 * one `llmc mount` serves files from): a cache of decoded chunks, and worker
 * threads decoding ahead of sequential reads.
 *
 *   reader MODEL.llmc ORIGINAL [THREADS]
 *
 * 1. opens a reader with THREADS read-ahead threads and a 64 MiB cache;
 * 2. reads the whole file front to back in 1 MiB pieces (pread-style) and
 *    compares with the original; reports GB/s;
 * 3. reads random ranges from 8 threads at once through the same reader;
 * 4. checks the short read at the end of the file and the argument errors.
 * Prints "reader: ok ..." and exits 0 only if everything matched.
 */
#define _POSIX_C_SOURCE 200809L
#include "llmc.h"
#include "common.h"
#include <pthread.h>

typedef struct {
  const llmc_reader *r;
  const unsigned char *orig;
  uint64_t size;
  unsigned seed;
  int ok;
} job;

static uint64_t next_random(uint64_t *x) {
  *x ^= *x >> 12;
  *x ^= *x << 25;
  *x ^= *x >> 27;
  return *x * 0x2545F4914F6CDD1DULL;
}

static void *random_reads(void *arg) {
  job *j = arg;
  uint64_t x = j->seed * 0x9E3779B97F4A7C15ULL + 1;
  unsigned char *buf = malloc(1 << 21);
  j->ok = buf != NULL;
  for (int i = 0; i < 100 && j->ok; i++) {
    uint64_t offset = next_random(&x) % j->size;
    size_t len = (size_t)(next_random(&x) % (1 << 21)) + 1;
    size_t want = offset + len > j->size ? (size_t)(j->size - offset) : len, got = 0;
    if (llmc_reader_read(j->r, offset, buf, len, &got) != LLMC_STATUS_OK || got != want || memcmp(buf, j->orig + offset, got) != 0) {
      fprintf(stderr, "thread %u: read at %llu+%zu wrong\n", j->seed, (unsigned long long)offset, len);
      j->ok = 0;
    }
  }
  free(buf);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.llmc ORIGINAL [THREADS]\n", argv[0]);
    return 2;
  }
  size_t n = 0;
  unsigned char *orig = read_file(argv[2], &n);
  if (!orig) return 1;
  llmc_reader_options o;
  llmc_reader_options_init(&o);
  o.n_threads = argc > 3 ? (uint32_t)atoi(argv[3]) : 2;
  o.cache_size = 64u << 20;
  llmc_reader *r = NULL;
  CHECK(llmc_reader_open(argv[1], &o, &r));
  if (llmc_reader_size(r) != n) {
    fprintf(stderr, "size %llu, original %zu\n", (unsigned long long)llmc_reader_size(r), n);
    return 1;
  }

  /* Front to back, as a loader streaming the file would. */
  unsigned char *buf = malloc(1 << 20);
  double t = now_seconds();
  for (uint64_t at = 0; at < n;) {
    size_t got = 0;
    CHECK(llmc_reader_read(r, at, buf, 1 << 20, &got));
    if (got == 0 || memcmp(buf, orig + at, got) != 0) {
      fprintf(stderr, "sequential read at %llu wrong\n", (unsigned long long)at);
      return 1;
    }
    at += got;
  }
  double gbps = (double)n / (now_seconds() - t) / 1e9;

  /* Eight threads share the reader. */
  pthread_t th[8];
  job jobs[8];
  for (unsigned i = 0; i < 8; i++) {
    jobs[i] = (job){r, orig, n, i + 1, 0};
    if (pthread_create(&th[i], NULL, random_reads, &jobs[i]) != 0) return 1;
  }
  int all = 1;
  for (unsigned i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    all &= jobs[i].ok;
  }
  if (!all) return 1;

  /* pread at the end: a short read, then 0. */
  size_t got = 1;
  CHECK(llmc_reader_read(r, n - 10, buf, 100, &got));
  if (got != 10 || memcmp(buf, orig + n - 10, 10) != 0) return 1;
  CHECK(llmc_reader_read(r, n + 5, buf, 100, &got));
  if (got != 0) return 1;
  /* Argument errors are statuses. */
  if (llmc_reader_read(NULL, 0, buf, 1, &got) != LLMC_STATUS_NULL_POINTER) return 1;
  if (llmc_reader_read(r, 0, buf, 1, NULL) != LLMC_STATUS_NULL_POINTER) return 1;
  o.struct_size = 4;
  llmc_reader *bad = NULL;
  if (llmc_reader_open(argv[1], &o, &bad) != LLMC_STATUS_INVALID_ARGUMENT || bad != NULL) return 1;
  if (llmc_reader_open("/nonexistent.llmc", NULL, &bad) != LLMC_STATUS_NOT_FOUND) return 1;

  printf("reader: ok size=%zu threads=%u sequential_gbps=%.2f cached_bytes=%llu\n", n, o.n_threads, gbps,
         (unsigned long long)llmc_reader_cached_bytes(r));
  llmc_reader_free(r);
  llmc_reader_free(NULL);
  free(buf);
  free(orig);
  return 0;
}
