#include "core/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace kpde {

void assertion_failed(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "kpde: assertion failed: %s (%s) at %s:%d\n", expr, msg, file, line);
  std::abort();
}

}  // namespace kpde
