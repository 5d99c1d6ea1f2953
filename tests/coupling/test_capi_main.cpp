// test_capi's main: the C API before kpde_init and after kpde_finalize must refuse with
// a status and a message; in between, the GoogleTest cases run.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "kpde.h"

namespace {

bool refuses(int status, const char* fragment, const char* when) {
  const std::string m = kpde_last_error();
  if (status == KPDE_ERR_RUNTIME && m.find(fragment) != std::string::npos) return true;
  std::fprintf(stderr, "test_capi: a call %s returned %d with '%s' (expected %d naming '%s')\n", when, status,
               m.c_str(), KPDE_ERR_RUNTIME, fragment);
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  kpde_model m = nullptr;
  bool ok = refuses(kpde_model_from_config("x.yaml", MPI_COMM_SELF, &m), "kpde_init first", "before kpde_init");
  ok = ok && kpde_initialized() == 0;
  if (kpde_init(2) != KPDE_OK) {
    std::fprintf(stderr, "test_capi: kpde_init: %s\n", kpde_last_error());
    return 1;
  }
  if (kpde_init(2) != KPDE_ERR_INPUT || std::string(kpde_last_error()).find("once") == std::string::npos) {
    std::fprintf(stderr, "test_capi: a second kpde_init was not refused as bad input: '%s'\n", kpde_last_error());
    ok = false;
  }
  const int result = RUN_ALL_TESTS();
  if (kpde_finalize() != KPDE_OK) {
    std::fprintf(stderr, "test_capi: kpde_finalize: %s\n", kpde_last_error());
    return 1;
  }
  int dim = 0;
  ok = refuses(kpde_model_dim(m, &dim), "finalised", "after kpde_finalize") && ok;
  ok = refuses(kpde_init(2), "finalised", "kpde_init after kpde_finalize") && ok;
  return result != 0 || !ok ? 1 : 0;
}
