// libFuzzer entry point of the expression parser and its jets (docs/fuzzing.md):
// arbitrary bytes as a nonlinear residual over u, u_x, u_y, u_xx, u_yy, u_xy, x, y.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kpde::fuzz::check_residual(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
