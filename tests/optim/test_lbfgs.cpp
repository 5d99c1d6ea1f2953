#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/types.hpp"
#include "optim/lbfgs.hpp"

namespace {

using kpde::Vec;
using kpde::optim::lbfgs_minimize;
using kpde::optim::LbfgsOptions;
using kpde::optim::LbfgsResult;
using kpde::optim::LbfgsStop;
using kpde::optim::Objective;

const double nan = std::numeric_limits<double>::quiet_NaN();

Vec<double> make_vec(const std::vector<double>& values) {
  Vec<double> v("x", values.size());
  for (std::size_t i = 0; i < values.size(); ++i) v(i) = values[i];
  return v;
}

std::vector<double> rosenbrock_start(int n) {
  std::vector<double> x(n);
  for (int i = 0; i < n; ++i) x[i] = i % 2 == 0 ? -1.2 : 1.0;
  return x;
}

/// Extended Rosenbrock (Moré, Garbow & Hillstrom): sum over pairs (x_{2i}, x_{2i+1}) of
/// scale * (100 (x_{2i+1} - x_{2i}^2)^2 + (1 - x_{2i})^2); minimum 0 at x = 1.
Objective rosenbrock(double scale = 1.0) {
  return [scale](const Vec<const double>& x, const Vec<double>& g) {
    double f = 0;
    for (std::size_t i = 0; i + 1 < x.extent(0); i += 2) {
      const double a = x(i + 1) - x(i) * x(i);
      const double b = 1 - x(i);
      f += scale * (100 * a * a + b * b);
      g(i) = scale * (-400 * a * x(i) - 2 * b);
      g(i + 1) = scale * 200 * a;
    }
    return f;
  };
}

/// Evaluates `objective` at x and returns f (to check that x holds result.f).
double value_at(const Objective& objective, const Vec<double>& x) {
  Vec<double> g("g", x.extent(0));
  return objective(x, g);
}

bool all_near(const Vec<double>& x, double value, double tol) {
  for (std::size_t i = 0; i < x.extent(0); ++i) {
    if (!(std::abs(x(i) - value) <= tol)) return false;
  }
  return true;
}

TEST(Lbfgs, Rosenbrock10D) {
  auto x = make_vec(rosenbrock_start(10));
  const Objective f = rosenbrock();
  LbfgsOptions o;
  o.history = 10;
  const LbfgsResult r = lbfgs_minimize(f, x, o);
  SCOPED_TRACE(r.message);
  EXPECT_LT(r.f, 1e-8);
  EXPECT_LT(r.iterations, 200);
  EXPECT_TRUE(r.reason == LbfgsStop::converged || r.reason == LbfgsStop::line_search_failed);
  EXPECT_TRUE(all_near(x, 1.0, 1e-4));
  EXPECT_EQ(value_at(f, x), r.f);
  EXPECT_NE(r.message.find("f = "), std::string::npos);
}

TEST(Lbfgs, LargeRosenbrockUsesTheParallelKernels) {
  // 20000 parameters: above the size (16384) where the vector kernels go parallel.
  auto x = make_vec(rosenbrock_start(20000));
  const Objective f = rosenbrock();
  LbfgsOptions o;
  o.history = 10;
  const LbfgsResult r = lbfgs_minimize(f, x, o);
  SCOPED_TRACE(r.message);
  EXPECT_LT(r.f, 1e-8);
  EXPECT_LT(r.iterations, 200);
  EXPECT_TRUE(all_near(x, 1.0, 1e-4));
}

TEST(Lbfgs, IllConditionedQuadratic100D) {
  // f = 1/2 sum_i lambda_i (x_i - c_i)^2, lambda log-spaced in [1, 1e4].
  const int n = 100;
  std::vector<double> lambda(n), c(n);
  for (int i = 0; i < n; ++i) {
    lambda[i] = std::pow(1e4, static_cast<double>(i) / (n - 1));
    c[i] = std::cos(1.0 + i);
  }
  const Objective f = [&](const Vec<const double>& x, const Vec<double>& g) {
    double value = 0;
    for (int i = 0; i < n; ++i) {
      const double r = x(i) - c[i];
      value += 0.5 * lambda[i] * r * r;
      g(i) = lambda[i] * r;
    }
    return value;
  };
  auto x = make_vec(std::vector<double>(n, 0.0));
  // A log-spaced spectrum is the hard case for L-BFGS: unit steps need ~1000
  // iterations to take ||g||_inf from 1e4 to 1e-10 (an independent textbook
  // two-loop implementation needs the same).
  LbfgsOptions o;
  o.max_iterations = 3000;
  const LbfgsResult r = lbfgs_minimize(f, x, o);
  SCOPED_TRACE(r.message);
  EXPECT_EQ(r.reason, LbfgsStop::converged);
  EXPECT_LE(r.grad_norm, o.grad_tol);
  for (int i = 0; i < n; ++i) EXPECT_NEAR(x(i), c[i], 1e-10);
}

TEST(Lbfgs, NonFiniteBeyondABoundaryShrinksTheStep) {
  // f = sum w_i (x_i - 9)^2, but NaN (value and gradient) once any x_i > 10: the
  // minimiser sits near the edge of the region where f exists, and the growing
  // first line search from x = -20 overshoots it.
  const int n = 6;
  int nan_calls = 0;
  const Objective f = [&](const Vec<const double>& x, const Vec<double>& g) {
    double value = 0;
    bool outside = false;
    for (int i = 0; i < n; ++i) {
      const double w = 1.0 + i;
      value += w * (x(i) - 9) * (x(i) - 9);
      g(i) = 2 * w * (x(i) - 9);
      outside = outside || x(i) > 10;
    }
    if (outside) {
      ++nan_calls;
      for (int i = 0; i < n; ++i) g(i) = nan;
      return nan;
    }
    return value;
  };
  auto x = make_vec(std::vector<double>(n, -20.0));
  const LbfgsResult r = lbfgs_minimize(f, x, LbfgsOptions{});
  SCOPED_TRACE(r.message);
  EXPECT_GT(nan_calls, 0);
  EXPECT_EQ(r.reason, LbfgsStop::converged);
  EXPECT_TRUE(all_near(x, 9.0, 1e-9));

  // Inf instead of NaN, and only in the gradient, counts the same.
  nan_calls = 0;
  const Objective g_inf = [&](const Vec<const double>& x, const Vec<double>& g) {
    const double value = f(x, g);
    if (std::isnan(value)) {
      g(0) = std::numeric_limits<double>::infinity();
      return 1.0;
    }
    return value;
  };
  auto y = make_vec(std::vector<double>(n, -20.0));
  const LbfgsResult r2 = lbfgs_minimize(g_inf, y, LbfgsOptions{});
  EXPECT_GT(nan_calls, 0);
  EXPECT_EQ(r2.reason, LbfgsStop::converged) << r2.message;
  EXPECT_TRUE(all_near(y, 9.0, 1e-9));
}

TEST(Lbfgs, NoSilentStopOnAFlatFunction) {
  // Rosenbrock scaled by 1e-6: every decrease is tiny in absolute terms (grad_tol is
  // scaled with it, else 1e-10 is already met 1e-4 away from the minimum).
  {
    auto x = make_vec(rosenbrock_start(4));
    LbfgsOptions o;
    o.grad_tol = 1e-16;
    const LbfgsResult r = lbfgs_minimize(rosenbrock(1e-6), x, o);
    SCOPED_TRACE(r.message);
    EXPECT_TRUE(r.reason == LbfgsStop::converged || r.reason == LbfgsStop::line_search_failed);
    EXPECT_LT(r.f, 1e-20);
    EXPECT_TRUE(all_near(x, 1.0, 1e-6));
  }
  // A Gaussian well seen from its plateau: f = 1 - exp(-|x - c|^2 / 2) starts at
  // 1 - 4e-6 with a gradient of 2e-5, so the first iterations change f only in its
  // sixth digit (-expm1 keeps f accurate near the minimum).
  {
    const std::vector<double> c = {1.0, -2.0, 0.5};
    const Objective f = [&](const Vec<const double>& x, const Vec<double>& g) {
      double r2 = 0;
      for (int i = 0; i < 3; ++i) r2 += (x(i) - c[i]) * (x(i) - c[i]);
      const double e = std::exp(-0.5 * r2);
      for (int i = 0; i < 3; ++i) g(i) = e * (x(i) - c[i]);
      return -std::expm1(-0.5 * r2);
    };
    auto x = make_vec({1.0 + 3.0, -2.0 + 3.0, 0.5 + 2.0});  // |x - c| = 4.69
    const LbfgsResult r = lbfgs_minimize(f, x, LbfgsOptions{});
    SCOPED_TRACE(r.message);
    EXPECT_EQ(r.reason, LbfgsStop::converged);
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(x(i), c[i], 1e-8);
  }
  // sum log(1 + x_i^2) from far out, where it is flat and non-convex.
  {
    const Objective f = [](const Vec<const double>& x, const Vec<double>& g) {
      double value = 0;
      for (std::size_t i = 0; i < x.extent(0); ++i) {
        value += std::log1p(x(i) * x(i));
        g(i) = 2 * x(i) / (1 + x(i) * x(i));
      }
      return value;
    };
    auto x = make_vec({300.0, -50.0, 1000.0});
    const LbfgsResult r = lbfgs_minimize(f, x, LbfgsOptions{});
    SCOPED_TRACE(r.message);
    EXPECT_EQ(r.reason, LbfgsStop::converged);
    EXPECT_TRUE(all_near(x, 0.0, 1e-9));
  }
}

TEST(Lbfgs, ReportsMaxIterations) {
  auto x = make_vec(rosenbrock_start(10));
  const Objective f = rosenbrock();
  LbfgsOptions o;
  o.max_iterations = 5;
  const LbfgsResult r = lbfgs_minimize(f, x, o);
  EXPECT_EQ(r.reason, LbfgsStop::max_iterations) << r.message;
  EXPECT_EQ(r.iterations, 5);
  EXPECT_NE(r.message.find("max_iterations"), std::string::npos) << r.message;
  EXPECT_EQ(value_at(f, x), r.f);
  EXPECT_LT(r.f, value_at(f, make_vec(rosenbrock_start(10))));
}

TEST(Lbfgs, ReportsMaxEvaluations) {
  auto x = make_vec(rosenbrock_start(10));
  int calls = 0;
  const Objective base = rosenbrock();
  const Objective f = [&](const Vec<const double>& x, const Vec<double>& g) {
    ++calls;
    return base(x, g);
  };
  LbfgsOptions o;
  o.max_evaluations = 12;
  const LbfgsResult r = lbfgs_minimize(f, x, o);
  EXPECT_EQ(r.reason, LbfgsStop::max_evaluations) << r.message;
  EXPECT_EQ(r.evaluations, 12);
  EXPECT_EQ(calls, 12);
}

TEST(Lbfgs, CallbackStops) {
  auto x = make_vec(rosenbrock_start(10));
  std::vector<double> seen;
  const LbfgsResult r = lbfgs_minimize(
      rosenbrock(), x, LbfgsOptions{}, [&](int iteration, double f, double grad_norm) {
        EXPECT_EQ(iteration, static_cast<int>(seen.size()) + 1);
        EXPECT_TRUE(std::isfinite(grad_norm));
        seen.push_back(f);
        return iteration < 3;
      });
  EXPECT_EQ(r.reason, LbfgsStop::stopped_by_callback) << r.message;
  EXPECT_EQ(r.iterations, 3);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_LT(seen[2], seen[0]);
  EXPECT_LE(r.f, seen[2]);
}

TEST(Lbfgs, WrongGradientFailsTheLineSearchAndKeepsTheBestPoint) {
  // The "gradient" points uphill: no step along -g decreases f.
  const Objective f = [](const Vec<const double>& x, const Vec<double>& g) {
    double value = 0;
    for (std::size_t i = 0; i < x.extent(0); ++i) {
      value += x(i) * x(i);
      g(i) = -2 * x(i);
    }
    return value;
  };
  auto x = make_vec({1.0, -2.0});
  const LbfgsResult r = lbfgs_minimize(f, x, LbfgsOptions{});
  EXPECT_EQ(r.reason, LbfgsStop::line_search_failed) << r.message;
  EXPECT_EQ(r.iterations, 0);
  EXPECT_EQ(r.f, 5.0);
  EXPECT_EQ(x(0), 1.0);
  EXPECT_EQ(x(1), -2.0);
  EXPECT_NE(r.message.find("f = 5"), std::string::npos) << r.message;
}

TEST(Lbfgs, PrecisionLimitEndsWithLineSearchFailedNearTheMinimum) {
  // f is rounded to float (relative noise 6e-8, f* = 1): progress stops at the noise
  // floor, which must be reported as such, with x at the best point.
  const Objective f = [](const Vec<const double>& x, const Vec<double>& g) {
    float value = 1.0f;
    for (std::size_t i = 0; i < x.extent(0); ++i) {
      const double r = x(i) - 1 - 0.1 * i;
      value += static_cast<float>((1.0 + i) * r * r);
      g(i) = 2 * (1.0 + i) * r;
    }
    return static_cast<double>(value);
  };
  auto x = make_vec(std::vector<double>(8, 0.0));
  const LbfgsResult r = lbfgs_minimize(f, x, LbfgsOptions{});
  EXPECT_EQ(r.reason, LbfgsStop::line_search_failed) << r.message;
  EXPECT_NE(r.message.find("precision"), std::string::npos) << r.message;
  EXPECT_GT(r.iterations, 5);
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(x(i), 1 + 0.1 * i, 1e-2);
  EXPECT_EQ(value_at(f, x), r.f);
}

TEST(Lbfgs, NonFiniteStartIsReported) {
  const Objective f = [](const Vec<const double>&, const Vec<double>& g) {
    g(0) = 0;
    return nan;
  };
  auto x = make_vec({1.0});
  const LbfgsResult r = lbfgs_minimize(f, x, LbfgsOptions{});
  EXPECT_EQ(r.reason, LbfgsStop::non_finite) << r.message;
  EXPECT_EQ(x(0), 1.0);
}

TEST(Lbfgs, NonFiniteEverywhereButTheStart) {
  const Objective f = [](const Vec<const double>& x, const Vec<double>& g) {
    g(0) = 2 * x(0);
    return x(0) == 3.0 ? 9.0 : nan;
  };
  auto x = make_vec({3.0});
  const LbfgsResult r = lbfgs_minimize(f, x, LbfgsOptions{});
  EXPECT_EQ(r.reason, LbfgsStop::non_finite) << r.message;
  EXPECT_EQ(x(0), 3.0);
  EXPECT_EQ(r.f, 9.0);
}

TEST(Lbfgs, PatienceRuleStopsOnSlowProgressOnlyWhenAskedTo) {
  auto x = make_vec(rosenbrock_start(10));
  LbfgsOptions o;
  o.f_rel_tol = 0.5;
  o.patience = 3;
  const LbfgsResult r = lbfgs_minimize(rosenbrock(), x, o);
  EXPECT_EQ(r.reason, LbfgsStop::converged);
  EXPECT_NE(r.message.find("f_rel_tol"), std::string::npos) << r.message;
  EXPECT_GT(r.f, 1e-8);  // stopped before the minimum, as asked
}

TEST(Lbfgs, ValidateRejectsBadOptions) {
  const auto rejects = [](LbfgsOptions o, const char* needle) {
    try {
      o.validate();
      ADD_FAILURE() << "accepted bad " << needle;
    } catch (const kpde::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  LbfgsOptions o;
  o.history = 0;
  rejects(o, "history");
  o = {};
  o.c1 = 0.95;
  rejects(o, "c1");
  o = {};
  o.grad_tol = -1;
  rejects(o, "grad_tol");
  o = {};
  o.max_line_search = 0;
  rejects(o, "max_line_search");
  o = {};
  o.max_iterations = -1;
  rejects(o, "max_iterations");
  o = {};
  o.patience = 0;
  rejects(o, "patience");
  auto x = make_vec({1.0});
  o = {};
  o.history = 0;
  EXPECT_THROW(lbfgs_minimize(rosenbrock(), x, o), kpde::InputError);
  EXPECT_STREQ(kpde::optim::to_string(LbfgsStop::line_search_failed), "line_search_failed");
}

}  // namespace

namespace {

/// sum_i (1 + i) (x_i - 1)^2 plus noise in [0, amplitude) from the bits of x (the same x
/// gives the same noise): the exact gradient of the smooth part, so below the noise
/// level a step along a descent direction lowers f only by chance.
Objective noisy_quadratic(double amplitude, std::uint64_t salt = 0) {
  return [amplitude, salt](const Vec<const double>& x, const Vec<double>& g) {
    double f = 0;
    std::uint64_t h = 1469598103934665603ull ^ (salt * 0x9E3779B97F4A7C15ull);
    for (std::size_t i = 0; i < x.extent(0); ++i) {
      const double r = x(i) - 1;
      f += (1.0 + i) * r * r;
      g(i) = 2 * (1.0 + i) * r;
      std::uint64_t bits;
      std::memcpy(&bits, &x(i), 8);
      h = (h ^ bits) * 1099511628211ull;
      h ^= h >> 29;
    }
    return f + amplitude * double(h >> 11) / double(1ull << 53);
  };
}

}  // namespace

TEST(Lbfgs, StopsAtTheRoundingFloorByDefault) {
  // 20-D with noise 1e-6: below it the L-BFGS direction finds no decrease twice within
  // the patience window (stop_at_floor, the default: rounding_floor), or, without the
  // rule, steepest descent moves by chance until it too finds nothing (at least as many
  // evaluations, the same f within the noise). The noise follows the bits of x, and
  // those the CPU's rounding (vector width, FMA): when -g fails at the first miss as well,
  // both runs end there with line_search_failed. So eight noise patterns: every one ends
  // at the noise level in one of these two ways, and the rule fires in some.
  int fired = 0;
  for (std::uint64_t salt = 0; salt < 8; ++salt) {
    LbfgsOptions o;
    o.max_iterations = 2000;
    o.patience = 50;
    auto x = make_vec(std::vector<double>(20, 0.0));
    const LbfgsResult floor = lbfgs_minimize(noisy_quadratic(1e-6, salt), x, o);
    ASSERT_TRUE(floor.reason == LbfgsStop::rounding_floor || floor.reason == LbfgsStop::line_search_failed)
        << floor.message;
    if (floor.reason == LbfgsStop::rounding_floor) {
      ++fired;
      EXPECT_NE(floor.message.find("rounding floor"), std::string::npos) << floor.message;
    }
    EXPECT_LT(floor.f, 1e-6 + 1e-6);  // at the noise level (f* = 0, noise in [0, 1e-6))
    EXPECT_LT(floor.iterations, 100);
    o.stop_at_floor = false;
    auto y = make_vec(std::vector<double>(20, 0.0));
    const LbfgsResult off = lbfgs_minimize(noisy_quadratic(1e-6, salt), y, o);
    EXPECT_EQ(off.reason, LbfgsStop::line_search_failed) << off.message;
    EXPECT_GE(off.evaluations, floor.evaluations);
    EXPECT_NEAR(off.f, floor.f, 1e-6);
  }
  EXPECT_GE(fired, 2) << "the floor rule fired for " << fired << " of 8 noise patterns";
  // without noise the rule never fires: the run converges by the gradient tolerance
  LbfgsOptions o;
  o.max_iterations = 2000;
  o.patience = 50;
  auto z = make_vec(std::vector<double>(20, 0.0));
  EXPECT_EQ(lbfgs_minimize(noisy_quadratic(0.0), z, o).reason, LbfgsStop::converged);
}
