#pragma once
/// The exact solution of the viscous Burgers benchmark (Raissi et al. 2019; Basdevant
/// et al. 1986), the reference a problem names with `reference: {burgers: nu}`
/// (examples/configs/burgers_1d.yaml):
///   u_t + u u_x = nu u_xx,  x in [-1, 1], t in [0, 1],  u(x, 0) = -sin(pi x), u(+-1, t) = 0.
/// Cole-Hopf: u = -2 nu phi_x / phi with phi the heat-equation solution, which gives
///   u(x, t) = - int sin(pi (x - s z)) F(x - s z) e^{-z^2} dz / int F(x - s z) e^{-z^2} dz,
///   F(y) = exp(-cos(pi y) / (2 pi nu)),  s = sqrt(4 nu t).
/// Both integrals are evaluated with the trapezoidal rule on z in [-10, 10] (the
/// integrands are smooth and decay like e^{-z^2}, so the rule converges geometrically),
/// with the exponents shifted by their maximum so that nothing overflows at small nu.
#include <string>

namespace kpde::data {

/// u(x, t) of the benchmark for viscosity nu > 0; `nodes` trapezoid nodes (>= 3).
double burgers_cole_hopf(double x, double t, double nu, int nodes = 4001);

}  // namespace kpde::data
