#include "data/burgers.hpp"

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/types.hpp"
#include "io/hdf5.hpp"

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

void write_burgers_reference(const std::string& path, int n, double nu, int nodes) {
  KPDE_REQUIRE(n >= 2, InputError, "burgers reference: n must be >= 2");
  std::vector<double> xs(n), ts(n), u(static_cast<std::size_t>(n) * n);
  for (int j = 0; j < n; ++j) xs[j] = j == n - 1 ? 1.0 : -1.0 + 2.0 * j / (n - 1);
  for (int i = 0; i < n; ++i) ts[i] = i == n - 1 ? 1.0 : double(i) / (n - 1);
  Kokkos::parallel_for(
      "kpde::data::burgers_reference", Kokkos::RangePolicy<HostExec>(0, n * n), [&](const int k) {
        u[k] = burgers_cole_hopf(xs[k % n], ts[k / n], nu, nodes);
      });
  io::H5File f = io::H5File::create(path);
  f.set_attribute("/", "description",
                  "viscous Burgers u_t + u u_x = nu u_xx, u(x,0) = -sin(pi x), u(+-1,t) = 0: Cole-Hopf solution "
                  "by trapezoidal quadrature; u[i][j] at t = t[i], x = x[j]");
  f.set_attribute("/", "nu", nu);
  f.set_attribute("/", "quadrature_nodes", double(nodes));
  f.write("x", xs, {std::size_t(n)});
  f.write("t", ts, {std::size_t(n)});
  f.write("u", u, {std::size_t(n), std::size_t(n)});
  f.close();
}

}  // namespace kpde::data
