#include "data/fisher.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/mms.hpp"

namespace kpde::data {

namespace {

constexpr double kPi = 3.141592653589793238462643383;
/// Half of RK4's stability limit on the negative real axis (2.785).
constexpr double kRk4Stable = 1.39;

/// |c1| + 2|c2| + 3|c3| + 4|c4|: a bound of |R'(u)| on [0, 1].
double lipschitz(const std::array<double, 4>& c) {
  return std::abs(c[0]) + 2 * std::abs(c[1]) + 3 * std::abs(c[2]) + 4 * std::abs(c[3]);
}

/// RK4 steps per output interval for the eigenvalue bound lambda.
long steps_per_interval(const FisherSettings& s, double lambda) {
  const double dt_out = 1.0 / (s.times - 1);
  const double need = std::ceil(dt_out * lambda / kRk4Stable);
  return static_cast<long>(s.time_refine) * std::max(1L, static_cast<long>(std::min(need, 1e15)));
}

double stencil_bound(const FisherSettings& s) {
  const double h = 1.0 / (s.fine_nodes() - 1);
  return 16.0 * s.diffusion / (3.0 * h * h);
}

}  // namespace

void FisherSettings::validate() const {
  KPDE_REQUIRE(points >= 2 && points <= 10000, InputError, "points: must be in [2, 10000]");
  KPDE_REQUIRE(times >= 2 && times <= 10000, InputError, "times: must be in [2, 10000]");
  KPDE_REQUIRE(diffusion >= 0 && std::isfinite(diffusion), InputError, "diffusion: must be a number >= 0");
  KPDE_REQUIRE(!forms.empty(), InputError, "forms: name at least one reaction form (1, 2 or 3)");
  for (int f : forms)
    KPDE_REQUIRE(f >= 1 && f <= 3, InputError, "forms: each form must be 1, 2 or 3, got " + std::to_string(f));
  KPDE_REQUIRE(a_min >= 0 && a_min <= a_max && std::isfinite(a_max), InputError,
               "a: expected 0 <= min <= max (finite)");
  KPDE_REQUIRE(std::isfinite(beta_min) && std::isfinite(beta_max) && beta_min <= beta_max, InputError,
               "beta: expected finite min <= max");
  KPDE_REQUIRE(ic_scale > 0 && std::isfinite(ic_scale), InputError, "ic.scale: must be a number > 0");
  KPDE_REQUIRE(ic_tau > 0 && std::isfinite(ic_tau), InputError, "ic.tau: must be a number > 0");
  KPDE_REQUIRE(ic_alpha > 0 && std::isfinite(ic_alpha), InputError, "ic.alpha: must be a number > 0");
  KPDE_REQUIRE(refine >= 1 && refine <= 64, InputError, "refine: must be in [1, 64]");
  KPDE_REQUIRE(time_refine >= 1 && time_refine <= 1024, InputError, "time_refine: must be in [1, 1024]");
  KPDE_REQUIRE(fine_nodes() >= 5, InputError,
               "refine: (points - 1) * refine + 1 = " + std::to_string(fine_nodes()) +
                   " fine nodes; the stencil needs at least 5 (raise points or refine)");
  KPDE_REQUIRE(fine_nodes() <= 100001, InputError,
               "refine: (points - 1) * refine + 1 = " + std::to_string(fine_nodes()) + " fine nodes; at most 100001");
  // the largest reaction bound the draws can give (form 3 scanned over the beta range)
  double L = 0;
  for (int f : forms)
    for (int k = 0; k <= 16; ++k) {
      const double beta = beta_min + (beta_max - beta_min) * k / 16.0;
      L = std::max(L, lipschitz(fisher_coefficients(f, a_max, beta)));
    }
  const double work = static_cast<double>(steps_per_interval(*this, stencil_bound(*this) + L)) * (times - 1) *
                      fine_nodes();
  KPDE_REQUIRE(work <= 1e9, InputError,
               "diffusion: " + std::to_string(static_cast<long long>(work / fine_nodes())) + " RK4 steps on " +
                   std::to_string(fine_nodes()) +
                   " fine nodes exceed 1e9 node steps per sample (the explicit step shrinks as D / h^2 grows); "
                   "lower diffusion, refine, points or time_refine");
}

std::array<double, 4> fisher_coefficients(int form, double a, double beta) {
  switch (form) {
    case 1: return {a, -a, 0, 0};
    case 2: return {a, 0, -a, 0};
    case 3: {
      const double s = a * std::exp(-beta);
      return {s, s * (beta - 1), s * beta * (0.5 * beta - 1), -0.5 * s * beta * beta};
    }
    default: break;
  }
  throw InputError("fisher: reaction form must be 1, 2 or 3, got " + std::to_string(form));
}

std::vector<double> fisher_solve(const FisherSettings& s, const std::array<double, 4>& c,
                                 const std::function<double(double)>& u0, int* steps) {
  s.validate();
  const int F = s.fine_nodes(), P = s.points, T = s.times, r = s.refine;
  const double h = 1.0 / (F - 1), D = s.diffusion;
  const long S = steps_per_interval(s, stencil_bound(s) + lipschitz(c));
  const double dt = 1.0 / (T - 1) / static_cast<double>(S);
  std::vector<double> u(static_cast<std::size_t>(F));
  for (int i = 0; i < F; ++i) u[static_cast<std::size_t>(i)] = u0(i == F - 1 ? 1.0 : i * h);

  // the right-hand side f(v) = D lap_h v + R(v), ghost nodes mirrored
  const double w = D / (12 * h * h);
  const auto mirror = [F](int i) { return i < 0 ? -i : (i > F - 1 ? 2 * (F - 1) - i : i); };
  const auto rhs = [&](const std::vector<double>& v, std::vector<double>& out) {
    const auto R = [&c](double x) { return x * (c[0] + x * (c[1] + x * (c[2] + x * c[3]))); };
    for (int i : {0, 1, F - 2, F - 1}) {
      const auto at = [&](int k) { return v[static_cast<std::size_t>(mirror(k))]; };
      out[static_cast<std::size_t>(i)] =
          w * (-at(i - 2) + 16 * at(i - 1) - 30 * at(i) + 16 * at(i + 1) - at(i + 2)) + R(at(i));
    }
    for (int i = 2; i < F - 2; ++i) {
      const double* p = v.data() + i;
      out[static_cast<std::size_t>(i)] = w * (-p[-2] + 16 * p[-1] - 30 * p[0] + 16 * p[1] - p[2]) + R(p[0]);
    }
  };

  std::vector<double> out(static_cast<std::size_t>(T) * static_cast<std::size_t>(P));
  const auto store = [&](int j) {
    for (int i = 0; i < P; ++i)
      out[static_cast<std::size_t>(j) * static_cast<std::size_t>(P) + static_cast<std::size_t>(i)] =
          u[static_cast<std::size_t>(i) * static_cast<std::size_t>(r)];
  };
  store(0);
  std::vector<double> k1(u.size()), k2(u.size()), k3(u.size()), k4(u.size()), tmp(u.size());
  for (int j = 1; j < T; ++j) {
    for (long n = 0; n < S; ++n) {
      rhs(u, k1);
      for (std::size_t q = 0; q < u.size(); ++q) tmp[q] = u[q] + 0.5 * dt * k1[q];
      rhs(tmp, k2);
      for (std::size_t q = 0; q < u.size(); ++q) tmp[q] = u[q] + 0.5 * dt * k2[q];
      rhs(tmp, k3);
      for (std::size_t q = 0; q < u.size(); ++q) tmp[q] = u[q] + dt * k3[q];
      rhs(tmp, k4);
      for (std::size_t q = 0; q < u.size(); ++q) u[q] += dt / 6 * (k1[q] + 2 * k2[q] + 2 * k3[q] + k4[q]);
    }
    store(j);
  }
  for (double v : u)
    if (!std::isfinite(v)) throw Error("fisher: the solution is not finite (the RK4 step is unstable)");
  if (steps) *steps = static_cast<int>(std::min<long>(S * (T - 1), std::numeric_limits<int>::max()));
  return out;
}

FisherSample generate_fisher_sample(const FisherSettings& s, std::uint64_t seed, std::uint64_t index) {
  s.validate();
  Rng rng(mix_seed(seed, index, 0xf15eULL));
  // the initial condition's series: amplitudes sigma xi_k (1 + (pi k / tau)^2)^(-alpha/2)
  std::array<double, kFisherModes> amp{};
  for (int k = 0; k < kFisherModes; ++k) {
    const double q = kPi * k / s.ic_tau;
    amp[static_cast<std::size_t>(k)] = s.ic_scale * rng.normal() * std::pow(1 + q * q, -0.5 * s.ic_alpha);
  }
  FisherSample out;
  out.a = s.a_min + (s.a_max - s.a_min) * rng.uniform();
  const double beta = s.beta_min + (s.beta_max - s.beta_min) * rng.uniform();
  out.form = s.forms[static_cast<std::size_t>(index % s.forms.size())];
  out.beta = out.form == 3 ? beta : std::numeric_limits<double>::quiet_NaN();
  out.coefficients = fisher_coefficients(out.form, out.a, out.form == 3 ? beta : 0.0);
  const auto u0 = [&amp](double x) {
    double g = 0;
    for (int k = 0; k < kFisherModes; ++k) g += amp[static_cast<std::size_t>(k)] * std::cos(kPi * k * x);
    return 1 / (1 + std::exp(-g));
  };
  out.u = fisher_solve(s, out.coefficients, u0, &out.steps);
  out.u0.assign(out.u.begin(), out.u.begin() + s.points);
  return out;
}

}  // namespace kpde::data
