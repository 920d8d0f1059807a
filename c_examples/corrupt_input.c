/*
 * corrupt_input: hostile input through the public header. Truncated and
 * bit-flipped frames and containers must be refused with a named status, never
 * crash, never panic, never decode to wrong bytes. Run under ASan/UBSan by
 * scripts/sanitize.sh and plainly by the tests.
 *
 *   corrupt_input FILE.bf16 FILE.q4k ORIGINAL.gguf SCRATCH_DIR
 *
 * Frames: the first 64 KiB of FILE.bf16 and 200 blocks of FILE.q4k, in 4 chunks
 * each; every truncation up to 300 bytes and then every 61st, every bit-flipped
 * byte of the header and chunk table and then every 37th byte, through
 * llmc_frame_info_get and llmc_decompress_dctx on every ISA this CPU has.
 * Container: ORIGINAL.gguf compressed into SCRATCH_DIR, then truncated and
 * bit-flipped; each copy goes through llmc_gguf_open_buffer and, when that
 * accepts it, llmc_gguf_tensor_info / read_tensor per tensor and a
 * llmc_gguf_read_range of the whole file, which must fail (every byte of a
 * container is covered by a CRC).
 * Prints one line per input kind and "corrupt: ok" if every rule held.
 */
#define _POSIX_C_SOURCE 200809L
#include "llmc.h"
#include "common.h"

static int failures = 0;

/* A refusal must carry a real status: named, and not an internal panic. */
static int refused(llmc_status s, const char *what, size_t at) {
  if (s == LLMC_STATUS_OK) return 0;
  if (s == LLMC_STATUS_PANIC || strcmp(llmc_get_error_name(s), "unknown error") == 0) {
    fprintf(stderr, "%s at %zu: status %u (%s)\n", what, at, s, llmc_get_error_name(s));
    failures++;
  }
  return 1;
}

static void fail(const char *what, size_t at, const char *why) {
  fprintf(stderr, "%s at %zu: %s\n", what, at, why);
  failures++;
}

typedef struct {
  size_t tried, refused;
} tally;

/* One damaged frame: the header query may accept it (it does not read the
 * payloads), a decode on any ISA must refuse it. */
static void damaged_frame(const unsigned char *frame, size_t size, size_t content, unsigned char *out, llmc_dctx *dctx,
                          const char *what, size_t at, tally *t) {
  llmc_frame_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  refused(llmc_frame_info_get(frame, size, &info), what, at);
  uint32_t mask = llmc_cpu_isa_mask();
  for (uint32_t isa = LLMC_ISA_SCALAR; isa <= LLMC_ISA_AVX512_PERMUTE; isa++) {
    if (!(mask & (1u << isa))) continue;
    CHECK(llmc_dctx_set_isa(dctx, isa));
    size_t written = 0;
    t->tried++;
    if (refused(llmc_decompress_dctx(dctx, frame, size, out, content, &written), what, at)) {
      t->refused++;
    } else {
      fail(what, at, "a damaged frame decoded without an error");
    }
  }
}

static void frame_pass(const char *name, const unsigned char *src, size_t n, int q4k) {
  llmc_params p;
  llmc_params_init(&p);
  p.chunk_size = (uint32_t)(q4k ? 50 * LLMC_Q4K_BLOCK_BYTES : 16384);
  size_t cap = q4k ? llmc_q4k_compress_bound(n) : llmc_bf16_compress_bound(n);
  unsigned char *frame = malloc(cap), *copy = malloc(cap), *out = malloc(n);
  size_t size = 0;
  if (q4k) {
    CHECK(llmc_q4k_compress(src, n, frame, cap, &size, &p));
  } else {
    CHECK(llmc_bf16_compress(src, n, frame, cap, &size, &p));
  }
  llmc_dctx *dctx = NULL;
  CHECK(llmc_dctx_create(&dctx));
  tally truncated = {0, 0}, flipped = {0, 0};
  for (size_t len = 0; len < size; len += len < 300 ? 1 : 61) {
    /* An exact-size heap copy, so ASan sees any read past the end. */
    unsigned char *cut = malloc(len ? len : 1);
    memcpy(cut, frame, len);
    damaged_frame(cut, len, n, out, dctx, "truncated frame", len, &truncated);
    free(cut);
  }
  size_t table_end = 32 + 8 * 4;
  for (size_t at = 0; at < size; at += at < table_end ? 1 : 37) {
    memcpy(copy, frame, size);
    copy[at] ^= (unsigned char)(1u << (at % 8));
    damaged_frame(copy, size, n, out, dctx, "bit-flipped frame", at, &flipped);
  }
  /* The intact frame still decodes: the damage above came from the copies. */
  size_t written = 0;
  CHECK(llmc_decompress_dctx(dctx, frame, size, out, n, &written));
  if (written != n || memcmp(out, src, n) != 0) fail(name, 0, "the intact frame no longer decodes");
  printf("%s frame: size=%zu truncated %zu/%zu refused, bit-flipped %zu/%zu refused\n", name, size, truncated.refused,
         truncated.tried, flipped.refused, flipped.tried);
  llmc_dctx_free(dctx);
  free(frame);
  free(copy);
  free(out);
}

/* One damaged container: open may refuse it; if it does not, the per-tensor
 * calls must not crash and reading the whole original must fail. */
static int damaged_container(const unsigned char *data, size_t size, unsigned char *out, size_t orig_size,
                             const char *what, size_t at) {
  llmc_gguf *g = NULL;
  if (refused(llmc_gguf_open_buffer(data, size, 0, &g), what, at)) return 1;
  uint64_t n = 0;
  CHECK(llmc_gguf_n_tensors(g, &n));
  for (uint64_t i = 0; i < n; i++) {
    llmc_tensor_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    if (refused(llmc_gguf_tensor_info(g, i, &info), what, at)) continue;
    if (info.size <= orig_size) refused(llmc_gguf_read_tensor(g, i, out, (size_t)info.size), what, at);
  }
  int ok = refused(llmc_gguf_read_range(g, 0, out, orig_size), what, at);
  if (!ok) fail(what, at, "a damaged container read back without an error");
  llmc_gguf_close(g);
  return ok;
}

static void container_pass(const char *gguf, const char *scratch) {
  char path[4096];
  snprintf(path, sizeof path, "%s/corrupt_input.gguf.llmc", scratch);
  llmc_params p;
  llmc_params_init(&p);
  p.n_threads = 2;
  CHECK(llmc_gguf_compress_file(gguf, path, &p));
  size_t size = 0;
  unsigned char *c = read_file(path, &size);
  remove(path);
  if (!c) exit(1);
  llmc_gguf *g = NULL;
  CHECK(llmc_gguf_open_buffer(c, size, 0, &g));
  size_t orig_size = (size_t)llmc_gguf_original_size(g);
  llmc_gguf_close(g);
  unsigned char *out = malloc(orig_size), *copy = malloc(size);

  size_t tried = 0, ok = 0;
  size_t cuts[] = {0, 1, 4, 8, 32, 59, 60, 63, 64, 65, 4096, size / 3, size / 2, size - 4096, size - 65, size - 5, size - 4, size - 1};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++, tried++) {
    unsigned char *cut = malloc(cuts[i] ? cuts[i] : 1);
    memcpy(cut, c, cuts[i]);
    ok += damaged_container(cut, cuts[i], out, orig_size, "truncated container", cuts[i]);
    free(cut);
  }
  /* Version 1 keeps the index offset in the header (bytes 16..24), version 2
     in the trailer (the last 64 bytes, offset 12). */
  uint64_t index_offset = 0;
  size_t index_field = c[4] == 1 ? 16 : size - 64 + 12;
  for (int i = 0; i < 8; i++) index_offset |= (uint64_t)c[index_field + i] << (8 * i);
  /* Every header byte, every 7th index byte, 64 bytes spread over the frames. */
  for (size_t at = 0; at < size; tried++) {
    memcpy(copy, c, size);
    copy[at] ^= (unsigned char)(1u << (at % 8));
    ok += damaged_container(copy, size, out, orig_size, "bit-flipped container", at);
    at += at < 64 ? 1 : at >= index_offset ? 7 : (size_t)(index_offset - 64) / 64 + 1;
  }
  printf("container: size=%zu original=%zu damaged copies %zu/%zu refused\n", size, orig_size, ok, tried);
  free(copy);
  free(out);
  free(c);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s FILE.bf16 FILE.q4k ORIGINAL.gguf SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  size_t n = 0;
  unsigned char *src = read_file(argv[1], &n);
  if (!src || n < 65536) return 1;
  frame_pass("bf16", src, 65536, 0);
  free(src);
  src = read_file(argv[2], &n);
  if (!src || n < 200 * LLMC_Q4K_BLOCK_BYTES) return 1;
  frame_pass("q4k", src, 200 * LLMC_Q4K_BLOCK_BYTES, 1);
  free(src);
  container_pass(argv[3], argv[4]);
  printf("corrupt: %s\n", failures ? "FAIL" : "ok");
  return failures ? 1 : 0;
}
