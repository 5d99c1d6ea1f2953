// operators::Mgno (operators/mgno.hpp): the parameter layout against the count written
// out; parameter and input gradients of a small MgNO against central differences in double
// (every padding mode, data and residual restriction, odd and even extents, a non-square
// grid); a V-cycle with fixed weights (Jacobi smoothing, full weighting, bilinear
// prolongation) against a textbook multigrid V-cycle written out here, and that cycle,
// iterated, converging on the Poisson problem much faster than its smoothing alone; the
// same bits with one thread as with two; any extent runs; bad shapes are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.hpp"
#include "core/rng.hpp"
#include "operators/mgno.hpp"
#include "operators/mgno_train.hpp"
#include "support/fd_check.hpp"

using kpde::Arr4;
using kpde::Rng;
namespace operators = kpde::operators;
using operators::Mgno;
using operators::MgnoLayerLayout;
using operators::MgnoSpec;
using Vec = std::vector<double>;

namespace {

Vec randn(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  Vec v(n);
  for (double& e : v) e = scale * rng.normal();
  return v;
}

MgnoSpec small_spec(kpde::nn::PadMode pad, bool residual) {
  MgnoSpec s;
  s.in_channels = 2, s.channels = 3, s.layers = 2;
  s.smoothing = {2, 1, 2};
  s.pad = pad;
  s.residual_restriction = residual;
  s.input_mean = 0.3, s.input_std = 1.7, s.output_scale = 0.8;
  return s;
}

Vec run(const Mgno<double>& net, const Vec& p, const Vec& a, int B, int H, int W) {
  Vec u(static_cast<std::size_t>(B) * H * W);
  net.forward(p.data(), Arr4<const double>(a.data(), B, net.spec().in_channels, H, W), Arr4<double>(u.data(), B, 1, H, W));
  return u;
}

}  // namespace

TEST(Mgno, ParameterCountIsTheLayoutWrittenOut) {
  MgnoSpec s;  // C = 24, 5 layers, 6 levels, smoothing 1,1,1,1,1,2 (the code's Darcy setting)
  const Mgno<double> net(s);
  const long C = 24, L = 6;
  long n = 0;
  for (int l = 0; l < 5; ++l) {
    const long cf = l == 0 ? 1 : C;
    n += 9 * cf * C;                            // S_{0,0}
    n += (L - 1) * (9 * cf * cf + 9 * C * C);   // R, Pi
    n += 6 * 18 * cf * C;                       // A and S of the further steps (levels 1-4: 1, level 5: 2)
    n += (L - 1) * 9 * C * C;                   // P
    n += C * cf + C;                            // K, b
  }
  n += C;  // W_out
  EXPECT_EQ(net.n_params(), static_cast<std::size_t>(n));
  EXPECT_EQ(net.output_offset() + 24, net.n_params());
  s.residual_restriction = true;
  EXPECT_EQ(Mgno<double>(s).n_params(), static_cast<std::size_t>(n + (L - 1) * 9 * C * (1 + 4 * C)));
  EXPECT_EQ(s.extents(85), (std::vector<int>{85, 43, 22, 11, 6, 3}));
  EXPECT_EQ(s.min_extent(), 33);
}

TEST(Mgno, GradientsMatchFiniteDifferences) {
  using kpde::nn::PadMode;
  for (PadMode pad : {PadMode::zeros, PadMode::reflect, PadMode::circular})
    for (bool residual : {false, true}) {
      const MgnoSpec s = small_spec(pad, residual);
      const Mgno<double> net(s);
      const int B = 2, H = 11, W = 12;  // 11 -> 6 -> 3 and 12 -> 6 -> 3: odd and even extents
      ASSERT_GE(std::min(H, W), s.min_extent());
      Vec p(net.n_params());
      net.init_params(p.data(), 7);
      for (double& x : p) x *= 1.5;  // larger weights: the GELUs leave their linear part
      Vec a = randn(static_cast<std::size_t>(B) * 2 * H * W, 3);
      const Vec w = randn(static_cast<std::size_t>(B) * H * W, 5);  // L = sum w u
      const auto loss = [&](const Vec& pp, const Vec& aa) {
        const Vec u = run(net, pp, aa, B, H, W);
        double sum = 0;
        for (std::size_t i = 0; i < u.size(); ++i) sum += w[i] * u[i];
        return sum;
      };
      Mgno<double>::Cache cache;
      Vec u(w.size()), g(net.n_params(), 0.0), da(a.size());
      net.forward(p.data(), Arr4<const double>(a.data(), B, 2, H, W), Arr4<double>(u.data(), B, 1, H, W), &cache);
      EXPECT_EQ(u, run(net, p, a, B, H, W)) << "the cache changes nothing";
      net.backward(p.data(), cache, Arr4<const double>(w.data(), B, 1, H, W), g.data(), da.data());
      const std::string what = kpde::operators::to_string(pad) + (residual ? ", residual restriction" : "");
      kpde::testing::GradientOptions o;
      // every third parameter and both ends of every convolution's block (the sanitized build)
      std::vector<std::size_t> starts{net.output_offset()};
      for (int l = 0; l < s.layers; ++l) {
        const MgnoLayerLayout& lay = net.layout(l);
        for (const auto* v : {&lay.R, &lay.Pi, &lay.Ares, &lay.P})
          for (std::size_t at : *v)
            if (at != MgnoLayerLayout::kNone) starts.push_back(at);
        for (const auto* v : {&lay.A, &lay.S})
          for (const auto& level : *v)
            for (std::size_t at : level)
              if (at != MgnoLayerLayout::kNone) starts.push_back(at);
        starts.push_back(lay.K), starts.push_back(lay.Kb);
      }
      std::sort(starts.begin(), starts.end());
      o.indices = kpde::testing::sampled_indices(net.n_params(), 3, starts);
      o.what = "dL/dtheta (" + what + ")";
      EXPECT_TRUE(kpde::testing::fd_within(
          kpde::testing::check_gradient([&](const Vec& pp) { return loss(pp, a); }, p, g, o), 1e-6));
      o.indices.clear();  // every input value
      o.what = "dL/da (" + what + ")";
      EXPECT_TRUE(kpde::testing::fd_within(
          kpde::testing::check_gradient([&](const Vec& aa) { return loss(p, aa); }, a, da, o), 1e-6));
    }
}

// The training losses: the relative L2 and H1 errors and their gradients against central
// differences, and the H1 norm against its sum written out.
TEST(Mgno, RelativeLossGradients) {
  const int n = 9;
  const Vec u = randn(static_cast<std::size_t>(n) * n, 11);
  Vec p = u;
  const Vec noise = randn(p.size(), 12, 0.1);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] += noise[i];
  for (double w : {0.0, 1.0, 0.0253}) {
    Vec g(p.size());
    operators::mgno_relative_error(p.data(), u.data(), n, w, g.data());
    kpde::testing::GradientOptions o;
    o.what = "d rel / d prediction (w = " + std::to_string(w) + ")";
    EXPECT_TRUE(kpde::testing::fd_within(
        kpde::testing::check_gradient([&](const Vec& q) { return operators::mgno_relative_error(q.data(), u.data(), n, w); },
                                      p, g, o),
        1e-7));
  }
  // the H1 norm of e = p - u, written out: sum e^2 + sum of squared differences times (n-1)^2
  double e2 = 0, u2 = 0;
  const auto sq = [&](const Vec& v, int i, int j, int di, int dj) {
    const double d = v[(i + di) * n + j + dj] - v[i * n + j];
    return d * d * (n - 1) * (n - 1);
  };
  Vec e(p.size());
  for (std::size_t i = 0; i < e.size(); ++i) e[i] = p[i] - u[i], e2 += e[i] * e[i], u2 += u[i] * u[i];
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      if (j + 1 < n) e2 += sq(e, i, j, 0, 1), u2 += sq(u, i, j, 0, 1);
      if (i + 1 < n) e2 += sq(e, i, j, 1, 0), u2 += sq(u, i, j, 1, 0);
    }
  EXPECT_NEAR(operators::mgno_relative_error(p.data(), u.data(), n, 1.0), std::sqrt(e2 / u2), 1e-14);
  EXPECT_EQ(operators::mgno_relative_error(u.data(), u.data(), n, 1.0), 0.0);
}

// ---- a V-cycle with fixed weights against textbook multigrid --------------------------------

namespace {

/// A textbook V-cycle for (-lap + sigma) u = f on n x n nodes, written with loops: zero
/// outside the grid (Dirichlet) or mirrored at the edge nodes (reflect: Neumann), damped
/// Jacobi (omega) smoothing from a zero guess, full-weighting restriction of the residual,
/// bilinear prolongation of the correction, pre-smoothing only.
struct TextbookMg {
  std::vector<int> nu;
  double omega, h, sigma;
  bool reflect;
  double at(const Vec& u, int n, int i, int j) const {
    if (reflect) {
      i = i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i);
      j = j < 0 ? -j : (j >= n ? 2 * (n - 1) - j : j);
    }
    return i < 0 || j < 0 || i >= n || j >= n ? 0.0 : u[i * n + j];
  }
  Vec apply(const Vec& u, int n, double hk) const {  // A u = (4 u_ij - neighbours) / h^2 + sigma u
    Vec r(u.size());
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        r[i * n + j] = (4 * at(u, n, i, j) - at(u, n, i - 1, j) - at(u, n, i + 1, j) - at(u, n, i, j - 1) -
                        at(u, n, i, j + 1)) / (hk * hk) + sigma * u[i * n + j];
    return r;
  }
  Vec cycle(const Vec& f, int n, int k) const {
    const double hk = h * std::pow(2.0, k);
    Vec u(f.size(), 0.0);
    for (int it = 0; it < nu[k]; ++it) {
      const Vec au = apply(u, n, hk);
      for (std::size_t i = 0; i < u.size(); ++i) u[i] += omega / (4 / (hk * hk) + sigma) * (f[i] - au[i]);
    }
    if (k + 1 == static_cast<int>(nu.size())) return u;
    const Vec au = apply(u, n, hk);
    Vec r(f.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = f[i] - au[i];
    const int nc = (n - 1) / 2 + 1;
    Vec fc(static_cast<std::size_t>(nc) * nc);  // full weighting at the even nodes
    for (int I = 0; I < nc; ++I)
      for (int J = 0; J < nc; ++J) {
        double s = 0;
        for (int a = -1; a <= 1; ++a)
          for (int b = -1; b <= 1; ++b) s += (2 - std::abs(a)) * (2 - std::abs(b)) * at(r, n, 2 * I + a, 2 * J + b);
        fc[I * nc + J] = s / 16;
      }
    const Vec ec = cycle(fc, nc, k + 1);
    for (int i = 0; i < n; ++i)  // bilinear interpolation of the coarse correction (zero beyond the grid)
      for (int j = 0; j < n; ++j) {
        const double wi[2] = {i % 2 ? 0.5 : 1.0, 0.5}, wj[2] = {j % 2 ? 0.5 : 1.0, 0.5};
        const int I[2] = {i / 2, i / 2 + 1}, J[2] = {j / 2, j / 2 + 1};
        double s = 0;
        for (int a = 0; a < (i % 2 ? 2 : 1); ++a)
          for (int b = 0; b < (j % 2 ? 2 : 1); ++b)
            if (I[a] < nc && J[b] < nc) s += wi[a] * wj[b] * ec[I[a] * nc + J[b]];
        u[i * n + j] += s;
      }
    return u;
  }
};

/// The MgNO V-cycle of a one-channel layer 0 set to the textbook operators: A_k the 5-point
/// (-lap + sigma) at h_k = 2^k h (and A'_k that of level k-1), S = omega / diag(A_k), R full
/// weighting, Pi = 0 (a zero coarse guess), P bilinear.
void set_textbook_weights(const Mgno<double>& net, Vec& p, const TextbookMg& mg) {
  std::fill(p.begin(), p.end(), 0.0);
  const MgnoLayerLayout& lay = net.layout(0);
  const auto stencil = [&](std::size_t at, const double (&w)[9]) {
    for (int t = 0; t < 9; ++t) p[at + t] = w[t];
  };
  const int L = net.spec().levels();
  for (int k = 0; k < L; ++k) {
    const double hk = mg.h * std::pow(2.0, k), c = 1 / (hk * hk);
    const double op[9] = {0, -c, 0, -c, 4 * c + mg.sigma, -c, 0, -c, 0};
    const double jac[9] = {0, 0, 0, 0, mg.omega / (4 * c + mg.sigma), 0, 0, 0, 0};
    for (int i = 0; i < net.spec().smoothing[k]; ++i) {
      if (lay.A[k][i] != MgnoLayerLayout::kNone) stencil(lay.A[k][i], op);
      stencil(lay.S[k][i], jac);
    }
    if (k > 0) {
      const double cf = 4 * c;
      const double op_fine[9] = {0, -cf, 0, -cf, 4 * cf + mg.sigma, -cf, 0, -cf, 0};
      const double fw[9] = {1. / 16, 2. / 16, 1. / 16, 2. / 16, 4. / 16, 2. / 16, 1. / 16, 2. / 16, 1. / 16};
      stencil(lay.Ares[k], op_fine);
      stencil(lay.R[k], fw);
    }
    if (k + 1 < L) {
      const double bl[9] = {0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25};
      stencil(lay.P[k], bl);
    }
  }
}

Vec vcycle_of(const Mgno<double>& net, const Vec& p, const Vec& f, int n) {
  Vec v(f.size());
  net.vcycle(0, p.data(), Arr4<const double>(f.data(), 1, 1, n, n), Arr4<double>(v.data(), 1, 1, n, n));
  return v;
}

}  // namespace

TEST(Mgno, FixedWeightVcycleIsTextbookMultigrid) {
  const int n = 33;  // 33 -> 17 -> 9 -> 5 -> 3
  Vec f(static_cast<std::size_t>(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) f[i * n + j] = std::sin(0.3 * i + 1) * std::cos(0.17 * j * j) + 0.01 * i * j;
  for (bool reflect : {false, true}) {
    MgnoSpec s;
    s.in_channels = 1, s.channels = 1, s.layers = 1;
    s.smoothing = {2, 2, 2, 2, 60};
    s.residual_restriction = true;
    s.pad = reflect ? kpde::nn::PadMode::reflect : kpde::nn::PadMode::zeros;
    const TextbookMg mg{s.smoothing, 0.8, 1.0 / (n - 1), reflect ? 4.0 : 0.0, reflect};
    const Mgno<double> net(s);
    Vec p(net.n_params());
    set_textbook_weights(net, p, mg);
    const Vec v = vcycle_of(net, p, f, n), ref = mg.cycle(f, n, 0);
    double err = 0, mag = 0;
    for (std::size_t i = 0; i < v.size(); ++i) err = std::max(err, std::abs(v[i] - ref[i])), mag = std::max(mag, std::abs(ref[i]));
    EXPECT_LT(err, 1e-12 * mag) << (reflect ? "reflect" : "zeros") << ": max |MgNO V-cycle - textbook| " << err << " of " << mag;
    if (!reflect) continue;
    // Iterated as u <- u + V(f - A u) on the Neumann problem (the mirrored edges line up
    // on every level), the cycle cuts the residual by a multigrid factor; its smoothing
    // alone (the same two sweeps, no coarse levels) barely moves it.
    const auto rate = [&](bool coarse) {
      MgnoSpec one = s;
      if (!coarse) one.smoothing = {2};
      const Mgno<double> m(one);
      TextbookMg tm = mg;
      tm.nu = one.smoothing;
      Vec q(m.n_params());
      set_textbook_weights(m, q, tm);
      Vec u(f.size(), 0.0), r = f;
      double r0 = 0, r1 = 0;
      for (int it = 0; it < 8; ++it) {
        const Vec e = vcycle_of(m, q, r, n);
        for (std::size_t i = 0; i < u.size(); ++i) u[i] += e[i];
        const Vec au = tm.apply(u, n, tm.h);
        double nr = 0;
        for (std::size_t i = 0; i < r.size(); ++i) r[i] = f[i] - au[i], nr += r[i] * r[i];
        (it == 3 ? r0 : r1) = std::sqrt(nr);
      }
      return std::pow(r1 / r0, 1.0 / 4);  // mean factor per cycle over cycles 5-8
    };
    const double mg_rate = rate(true), smooth_rate = rate(false);
    EXPECT_LT(mg_rate, 0.5) << "V-cycle residual factor per cycle";
    EXPECT_GT(smooth_rate, 0.95) << "smoothing alone";
    std::printf("residual factor per cycle: V-cycle %.3f, smoothing alone %.4f\n", mg_rate, smooth_rate);
  }
}

TEST(Mgno, SameBitsOnOneAndTwoThreads) {
#ifdef _OPENMP
  const MgnoSpec s = small_spec(kpde::nn::PadMode::zeros, false);
  MgnoSpec big = s;
  big.channels = 16;
  const Mgno<float> net(big);
  const int B = 4, H = 40, W = 37;
  std::vector<float> p(net.n_params()), a(static_cast<std::size_t>(B) * 2 * H * W), u(static_cast<std::size_t>(B) * H * W);
  net.init_params(p.data(), 3);
  const Vec an = randn(a.size(), 4);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(an[i]);
  const auto once = [&] {
    typename Mgno<float>::Cache c;
    net.forward(p.data(), Arr4<const float>(a.data(), B, 2, H, W), Arr4<float>(u.data(), B, 1, H, W), &c);
    std::vector<float> g(net.n_params(), 0.0f);
    net.backward(p.data(), c, Arr4<const float>(u.data(), B, 1, H, W), g.data());
    g.insert(g.end(), u.begin(), u.end());
    return g;
  };
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> one = once();
  omp_set_num_threads(2);
  const std::vector<float> two = once();
  omp_set_num_threads(threads);
  EXPECT_EQ(one, two);
#else
  GTEST_SKIP() << "built without OpenMP";
#endif
}

TEST(Mgno, RunsOnAnyExtentAndRefusesBadShapes) {
  const MgnoSpec s = small_spec(kpde::nn::PadMode::zeros, false);
  const Mgno<double> net(s);
  Vec p(net.n_params());
  net.init_params(p.data(), 1);
  ASSERT_EQ(s.min_extent(), 5);
  for (int n : {5, 6, 10, 17, 24}) {  // the same weights on other grids
    const Vec u = run(net, p, randn(static_cast<std::size_t>(2) * n * n, 2), 1, n, n);
    for (double x : u) ASSERT_TRUE(std::isfinite(x));
  }
  EXPECT_THROW(run(net, p, Vec(2 * 4 * 4), 1, 4, 4), kpde::InputError);  // coarsest level 1 x 1
  Vec u(100);
  EXPECT_THROW(net.forward(p.data(), Arr4<const double>(u.data(), 1, 1, 10, 10), Arr4<double>(u.data(), 1, 1, 10, 10)),
               kpde::InputError);  // one input channel for a two-channel model
  MgnoSpec bad = s;
  bad.smoothing = {1, 0};
  EXPECT_THROW(bad.validate(), kpde::InputError);
  bad = s, bad.channels = 0;
  EXPECT_THROW(bad.validate(), kpde::InputError);
  EXPECT_THROW(operators::parse_pad_mode("mirror"), kpde::InputError);
}
