// Finite-difference checks of the network engine in double (docs/design.md 3.1, 4):
// every activation, architecture, feature map, input dimension and channel kind.
//  - first derivative channels  vs central differences of the value channel
//  - second-order channels      vs central differences of the gradient channels
//  - parameter gradients        vs central differences of a random linear loss of all
//                                  output channels (every parameter)
//  - input gradients (dx)       vs central differences of the same loss
// through tests/support/fd_check.hpp; relative error (max |fd - g| / max |g|, per channel
// and per gradient) <= 1e-6.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "nn_test_helpers.hpp"
#include "support/fd_check.hpp"
#include "core/rng.hpp"
#include "nn/network.hpp"

using namespace kpde;
using namespace kpde::nn;
using kpde::nn::testing::all_channel_kinds;
using kpde::nn::testing::jet_reports;
using kpde::nn::testing::rel_err;

namespace {

struct Case {
  Activation act;
  Arch arch;
  FeatureKind feat;
  int dim;
  int out_dim;
};

std::string name_of(const Case& c) {
  std::ostringstream s;
  s << to_string(c.act) << "_" << (c.arch == Arch::mlp ? "mlp" : "modified") << "_"
    << (c.feat == FeatureKind::none ? "raw" : c.feat == FeatureKind::fourier_fixed ? "fourier" : "rff") << "_d"
    << c.dim << "_m" << c.out_dim;
  return s.str();
}

NetworkSpec spec_of(const Case& c) {
  NetworkSpec s;
  s.input_dim = c.dim;
  s.output_dim = c.out_dim;
  s.width = 6;
  s.depth = 2;
  s.activation = c.act;
  s.arch = c.arch;
  s.features.kind = c.feat;
  s.features.n_frequencies = 2;
  s.features.n_random = 3;
  s.features.sigma = 0.5;
  s.block_points = 3;  // several blocks, one partial
  return s;
}

struct Fixture {
  Network<double> net;
  Vec<double> params;
  Mat<double> x;
  int N = 8;
  explicit Fixture(const NetworkSpec& s, std::uint64_t seed = 7) : net(s) {
    params = Vec<double>("p", net.n_params());
    net.init_params(params, seed, Init::xavier_normal);
    Rng rng(seed + 1);
    // random biases too, so that they matter in the checks
    for (int i = 0; i < net.n_params(); ++i) params(i) += 0.1 * rng.normal();
    x = Mat<double>("x", N, s.input_dim);
    for (int p = 0; p < N; ++p)
      for (int i = 0; i < s.input_dim; ++i) x(p, i) = 2 * rng.uniform() - 1;
  }
  Arr3<double> eval(const Mat<double>& xx, const ChannelSpec& ch) const {
    Arr3<double> out("out", xx.extent(0), ch.n_channels(), net.spec().output_dim);
    net.forward(as_batch(Vec<const double>(params)), as_batch(Mat<const double>(xx)), ch, as_batch(out));
    return out;
  }
};

class NetworkFD : public ::testing::TestWithParam<Case> {};

}  // namespace

TEST_P(NetworkFD, InputDerivativeChannels) {
  const Case c = GetParam();
  Fixture f(spec_of(c));
  const int d = c.dim, m = c.out_dim;
  const auto grad_spec = ChannelSpec::with_gradient(d);
  for (const auto& ch : all_channel_kinds(d)) {
    auto out = f.eval(f.x, ch);
    // Every spec's value channel equals the value-only pass.
    auto val = f.eval(f.x, ChannelSpec::value(d));
    for (int p = 0; p < f.N; ++p)
      for (int k = 0; k < m; ++k) EXPECT_NEAR(out(p, 0, k), val(p, 0, k), 1e-14) << ch.name();
    if (!ch.gradient) continue;
    // first derivatives vs differences of the value, second-order channels vs
    // differences of the gradient channels (u_s = sum_ij A_ij d/dx_j u_i)
    EXPECT_TRUE(kpde::testing::fd_all_within(
        jet_reports(out, ch, f.x, [&](const Mat<double>& xx) { return f.eval(xx, grad_spec); }, name_of(c)), 1e-6));
  }
}

TEST_P(NetworkFD, ParameterAndInputGradients) {
  const Case c = GetParam();
  Fixture f(spec_of(c));
  const int d = c.dim, m = c.out_dim, n = f.net.n_params();
  for (const auto& ch : all_channel_kinds(d)) {
    const int C = ch.n_channels();
    // loss = sum W(p,c,k) out(p,c,k)
    Arr3<double> W("W", f.N, C, m);
    Rng rng(99);
    for (int p = 0; p < f.N; ++p)
      for (int cc = 0; cc < C; ++cc)
        for (int k = 0; k < m; ++k) W(p, cc, k) = rng.normal();
    auto loss = [&](const Vec<double>& prm, const Mat<double>& xx) {
      Arr3<double> out("out", f.N, C, m);
      f.net.forward(as_batch(Vec<const double>(prm)), as_batch(Mat<const double>(xx)), ch, as_batch(out));
      double l = 0;
      for (int p = 0; p < f.N; ++p)
        for (int cc = 0; cc < C; ++cc)
          for (int k = 0; k < m; ++k) l += W(p, cc, k) * out(p, cc, k);
      return l;
    };
    Workspace<double> ws;
    Arr3<double> out("out", f.N, C, m);
    f.net.forward(as_batch(Vec<const double>(f.params)), as_batch(Mat<const double>(f.x)), ch, as_batch(out), &ws);
    Vec<double> g("g", n);
    Mat<double> dx("dx", f.N, d);
    f.net.backward(as_batch(Vec<const double>(f.params)), as_batch(Mat<const double>(f.x)), ws,
                   as_batch(Arr3<const double>(W)), as_batch(g), false, as_batch(dx));
    // every parameter, perturbed in place
    kpde::testing::GradientOptions o;
    o.what = ch.name() + " parameter gradient";
    EXPECT_TRUE(kpde::testing::fd_within(
        kpde::testing::check_gradient([&](const Vec<double>& prm) { return loss(prm, f.x); }, f.params, g, o), 1e-6));
    // every input coordinate: x and dx as flat [N * d] views
    const std::size_t nx = static_cast<std::size_t>(f.N) * d;
    Vec<double> x_flat(f.x.data(), nx), dx_flat(dx.data(), nx);
    o.what = ch.name() + " input gradient";
    EXPECT_TRUE(kpde::testing::fd_within(
        kpde::testing::check_gradient([&](const Vec<double>&) { return loss(f.params, f.x); }, x_flat, dx_flat, o),
        1e-6));
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cs;
  for (auto act : {Activation::tanh, Activation::sin, Activation::gelu, Activation::silu})
    for (auto arch : {Arch::mlp, Arch::modified_mlp})
      for (auto feat : {FeatureKind::none, FeatureKind::fourier_fixed, FeatureKind::fourier_random})
        for (int d : {1, 2, 3}) {
          // keep the matrix affordable: full products for tanh, a spread for the others
          if (act != Activation::tanh && (d == 1 && feat != FeatureKind::none)) continue;
          cs.push_back({act, arch, feat, d, (d == 2 ? 2 : 1)});
        }
  return cs;
}

INSTANTIATE_TEST_SUITE_P(All, NetworkFD, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return name_of(i.param); });

// B networks with B weight sets on B point sets in one call equal B single calls.
TEST(Network, BatchedEqualsLoopedSingles) {
  NetworkSpec s;
  s.width = 16, s.depth = 3, s.block_points = 5, s.arch = Arch::modified_mlp;
  s.features.kind = FeatureKind::fourier_fixed;
  Network<double> net(s);
  const int B = 3, N = 23, n = net.n_params();
  const auto ch = ChannelSpec::laplacian(2);
  const int C = ch.n_channels();
  Mat<double> P("P", B, n);
  Arr3<double> X("X", B, N, 2);
  Arr4<double> D("D", B, N, C, 1);
  Rng rng(5);
  for (int b = 0; b < B; ++b) {
    Vec<double> pb("pb", n);
    net.init_params(pb, 10 + b);
    for (int i = 0; i < n; ++i) P(b, i) = pb(i);
    for (int p = 0; p < N; ++p) {
      X(b, p, 0) = rng.uniform(), X(b, p, 1) = rng.uniform();
      for (int c = 0; c < C; ++c) D(b, p, c, 0) = rng.normal();
    }
  }
  Workspace<double> ws;
  Arr4<double> out("out", B, N, C, 1);
  Mat<double> G("G", B, n);
  net.forward(P, X, ch, out, &ws);
  net.backward(P, X, ws, D, G);
  for (int b = 0; b < B; ++b) {
    auto pb = Kokkos::subview(P, Kokkos::make_pair(b, b + 1), Kokkos::ALL);
    auto xb = Kokkos::subview(X, Kokkos::make_pair(b, b + 1), Kokkos::ALL, Kokkos::ALL);
    auto db = Kokkos::subview(D, Kokkos::make_pair(b, b + 1), Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    Mat<double> p1("p1", 1, n);
    Arr3<double> x1("x1", 1, N, 2);
    Arr4<double> d1("d1", 1, N, C, 1), o1("o1", 1, N, C, 1);
    Kokkos::deep_copy(p1, pb);
    Kokkos::deep_copy(x1, xb);
    Kokkos::deep_copy(d1, db);
    Workspace<double> w1;
    Mat<double> g1("g1", 1, n);
    net.forward(p1, x1, ch, o1, &w1);
    net.backward(p1, x1, w1, d1, g1);
    for (int p = 0; p < N; ++p)
      for (int c = 0; c < C; ++c) EXPECT_NEAR(o1(0, p, c, 0), out(b, p, c, 0), 1e-13 * (1 + std::abs(o1(0, p, c, 0))));
    for (int i = 0; i < n; ++i) EXPECT_NEAR(g1(0, i), G(b, i), 1e-12 * (1 + std::abs(g1(0, i))));
  }
}

// Block size changes only the grouping of sums; results agree to round-off.
TEST(Network, BlockSizeDoesNotChangeResults) {
  NetworkSpec s;
  s.width = 32, s.depth = 3;
  const int N = 300;
  std::vector<double> grads[2], outs[2];
  int k = 0;
  for (int bp : {7, 64}) {
    s.block_points = bp;
    Network<double> net(s);
    Vec<double> p("p", net.n_params());
    net.init_params(p, 1);
    Mat<double> x("x", N, 2);
    Rng rng(2);
    for (int i = 0; i < N; ++i) x(i, 0) = rng.uniform(), x(i, 1) = rng.uniform();
    const auto ch = ChannelSpec::laplacian(2);
    Arr3<double> out("o", N, ch.n_channels(), 1), dout("d", N, ch.n_channels(), 1);
    Kokkos::deep_copy(dout, 0.5);
    Workspace<double> ws;
    Vec<double> g("g", net.n_params());
    net.forward(as_batch(Vec<const double>(p)), as_batch(Mat<const double>(x)), ch, as_batch(out), &ws);
    net.backward(as_batch(Vec<const double>(p)), as_batch(Mat<const double>(x)), ws,
                 as_batch(Arr3<const double>(dout)), as_batch(g));
    for (int i = 0; i < net.n_params(); ++i) grads[k].push_back(g(i));
    for (int i = 0; i < N; ++i) outs[k].push_back(out(i, 3, 0));
    ++k;
  }
  EXPECT_LE(rel_err(grads[0], grads[1]), 1e-12);
  EXPECT_LE(rel_err(outs[0], outs[1]), 1e-12);
}

// The float engine agrees with the double engine to float round-off.
TEST(Network, FloatMatchesDouble) {
  NetworkSpec s;
  s.width = 32, s.depth = 3;
  Network<double> nd(s);
  Network<float> nf(s);
  Vec<double> pd("pd", nd.n_params());
  nd.init_params(pd, 3);
  Vec<float> pf("pf", nf.n_params());
  for (int i = 0; i < nd.n_params(); ++i) pf(i) = static_cast<float>(pd(i));
  const int N = 50;
  Mat<double> xd("xd", N, 2);
  Mat<float> xf("xf", N, 2);
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < 2; ++j) xf(i, j) = static_cast<float>(xd(i, j) = std::sin(1.0 + i * 0.37 + j));
  const auto ch = ChannelSpec::hessian(2);
  Arr3<double> od("od", N, ch.n_channels(), 1);
  Arr3<float> of("of", N, ch.n_channels(), 1);
  nd.forward(as_batch(Vec<const double>(pd)), as_batch(Mat<const double>(xd)), ch, as_batch(od));
  nf.forward(as_batch(Vec<const float>(pf)), as_batch(Mat<const float>(xf)), ch, as_batch(of));
  double scale = 0;
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < ch.n_channels(); ++c) scale = std::max(scale, std::abs(od(i, c, 0)));
  for (int i = 0; i < N; ++i)
    for (int c = 0; c < ch.n_channels(); ++c) EXPECT_NEAR(of(i, c, 0), od(i, c, 0), 2e-5 * scale);
}

TEST(Network, InitIsDeterministicAndScaled) {
  NetworkSpec s;
  s.width = 64, s.depth = 2;
  Network<double> net(s);
  Vec<double> a("a", net.n_params()), b("b", net.n_params()), c("c", net.n_params());
  net.init_params(a, 42, Init::xavier_normal);
  net.init_params(b, 42, Init::xavier_normal);
  net.init_params(c, 43, Init::xavier_normal);
  int same = 0, diff = 0;
  for (int i = 0; i < net.n_params(); ++i) same += a(i) == b(i), diff += a(i) != c(i);
  EXPECT_EQ(same, net.n_params());
  EXPECT_GT(diff, net.n_params() / 2);
  // second hidden layer (64 x 64): Glorot variance 2/128; Kaiming 2/64
  for (auto [init, var] : {std::pair{Init::xavier_normal, 2.0 / 128}, std::pair{Init::kaiming_uniform, 2.0 / 64}}) {
    net.init_params(a, 1, init);
    double s2 = 0;
    const int off = 2 * 64 + 64, cnt = 64 * 64;
    for (int i = 0; i < cnt; ++i) s2 += a(off + i) * a(off + i);
    EXPECT_NEAR(s2 / cnt, var, 0.1 * var);
  }
}

TEST(Network, BadShapesAreRejected) {
  NetworkSpec s;
  Network<double> net(s);
  Vec<double> p("p", net.n_params());
  Mat<double> x("x", 4, 3);  // wrong input dimension
  Arr3<double> out("o", 4, 1, 1);
  EXPECT_THROW(net.forward(as_batch(Vec<const double>(p)), as_batch(Mat<const double>(x)), ChannelSpec::value(2),
                           as_batch(out)),
               kpde::InputError);
  NetworkSpec bad;
  bad.depth = 0;
  EXPECT_THROW(Network<double>{bad}, kpde::InputError);
}

// The fused block pass gives the same loss and gradient as forward + backward.
TEST(Network, ForwardBackwardEqualsSeparatePasses) {
  for (auto arch : {Arch::mlp, Arch::modified_mlp}) {
    NetworkSpec s;
    s.width = 16, s.depth = 3, s.block_points = 6, s.arch = arch, s.output_dim = 2;
    s.features.kind = FeatureKind::fourier_random;
    s.features.n_random = 4;
    Network<double> net(s);
    const int B = 2, N = 17, n = net.n_params();
    const auto ch = ChannelSpec::hessian(2);
    const int C = ch.n_channels(), m = 2;
    Mat<double> P("P", B, n);
    Arr3<double> X("X", B, N, 2);
    Rng rng(11);
    for (int b = 0; b < B; ++b) {
      Vec<double> pb("pb", n);
      net.init_params(pb, 20 + b);
      for (int i = 0; i < n; ++i) P(b, i) = pb(i);
      for (int p = 0; p < N; ++p) X(b, p, 0) = rng.uniform(), X(b, p, 1) = rng.uniform();
    }
    // loss = sum over points of 0.5 (sum_c sum_k y_ck^2) * (1 + b)
    Arr4<double> out("out", B, N, C, m), D("D", B, N, C, m);
    Workspace<double> ws;
    net.forward(P, X, ch, out, &ws);
    double l_ref = 0;
    for (int b = 0; b < B; ++b)
      for (int p = 0; p < N; ++p)
        for (int c = 0; c < C; ++c)
          for (int k = 0; k < m; ++k) {
            l_ref += 0.5 * (1 + b) * out(b, p, c, k) * out(b, p, c, k);
            D(b, p, c, k) = (1 + b) * out(b, p, c, k);
          }
    Mat<double> G1("G1", B, n), G2("G2", B, n);
    net.backward(P, X, ws, D, G1);
    const BlockLoss<double> loss = [&](int b, int, int np, const double* y, double* dy) {
      double l = 0;
      for (int i = 0; i < m * C * np; ++i) l += 0.5 * (1 + b) * y[i] * y[i], dy[i] = (1 + b) * y[i];
      return l;
    };
    Workspace<double> ws2;
    const double l = net.forward_backward(P, X, ch, loss, ws2, G2);
    EXPECT_NEAR(l, l_ref, 1e-12 * l_ref);
    for (int b = 0; b < B; ++b)
      for (int i = 0; i < n; ++i) EXPECT_NEAR(G1(b, i), G2(b, i), 1e-12 * (1 + std::abs(G1(b, i))));
  }
}

// Fixed Fourier features on some axes only (features.axes): 2 n_frequencies features per
// chosen axis. Without the raw inputs the network is 1-periodic in x and z (base 1) and
// does not see y at all.
TEST(Network, FourierFeaturesOnChosenAxes) {
  NetworkSpec s;
  s.input_dim = 3;
  s.width = 6;
  s.depth = 2;
  s.features.kind = FeatureKind::fourier_fixed;
  s.features.n_frequencies = 3;
  s.features.base = 1.0;
  s.features.axes = {true, false, true};
  EXPECT_EQ(Network<double>(s).n_features(), 3 + 2 * 3 * 2);
  s.features.include_input = false;
  Fixture f(s);
  EXPECT_EQ(f.net.n_features(), 2 * 3 * 2);
  Mat<double> x2("x2", f.N, 3), x3("x3", f.N, 3);
  for (int p = 0; p < f.N; ++p) {
    x2(p, 0) = f.x(p, 0) + 1, x2(p, 1) = f.x(p, 1), x2(p, 2) = f.x(p, 2) - 1;
    x3(p, 0) = f.x(p, 0), x3(p, 1) = f.x(p, 1) + 0.37, x3(p, 2) = f.x(p, 2);
  }
  const auto a = f.eval(f.x, ChannelSpec::value(3)), b = f.eval(x2, ChannelSpec::value(3)),
             c = f.eval(x3, ChannelSpec::value(3));
  for (int p = 0; p < f.N; ++p) {
    EXPECT_NEAR(a(p, 0, 0), b(p, 0, 0), 1e-12);
    EXPECT_EQ(a(p, 0, 0), c(p, 0, 0));
  }
  NetworkSpec none = s;
  none.features.axes = {false, false, false};
  EXPECT_THROW(Network<double>{none}, kpde::InputError);
}
