// Activations: values against libm, and s', s'', s''' against central differences
// of the next-lower derivative (double, tests/support/fd_check.hpp); and that harness
// itself on functions with known derivatives.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "nn/activation.hpp"
#include "support/fd_check.hpp"

using namespace kpde::nn;

TEST(Activation, VexpMatchesLibm) {
  for (double x = -700; x <= 700; x += 0.731) {
    const double ref = std::exp(x);
    EXPECT_LE(std::abs(detail::vexp(x) - ref), 4e-16 * ref) << x;
  }
  for (float x = -80; x <= 80; x += 0.37f) {
    const float ref = std::exp(x);
    EXPECT_LE(std::abs(detail::vexp(x) - ref), 4e-7f * ref) << x;
  }
}

TEST(Activation, TanhValueIsAccurate) {
  for (double z = -30; z <= 30; z += 0.0137) {
    double s0, s1, s2, s3;
    TanhAct::eval(z, s0, s1, s2, s3);
    EXPECT_LE(std::abs(s0 - std::tanh(z)), 5e-16) << z;
  }
  for (float z = -30; z <= 30; z += 0.0137f) {
    float s0, s1, s2, s3;
    TanhAct::eval(z, s0, s1, s2, s3);
    EXPECT_LE(std::abs(s0 - std::tanh(z)), 3e-7f) << z;
  }
}

/// s', s'', s''' of Act at z = lo, lo + 0.173, ... <= hi against central differences
/// (step 1e-5) of s, s', s'' (tests/support/fd_check.hpp): max |fd - s^(k)| <= 1e-6 over
/// the points for each order k.
template <class Act>
void check_derivatives(double lo, double hi) {
  std::vector<double> zs;
  for (double z = lo; z <= hi; z += 0.173) zs.push_back(z);
  const kpde::testing::Field s = [](const std::vector<double>& z) {
    std::vector<double> v(4 * z.size());  // [n][4]: s, s', s'', s'''
    for (std::size_t p = 0; p < z.size(); ++p) Act::eval(z[p], v[4 * p], v[4 * p + 1], v[4 * p + 2], v[4 * p + 3]);
    return v;
  };
  const std::vector<double> at = s(zs), fd = kpde::testing::fd_first(s, zs, 1, 0, 1e-5);
  for (int k = 1; k < 4; ++k) {
    std::vector<double> claim, ref;
    for (std::size_t p = 0; p < zs.size(); ++p) claim.push_back(at[4 * p + k]), ref.push_back(fd[4 * p + k - 1]);
    const auto r = kpde::testing::compare(claim, ref, "order " + std::to_string(k));
    EXPECT_LE(r.max_abs_error, 1e-6) << r << " (entry i is z = " << lo << " + 0.173 i)";
  }
}

TEST(Activation, TanhDerivatives) { check_derivatives<TanhAct>(-6, 6); }
TEST(Activation, SinDerivatives) { check_derivatives<SinAct>(-6, 6); }
TEST(Activation, GeluDerivatives) { check_derivatives<GeluAct>(-6, 6); }
TEST(Activation, SiluDerivatives) { check_derivatives<SiluAct>(-6, 6); }

TEST(Activation, GeluAndSiluValues) {
  for (double z = -5; z <= 5; z += 0.31) {
    double s0, s1, s2, s3;
    GeluAct::eval(z, s0, s1, s2, s3);
    EXPECT_NEAR(s0, 0.5 * z * (1 + std::erf(z / std::sqrt(2.0))), 1e-15);
    SiluAct::eval(z, s0, s1, s2, s3);
    EXPECT_NEAR(s0, z / (1 + std::exp(-z)), 1e-15);
  }
}

TEST(Activation, ParseNames) {
  EXPECT_EQ(parse_activation("TANH"), Activation::tanh);
  EXPECT_EQ(parse_activation("gelu"), Activation::gelu);
  EXPECT_THROW(parse_activation("relu6"), kpde::InputError);
}

// The harness itself (tests/support/fd_check.hpp): a right gradient passes, a gradient
// off by 0.1% in one entry fails and names that entry, a zero claim checks nothing, a
// subset of indices checks only those.
TEST(FdHarness, CatchesAWrongEntryAndChecksSubsets) {
  using namespace kpde::testing;
  std::vector<double> x = {0.3, -1.2, 2.0, 0.5};
  const auto f = [](const std::vector<double>& v) { return std::sin(v[0]) * v[1] + v[2] * v[2] * v[1] + v[3]; };
  std::vector<double> g = {std::cos(0.3) * -1.2, std::sin(0.3) + 4.0, 2 * 2.0 * -1.2, 1.0};
  EXPECT_TRUE(fd_within(check_gradient(f, x, g), 1e-9));
  EXPECT_EQ(x, (std::vector<double>{0.3, -1.2, 2.0, 0.5}));  // restored exactly
  g[2] *= 1.001;
  const FdReport bad = check_gradient(f, x, g);
  EXPECT_FALSE(fd_within(bad, 1e-6));
  EXPECT_EQ(bad.worst, 2u);
  GradientOptions o;
  o.indices = sampled_indices(4, 3, {1});  // 0, 3 and block [1, 4): 1, 3
  EXPECT_EQ(o.indices, (std::vector<std::size_t>{0, 1, 3}));
  const FdReport sub = check_gradient(f, x, g, o);
  EXPECT_EQ(sub.n_checked, 3u);
  EXPECT_TRUE(fd_within(sub, 1e-9));  // entry 2 is not among them
  EXPECT_FALSE(fd_within(compare({0.0, 0.0}, {0.0, 0.0}), 1.0));
  // second derivatives from values: u = sin(x) e^{2y}
  const Field u = [](const std::vector<double>& p) {
    std::vector<double> v;
    for (std::size_t i = 0; i < p.size(); i += 2) v.push_back(std::sin(p[i]) * std::exp(2 * p[i + 1]));
    return v;
  };
  const std::vector<double> pts = {0.1, 0.2, -0.5, 0.7};
  std::vector<double> uxy, lap;
  for (std::size_t i = 0; i < pts.size(); i += 2) {
    const double e = std::exp(2 * pts[i + 1]);
    uxy.push_back(2 * std::cos(pts[i]) * e);
    lap.push_back(3 * std::sin(pts[i]) * e);  // u_xx + u_yy = (-1 + 4) u
  }
  std::array<std::array<double, 3>, 3> L{};
  L[0][0] = L[1][1] = 1;
  EXPECT_TRUE(fd_all_within(check_input_derivatives(u, pts, 2, {DerivativeClaim::second("u_xy", 0, 1, uxy),
                                                                DerivativeClaim::functional("lap", L, lap)}),
                            1e-6));
  lap[1] *= 1.001;
  EXPECT_FALSE(fd_all_within(check_input_derivatives(u, pts, 2, {DerivativeClaim::functional("lap", L, lap)}), 1e-6));
}
