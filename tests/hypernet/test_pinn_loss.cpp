// The emitted-PINN losses: the target layout (5,409 parameters, HyPINO's count), the
// least-squares output layer against a direct solve, and the gradient of every term with
// respect to the emitted parameters (through the basis network's derivative channels and
// the least-squares solve) against central differences, in double.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/rng.hpp"
#include "hypernet/pinn_loss.hpp"
#include "hypernet/target.hpp"
#include "support/fd_check.hpp"

using namespace kpde;
using namespace kpde::hypernet;

namespace {

SamplePoints random_sample(std::uint64_t seed, bool with_truth, bool neumann) {
  Rng rng(seed);
  SamplePoints s;
  s.coefficients = {0.3, -0.2, 0.5, -1.0, -0.7};
  s.n_interior = 40;
  s.n_boundary = 16;
  for (int p = 0; p < s.n_points(); ++p) s.x.push_back(2 * rng.uniform() - 1), s.x.push_back(2 * rng.uniform() - 1);
  for (int p = 0; p < s.n_interior; ++p) s.f.push_back(rng.normal());
  if (with_truth)
    for (int p = 0; p < 5 * s.n_interior; ++p) s.truth.push_back(0.5 * rng.normal());
  for (int k = 0; k < s.n_boundary; ++k) {
    s.g.push_back(k % 3 == 2 && neumann ? std::nan("") : rng.normal());
    s.h.push_back(neumann && k % 2 == 0 ? rng.normal() : std::nan(""));
    const double a = 6.283185307179586 * rng.uniform();
    s.normal.push_back(std::cos(a)), s.normal.push_back(std::sin(a));
  }
  return s;
}

std::vector<double> random_targets(int B, std::uint64_t seed) {
  nn::Network<double> net(target_spec(1));
  std::vector<double> out;
  for (int b = 0; b < B; ++b) {
    Vec<double> p("p", target_size());
    net.init_params(p, seed + static_cast<std::uint64_t>(b));
    for (std::size_t k = 0; k < target_size(); ++k) out.push_back(p(k));
  }
  return out;
}

}  // namespace

TEST(HypernetTarget, HyPINOParameterCountAndTensors) {
  EXPECT_EQ(target_size(), 5409u);
  nn::Network<double> net(target_spec(1));
  EXPECT_EQ(static_cast<std::size_t>(net.n_params()), target_size());
  std::size_t total = 0;
  for (const TargetTensor& t : target_tensors()) total += t.size();
  EXPECT_EQ(total, 5409u);
  EXPECT_EQ(target_tensors().size(), 14u);
}

TEST(HypernetTarget, BasisTimesOutputLayerIsThePinn) {
  // u(x) of the 5,409-parameter network = w . H(x) + b of the basis with the same hidden tensors
  const std::vector<double> t = random_targets(1, 7);
  std::vector<double> basis(basis_size());
  basis_from_target(t.data(), basis.data());
  nn::Network<double> pinn(target_spec(1)), base(target_spec(kTargetWidth));
  const int N = 5;
  Arr3<double> x("x", 1, N, 2);
  for (int p = 0; p < N; ++p) x(0, p, 0) = -0.9 + 0.4 * p, x(0, p, 1) = 0.3 - 0.2 * p;
  const nn::ChannelSpec ch = nn::ChannelSpec::diagonal(2);
  Arr4<double> u("u", 1, N, 5, 1), phi("phi", 1, N, 5, kTargetWidth);
  pinn.forward(Mat<const double>(t.data(), 1, t.size()), x, ch, u);
  base.forward(Mat<const double>(basis.data(), 1, basis.size()), x, ch, phi);
  const TargetTensor &Wo = target_tensors()[6], &bo = target_tensors()[13];
  for (int p = 0; p < N; ++p)
    for (int c = 0; c < 5; ++c) {
      double v = c == 0 ? t[bo.offset] : 0.0;
      for (int j = 0; j < kTargetWidth; ++j) v += t[Wo.offset + static_cast<std::size_t>(j)] * phi(0, p, c, j);
      EXPECT_NEAR(v, u(0, p, c, 0), 1e-12 * (1 + std::abs(v)));
    }
}

TEST(HypernetLoss, LeastSquaresLayerSolvesTheNormalEquations) {
  // theta* makes the weighted residual orthogonal to the columns (up to the ridge)
  const SamplePoints s = random_sample(3, false, true);
  const std::vector<double> t = random_targets(1, 11);
  std::vector<double> basis(basis_size());
  basis_from_target(t.data(), basis.data());
  nn::Network<double> base(target_spec(kTargetWidth));
  Arr3<double> x("x", 1, static_cast<std::size_t>(s.n_points()), 2);
  for (int p = 0; p < s.n_points(); ++p) x(0, p, 0) = s.x[2 * p], x(0, p, 1) = s.x[2 * p + 1];
  Arr4<double> phi("phi", 1, static_cast<std::size_t>(s.n_points()), 5, kTargetWidth);
  base.forward(Mat<const double>(basis.data(), 1, basis.size()), x, nn::ChannelSpec::diagonal(2), phi);
  LossSettings st;
  st.ridge = 0;
  double fit_value = 0;
  const auto theta = least_squares_output(s, phi.data(), st, &fit_value);
  // perturbing theta in any direction does not lower the fit: E(theta* + e) >= E(theta*)
  EmittedLoss<double> loss(st);
  std::vector<double> tt = t;
  const TargetTensor &Wo = target_tensors()[6], &bo = target_tensors()[13];
  std::vector<double> w(kLossTerms, 0.0);
  w[0] = 1, w[1] = 1, w[2] = 1;
  // The emitted-layer Huber terms with theta* as output layer and delta = inf are the
  // least-squares rows' squares over 2: compare with E
  LossSettings big = st;
  big.huber_delta = 1e30;
  EmittedLoss<double> l2(big);
  for (int j = 0; j < kTargetWidth; ++j) tt[Wo.offset + static_cast<std::size_t>(j)] = theta[static_cast<std::size_t>(j)];
  tt[bo.offset] = theta[kTargetWidth];
  std::vector<SamplePoints> one{s};
  std::vector<const SamplePoints*> ptrs{&one[0]};
  std::vector<double> terms;
  l2.evaluate(Mat<const double>(tt.data(), 1, tt.size()), ptrs, w, terms, Mat<double>());
  const double E = 2 * (st.ls_residual * terms[0] + st.ls_dirichlet * terms[1] + st.ls_neumann * terms[2]);
  EXPECT_NEAR(E, fit_value, 1e-9 * (1 + fit_value));
  EXPECT_NEAR(terms[6], fit_value, 1e-9 * (1 + fit_value));
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<double> t2 = tt;
    t2[Wo.offset + static_cast<std::size_t>(trial)] += 1e-3;
    std::vector<double> terms2;
    l2.evaluate(Mat<const double>(t2.data(), 1, t2.size()), ptrs, w, terms2, Mat<double>());
    const double E2 = 2 * (st.ls_residual * terms2[0] + st.ls_dirichlet * terms2[1] + st.ls_neumann * terms2[2]);
    EXPECT_GT(E2, fit_value);
  }
}

class HypernetLossFD : public ::testing::TestWithParam<int> {};

TEST_P(HypernetLossFD, EveryTermGradientMatchesFiniteDifferences) {
  const int term = GetParam();
  std::vector<SamplePoints> samples{random_sample(5, true, true), random_sample(6, false, false)};
  std::vector<const SamplePoints*> ptrs{&samples[0], &samples[1]};
  const int B = 2;
  std::vector<double> t = random_targets(B, 21);
  LossSettings st;
  st.huber_delta = 0.3;  // both branches of the Huber function are taken
  EmittedLoss<double> loss(st);
  std::vector<double> w(kLossTerms, 0.0);
  w[static_cast<std::size_t>(term)] = 1;
  std::vector<double> terms;
  Mat<double> g("g", B, target_size());
  loss.evaluate(Mat<const double>(t.data(), B, target_size()), ptrs, w, terms, g);
  const auto f = [&](const std::vector<double>& tt) {
    std::vector<double> tr;
    return loss.evaluate(Mat<const double>(tt.data(), B, target_size()), ptrs, w, tr, Mat<double>());
  };
  std::vector<std::size_t> starts;
  for (int b = 0; b < B; ++b)
    for (const TargetTensor& tt : target_tensors()) starts.push_back(static_cast<std::size_t>(b) * target_size() + tt.offset);
  std::sort(starts.begin(), starts.end());
  kpde::testing::GradientOptions o;
  o.indices = kpde::testing::sampled_indices(t.size(), 331, starts);
  o.h = 1e-6;
  o.what = loss_term_names()[static_cast<std::size_t>(term)];
  std::vector<double> claimed(g.data(), g.data() + g.size());
  EXPECT_TRUE(kpde::testing::fd_within(kpde::testing::check_gradient(f, t, claimed, o), 2e-6));
}

INSTANTIATE_TEST_SUITE_P(Terms, HypernetLossFD, ::testing::Range(0, kLossTerms),
                         [](const ::testing::TestParamInfo<int>& i) { return loss_term_names()[static_cast<std::size_t>(i.param)]; });
