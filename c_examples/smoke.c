/*
 * smoke: the checksum gate from C, through the public header only.
 *
 *   smoke BF16_FIXTURE Q4K_FIXTURE WHOLE.gguf SCRATCH_DIR
 *
 * Compresses each input with default settings (llmc_bf16_compress,
 * llmc_q4k_compress, llmc_gguf_compress_file), verifies each roundtrip, and
 * prints "method sha256[:16]" lines — the same prefixes `llmc smoke` checks.
 */
#define _POSIX_C_SOURCE 200809L
#include "llmc.h"
#include "common.h"

static void print_prefix(const char *method, const void *data, size_t size) {
  uint8_t digest[32];
  CHECK(llmc_sha256(data, size, digest));
  printf("%s ", method);
  for (int i = 0; i < 8; i++) printf("%02x", digest[i]);
  printf(" %zu\n", size);
}

static int frame_method(const char *method, const char *path, int q4k) {
  size_t n = 0;
  unsigned char *src = read_file(path, &n);
  if (!src) return 0;
  size_t cap = q4k ? llmc_q4k_compress_bound(n) : llmc_bf16_compress_bound(n);
  unsigned char *frame = malloc(cap), *back = malloc(n ? n : 1);
  size_t frame_size = 0, written = 0;
  if (q4k) {
    CHECK(llmc_q4k_compress(src, n, frame, cap, &frame_size, NULL));
  } else {
    CHECK(llmc_bf16_compress(src, n, frame, cap, &frame_size, NULL));
  }
  CHECK(llmc_decompress(frame, frame_size, back, n, &written));
  int ok = written == n && memcmp(back, src, n) == 0;
  print_prefix(method, frame, frame_size);
  free(src);
  free(frame);
  free(back);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s BF16_FIXTURE Q4K_FIXTURE WHOLE.gguf SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  int ok = frame_method("bf16", argv[1], 0) & frame_method("q4k", argv[2], 1);

  char out_path[4096], back_path[4096];
  snprintf(out_path, sizeof out_path, "%s/smoke.gguf.llmc", argv[4]);
  snprintf(back_path, sizeof back_path, "%s/smoke.gguf", argv[4]);
  llmc_params p;
  llmc_params_init(&p);
  p.n_threads = 2;
  CHECK(llmc_gguf_compress_file(argv[3], out_path, &p));
  CHECK(llmc_gguf_decompress_file(out_path, back_path));
  size_t c_size = 0, a_size = 0, b_size = 0;
  unsigned char *c = read_file(out_path, &c_size), *a = read_file(argv[3], &a_size), *b = read_file(back_path, &b_size);
  ok &= c && a && b && a_size == b_size && memcmp(a, b, a_size) == 0;
  if (c) print_prefix("gguf", c, c_size);
  free(a);
  free(b);
  free(c);
  remove(out_path);
  remove(back_path);
  printf("roundtrips: %s\n", ok ? "ok" : "FAIL");
  return ok ? 0 : 1;
}
