// data::burgers_cole_hopf, the reference of the Burgers benchmark: initial data, the
// odd symmetry of the problem, convergence of the quadrature, and the PDE itself
// (u_t + u u_x - nu u_xx from central differences of the function) at points where the
// solution is smooth on the difference scale.
#include <gtest/gtest.h>

#include <cmath>

#include "data/burgers.hpp"

namespace {

const double nu = 0.01 / M_PI;

TEST(BurgersColeHopf, InitialDataAndSymmetry) {
  for (double x : {-0.9, -0.3, 0.0, 0.25, 0.8}) {
    EXPECT_DOUBLE_EQ(kpde::data::burgers_cole_hopf(x, 0.0, nu), -std::sin(M_PI * x));
    // at a tiny time the solution is still the initial data to O(t)
    EXPECT_NEAR(kpde::data::burgers_cole_hopf(x, 1e-6, nu), -std::sin(M_PI * x), 1e-4);
    for (double t : {0.2, 0.6, 1.0})
      EXPECT_NEAR(kpde::data::burgers_cole_hopf(-x, t, nu), -kpde::data::burgers_cole_hopf(x, t, nu), 1e-12);
  }
}

TEST(BurgersColeHopf, QuadratureConverged) {
  for (double x : {-0.5, -0.05, 0.01, 0.7})
    for (double t : {0.1, 0.5, 1.0})
      EXPECT_NEAR(kpde::data::burgers_cole_hopf(x, t, nu, 2001), kpde::data::burgers_cole_hopf(x, t, nu, 8001), 1e-10);
}

TEST(BurgersColeHopf, SatisfiesThePde) {
  const double h = 1e-3, k = 1e-4;
  for (double x : {-0.8, -0.5, 0.4, 0.7})
    for (double t : {0.1, 0.3, 0.9}) {
      const auto u = [&](double xx, double tt) { return kpde::data::burgers_cole_hopf(xx, tt, nu); };
      const double u0 = u(x, t);
      const double ut = (u(x, t + k) - u(x, t - k)) / (2 * k);
      const double ux = (u(x + h, t) - u(x - h, t)) / (2 * h);
      const double uxx = (u(x + h, t) - 2 * u0 + u(x - h, t)) / (h * h);
      const double scale = std::abs(ut) + std::abs(u0 * ux) + std::abs(nu * uxx);
      // differencing error (h^2, k^2 terms) is ~1e-4 relative at worst here; a solution
      // off by 2% (1.02 u) leaves 0.02 |u u_x| from the quadratic term, well above it
      const double tol = 2e-4 * scale + 1e-6;
      EXPECT_LT(std::abs(ut + u0 * ux - nu * uxx), tol) << "x=" << x << " t=" << t;
      const double c = 1.02;
      EXPECT_GT(std::abs(c * ut + c * c * u0 * ux - c * nu * uxx), 2 * tol) << "x=" << x << " t=" << t;
    }
}

}  // namespace
