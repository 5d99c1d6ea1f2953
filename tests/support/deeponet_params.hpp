#pragma once
// Shared by the DeepONet tests: initial parameters with a nonzero output bias.
#include <vector>

#include "core/rng.hpp"
#include "operators/deeponet.hpp"

namespace kpde::testing {

/// The network's initial parameters from `seed`, with b0 ~ N(0, 1) (init gives 0) so
/// that the bias is exercised.
inline std::vector<double> deeponet_params(const operators::DeepOnet<double>& net, std::uint64_t seed) {
  std::vector<double> p(net.n_params());
  net.init_params(p.data(), seed);
  Rng rng(seed + 1);
  for (std::size_t i = net.bias_offset(); i < p.size(); ++i) p[i] = rng.normal();
  return p;
}

}  // namespace kpde::testing
