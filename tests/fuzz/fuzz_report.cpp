// report_finding and set_abort_on_finding (fuzz_checks.hpp).
#include <cstdio>
#include <cstdlib>

#include "fuzz_checks.hpp"

namespace kpde::fuzz {

namespace {
bool g_abort = true;
}

void set_abort_on_finding(bool abort_on_finding) { g_abort = abort_on_finding; }

void report_finding(const std::string& harness, const std::string& what, const std::string& input) {
  std::fprintf(stderr, "%s: %s\n--- input (%zu bytes) ---\n%s\n--- end of input ---\n", harness.c_str(), what.c_str(),
               input.size(), input.c_str());
  if (g_abort) std::abort();
  throw Finding(harness + ": " + what);
}

}  // namespace kpde::fuzz
