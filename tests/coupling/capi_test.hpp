#pragma once
/// Shared pieces of test_capi: the config of a small Poisson PINN, a scratch folder,
/// points, and a model handle that frees itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kpde.h"

namespace kpde::capi_test {

/// tests/coupling/poisson_small.yaml: -lap u = f on [-1,1]^2, u = 0 on the boundary;
/// a 2 x 16 tanh network in double.
inline std::string config_path() { return std::string(KPDE_COUPLING_TEST_DIR) + "/poisson_small.yaml"; }
/// A folder for files the tests write (the build tree).
inline std::string scratch(const std::string& name) { return std::string(KPDE_COUPLING_SCRATCH) + "/" + name; }

/// n points of [-0.9, 0.9]^2, row-major [n][2], from a fixed low-discrepancy sequence.
inline std::vector<double> points(int n, double seed = 0.0) {
  std::vector<double> x(2 * n);
  for (int p = 0; p < n; ++p) {
    x[2 * p] = -0.9 + 1.8 * std::fmod(0.5 + seed + p * 0.6180339887498949, 1.0);
    x[2 * p + 1] = -0.9 + 1.8 * std::fmod(0.25 + seed + p * 0.7548776662466927, 1.0);
  }
  return x;
}

/// A model of the test config, freed at the end of the scope.
struct Model {
  kpde_model h = nullptr;
  explicit Model(const std::string& path = config_path(), bool from_file = false) {
    const int s = from_file ? kpde_model_from_file(path.c_str(), MPI_COMM_SELF, &h)
                            : kpde_model_from_config(path.c_str(), MPI_COMM_SELF, &h);
    EXPECT_EQ(s, KPDE_OK) << kpde_last_error();
  }
  ~Model() {
    if (h) kpde_model_free(&h);
  }
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  std::vector<double> params() const {
    int64_t n = 0;
    kpde_model_n_params(h, &n);
    std::vector<double> p(n);
    EXPECT_EQ(kpde_model_get_params(h, n, p.data()), KPDE_OK) << kpde_last_error();
    return p;
  }
};

/// The status of a call that must fail, with a check of its message.
#define EXPECT_FAILS(call, status, fragment)                                                        \
  do {                                                                                              \
    const int s_ = (call);                                                                          \
    EXPECT_EQ(s_, status) << #call << ": " << kpde_last_error();                                    \
    EXPECT_NE(std::string(kpde_last_error()).find(fragment), std::string::npos)                     \
        << #call << ": the message '" << kpde_last_error() << "' does not mention '" << fragment << "'"; \
  } while (0)

}  // namespace kpde::capi_test
