#pragma once
// Helpers shared by the finite-difference tests of the network engine.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "nn/channels.hpp"
#include "support/fd_check.hpp"

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

/// Points x [N][d] as a row-major vector.
inline std::vector<double> rows_of(const Mat<double>& x) {
  return std::vector<double>(x.data(), x.data() + x.extent(0) * x.extent(1));
}

/// Row-major points [N][d] as a Mat.
inline Mat<double> mat_of(const std::vector<double>& x, int d) {
  Mat<double> m("x", x.size() / d, d);
  std::copy(x.begin(), x.end(), m.data());
  return m;
}

/// Channels c0 .. c0 + nc - 1 of a jet array y [N][C][K] as [N][nc][K], row-major.
inline std::vector<double> channels_of(const Arr3<double>& y, int c0, int nc) {
  std::vector<double> v;
  for (std::size_t p = 0; p < y.extent(0); ++p)
    for (int c = c0; c < c0 + nc; ++c)
      for (std::size_t k = 0; k < y.extent(2); ++k) v.push_back(y(p, c, k));
  return v;
}

/// The derivative channels of jets y [N][C][K] (spec ch at points x) against central
/// differences with step h of eval_grad(points) -> [N][1 + d][K] (value and gradient):
/// channel grad_channel(i) against d/dx_i of the value (kpde::testing::check_input_derivatives),
/// second channel s against sum_ij A^s_ij d/dx_j of the gradient channels
/// (kpde::testing::check_second_from_gradient). One report per channel, named
/// "<what> <spec> <channel>".
template <class Eval>
std::vector<kpde::testing::FdReport> jet_reports(const Arr3<double>& y, const ChannelSpec& ch, const Mat<double>& x,
                                                 Eval&& eval_grad, const std::string& what, double h = 1e-5) {
  using kpde::testing::DerivativeClaim;
  const int d = ch.dim;
  const std::size_t K = y.extent(2);
  const std::vector<double> pts = rows_of(x);
  const kpde::testing::Field value = [&](const std::vector<double>& xs) {
    return channels_of(eval_grad(mat_of(xs, d)), 0, 1);
  };
  const kpde::testing::Field grad = [&](const std::vector<double>& xs) {
    return channels_of(eval_grad(mat_of(xs, d)), 1, d);
  };
  const std::string prefix = what + " " + ch.name() + " ";
  std::vector<DerivativeClaim> first, second;
  for (int i = 0; i < d; ++i)
    first.push_back(
        DerivativeClaim::first(prefix + "d/dx_" + std::to_string(i), i, channels_of(y, ch.grad_channel(i), 1)));
  for (int s = 0; s < ch.n_second(); ++s)
    second.push_back(DerivativeClaim::functional(prefix + "second channel " + std::to_string(s), ch.second_matrix(s),
                                                 channels_of(y, ch.second_channel(s), 1)));
  auto reports = kpde::testing::check_input_derivatives(value, pts, d, first, h, h, K);
  const auto r2 = kpde::testing::check_second_from_gradient(grad, pts, d, K, second, h);
  reports.insert(reports.end(), r2.begin(), r2.end());
  return reports;
}

}  // namespace kpde::nn::testing
