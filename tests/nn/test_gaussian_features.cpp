// Gaussian features (PIG, nn/gaussian_features.hpp) in double:
//  - feature jets: first derivatives vs central differences of the value, second-order
//    channels (diagonal, full Hessian with the mixed derivatives, weighted Laplacian)
//    vs central differences of the gradient; of the features and of the network output
//  - parameter gradients of every parameter (means, log sigmas, off-diagonal U entries,
//    weights and the MLP) vs central differences of a random linear loss of all
//    output channels, through backward and through the fused forward_backward
//  - the grid index with a cutoff equals a brute-force cut-off sum over all Gaussians
//    (to round-off), and the untruncated sum to within the truncation bound
// FD checks (tests/support/fd_check.hpp) use a cutoff of 50 (nothing truncated: the cut-off sum is smooth), or the
// tapered profile at cutoff 1.5 (smooth enough at the cutoff: C^3).
//  - the tapered profile: value and q-derivatives 0 at the cutoff, h1..h3 against
//    central differences in q, positive inside
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "nn_test_helpers.hpp"
#include "support/fd_check.hpp"
#include "core/rng.hpp"
#include "nn/gaussian_features.hpp"
#include "nn/network.hpp"

using namespace kpde;
using namespace kpde::nn;
using kpde::nn::testing::all_channel_kinds;
using kpde::nn::testing::jet_reports;

namespace {

struct GCase {
  int dim;
  bool full;
  Arch arch;
  bool raw = false;  ///< raw inputs before the Gaussian channels
  bool taper = false;  ///< tapered profile, cut off at 1.5 sigma (pairs inside and outside)
};

NetworkSpec gspec(const GCase& c, int n_gauss = 7, double cutoff = 50.0) {
  NetworkSpec s;
  s.input_dim = c.dim;
  s.output_dim = 1;
  s.width = 5;
  s.depth = 1;
  s.arch = c.arch;
  s.features.kind = FeatureKind::gaussian;
  s.features.n_gaussians = n_gauss;
  s.features.gauss_channels = 3;
  s.features.full_covariance = c.full;
  s.features.gauss_include_input = c.raw;
  s.features.sigma_init = 0.6;
  s.features.weight_scale = 1.0;
  s.features.cutoff = c.taper ? 1.5 : cutoff;
  s.features.taper = c.taper;
  s.block_points = 3;  // several blocks
  return s;
}

struct GFixture {
  Network<double> net;
  Vec<double> params;
  Mat<double> x;
  int N;
  GFixture(const NetworkSpec& s, int n_points = 9, std::uint64_t seed = 5) : net(s), N(n_points) {
    params = Vec<double>("p", net.n_params());
    net.init_params(params, seed, Init::xavier_normal);
    Rng rng(seed + 1);
    const int d = s.input_dim;
    const detail::GaussLayout L(d, s.features.gauss_channels, s.features.full_covariance);
    // perturb: biases, sigmas (anisotropic), off-diagonal U entries
    for (int i = 0; i < net.n_dense_params(); ++i) params(i) += 0.1 * rng.normal();
    for (int g = 0; g < s.features.n_gaussians; ++g) {
      const std::size_t o = net.n_dense_params() + static_cast<std::size_t>(g) * L.stride;
      for (int a = 0; a < d; ++a) params(o + L.s() + a) += 0.3 * rng.normal();
      for (int j = 0; j < L.nu; ++j) params(o + L.u() + j) = 0.8 * rng.normal();
    }
    x = Mat<double>("x", N, d);
    for (int p = 0; p < N; ++p)
      for (int i = 0; i < d; ++i) x(p, i) = 2 * rng.uniform() - 1;
  }
  Arr3<double> eval(const Vec<double>& prm, const Mat<double>& xx, const ChannelSpec& ch) const {
    Arr3<double> out("out", xx.extent(0), ch.n_channels(), 1);
    net.forward(as_batch(Vec<const double>(prm)), as_batch(Mat<const double>(xx)), ch, as_batch(out));
    return out;
  }
  Arr3<double> feats(const Mat<double>& xx, const ChannelSpec& ch) const {
    Arr3<double> out("phi", xx.extent(0), ch.n_channels(), net.n_features());
    net.features(Vec<const double>(params), Mat<const double>(xx), ch, out);
    return out;
  }
};

std::string gname(const GCase& c) {
  std::ostringstream s;
  s << "d" << c.dim << (c.full ? "_full" : "_diag") << (c.arch == Arch::mlp ? "_mlp" : "_modified")
    << (c.raw ? "_raw" : "") << (c.taper ? "_taper" : "");
  return s.str();
}

class GaussFD : public ::testing::TestWithParam<GCase> {};

}  // namespace

TEST_P(GaussFD, FeatureAndOutputJets) {
  const GCase c = GetParam();
  GFixture f(gspec(c));
  const int d = c.dim;
  const auto grad_spec = ChannelSpec::with_gradient(d);
  for (const auto& ch : all_channel_kinds(d)) {
    const auto phi = f.feats(f.x, ch);
    const auto phi0 = f.feats(f.x, ChannelSpec::value(d));
    for (int p = 0; p < f.N; ++p)
      for (int k = 0; k < f.net.n_features(); ++k) EXPECT_NEAR(phi(p, 0, k), phi0(p, 0, k), 1e-14);
    if (!ch.gradient) continue;
    // first derivatives vs differences of the value, second-order channels vs
    // differences of the gradient channels; of every feature and of the output
    EXPECT_TRUE(kpde::testing::fd_all_within(
        jet_reports(phi, ch, f.x, [&](const Mat<double>& xx) { return f.feats(xx, grad_spec); }, "features"), 1e-7));
    EXPECT_TRUE(kpde::testing::fd_all_within(
        jet_reports(f.eval(f.params, f.x, ch), ch, f.x,
                    [&](const Mat<double>& xx) { return f.eval(f.params, xx, grad_spec); }, "network"),
        1e-7));
  }
}

TEST_P(GaussFD, ParameterGradients) {
  const GCase c = GetParam();
  GFixture f(gspec(c));
  const int d = c.dim, n = f.net.n_params();
  for (const auto& ch : all_channel_kinds(d)) {
    const int C = ch.n_channels();
    Arr3<double> W("W", f.N, C, 1);
    Rng rng(99);
    for (int p = 0; p < f.N; ++p)
      for (int cc = 0; cc < C; ++cc) W(p, cc, 0) = rng.normal();
    auto loss = [&](const Vec<double>& prm) {
      const auto out = f.eval(prm, f.x, ch);
      double l = 0;
      for (int p = 0; p < f.N; ++p)
        for (int cc = 0; cc < C; ++cc) l += W(p, cc, 0) * out(p, cc, 0);
      return l;
    };
    Workspace<double> ws;
    Arr3<double> out("out", f.N, C, 1);
    const auto P = as_batch(Vec<const double>(f.params));
    const auto X = as_batch(Mat<const double>(f.x));
    f.net.forward(P, X, ch, as_batch(out), &ws);
    Vec<double> g("g", n), g2("g2", n);
    f.net.backward(P, X, ws, as_batch(Arr3<const double>(W)), as_batch(g));
    // fused: loss = sum W y per block
    const BlockLoss<double> bl = [&](int, int p0, int np, const double* y, double* dy) {
      double l = 0;
      for (int cc = 0; cc < C; ++cc)
        for (int p = 0; p < np; ++p) {
          const int i = cc * np + p;
          dy[i] = W(p0 + p, cc, 0);
          l += dy[i] * y[i];
        }
      return l;
    };
    Workspace<double> ws2;
    const double l2 = f.net.forward_backward(P, X, ch, bl, ws2, as_batch(g2));
    EXPECT_NEAR(l2, loss(f.params), 1e-12 * (1 + std::abs(l2)));
    // central differences of every parameter (perturbed in place), once for three checks
    const std::vector<double> fd = kpde::testing::fd_gradient(loss, f.params);
    using kpde::testing::compare;
    using kpde::testing::fd_within;
    using kpde::testing::to_vector;
    EXPECT_TRUE(fd_within(compare(to_vector(g), fd, ch.name() + " parameter gradient (backward)"), 1e-6));
    EXPECT_TRUE(fd_within(compare(to_vector(g2), fd, ch.name() + " parameter gradient (forward_backward)"), 1e-6));
    // and separately for the Gaussian block (not hidden by larger MLP entries)
    std::vector<std::size_t> gauss;
    for (int i = f.net.n_dense_params(); i < n; ++i) gauss.push_back(i);
    EXPECT_TRUE(fd_within(compare(to_vector(g), fd, ch.name() + " Gaussian parameter gradient", gauss), 1e-6));
  }
}

std::vector<GCase> gcases() {
  std::vector<GCase> cs;
  for (int d : {1, 2, 3})
    for (bool full : {false, true}) {
      if (d == 1 && full) continue;  // no off-diagonal entries in 1-D
      cs.push_back({d, full, Arch::mlp});
    }
  cs.push_back({2, true, Arch::modified_mlp});
  cs.push_back({2, false, Arch::mlp, true});
  cs.push_back({3, true, Arch::modified_mlp, true});
  // the tapered profile at cutoff 1.5: C^3 at the cutoff, so the FD checks hold with
  // points on both sides of it
  cs.push_back({1, false, Arch::mlp, false, true});
  cs.push_back({2, false, Arch::mlp, true, true});
  cs.push_back({2, true, Arch::modified_mlp, false, true});
  cs.push_back({3, true, Arch::mlp, false, true});
  return cs;
}

INSTANTIATE_TEST_SUITE_P(All, GaussFD, ::testing::ValuesIn(gcases()),
                         [](const ::testing::TestParamInfo<GCase>& i) { return gname(i.param); });

// The grid index with cutoff c: equal to the brute-force sum over all Gaussians with
// q <= c^2, and to the untruncated sum within sum_g |w_g| exp(-c^2/2) (values).
TEST(GaussianFeatures, GridEqualsBruteForce) {
  for (int d : {1, 2, 3})
    for (bool full : {false, true}) {
      if (d == 1 && full) continue;
      NetworkSpec s = gspec({d, full, Arch::mlp}, 400, 3.0);
      s.features.sigma_init = 0.08;
      s.block_points = 16;
      GFixture f(s, 300, 17);
      // a few points outside the means' box [-1,1]^d
      for (int a = 0; a < d; ++a) f.x(0, a) = 1.05, f.x(1, a) = -1.1;
      const auto ch = ChannelSpec::hessian(d);
      const int C = ch.n_channels(), k = s.features.gauss_channels;
      const auto phi = f.feats(f.x, ch);
      const detail::GaussLayout L(d, k, full);
      const int Ng = s.features.n_gaussians;
      double bound = 0, max_abs = 0, err_cut = 0, err_full = 0;
      long used = 0;
      for (int p = 0; p < f.N; ++p) {
        std::vector<double> cut(static_cast<size_t>(C) * k, 0.0), all(k, 0.0);
        for (int g = 0; g < Ng; ++g) {
          const double* q = &f.params(f.net.n_dense_params() + static_cast<std::size_t>(g) * L.stride);
          double U[3][3] = {};
          for (int a = 0; a < d; ++a) U[a][a] = std::exp(-q[L.s() + a]);
          if (full)
            for (int a = 0; a < d; ++a)
              for (int b = a + 1; b < d; ++b) U[a][b] = q[L.u() + L.upper(a, b)];
          double dl[3] = {}, z[3] = {}, qq = 0, v[3] = {}, P[3][3] = {};
          for (int a = 0; a < d; ++a) dl[a] = f.x(p, a) - q[L.mu() + a];
          for (int a = 0; a < d; ++a) {
            for (int b = 0; b < d; ++b) z[a] += U[a][b] * dl[b];
            qq += z[a] * z[a];
          }
          for (int a = 0; a < d; ++a)
            for (int b = 0; b < d; ++b) {
              v[a] += U[b][a] * z[b];
              for (int j = 0; j < d; ++j) P[a][b] += U[j][a] * U[j][b];
            }
          const double G = std::exp(-0.5 * qq);
          for (int c = 0; c < k; ++c) all[c] += q[L.w() + c] * G;
          if (p == 0) {
            double wsum = 0;
            for (int c = 0; c < k; ++c) wsum = std::max(wsum, std::abs(q[L.w() + c]));
            bound += wsum * std::exp(-0.5 * 9.0);
          }
          if (qq > 9.0) continue;
          ++used;
          for (int c = 0; c < k; ++c) {
            const double w = q[L.w() + c];
            cut[c] += w * G;
            for (int i = 0; i < d; ++i) cut[static_cast<size_t>(1 + i) * k + c] += -w * G * v[i];
            for (int sidx = 0; sidx < ch.n_second(); ++sidx) {
              const auto A = ch.second_matrix(sidx);
              double e = 0;
              for (int a = 0; a < d; ++a)
                for (int b = 0; b < d; ++b) e += A[a][b] * (v[a] * v[b] - P[a][b]);
              cut[static_cast<size_t>(1 + d + sidx) * k + c] += w * G * e;
            }
          }
        }
        for (int cc = 0; cc < C; ++cc)
          for (int c = 0; c < k; ++c) {
            max_abs = std::max(max_abs, std::abs(cut[static_cast<size_t>(cc) * k + c]));
            err_cut = std::max(err_cut, std::abs(phi(p, cc, c) - cut[static_cast<size_t>(cc) * k + c]));
          }
        for (int c = 0; c < k; ++c) err_full = std::max(err_full, std::abs(phi(p, 0, c) - all[c]));
      }
      EXPECT_GT(used, f.N) << "d=" << d;                            // Gaussians do reach the points
      EXPECT_LT(used, static_cast<long>(f.N) * Ng / 3) << "d=" << d;  // and the cutoff does cut
      EXPECT_LE(err_cut, 1e-12 * max_abs) << "d=" << d << " full=" << full;
      EXPECT_LE(err_full, bound) << "d=" << d << " full=" << full;
      EXPECT_GT(err_full, 0.0);  // the truncation is real
    }
}

// Batched networks through the fused pass equal separate forward + backward passes,
// and a block size change moves results by round-off only.
TEST(GaussianFeatures, BatchedFusedEqualsSeparateAndBlockSizeInvariant) {
  NetworkSpec s = gspec({2, true, Arch::mlp}, 60, 4.0);
  s.features.sigma_init = 0.2;
  Network<double> net(s);
  const int B = 2, N = 41, n = net.n_params();
  const auto ch = ChannelSpec::laplacian(2);
  const int C = ch.n_channels();
  Mat<double> P("P", B, n);
  Arr3<double> X("X", B, N, 2);
  Rng rng(3);
  for (int b = 0; b < B; ++b) {
    Vec<double> pb("pb", n);
    net.init_params(pb, 30 + b);
    for (int i = 0; i < n; ++i) P(b, i) = pb(i);
    for (int p = 0; p < N; ++p) X(b, p, 0) = 2 * rng.uniform() - 1, X(b, p, 1) = 2 * rng.uniform() - 1;
  }
  Arr4<double> out("out", B, N, C, 1), D("D", B, N, C, 1);
  Workspace<double> ws;
  net.forward(P, X, ch, out, &ws);
  for (int b = 0; b < B; ++b)
    for (int p = 0; p < N; ++p)
      for (int c = 0; c < C; ++c) D(b, p, c, 0) = (1 + b) * out(b, p, c, 0);
  Mat<double> G1("G1", B, n), G2("G2", B, n), G3("G3", B, n);
  net.backward(P, X, ws, D, G1);
  const BlockLoss<double> loss = [&](int b, int, int np, const double* y, double* dy) {
    double l = 0;
    for (int i = 0; i < C * np; ++i) l += 0.5 * (1 + b) * y[i] * y[i], dy[i] = (1 + b) * y[i];
    return l;
  };
  Workspace<double> ws2;
  net.forward_backward(P, X, ch, loss, ws2, G2);
  NetworkSpec s2 = s;
  s2.block_points = 64;
  Network<double> net2(s2);
  Workspace<double> ws3;
  net2.forward_backward(P, X, ch, loss, ws3, G3);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(G1(b, i), G2(b, i), 1e-12 * (1 + std::abs(G1(b, i))));
      EXPECT_NEAR(G1(b, i), G3(b, i), 1e-12 * (1 + std::abs(G1(b, i))));
    }
  // accumulate adds
  Mat<double> G4("G4", B, n);
  Kokkos::deep_copy(G4, G2);
  net.forward_backward(P, X, ch, loss, ws2, G4, true);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < n; ++i) EXPECT_NEAR(G4(b, i), 2 * G2(b, i), 1e-12 * (1 + std::abs(G2(b, i))));
}

TEST(GaussianFeatures, InitAndValidation) {
  NetworkSpec s = gspec({2, false, Arch::mlp}, 100);
  s.features.sigma_init = 0;  // auto: (hi - lo) / sqrt(N) = 0.2
  s.features.lo = {0, -2, 0};
  s.features.hi = {1, 2, 0};
  Network<double> net(s);
  EXPECT_EQ(net.n_params(), net.n_dense_params() + 100 * (4 + 3));
  Vec<double> p("p", net.n_params());
  net.init_params(p, 1);
  for (int g = 0; g < 100; ++g) {
    const int o = net.n_dense_params() + 7 * g;
    EXPECT_GE(p(o), 0.0);
    EXPECT_LE(p(o), 1.0);
    EXPECT_GE(p(o + 1), -2.0);
    EXPECT_LE(p(o + 1), 2.0);
    EXPECT_NEAR(std::exp(p(o + 2)), 0.1, 1e-12);
    EXPECT_NEAR(std::exp(p(o + 3)), 0.4, 1e-12);
  }
  NetworkSpec bad = s;
  bad.features.n_gaussians = 0;
  EXPECT_THROW(Network<double>{bad}, InputError);
  bad = s;
  bad.features.cutoff = 0;
  EXPECT_THROW(Network<double>{bad}, InputError);
  // no input gradients through Gaussian features
  Mat<double> x("x", 3, 2);
  Arr3<double> out("o", 3, 1, 1), dout("d", 3, 1, 1);
  Workspace<double> ws;
  net.forward(as_batch(Vec<const double>(p)), as_batch(Mat<const double>(x)), ChannelSpec::value(2), as_batch(out), &ws);
  Vec<double> g("g", net.n_params());
  Mat<double> dx("dx", 3, 2);
  EXPECT_THROW(net.backward(as_batch(Vec<const double>(p)), as_batch(Mat<const double>(x)), ws,
                            as_batch(Arr3<const double>(dout)), as_batch(g), false, as_batch(dx)),
               InputError);
}

TEST(GaussianFeatures, TaperedProfile) {
  const double c = 2.5;
  const detail::GaussProfile<double> tp(true, c), plain(false, c);
  double g, h1, h2, h3;
  tp(c * c, g, h1, h2, h3);  // every derivative up to the third vanishes at the cutoff
  EXPECT_NEAR(g, 0, 1e-17);
  EXPECT_NEAR(h1, 0, 1e-17);
  EXPECT_NEAR(h2, 0, 1e-17);
  EXPECT_NEAR(h3, 0, 1e-17);
  plain(1.3, g, h1, h2, h3);
  EXPECT_DOUBLE_EQ(g, std::exp(-0.65));
  EXPECT_DOUBLE_EQ(h1, -g);
  EXPECT_DOUBLE_EQ(h2, g);
  EXPECT_DOUBLE_EQ(h3, -g);
  // h1, h2, h3 = 2, 4, 8 times the first three q-derivatives, against central differences
  // (step 1e-5) of g, h1, h2: max |fd - claim| over the points <= 1e-8
  const std::vector<double> qs = {0.0, 0.7, 2.0, 4.5, 6.0, 6.2};
  const kpde::testing::Field twice = [&](const std::vector<double>& q) {
    std::vector<double> v;  // [n][3]: 2 g, 2 h1, 2 h2
    for (double qq : q) {
      tp(qq, g, h1, h2, h3);
      v.insert(v.end(), {2 * g, 2 * h1, 2 * h2});
    }
    return v;
  };
  const std::vector<double> fd = kpde::testing::fd_first(twice, qs, 1, 0, 1e-5);
  std::vector<std::vector<double>> claim(3), ref(3);
  for (std::size_t p = 0; p < qs.size(); ++p) {
    tp(qs[p], g, h1, h2, h3);
    const double h[3] = {h1, h2, h3};
    for (int k = 0; k < 3; ++k) claim[k].push_back(h[k]), ref[k].push_back(fd[p * 3 + k]);
  }
  for (int k = 0; k < 3; ++k) {
    const auto r = kpde::testing::compare(claim[k], ref[k], "h" + std::to_string(k + 1));
    EXPECT_LE(r.max_abs_error, 1e-8) << r;
  }
  for (double q : qs) {
    tp(q, g, h1, h2, h3);
    EXPECT_GT(g, 0.0) << q;
    EXPECT_LT(g, std::exp(-q / 2)) << q;  // E minus a positive polynomial inside
  }
  // the peak: 1 - e (1 + c^2/2 + c^4/8 + c^6/48), 0.38 at c = 2.5, 0.958 at c = 4
  tp(0.0, g, h1, h2, h3);
  EXPECT_NEAR(g, 1 - std::exp(-3.125) * (1 + 3.125 + 39.0625 / 8 + 244.140625 / 48), 1e-14);
  detail::GaussProfile<double>(true, 4.0)(0.0, g, h1, h2, h3);
  EXPECT_NEAR(g, 0.958, 1e-3);
}
