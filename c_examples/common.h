/* Small helpers shared by the C examples (file reading, timing). */
#ifndef LLMC_EXAMPLES_COMMON_H
#define LLMC_EXAMPLES_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static unsigned char *read_file(const char *path, size_t *size) {
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

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define CHECK(call)                                                              \
  do {                                                                           \
    llmc_status s_ = (call);                                                     \
    if (s_ != LLMC_STATUS_OK) {                                                  \
      fprintf(stderr, "%s:%d: %s failed: %s (%u)\n", __FILE__, __LINE__, #call,  \
              llmc_get_error_name(s_), s_);                                      \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

#endif
