/*
 * bf16_roundtrip: compress a raw bf16 file through the public C API, decompress it
 * with every ISA this CPU supports, verify the bytes, and print ratio and GB/s.
 *
 *   bf16_roundtrip FILE [ROW_LEN]
 *
 * With ROW_LEN (values per row of the matrix), the file is compressed with
 * llmc_bf16_compress_rows: row classes, a table each.
 *
 * Prints one line per ISA: isa=... input=... compressed=... ratio=... decode_gbps=...
 * memcpy_gbps=... roundtrip=ok|FAIL, then "errors: ok" after exercising error paths.
 * Exit status 0 only if every roundtrip and error check passed.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime; before any system header */
#include "llmc.h"
#include "common.h"
#include <string.h>

static int error_paths(const unsigned char *frame, size_t frame_size, unsigned char *out, size_t out_cap) {
  size_t written = 1234;
  int ok = 1;
  /* Odd-length bf16 input is rejected. */
  unsigned char tmp[64];
  ok &= llmc_bf16_compress(frame, 3, tmp, sizeof tmp, &written, NULL) == LLMC_STATUS_INVALID_ARGUMENT;
  ok &= written == 0;
  /* NULL with a non-zero size. */
  ok &= llmc_decompress(NULL, 10, out, out_cap, &written) == LLMC_STATUS_NULL_POINTER;
  /* Truncated frame, wrong magic, corrupted payload, too-small destination. */
  ok &= llmc_decompress(frame, frame_size - 1, out, out_cap, &written) != LLMC_STATUS_OK;
  unsigned char *copy = malloc(frame_size);
  memcpy(copy, frame, frame_size);
  copy[0] ^= 0xff;
  ok &= llmc_decompress(copy, frame_size, out, out_cap, &written) == LLMC_STATUS_BAD_MAGIC;
  memcpy(copy, frame, frame_size);
  copy[frame_size / 2] ^= 0x10;
  ok &= llmc_decompress(copy, frame_size, out, out_cap, &written) == LLMC_STATUS_CHECKSUM_MISMATCH;
  free(copy);
  ok &= llmc_decompress(frame, frame_size, out, 1, &written) == LLMC_STATUS_DST_TOO_SMALL;
  /* Unknown ISA numbers and unknown status codes. */
  ok &= llmc_set_isa(99) == LLMC_STATUS_INVALID_ARGUMENT;
  ok &= strcmp(llmc_get_error_name(9999), "unknown error") == 0;
  ok &= strcmp(llmc_isa_name(LLMC_ISA_AVX2), "avx2") == 0;
  printf("errors: %s\n", ok ? "ok" : "FAIL");
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: %s FILE.bf16 [ROW_LEN]\n", argv[0]);
    return 2;
  }
  if (llmc_abi_version() != LLMC_ABI_VERSION) {
    fprintf(stderr, "ABI mismatch: header %d, library %u\n", LLMC_ABI_VERSION, llmc_abi_version());
    return 1;
  }
  size_t n = 0;
  unsigned char *src = read_file(argv[1], &n);
  if (!src) return 1;

  size_t cap = llmc_bf16_compress_bound(n);
  unsigned char *frame = malloc(cap);
  size_t frame_size = 0;
  llmc_params params;
  llmc_params_init(&params);
  if (argc == 3) {
    CHECK(llmc_bf16_compress_rows(src, n, (uint32_t)strtoul(argv[2], NULL, 10), frame, cap, &frame_size, &params));
  } else {
    CHECK(llmc_bf16_compress(src, n, frame, cap, &frame_size, &params));
  }

  llmc_frame_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK(llmc_frame_info_get(frame, frame_size, &info));
  if (info.codec != LLMC_CODEC_BF16 || info.content_size != n || info.frame_size != frame_size) {
    fprintf(stderr, "frame info does not match\n");
    return 1;
  }

  int all_ok = decode_every_isa(frame, frame_size, src, n);
  unsigned char *out = malloc(n ? n : 1);
  all_ok &= error_paths(frame, frame_size, out, n);
  free(src);
  free(frame);
  free(out);
  return all_ok ? 0 : 1;
}
