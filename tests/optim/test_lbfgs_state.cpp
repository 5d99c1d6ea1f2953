// optim::LbfgsState: an L-BFGS run split into several calls (max_iterations raised
// between them, the state carried over) follows the same iterates as one call and ends
// bit-identical to it; a state that does not fit the problem is refused.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "core/types.hpp"
#include "optim/lbfgs.hpp"

namespace {

using kpde::Vec;
using kpde::optim::lbfgs_minimize;
using kpde::optim::LbfgsOptions;
using kpde::optim::LbfgsResult;
using kpde::optim::LbfgsState;
using kpde::optim::LbfgsStop;
using kpde::optim::Objective;

/// Chained Rosenbrock in n dimensions: sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2,
/// minimum 0 at x = 1. Counts its calls.
Objective rosenbrock(int* calls) {
  return [calls](const Vec<const double>& x, const Vec<double>& g) {
    ++*calls;
    const std::size_t n = x.extent(0);
    double f = 0;
    for (std::size_t i = 0; i < n; ++i) g(i) = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const double a = x(i + 1) - x(i) * x(i), b = 1 - x(i);
      f += 100 * a * a + b * b;
      g(i) += -400 * a * x(i) - 2 * b;
      g(i + 1) += 200 * a;
    }
    return f;
  };
}

Vec<double> start(int n) {
  Vec<double> x("x", n);
  for (int i = 0; i < n; ++i) x(i) = i % 2 == 0 ? -1.2 : 1.0;
  return x;
}

bool same_bits(const Vec<double>& a, const Vec<double>& b) {
  return a.extent(0) == b.extent(0) && std::memcmp(a.data(), b.data(), a.extent(0) * sizeof(double)) == 0;
}

LbfgsOptions options(int max_iterations) {
  LbfgsOptions o;
  o.max_iterations = max_iterations;
  o.history = 5;  // fewer pairs than iterations per chunk: the ring buffer wraps
  o.grad_tol = 0;
  return o;
}

}  // namespace

TEST(LbfgsState, ChunkedRunIsBitIdenticalToOneRun) {
  const int n = 10, total = 60;
  int calls_one = 0;
  Vec<double> x_one = start(n);
  const LbfgsResult one = lbfgs_minimize(rosenbrock(&calls_one), x_one, options(total));
  ASSERT_EQ(one.reason, LbfgsStop::max_iterations) << one.message;
  ASSERT_EQ(one.iterations, total);
  ASSERT_LT(one.f, 1.0);  // it got somewhere

  for (const int chunk : {1, 7, 20, 59}) {
    int calls = 0;
    Vec<double> x = start(n);
    LbfgsState state;
    LbfgsResult r;
    int calls_in_chunks = 0;
    for (int reached = 0; reached < total;) {
      reached = std::min(total, reached + chunk);
      r = lbfgs_minimize(rosenbrock(&calls), x, options(reached), {}, &state);
      ASSERT_TRUE(state.valid);
      ASSERT_EQ(state.iterations, reached) << r.message;
      ++calls_in_chunks;
    }
    EXPECT_TRUE(same_bits(x, x_one)) << "chunk " << chunk;
    EXPECT_EQ(r.f, one.f) << "chunk " << chunk;
    EXPECT_EQ(r.grad_norm, one.grad_norm) << "chunk " << chunk;
    EXPECT_EQ(r.iterations, one.iterations) << "chunk " << chunk;
    EXPECT_EQ(r.evaluations, one.evaluations) << "chunk " << chunk;
    EXPECT_EQ(r.reason, one.reason) << "chunk " << chunk;
    // resuming does not evaluate f again at the saved point
    EXPECT_EQ(calls, calls_one) << "chunk " << chunk << ", " << calls_in_chunks << " calls";
  }
}

TEST(LbfgsState, StateAfterConvergenceResumesToTheSamePoint) {
  const int n = 10;
  int calls = 0;
  Vec<double> x = start(n);
  LbfgsState state;
  LbfgsOptions o = options(10000);
  o.grad_tol = 1e-8;
  const LbfgsResult r = lbfgs_minimize(rosenbrock(&calls), x, o, {}, &state);
  ASSERT_EQ(r.reason, LbfgsStop::converged) << r.message;
  for (int i = 0; i < n; ++i) EXPECT_NEAR(x(i), 1.0, 1e-6);
  const int calls_before = calls;
  Vec<double> y("y", n);  // overwritten from the state
  const LbfgsResult again = lbfgs_minimize(rosenbrock(&calls), y, o, {}, &state);
  EXPECT_EQ(again.reason, LbfgsStop::converged);
  EXPECT_EQ(again.iterations, r.iterations);
  EXPECT_EQ(calls, calls_before);
  EXPECT_TRUE(same_bits(x, y));
}

TEST(LbfgsState, StateOfAnotherProblemIsRefused) {
  int calls = 0;
  Vec<double> x = start(10);
  LbfgsState state;
  lbfgs_minimize(rosenbrock(&calls), x, options(5), {}, &state);
  ASSERT_TRUE(state.valid);
  Vec<double> small = start(6);
  EXPECT_THROW(lbfgs_minimize(rosenbrock(&calls), small, options(10), {}, &state), kpde::Error);
  // more pairs than the history allows
  LbfgsOptions o = options(10);
  o.history = 2;
  Vec<double> x2 = start(10);
  EXPECT_THROW(lbfgs_minimize(rosenbrock(&calls), x2, o, {}, &state), kpde::Error);
}
