// Physics-informed DeepONet (operators/deeponet.hpp with derivative channels,
// operators/operator_physics.hpp, the residual and boundary terms of
// operators/deeponet_objective.hpp), in double:
//  - the derivative channels of G against central differences of G in y, first and
//    second order (1-D and 2-D, with trunk Fourier features);
//  - the parameter gradient of a weighted sum over every channel against differences;
//  - the residual term against r = G_x - v written out (antiderivative), and the
//    residual and boundary term gradients against differences of the terms, for the
//    antiderivative (Dirichlet) and a 2-D Poisson problem with Neumann and Robin sides.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "core/rng.hpp"
#include "data/problem.hpp"
#include "operators/deeponet.hpp"
#include "operators/deeponet_objective.hpp"
#include "operators/operator_physics.hpp"
#include "support/deeponet_params.hpp"
#include "support/fd_check.hpp"

using namespace kpde;
using operators::DeepOnet;
using operators::DeepOnetSpec;

namespace {

std::vector<double> params_of(const DeepOnet<double>& net, std::uint64_t seed) {
  return kpde::testing::deeponet_params(net, seed);
}

Mat<double> random_matrix(std::size_t r, std::size_t c, std::uint64_t seed, double scale = 1) {
  Rng rng(seed);
  Mat<double> m("m", r, c);
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = scale * (rng.uniform() * 2 - 1);
  return m;
}

DeepOnetSpec small_spec(int d) {
  DeepOnetSpec s;
  s.sensors = 5, s.coord_dim = d, s.basis = 4, s.branch_width = 6, s.branch_depth = 2, s.trunk_width = 7;
  s.trunk_depth = 2;
  return s;
}

/// G's channels (value, gradient, Hessian) against differences of G in y.
void check_channels(const DeepOnetSpec& s) {
  const DeepOnet<double> net(s);
  const int B = 3, P = 5, d = s.coord_dim;
  const std::vector<double> p = params_of(net, 5);
  const Mat<double> u = random_matrix(B, s.sensors, 6), y = random_matrix(P, d, 7, 0.8);
  const nn::ChannelSpec cs = nn::ChannelSpec::hessian(d);
  const int C = cs.n_channels();
  Arr4<double> G("G", B, P, C, s.outputs);
  net.forward(p.data(), u, y, cs, G);
  const auto value = [&](const Mat<double>& yy, int b, int j, int o) {
    Arr3<double> H("H", B, P, s.outputs);
    net.forward(p.data(), u, yy, H);
    return H(b, j, o);
  };
  const double h = 1e-4;
  double worst1 = 0, worst2 = 0, scale1 = 0, scale2 = 0;
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < P; ++j)
      for (int o = 0; o < s.outputs; ++o) {
        EXPECT_NEAR(G(b, j, 0, o), value(y, b, j, o), 1e-13);
        for (int a = 0; a < d; ++a) {
          Mat<double> yp("yp", P, d), ym("ym", P, d);
          Kokkos::deep_copy(yp, y), Kokkos::deep_copy(ym, y);
          yp(j, a) += h, ym(j, a) -= h;
          const double fd = (value(yp, b, j, o) - value(ym, b, j, o)) / (2 * h);
          worst1 = std::max(worst1, std::abs(fd - G(b, j, cs.grad_channel(a), o)));
          scale1 = std::max(scale1, std::abs(fd));
          for (int c = a; c < d; ++c) {  // u_ac by differences of u_a... from values
            Mat<double> ypp("ypp", P, d), ypm("ypm", P, d), ymp("ymp", P, d), ymm("ymm", P, d);
            for (auto* v : {&ypp, &ypm, &ymp, &ymm}) Kokkos::deep_copy(*v, y);
            ypp(j, a) += h, ypp(j, c) += h;
            ypm(j, a) += h, ypm(j, c) -= h;
            ymp(j, a) -= h, ymp(j, c) += h;
            ymm(j, a) -= h, ymm(j, c) -= h;
            const double fd2 =
                (value(ypp, b, j, o) - value(ypm, b, j, o) - value(ymp, b, j, o) + value(ymm, b, j, o)) / (4 * h * h);
            worst2 = std::max(worst2, std::abs(fd2 - G(b, j, cs.hessian_channel(a, c), o)));
            scale2 = std::max(scale2, std::abs(fd2));
          }
        }
      }
  EXPECT_GT(scale1, 1e-3);
  EXPECT_GT(scale2, 1e-3);
  EXPECT_LT(worst1, 1e-7 * (1 + scale1)) << "first derivatives";
  EXPECT_LT(worst2, 1e-5 * (1 + scale2)) << "second derivatives";
}

data::Problem load(const std::string& text) {
  config::Document doc = config::Document::load_string(text, "/tmp/pi_deeponet.yaml");
  return data::load_problem(doc.root().at("problem"), doc);
}

// s' = v, s(0) = 0: x is the "time" axis, its initial value 0
const char* kAntiderivative = R"(problem:
  domain: {box: [[0, 1]], time_axis: x}
  operator: {c_ux: 1}
  source: 0
  initial: {value: 0}
)";

const char* kPoisson2d = R"(problem:
  domain: {box: [[0, 1], [0, 1]]}
  operator: {c_uxx: -1, c_uyy: -0.5, c_ux: 0.3}
  source: sin(x) + y
  boundary:
    - {parts: [left, right], type: dirichlet, value: x*y}
    - {parts: [bottom], type: neumann, value: 0.5}
    - {parts: [top], type: robin, alpha: 2, beta: 0.7, value: x, weight: 3}
)";

/// A data set of B samples whose sensors are `x` [m][d] (no solution data).
operators::OperatorData inputs(const Mat<double>& x, int B, std::uint64_t seed) {
  operators::OperatorData d;
  d.u = random_matrix(B, x.extent(0), seed);
  d.x = x;
  d.y = x;
  return d;
}

/// The residual and boundary terms' gradients against differences of the terms.
void check_physics_gradient(const std::string& text, const Mat<double>& x, int n_boundary) {
  const auto problem = std::make_shared<const data::Problem>(load(text));
  const operators::OperatorPhysics ph = operators::OperatorPhysics::make(problem, x, n_boundary, 9);
  DeepOnetSpec s = small_spec(problem->dim);
  s.sensors = static_cast<int>(x.extent(0));
  const DeepOnet<double> net(s);
  const operators::OperatorData train = inputs(x, 4, 10), test;
  operators::DeepOnetObjective<double> obj(net, train, test, 4, 1, &ph, false);
  ASSERT_EQ(obj.term_names(), (std::vector<std::string>{"residual", "boundary"}));
  std::vector<double> p = params_of(net, 11);
  std::vector<double> terms(2);
  std::vector<Vec<double>> g{Vec<double>("g0", p.size()), Vec<double>("g1", p.size())};
  obj.evaluate(Vec<const double>(p.data(), p.size()), terms, g);
  EXPECT_GT(terms[0], 0);
  EXPECT_GT(terms[1], 0);
  for (int k = 0; k < 2; ++k) {
    const auto loss = [&](const std::vector<double>& q) {
      std::vector<double> t(2);
      std::vector<Vec<double>> gg{Vec<double>("a", q.size()), Vec<double>("b", q.size())};
      obj.evaluate(Vec<const double>(q.data(), q.size()), t, gg);
      return t[static_cast<std::size_t>(k)];
    };
    kpde::testing::GradientOptions o;
    o.what = k == 0 ? "residual term gradient" : "boundary term gradient";
    // every third entry and the ends of the branch, trunk and bias blocks (the sanitized build is slow)
    o.indices = kpde::testing::sampled_indices(p.size(), 3, {0, net.trunk_offset(), net.bias_offset()});
    EXPECT_TRUE(kpde::testing::fd_within(kpde::testing::check_gradient(loss, p, g[static_cast<std::size_t>(k)], o), 1e-7));
  }
}

Mat<double> unit_points(int m) {
  Mat<double> x("x", m, 1);
  for (int i = 0; i < m; ++i) x(i, 0) = double(i) / (m - 1);
  return x;
}

}  // namespace

TEST(PiDeepOnet, ChannelsAreTheDerivativesOfG1d) {
  DeepOnetSpec s = small_spec(1);
  s.outputs = 2;
  check_channels(s);
}

TEST(PiDeepOnet, ChannelsAreTheDerivativesOfG2dWithFourierFeatures) {
  DeepOnetSpec s = small_spec(2);
  s.trunk_features.kind = nn::FeatureKind::fourier_random;
  s.trunk_features.n_random = 3;
  s.trunk_features.sigma = 0.3;  // frequencies 2 pi b ~ 2: differences with h = 1e-4 stay accurate
  s.bias = false;
  check_channels(s);
}

TEST(PiDeepOnet, ParameterGradientOverEveryChannel) {
  DeepOnetSpec s = small_spec(2);
  s.outputs = 2;
  const DeepOnet<double> net(s);
  const int B = 3, P = 70;  // more than one trunk block
  const nn::ChannelSpec cs = nn::ChannelSpec::hessian(2);
  const Mat<double> u = random_matrix(B, s.sensors, 1), y = random_matrix(P, 2, 2);
  Arr4<double> w("w", B, P, cs.n_channels(), s.outputs);
  Rng rng(3);
  for (std::size_t i = 0; i < w.size(); ++i) w.data()[i] = rng.normal();
  std::vector<double> p = params_of(net, 4);
  Arr4<double> G("G", B, P, cs.n_channels(), s.outputs);
  typename DeepOnet<double>::Cache cache;
  net.forward(p.data(), u, y, cs, G, &cache);
  std::vector<double> g(net.n_params());
  net.backward(p.data(), cache, Arr4<const double>(w), g.data());
  const auto loss = [&](const std::vector<double>& q) {
    Arr4<double> H("H", B, P, cs.n_channels(), s.outputs);
    net.forward(q.data(), u, y, cs, H);
    double v = 0;
    for (std::size_t i = 0; i < H.size(); ++i) v += w.data()[i] * H.data()[i];
    return v;
  };
  kpde::testing::GradientOptions o;
  o.what = "DeepONet parameter gradient through the derivative channels";
  o.indices = kpde::testing::sampled_indices(p.size(), 3, {0, net.trunk_offset(), net.bias_offset()});
  EXPECT_TRUE(kpde::testing::fd_within(kpde::testing::check_gradient(loss, p, g, o), 1e-7));
}

TEST(PiDeepOnet, AntiderivativeResidualIsGxMinusTheInput) {
  const auto problem = std::make_shared<const data::Problem>(load(kAntiderivative));
  const Mat<double> x = unit_points(5);
  const operators::OperatorPhysics ph = operators::OperatorPhysics::make(problem, x, 1, 1);
  ASSERT_EQ(ph.boundary.dirichlet.size(), 1);
  EXPECT_EQ(ph.x_dirichlet(0, 0), 0.0);
  const DeepOnet<double> net(small_spec(1));
  const operators::OperatorData train = inputs(x, 3, 2), test;
  operators::DeepOnetObjective<double> obj(net, train, test, 3, 1, &ph, false);
  const std::vector<double> p = params_of(net, 3);
  std::vector<double> terms(2);
  std::vector<Vec<double>> g{Vec<double>("g0", p.size()), Vec<double>("g1", p.size())};
  obj.evaluate(Vec<const double>(p.data(), p.size()), terms, g);
  // by hand: G and G_x at the sensors, G at x = 0
  Arr4<double> G("G", 3, 5, 2, 1);
  net.forward(p.data(), train.u, x, nn::ChannelSpec::with_gradient(1), G);
  Mat<double> x0("x0", 1, 1);
  Arr3<double> G0("G0", 3, 1, 1);
  net.forward(p.data(), train.u, x0, G0);
  double r = 0, b = 0;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 5; ++j) r += std::pow(G(i, j, 1, 0) - train.u(i, j), 2);
    b += G0(i, 0, 0) * G0(i, 0, 0);
  }
  EXPECT_NEAR(terms[0], r / 15, 1e-13 * r);
  EXPECT_NEAR(terms[1], b / 3, 1e-13 * b);
}

TEST(PiDeepOnet, TermGradientsAntiderivative) { check_physics_gradient(kAntiderivative, unit_points(6), 2); }

TEST(PiDeepOnet, TermGradientsPoisson2dNeumannRobin) {
  check_physics_gradient(kPoisson2d, random_matrix(7, 2, 8, 0.5), 12);
}

// The data term with an output mask (MT-DeepONet) and as the mean squared relative error:
// the value against the sum written out, the gradient against differences.
TEST(PiDeepOnet, DataTermMaskedAndRelative) {
  DeepOnetSpec s = small_spec(2);
  const DeepOnet<double> net(s);
  const int B = 3, P = 6;
  operators::OperatorData train;
  train.u = random_matrix(B, s.sensors, 21);
  train.y = random_matrix(P, 2, 22);
  train.s = random_matrix(B, P, 23);
  train.mask = Mat<double>("mask", B, P);
  for (int b = 0; b < B; ++b)
    for (int j = 0; j < P; ++j) train.mask(b, j) = (b + j) % 3 == 0 ? 0.0 : 1.0;
  const operators::OperatorData test;
  operators::DeepOnetObjective<double> obj(net, train, test, B, 1);
  obj.set_relative_loss(true);
  std::vector<double> p = params_of(net, 24);
  std::vector<double> terms(1);
  std::vector<Vec<double>> g{Vec<double>("g", p.size())};
  obj.evaluate(Vec<const double>(p.data(), p.size()), terms, g);
  Arr3<double> G("G", B, P, 1);
  net.forward(p.data(), train.u, train.y, G);
  double want = 0;
  for (int b = 0; b < B; ++b) {
    double e2 = 0, s2 = 0;
    for (int j = 0; j < P; ++j) e2 += std::pow(G(b, j, 0) * train.mask(b, j) - train.s(b, j), 2), s2 += train.s(b, j) * train.s(b, j);
    want += e2 / s2 / B;
  }
  EXPECT_NEAR(terms[0], want, 1e-13 * want);
  const auto loss = [&](const std::vector<double>& q) {
    std::vector<double> t(1);
    std::vector<Vec<double>> gg{Vec<double>("a", q.size())};
    obj.evaluate(Vec<const double>(q.data(), q.size()), t, gg);
    return t[0];
  };
  kpde::testing::GradientOptions o;
  o.what = "masked relative data term gradient";
  EXPECT_TRUE(kpde::testing::fd_within(kpde::testing::check_gradient(loss, p, g[0], o), 1e-7));
}
