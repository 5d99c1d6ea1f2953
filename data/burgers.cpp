#include "data/burgers.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"

namespace kpde::data {

double burgers_cole_hopf(double x, double t, double nu, int nodes) {
  KPDE_REQUIRE(nu > 0 && nodes >= 3 && t >= 0, InputError, "burgers_cole_hopf: needs nu > 0, t >= 0, nodes >= 3");
  const double pi = M_PI;
  if (t == 0) return -std::sin(pi * x);
  const double s = std::sqrt(4 * nu * t), L = 10.0, h = 2 * L / (nodes - 1);
  // exponent of F(x - s z) e^{-z^2}
  const auto expo = [&](double z) { return -std::cos(pi * (x - s * z)) / (2 * pi * nu) - z * z; };
  double emax = -INFINITY;
  for (int k = 0; k < nodes; ++k) emax = std::max(emax, expo(-L + k * h));
  double num = 0, den = 0;
  for (int k = 0; k < nodes; ++k) {
    const double z = -L + k * h;
    const double w = (k == 0 || k == nodes - 1 ? 0.5 : 1.0) * std::exp(expo(z) - emax);
    num += w * std::sin(pi * (x - s * z));
    den += w;
  }
  return -num / den;
}

}  // namespace kpde::data
