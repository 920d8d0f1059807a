/* The streaming decoder, as a loader reading from a socket or object storage
 * would drive it: input arrives in pieces of any size (here random, 1 byte to
 * 1 MiB), output is taken into small buffers as it comes, in order.
 *
 *   stream_decode FILE.llmc ORIGINAL [THREADS] [SEED]
 *
 * Decodes FILE.llmc (a frame or a version-2 container) three times with
 * different piece sizes and checks every byte against ORIGINAL; then feeds
 * truncated copies (which must never report the end of the stream) and
 * bit-flipped copies (which must fail with a status or give the original). */
#define _POSIX_C_SOURCE 200809L
#include "llmc.h"
#include "common.h"

static unsigned long long rng_state = 88172645463325252ULL;
static size_t rnd(size_t lo, size_t hi) { /* xorshift64, lo..hi inclusive */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return lo + (size_t)(rng_state % (hi - lo + 1));
}

/* Feeds `in` (n bytes) in random pieces up to `max_piece`; compares the output
 * with `want` (m bytes). Returns the status; *finished and *matched report. */
static llmc_status feed(const unsigned char *in, size_t n, const unsigned char *want, size_t m, unsigned threads, size_t max_piece,
                        int *finished, int *matched) {
  llmc_dstream *ds = NULL;
  llmc_status s = llmc_dstream_create(threads, 0, &ds);
  if (s != LLMC_STATUS_OK) return s;
  unsigned char *out = malloc(1 << 20);
  size_t at = 0, got = 0;
  *finished = 0;
  *matched = 1;
  while (!*finished) {
    size_t piece = at < n ? rnd(1, max_piece) : 0;
    if (piece > n - at) piece = n - at;
    llmc_inbuf ib = {in + at, piece, 0};
    int progress = 0;
    do {
      llmc_outbuf ob = {out, rnd(1, 1 << 20), 0};
      s = llmc_dstream_decompress(ds, &ob, &ib, finished);
      if (s != LLMC_STATUS_OK) break;
      if (got + ob.pos > m || memcmp(out, want + got, ob.pos) != 0) *matched = 0;
      got += ob.pos;
      progress = ob.pos > 0;
    } while (!*finished && (ib.pos < ib.size || progress));
    at += ib.pos;
    if (s != LLMC_STATUS_OK || (at == n && !*finished)) break; /* error, or the input ran out */
  }
  if (got != m) *matched = 0;
  llmc_dstream_free(ds);
  free(out);
  return s;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s FILE.llmc ORIGINAL [THREADS] [SEED]\n", argv[0]);
    return 2;
  }
  unsigned threads = argc > 3 ? (unsigned)atoi(argv[3]) : 2;
  if (argc > 4) rng_state ^= (unsigned long long)atoll(argv[4]);
  size_t n = 0, m = 0;
  unsigned char *in = read_file(argv[1], &n), *want = read_file(argv[2], &m);
  if (!in || !want) return 1;
  int ok = 1, finished = 0, matched = 0;
  size_t pieces[] = {1 << 20, 4096, 97};
  for (int i = 0; i < 3; i++) {
    double t = now_seconds();
    llmc_status s = feed(in, n, want, m, threads, pieces[i], &finished, &matched);
    printf("pieces up to %zu B: status=%s finished=%d bytes_match=%d (%.3f s)\n", pieces[i], llmc_get_error_name(s), finished, matched,
           now_seconds() - t);
    ok &= s == LLMC_STATUS_OK && finished && matched;
  }
  /* Truncated: never finished, never wrong bytes. */
  size_t cuts[] = {0, 1, 6, 16, 52, 100, n / 2, n - 65, n - 1};
  size_t refused = 0;
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    if (cuts[i] >= n) continue;
    llmc_status s = feed(in, cuts[i], want, m, threads, 65536, &finished, &matched);
    if (finished && s == LLMC_STATUS_OK) {
      printf("FAIL: cut at %zu reported a complete stream\n", cuts[i]);
      ok = 0;
    } else {
      refused++;
    }
  }
  /* Bit flips: an error, or exactly the original. */
  unsigned char *copy = malloc(n);
  size_t flips = 0, caught = 0;
  for (size_t at = 0; at < n; at += at < 128 ? 1 : n / 61 + 1, flips++) {
    memcpy(copy, in, n);
    copy[at] ^= (unsigned char)(1u << (at % 8));
    llmc_status s = feed(copy, n, want, m, threads, 65536, &finished, &matched);
    if (s == LLMC_STATUS_OK && finished && !matched) {
      printf("FAIL: bit flip at %zu decoded to wrong bytes\n", at);
      ok = 0;
    }
    caught += s != LLMC_STATUS_OK;
  }
  printf("truncated: %zu refused; bit flips: %zu of %zu refused, the rest decoded exactly\n", refused, caught, flips);
  printf("stream_decode: %s\n", ok ? "ok" : "FAIL");
  free(copy);
  free(in);
  free(want);
  return ok ? 0 : 1;
}
