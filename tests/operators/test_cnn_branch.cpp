// operators::CnnBranch (operators/cnn_branch.hpp): shapes and parameter layout of the
// MT-DeepONet branch, the forward pass against loops written out here, parameter and input
// gradients of a weighted sum of the outputs against central differences in double
// (odd map sizes through the pools), the same bits with one thread as with two, float
// against double, and the errors of validate() and of bad shapes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/error.hpp"
#include "core/rng.hpp"
#include "operators/cnn_branch.hpp"
#include "runtime/runtime.hpp"
#include "support/fd_check.hpp"
#include "support/input_checks.hpp"

using kpde::Error;
using kpde::Mat;
using kpde::Rng;
using kpde::Runtime;
namespace operators = kpde::operators;
using operators::CnnActivation;
using operators::CnnBranch;
using operators::CnnBranchSpec;
using Vec = std::vector<double>;

namespace {

Vec randn(std::size_t n, std::uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  Vec v(n);
  for (double& e : v) e = scale * rng.normal();
  return v;
}

/// A small branch: C = 2, H x W (odd sizes pool with the remainder dropped), two conv blocks.
CnnBranchSpec small_spec(int H, int W, CnnActivation act) {
  CnnBranchSpec s;
  s.channels = 2, s.height = H, s.width = W;
  s.filters = {3, 4};
  s.kernel = 5;
  s.pool = 2;
  s.dense = {5};
  s.outputs = 3;
  s.conv_activation = act;
  return s;
}

/// Parameters from init (PyTorch's defaults; the biases are nonzero too).
template <class T>
std::vector<T> params_of(const CnnBranch<T>& net, std::uint64_t seed) {
  std::vector<T> p(net.n_params());
  Rng rng(seed);
  net.init(p.data(), rng);
  return p;
}

/// out [B][q] of net at params p on images x [B][C H W], in double.
Vec run_forward(const CnnBranch<double>& net, const Vec& p, const Vec& x, int B) {
  Vec out(static_cast<std::size_t>(B) * net.spec().outputs);
  net.forward(p.data(), Mat<const double>(x.data(), B, net.input_size()),
              Mat<double>(out.data(), B, net.spec().outputs));
  return out;
}

double act(CnnActivation a, double z) {
  switch (a) {
    case CnnActivation::relu: return z > 0 ? z : 0;
    case CnnActivation::gelu: return 0.5 * z * (1 + std::erf(z / std::sqrt(2.0)));
    case CnnActivation::tanh: return std::tanh(z);
  }
  return 0;
}

/// The branch written out as loops: conv 'same' (zeros), activation, average pool with the
/// remainder dropped, flatten [C][H][W], dense tanh layers, a linear last layer.
Vec reference_forward(const CnnBranchSpec& s, const Vec& p, const Vec& x, int B) {
  Vec out;
  for (int b = 0; b < B; ++b) {
    int C = s.channels, H = s.height, W = s.width;
    Vec a(x.begin() + static_cast<long>(b) * C * H * W, x.begin() + static_cast<long>(b + 1) * C * H * W);
    std::size_t off = 0;
    const int k = s.kernel, r = k / 2;
    for (const int F : s.filters) {
      const double* Wt = p.data() + off;
      const double* bias = Wt + static_cast<std::size_t>(F) * C * k * k;
      off += static_cast<std::size_t>(F) * C * k * k + F;
      Vec z(static_cast<std::size_t>(F) * H * W);
      for (int o = 0; o < F; ++o)
        for (int i = 0; i < H; ++i)
          for (int j = 0; j < W; ++j) {
            double v = bias[o];
            for (int c = 0; c < C; ++c)
              for (int u = 0; u < k; ++u)
                for (int w = 0; w < k; ++w) {
                  const int ii = i + u - r, jj = j + w - r;
                  if (ii >= 0 && ii < H && jj >= 0 && jj < W)
                    v += Wt[((o * C + c) * k + u) * k + w] * a[(static_cast<std::size_t>(c) * H + ii) * W + jj];
                }
            z[(static_cast<std::size_t>(o) * H + i) * W + j] = act(s.conv_activation, v);
          }
      const int q = s.pool, Ho = H / q, Wo = W / q;
      a.assign(static_cast<std::size_t>(F) * Ho * Wo, 0.0);
      for (int o = 0; o < F; ++o)
        for (int i = 0; i < Ho; ++i)
          for (int j = 0; j < Wo; ++j) {
            double v = 0;
            for (int u = 0; u < q; ++u)
              for (int w = 0; w < q; ++w) v += z[(static_cast<std::size_t>(o) * H + i * q + u) * W + j * q + w];
            a[(static_cast<std::size_t>(o) * Ho + i) * Wo + j] = v / (q * q);
          }
      C = F, H = Ho, W = Wo;
    }
    std::vector<int> widths = s.dense;
    widths.push_back(s.outputs);
    for (std::size_t l = 0; l < widths.size(); ++l) {
      const int in = static_cast<int>(a.size()), n = widths[l];
      const double* Wt = p.data() + off;
      const double* bias = Wt + static_cast<std::size_t>(n) * in;
      off += static_cast<std::size_t>(n) * in + n;
      Vec h(static_cast<std::size_t>(n));
      for (int o = 0; o < n; ++o) {
        double v = bias[o];
        for (int i = 0; i < in; ++i) v += Wt[static_cast<std::size_t>(o) * in + i] * a[i];
        h[o] = l + 1 < widths.size() ? std::tanh(v) : v;
      }
      a = h;
    }
    out.insert(out.end(), a.begin(), a.end());
  }
  return out;
}

double rel_diff(const Vec& a, const Vec& b) {
  double e = 0, s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i])), s = std::max(s, std::abs(b[i]));
  return s > 0 ? e / s : e;
}

/// The smallest |pre-activation| of the conv blocks in a cache (ReLU's kink at 0).
double min_abs_pre(const CnnBranch<double>::Cache& c) {
  double m = INFINITY;
  for (const auto& z : c.conv_pre)
    for (std::size_t i = 0; i < z.size(); ++i) m = std::min(m, std::abs(z.data()[i]));
  return m;
}

/// Parameter and input gradients of sum(w .* out) against central differences (h = 1e-6), at
/// every stride-th entry and the first and last of every layer's block.
void check_gradients(const CnnBranchSpec& s, int B, std::uint64_t seed, std::size_t stride = 1) {
  SCOPED_TRACE("activation " + operators::to_string(s.conv_activation) + ", " + std::to_string(s.height) + " x " +
               std::to_string(s.width));
  const CnnBranch<double> net(s);
  Vec p = params_of(net, seed);
  Vec x = randn(static_cast<std::size_t>(B) * net.input_size(), seed + 1);
  const Vec w = randn(static_cast<std::size_t>(B) * s.outputs, seed + 2);
  Vec out(w.size());
  CnnBranch<double>::Cache cache;
  net.forward(p.data(), Mat<const double>(x.data(), B, net.input_size()), Mat<double>(out.data(), B, s.outputs),
              &cache);
  // One FD step moves a pre-activation by at most h (1 + |theta|) max|input| < 5e-6 here
  // (|x| < 4, |W| < 0.15): ReLU's kink must stay farther away than that.
  if (s.conv_activation == CnnActivation::relu) {
    ASSERT_GT(min_abs_pre(cache), 2e-5) << "a pre-activation sits at ReLU's kink; pick another seed";
  }
  Vec g(net.n_params(), 123.0), dx(x.size(), 123.0);  // both must be overwritten
  const Mat<double> dxm(dx.data(), B, net.input_size());
  net.backward(p.data(), cache, Mat<const double>(w.data(), B, s.outputs), g.data(), &dxm);
  kpde::testing::GradientOptions o;
  o.h = 1e-6;
  o.what = "CnnBranch parameter gradient";
  std::vector<std::size_t> starts;
  for (int l = 0; l < static_cast<int>(s.filters.size()); ++l) starts.push_back(net.conv_offset(l));
  for (int l = 0; l <= static_cast<int>(s.dense.size()); ++l) starts.push_back(net.dense_offset(l));
  if (stride > 1) o.indices = kpde::testing::sampled_indices(p.size(), stride, starts);
  const auto loss_p = [&](const Vec& q) {
    const Vec y = run_forward(net, q, x, B);
    double v = 0;
    for (std::size_t i = 0; i < y.size(); ++i) v += w[i] * y[i];
    return v;
  };
  EXPECT_TRUE(kpde::testing::fd_within(kpde::testing::check_gradient(loss_p, p, g, o), 1e-6));
  o.what = "CnnBranch input gradient";
  if (stride > 1) o.indices = kpde::testing::sampled_indices(x.size(), stride);
  EXPECT_TRUE(kpde::testing::fd_within(
      kpde::testing::check_vjp([&](const Vec& xx) { return run_forward(net, p, xx, B); }, x, w, dx, o), 1e-6));
  // a second backward without dx gives the same parameter gradient (grad overwritten). The
  // same buffer: kpde::gemm (Eigen) may round small products differently at another alignment.
  const Vec g1 = g;
  std::fill(g.begin(), g.end(), -5.0);
  net.backward(p.data(), cache, Mat<const double>(w.data(), B, s.outputs), g.data());
  EXPECT_EQ(g, g1);
}

}  // namespace

TEST(CnnBranch, ShapesOfTheMtDeepOnetBranch) {
  CnnBranchSpec s;  // MT-DeepONet on Darcy: 2 x 100 x 100
  s.height = 100, s.width = 100, s.outputs = 7;
  EXPECT_EQ(operators::to_string(s.conv_activation), "relu");
  const CnnBranch<double> net(s);
  const int expected_maps[] = {100, 50, 25, 12, 6};
  for (int l = 0; l <= 4; ++l) {
    EXPECT_EQ(s.map_height(l), expected_maps[l]) << l;
    EXPECT_EQ(s.map_width(l), expected_maps[l]) << l;
  }
  EXPECT_EQ(net.input_size(), 2 * 100 * 100);
  EXPECT_EQ(net.flat_size(), 64 * 6 * 6);
  // conv: F C 25 + F per block; dense: out in + out per layer
  const std::size_t conv[] = {16 * 2 * 25 + 16, 32 * 16 * 25 + 32, 64 * 32 * 25 + 64, 64 * 64 * 25 + 64};
  const std::size_t dense[] = {2304 * 128 + 128, 128 * 128 + 128, 128 * 7 + 7};
  std::size_t off = 0;
  for (int l = 0; l < 4; ++l) {
    EXPECT_EQ(net.conv_offset(l), off) << l;
    off += conv[l];
  }
  for (int l = 0; l < 3; ++l) {
    EXPECT_EQ(net.dense_offset(l), off) << l;
    off += dense[l];
  }
  EXPECT_EQ(net.n_params(), off);
  // forward flops: 2 B H W F C k^2 per block, 2 B in out per dense layer
  double f = 0;
  const int chans[] = {2, 16, 32, 64, 64};
  for (int l = 0; l < 4; ++l) f += 2.0 * 3 * expected_maps[l] * expected_maps[l] * chans[l + 1] * chans[l] * 25;
  f += 2.0 * 3 * (2304 * 128 + 128 * 128 + 128 * 7);
  EXPECT_DOUBLE_EQ(net.forward_flops(3), f);
  // init: every parameter within PyTorch's bound of its layer, not all zero
  const Vec p = params_of(net, 1);
  EXPECT_LE(std::abs(p[0]), 1 / std::sqrt(50.0));
  EXPECT_LE(std::abs(p[net.dense_offset(0)]), 1 / std::sqrt(2304.0));
  EXPECT_GT(std::abs(p[net.dense_offset(2)]), 0.0);
  // a batch of 2 gives [2][7], finite
  const Vec x = randn(2 * net.input_size(), 2);
  const Vec out = run_forward(net, p, x, 2);
  ASSERT_EQ(out.size(), 14u);
  for (const double v : out) EXPECT_TRUE(std::isfinite(v));
}

TEST(CnnBranch, ForwardMatchesLoopsWrittenOut) {
  for (const CnnActivation a : {CnnActivation::relu, CnnActivation::gelu, CnnActivation::tanh}) {
    CnnBranchSpec s = small_spec(13, 11, a);
    const CnnBranch<double> net(s);
    const int B = 3;
    const Vec p = params_of(net, 5), x = randn(static_cast<std::size_t>(B) * net.input_size(), 6);
    EXPECT_LT(rel_diff(run_forward(net, p, x, B), reference_forward(s, p, x, B)), 1e-13)
        << operators::to_string(a);
  }
  // pool 3, kernel 3, three blocks, no hidden dense layer
  CnnBranchSpec s = small_spec(29, 31, CnnActivation::tanh);
  s.filters = {2, 3, 2}, s.kernel = 3, s.pool = 3, s.dense = {};
  const CnnBranch<double> net(s);
  EXPECT_EQ(net.flat_size(), 2 * 1 * 1);  // 29 -> 9 -> 3 -> 1, 31 -> 10 -> 3 -> 1
  const Vec p = params_of(net, 7), x = randn(2 * net.input_size(), 8);
  EXPECT_LT(rel_diff(run_forward(net, p, x, 2), reference_forward(s, p, x, 2)), 1e-13);
  // pool 1: no pooling
  s = small_spec(6, 5, CnnActivation::gelu);
  s.pool = 1;
  const CnnBranch<double> net1(s);
  EXPECT_EQ(net1.flat_size(), 4 * 6 * 5);
  const Vec p1 = params_of(net1, 9), x1 = randn(2 * net1.input_size(), 10);
  EXPECT_LT(rel_diff(run_forward(net1, p1, x1, 2), reference_forward(s, p1, x1, 2)), 1e-13);
}

TEST(CnnBranch, GradientsMatchFiniteDifferences) {
  check_gradients(small_spec(13, 12, CnnActivation::gelu), 3, 11);  // 13 -> 6 -> 3, 12 -> 6 -> 3
  check_gradients(small_spec(12, 13, CnnActivation::tanh), 3, 21, 4);
  check_gradients(small_spec(11, 9, CnnActivation::relu), 3, 31, 4);  // away from the kink (checked)
  CnnBranchSpec s = small_spec(10, 11, CnnActivation::gelu);
  s.filters = {3}, s.kernel = 3, s.pool = 3, s.dense = {};  // no hidden dense layer
  check_gradients(s, 2, 41);
  s.pool = 1;  // no pooling
  check_gradients(s, 2, 51);
}

TEST(CnnBranch, SameBitsWithOneThreadAsWithTwo) {
  // Large enough that the conv, pooling and dense passes take their parallel paths.
  CnnBranchSpec s = small_spec(41, 37, CnnActivation::relu);
  s.filters = {8, 16}, s.dense = {32};
  const CnnBranch<double> net(s);
  const int B = 70;  // two row blocks of the dense layers
  const Vec p = params_of(net, 61), x = randn(static_cast<std::size_t>(B) * net.input_size(), 62);
  const Vec w = randn(static_cast<std::size_t>(B) * s.outputs, 63);
  const auto run = [&](Vec& out, Vec& g, Vec& dx) {  // resized, never reallocated after the first run
    out.resize(w.size()), g.resize(net.n_params()), dx.resize(x.size());
    CnnBranch<double>::Cache cache;
    net.forward(p.data(), Mat<const double>(x.data(), B, net.input_size()), Mat<double>(out.data(), B, s.outputs),
                &cache);
    const Mat<double> dxm(dx.data(), B, net.input_size());
    net.backward(p.data(), cache, Mat<const double>(w.data(), B, s.outputs), g.data(), &dxm);
  };
  // The same output buffers for both runs: kpde::gemm (Eigen) may round small products
  // differently at another alignment.
  Vec out, g, dx;
  run(out, g, dx);
  const Vec out2 = out, g2 = g, dx2 = dx;
  for (Vec* v : {&out, &g, &dx}) std::fill(v->begin(), v->end(), std::nan(""));  // all must be written again
  // Inside an OpenMP region of one thread, Kokkos' OpenMP backend runs every parallel
  // pattern on the calling thread (OpenMP::in_parallel()).
  int threads_outside = 1, threads_inside = 1;
#ifdef _OPENMP
  // the OpenMP threads a Kokkos parallel_for runs on
  const auto threads_of_a_loop = [] {
    std::atomic<int> most{0};
    Kokkos::parallel_for("probe", Kokkos::RangePolicy<kpde::HostExec>(0, 64), [&](int) {
      int n = omp_get_num_threads(), seen = most.load();
      while (n > seen && !most.compare_exchange_weak(seen, n)) {
      }
    });
    return most.load();
  };
  threads_outside = threads_of_a_loop();
#pragma omp parallel num_threads(1)
  {
    threads_inside = threads_of_a_loop();
    run(out, g, dx);
  }
#else
  run(out, g, dx);
#endif
  const Vec out1 = out, g1 = g, dx1 = dx;
  EXPECT_EQ(threads_outside, Runtime::n_threads());  // 2 under ctest with OpenMP
  EXPECT_EQ(threads_inside, 1);
  EXPECT_EQ(out1, out2);
  EXPECT_EQ(g1, g2);
  EXPECT_EQ(dx1, dx2);
}

TEST(CnnBranch, FloatMatchesDouble) {
  const CnnBranchSpec s = small_spec(16, 15, CnnActivation::relu);
  const CnnBranch<double> nd(s);
  const CnnBranch<float> nf(s);
  const int B = 4;
  const Vec p = params_of(nd, 71), x = randn(static_cast<std::size_t>(B) * nd.input_size(), 72),
            w = randn(static_cast<std::size_t>(B) * s.outputs, 73);
  const std::vector<float> pf(p.begin(), p.end()), xf(x.begin(), x.end()), wf(w.begin(), w.end());
  Vec out(w.size()), g(nd.n_params());
  std::vector<float> outf(w.size()), gf(nf.n_params());
  CnnBranch<double>::Cache cd;
  CnnBranch<float>::Cache cf;
  nd.forward(p.data(), Mat<const double>(x.data(), B, nd.input_size()), Mat<double>(out.data(), B, s.outputs), &cd);
  nf.forward(pf.data(), Mat<const float>(xf.data(), B, nf.input_size()), Mat<float>(outf.data(), B, s.outputs), &cf);
  nd.backward(p.data(), cd, Mat<const double>(w.data(), B, s.outputs), g.data());
  nf.backward(pf.data(), cf, Mat<const float>(wf.data(), B, s.outputs), gf.data());
  EXPECT_LT(rel_diff(Vec(outf.begin(), outf.end()), out), 1e-5);
  EXPECT_LT(rel_diff(Vec(gf.begin(), gf.end()), g), 1e-4);
}

TEST(CnnBranch, ValidateNamesTheField) {
  CnnBranchSpec s;
  s.height = 100, s.width = 100, s.outputs = 4;
  EXPECT_NO_THROW(s.validate());
  const auto expect = [](CnnBranchSpec bad, const std::vector<std::string>& pieces) {
    kpde::test::expect_input_error([&] { bad.validate(); }, pieces);
    kpde::test::expect_input_error([&] { CnnBranch<double> net(bad); }, pieces);
  };
  CnnBranchSpec t = s;
  t.height = 12;  // 12 -> 6 -> 3 -> 1 -> 0
  expect(t, {"cnn_branch", "height 12 is too small for 4 pools of 2", "block 4", "height must be >= 16"});
  t = s, t.width = 7;
  expect(t, {"width 7 is too small", "block 3", "width must be >= 16"});
  t = s, t.height = 16, t.width = 16;
  EXPECT_NO_THROW(t.validate());  // 16 -> 8 -> 4 -> 2 -> 1
  t = s, t.kernel = 4;
  expect(t, {"kernel must be odd", "got 4"});
  t = s, t.kernel = 0;
  expect(t, {"kernel must be in [1, 63]", "got 0"});
  t = s, t.channels = 0;
  expect(t, {"channels"});
  t = s, t.height = 0;
  expect(t, {"height must be in"});
  t = s, t.filters = {};
  expect(t, {"filters must list at least one conv block"});
  t = s, t.filters = {16, 0};
  expect(t, {"filters[1]", "got 0"});
  t = s, t.dense = {128, -1};
  expect(t, {"dense[1]", "got -1"});
  t = s, t.dense = {};
  EXPECT_NO_THROW(t.validate());
  t = s, t.pool = 0;
  expect(t, {"pool must be in"});
  t = s, t.outputs = 0;
  expect(t, {"outputs must be in", "got 0"});
  CnnBranchSpec unset;  // height, width and outputs have no defaults
  expect(unset, {"height"});
  EXPECT_EQ(operators::parse_cnn_activation("ReLU"), CnnActivation::relu);
  EXPECT_EQ(operators::parse_cnn_activation("gelu"), CnnActivation::gelu);
  EXPECT_EQ(operators::parse_cnn_activation("TANH"), CnnActivation::tanh);
  kpde::test::expect_input_error([] { operators::parse_cnn_activation("swish"); }, {"swish", "relu, gelu or tanh"});
}

TEST(CnnBranch, BadShapesThrow) {
  const CnnBranchSpec s = small_spec(8, 8, CnnActivation::gelu);
  const CnnBranch<double> net(s);
  const Vec p = params_of(net, 81);
  Vec x(2 * net.input_size()), out(2 * 3), bad(100);
  kpde::test::expect_input_error(
      [&] { net.forward(p.data(), Mat<const double>(x.data(), 2, 127), Mat<double>(out.data(), 2, 3)); },
      {"CnnBranch::forward", "x has extents [2][127]", "[any][128]"});
  kpde::test::expect_input_error(
      [&] { net.forward(p.data(), Mat<const double>(x.data(), 2, 128), Mat<double>(out.data(), 3, 2)); },
      {"CnnBranch::forward", "out has extents [3][2]"});
  CnnBranch<double>::Cache empty;
  Vec g(net.n_params());
  EXPECT_THROW(net.backward(p.data(), empty, Mat<const double>(out.data(), 2, 3), g.data()), Error);
  CnnBranch<double>::Cache cache;
  net.forward(p.data(), Mat<const double>(x.data(), 2, 128), Mat<double>(out.data(), 2, 3), &cache);
  kpde::test::expect_input_error(
      [&] { net.backward(p.data(), cache, Mat<const double>(out.data(), 3, 2), g.data()); },
      {"CnnBranch::backward", "dout has extents [3][2]"});
  const Mat<double> dx(bad.data(), 2, 50);
  kpde::test::expect_input_error(
      [&] { net.backward(p.data(), cache, Mat<const double>(out.data(), 2, 3), g.data(), &dx); },
      {"CnnBranch::backward", "dx has extents [2][50]"});
}
