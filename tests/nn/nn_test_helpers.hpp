#pragma once
// Helpers shared by the finite-difference tests of the network engine.
#include <algorithm>
#include <cmath>
#include <vector>

#include "nn/channels.hpp"

namespace kpde::nn::testing {

/// Every kind of channel set in d dimensions (the Laplacian with uneven weights).
inline std::vector<ChannelSpec> all_channel_kinds(int d) {
  return {ChannelSpec::value(d), ChannelSpec::with_gradient(d), ChannelSpec::diagonal(d), ChannelSpec::hessian(d),
          ChannelSpec::laplacian(d, {0.7, -1.3, 2.1})};
}

/// max |a - b| / max |b| (max |a - b| when b is 0).
inline double rel_err(const std::vector<double>& a, const std::vector<double>& b) {
  double e = 0, s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i])), s = std::max(s, std::abs(b[i]));
  return s > 0 ? e / s : e;
}

}  // namespace kpde::nn::testing
