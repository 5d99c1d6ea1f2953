// libFuzzer entry point of the config loader (docs/fuzzing.md): arbitrary bytes as a
// `kpde solve` config named fuzz.yaml, lines "#set key=value" as --set overrides.
// Kokkos is started once (the geometry checks run Kokkos host kernels).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <Kokkos_Core.hpp>

#include "fuzz_checks.hpp"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static std::unique_ptr<Kokkos::ScopeGuard> kokkos;
  if (!kokkos) kokkos = std::make_unique<Kokkos::ScopeGuard>(*argc, *argv);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  kpde::fuzz::check_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  return 0;
}
