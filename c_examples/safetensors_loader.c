/*
 * safetensors_loader: reading tensors by name from a compressed safetensors
 * checkpoint, as a runtime that loads Hugging Face weights would.
 *
 *   safetensors_loader MODEL.safetensors ORIGINAL_COPY.llmc [NAME ...]
 *
 * 1. compresses MODEL.safetensors into a container with 2 threads
 *    (llmc_safetensors_compress_file);
 * 2. opens it, lists every tensor (name, dtype, shape, size) and checks that
 *    the metadata bytes (8-byte length + JSON header) are the original ones;
 * 3. reads the tensors called NAME (all of them if none is given) by name and
 *    compares each with the original file; for BF16/F32 tensors it prints the
 *    mean of the values, as a loader converting them would see them;
 * 4. rebuilds the whole file with 2 threads (llmc_container_decompress_file)
 *    and compares it byte for byte.
 * Prints "safetensors: ok ..." and exits 0 only if everything matched.
 */
#define _POSIX_C_SOURCE 200809L
#include "llmc.h"
#include "common.h"

static double value(const unsigned char *p, const char *dtype) {
  union { uint32_t u; float f; } v;
  if (strcmp(dtype, "BF16") == 0) v.u = (uint32_t)(p[0] | p[1] << 8) << 16;
  else v.u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return v.f;
}

static int check_tensor(llmc_gguf *g, const char *name, const unsigned char *original, int verbose) {
  uint64_t idx = 0;
  if (llmc_gguf_find_tensor(g, name, &idx) != LLMC_STATUS_OK) {
    fprintf(stderr, "no tensor called %s\n", name);
    return 0;
  }
  llmc_tensor_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  CHECK(llmc_gguf_tensor_info(g, idx, &info));
  unsigned char *buf = malloc(info.size ? (size_t)info.size : 1);
  CHECK(llmc_gguf_read_tensor(g, idx, buf, (size_t)info.size));
  int ok = strcmp(info.name, name) == 0 && memcmp(buf, original + info.orig_offset, (size_t)info.size) == 0;
  if (verbose) {
    printf("  %-44s %-5s [", info.name, info.dtype_name);
    for (uint32_t d = 0; d < info.n_dims; d++) printf(d ? ", %llu" : "%llu", (unsigned long long)info.shape[d]);
    printf("] %llu bytes", (unsigned long long)info.size);
    size_t width = strcmp(info.dtype_name, "BF16") == 0 ? 2 : strcmp(info.dtype_name, "F32") == 0 ? 4 : 0;
    if (width && info.size) {
      double sum = 0;
      for (size_t i = 0; i < info.size; i += width) sum += value(buf + i, info.dtype_name);
      printf(" mean %.6g", sum / (double)(info.size / width));
    }
    printf(" %s\n", ok ? "ok" : "MISMATCH");
  }
  free(buf);
  return ok;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.safetensors OUT.llmc [NAME ...]\n", argv[0]);
    return 2;
  }
  size_t orig_size = 0;
  unsigned char *original = read_file(argv[1], &orig_size);
  if (!original) return 1;

  llmc_params params;
  llmc_params_init(&params);
  params.n_threads = 2;
  CHECK(llmc_safetensors_compress_file(argv[1], argv[2], &params));

  llmc_gguf *g = NULL;
  CHECK(llmc_gguf_open_file(argv[2], 0, &g));
  int ok = llmc_gguf_source_kind(g) == LLMC_SOURCE_SAFETENSORS && llmc_gguf_original_size(g) == orig_size;
  uint64_t meta_size = 0, n = 0;
  CHECK(llmc_gguf_metadata_size(g, &meta_size));
  unsigned char *meta = malloc(meta_size ? (size_t)meta_size : 1);
  CHECK(llmc_gguf_read_metadata(g, meta, (size_t)meta_size));
  uint64_t json_len = 0;
  for (int i = 0; i < 8; i++) json_len |= (uint64_t)meta[i] << (8 * i);
  ok &= meta_size == 8 + json_len && memcmp(meta, original, (size_t)meta_size) == 0;
  CHECK(llmc_gguf_n_tensors(g, &n));

  int checked = 0;
  if (argc > 3) {
    for (int a = 3; a < argc; a++, checked++) ok &= check_tensor(g, argv[a], original, 1);
  } else {
    for (uint64_t i = 0; i < n; i++, checked++) {
      llmc_tensor_info info;
      memset(&info, 0, sizeof info);
      info.struct_size = sizeof info;
      CHECK(llmc_gguf_tensor_info(g, i, &info));
      ok &= check_tensor(g, info.name, original, i < 5);
    }
  }

  /* The whole checkpoint back, on two threads. */
  char rebuilt[4096];
  snprintf(rebuilt, sizeof rebuilt, "%s.rebuilt", argv[2]);
  double t0 = now_seconds();
  CHECK(llmc_container_decompress_file(argv[2], rebuilt, 2));
  double secs = now_seconds() - t0;
  size_t back_size = 0;
  unsigned char *back = read_file(rebuilt, &back_size);
  ok &= back && back_size == orig_size && memcmp(back, original, orig_size) == 0;
  remove(rebuilt);

  printf("safetensors: %s tensors=%llu checked=%d header=%llu bytes rebuild_gbps=%.3f\n", ok ? "ok" : "FAIL",
         (unsigned long long)n, checked, (unsigned long long)meta_size, (double)orig_size / secs / 1e9);
  free(back);
  free(meta);
  llmc_gguf_close(g);
  free(original);
  return ok ? 0 : 1;
}
