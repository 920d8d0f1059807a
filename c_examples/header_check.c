/* Compiled as C99 and as C++ by the tests: the header must stand alone, warning-free. */
#include "llmc.h"

/* What C and C++ callers write every day: success as a value of the status type. */
static llmc_status succeed(void) { return LLMC_STATUS_OK; }

int main(void) {
  llmc_status ok = succeed();
  llmc_params p;
  llmc_params_init(&p);
  llmc_isa want = LLMC_ISA_AUTO; /* a value of the ISA type, in C++ too */
  llmc_status s = llmc_set_isa(want);
  return (int)(s != LLMC_STATUS_OK) + (int)(ok != LLMC_STATUS_OK) + (int)(llmc_abi_version() != LLMC_ABI_VERSION);
}
