/*
 * q4k_roundtrip: compress an array of GGUF block_q4_K through the public C API,
 * decompress it with every ISA this CPU supports, verify the bytes, and print
 * ratio and GB/s per ISA.
 *
 *   q4k_roundtrip FILE.q4k
 *
 * Also checks that a size that is not a whole number of 144-byte blocks is
 * rejected with LLMC_STATUS_INVALID_ARGUMENT ("errors: ok").
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime; before any system header */
#include "llmc.h"
#include "common.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE.q4k\n", argv[0]);
    return 2;
  }
  size_t n = 0;
  unsigned char *src = read_file(argv[1], &n);
  if (!src) return 1;
  size_t cap = llmc_q4k_compress_bound(n);
  unsigned char *frame = malloc(cap);
  size_t frame_size = 0;
  CHECK(llmc_q4k_compress(src, n, frame, cap, &frame_size, NULL));

  llmc_frame_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK(llmc_frame_info_get(frame, frame_size, &info));
  int ok = info.codec == LLMC_CODEC_Q4K && info.content_size == n;
  ok &= decode_every_isa(frame, frame_size, src, n);

  size_t written = 1;
  int errors_ok = llmc_q4k_compress(src, LLMC_Q4K_BLOCK_BYTES + 1, frame, cap, &written, NULL) == LLMC_STATUS_INVALID_ARGUMENT &&
                  written == 0 && llmc_bf16_decompress(frame, frame_size, src, n, &written) == LLMC_STATUS_CODEC_UNSUPPORTED;
  printf("errors: %s\n", errors_ok ? "ok" : "FAIL");
  free(src);
  free(frame);
  return ok && errors_ok ? 0 : 1;
}
