#include "hypernet/input.hpp"

#include <cmath>

#include "core/error.hpp"

namespace kpde::hypernet {

double data_scale(const Spec& s) {
  double m = 0;
  for (std::size_t q = 0; q < s.size(); ++q) {
    if (s.dirichlet_mask[q] > 0) m = std::max(m, std::abs(s.dirichlet_values[q]));
    if (s.neumann_mask[q] > 0) m = std::max(m, std::abs(s.neumann_values[q]));
    if (s.domain_mask[q] > 0) m = std::max(m, std::abs(s.source[q]));
  }
  return m > 0 ? m : 1.0;
}

PreparedInput prepare_input(const Spec& s, int pool) {
  if (pool < 1 || s.n % pool != 0)
    throw InputError("hypernetwork input: the pooling factor " + std::to_string(pool) + " does not divide the grid size " +
                     std::to_string(s.n));
  PreparedInput in;
  in.size = s.n / pool;
  in.scale = data_scale(s);
  const double inv = 1.0 / in.scale, log101 = std::log(101.0);
  const auto slog = [&](double v) { return (v < 0 ? -1.0 : 1.0) * std::log1p(100 * std::abs(v)) / log101; };
  const std::size_t m = static_cast<std::size_t>(in.size), plane = m * m;
  in.grids.assign(kInputChannels * plane, 0.0f);
  std::vector<double> acc(kInputChannels * plane, 0.0);
  double n_d = 0, n_n = 0, n_in = 0, max_g = 0, max_h = 0, max_f = 0;
  for (int i = 0; i < s.n; ++i)
    for (int j = 0; j < s.n; ++j) {
      const std::size_t q = static_cast<std::size_t>(i) * static_cast<std::size_t>(s.n) + static_cast<std::size_t>(j);
      const double md = s.dirichlet_mask[q], mn = s.neumann_mask[q], dom = s.domain_mask[q];
      const double g = md * s.dirichlet_values[q] * inv, h = mn * s.neumann_values[q] * inv, f = dom * s.source[q] * inv;
      n_d += md, n_n += mn, n_in += dom;
      max_g = std::max(max_g, std::abs(g)), max_h = std::max(max_h, std::abs(h)), max_f = std::max(max_f, std::abs(f));
      const double v[kInputChannels] = {md, mn, g, h, f, slog(g), slog(h), slog(f), dom, -1 + 2.0 * j / (s.n - 1),
                                        1 - 2.0 * i / (s.n - 1)};
      const std::size_t r = static_cast<std::size_t>(i / pool) * m + static_cast<std::size_t>(j / pool);
      for (int c = 0; c < kInputChannels; ++c) acc[static_cast<std::size_t>(c) * plane + r] += v[c];
    }
  const double area = 1.0 / (pool * pool);
  for (std::size_t k = 0; k < acc.size(); ++k) in.grids[k] = static_cast<float>(acc[k] * area);
  constexpr double two_pi = 6.283185307179586;
  std::size_t k = 0;
  for (double c : s.coefficients) in.cond[k++] = static_cast<float>(c);
  for (int f = 0; f < 5; ++f)
    for (double c : s.coefficients) {
      const double a = two_pi * 0.1 * std::ldexp(1.0, f) * c;
      in.cond[k++] = static_cast<float>(std::sin(a));
      in.cond[k++] = static_cast<float>(std::cos(a));
    }
  const double total = static_cast<double>(s.size());
  for (double v : {n_d / total, n_n / total, n_in / total, max_g, max_h, max_f}) in.cond[k++] = static_cast<float>(v);
  KPDE_ASSERT(k == kCondInputs, "prepare_input: conditioning size");
  return in;
}

}  // namespace kpde::hypernet
