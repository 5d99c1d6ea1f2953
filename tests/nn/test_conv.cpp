// Conv2d, ConvTranspose2d, average pooling and upsampling (nn/conv2d.hpp, nn/resample.hpp):
// forward against direct loops and hand-computed values, backward against central
// differences (FD harness) and dot-product tests, float against double, shape errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "nn/conv2d.hpp"
#include "nn/resample.hpp"
#include "support/fd_check.hpp"
#include "support/input_checks.hpp"

namespace {

using kpde::Arr4;
using kpde::InputError;
using kpde::nn::Conv2d;
using kpde::nn::Conv2dSpec;
using kpde::nn::ConvTranspose2d;
using kpde::nn::ConvTranspose2dSpec;
using kpde::nn::PadMode;
using kpde::nn::PoolRemainder;
using kpde::nn::UpsampleMode;
using kpde::nn::avg_pool2d_backward;
using kpde::nn::avg_pool2d_forward;
using kpde::nn::upsample_backward;
using kpde::nn::upsample_forward;
using kpde::testing::adjoint_mismatch;
using kpde::testing::check_vjp;
using kpde::testing::fd_within;
using kpde::testing::GradientOptions;
using Vec = std::vector<double>;

/// n standard normal numbers from seed.
Vec randn(std::size_t n, std::uint64_t seed) {
  kpde::Rng rng(seed);
  Vec v(n);
  for (double& e : v) e = rng.normal();
  return v;
}

/// A (non-owning) map [B][C][H][W] over v.
template <class T>
Arr4<T> map_of(std::vector<T>& v, int B, int C, int H, int W) {
  return Arr4<T>(v.data(), B, C, H, W);
}
template <class T>
Arr4<const T> cmap_of(const std::vector<T>& v, int B, int C, int H, int W) {
  return Arr4<const T>(v.data(), B, C, H, W);
}

/// max |a - b| / max |b|.
double rel_diff(const Vec& a, const Vec& b) {
  double e = 0, s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i])), s = std::max(s, std::abs(b[i]));
  return s > 0 ? e / s : e;
}

/// Index of padded position i in [0, n) (-1: zero), written as PyTorch documents it.
int padded_index(int i, int n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  if (mode == PadMode::zeros) return -1;
  if (mode == PadMode::circular) return i < 0 ? i + n : i - n;  // |overhang| <= n in the tests
  return i < 0 ? -i : (n - 1) - (i - (n - 1));
}

/// Conv2d by its defining sum (the class comment of nn::Conv2d).
Vec direct_conv(const Conv2dSpec& s, const Vec& w, const Vec& x, int B, int H, int W) {
  const int k = s.kernel, Ho = (H + 2 * s.padding - k) / s.stride + 1, Wo = (W + 2 * s.padding - k) / s.stride + 1;
  const int Ci = s.in_channels, Co = s.out_channels;
  Vec y(static_cast<std::size_t>(B) * Co * Ho * Wo);
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < Co; ++o)
      for (int i = 0; i < Ho; ++i)
        for (int j = 0; j < Wo; ++j) {
          double acc = s.bias ? w[static_cast<std::size_t>(Co) * Ci * k * k + o] : 0.0;
          for (int c = 0; c < Ci; ++c)
            for (int p = 0; p < k; ++p)
              for (int q = 0; q < k; ++q) {
                const int r = padded_index(i * s.stride + p - s.padding, H, s.pad);
                const int t = padded_index(j * s.stride + q - s.padding, W, s.pad);
                if (r >= 0 && t >= 0) acc += w[((o * Ci + c) * k + p) * k + q] * x[((b * Ci + c) * H + r) * W + t];
              }
          y[((b * Co + o) * Ho + i) * Wo + j] = acc;
        }
  return y;
}

/// ConvTranspose2d by scattering (PyTorch's definition), W [in][out][k][k].
Vec direct_conv_transpose(const ConvTranspose2dSpec& s, const Vec& w, const Vec& x, int B, int H, int W) {
  const int k = s.kernel, Ci = s.in_channels, Co = s.out_channels;
  const int Ho = (H - 1) * s.stride - 2 * s.padding + k + s.output_padding;
  const int Wo = (W - 1) * s.stride - 2 * s.padding + k + s.output_padding;
  Vec y(static_cast<std::size_t>(B) * Co * Ho * Wo);
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < Co; ++o) {
      for (int e = 0; e < Ho * Wo; ++e) y[(b * Co + o) * Ho * Wo + e] = s.bias ? w[Ci * Co * k * k + o] : 0.0;
      for (int c = 0; c < Ci; ++c)
        for (int i = 0; i < H; ++i)
          for (int j = 0; j < W; ++j)
            for (int p = 0; p < k; ++p)
              for (int q = 0; q < k; ++q) {
                const int r = i * s.stride + p - s.padding, t = j * s.stride + q - s.padding;
                if (r >= 0 && r < Ho && t >= 0 && t < Wo)
                  y[((b * Co + o) * Ho + r) * Wo + t] +=
                      w[((c * Co + o) * k + p) * k + q] * x[((b * Ci + c) * H + i) * W + j];
              }
    }
  return y;
}

/// A layer (Conv2d or ConvTranspose2d) on [B][ci][H][W] -> [B][co][Ho][Wo] maps held in vectors.
template <class Layer>
struct Harness {
  const Layer& layer;
  int B, ci, co, H, W, Ho, Wo;
  template <class T>
  std::vector<T> forward(const std::vector<T>& params, const std::vector<T>& x) const {
    std::vector<T> y(static_cast<std::size_t>(B) * co * Ho * Wo);
    layer.forward(params.data(), cmap_of(x, B, ci, H, W), map_of(y, B, co, Ho, Wo));
    return y;
  }
  /// dx (empty: skipped) and grad += from dy.
  template <class T>
  void backward(const std::vector<T>& params, const std::vector<T>& x, const std::vector<T>& dy, std::vector<T>& dx,
                std::vector<T>& grad) const {
    const Arr4<T> dxv = dx.empty() ? Arr4<T>() : map_of(dx, B, ci, H, W);
    layer.backward(params.data(), cmap_of(x, B, ci, H, W), cmap_of(dy, B, co, Ho, Wo), dxv, grad.data());
  }
  std::size_t nx() const { return static_cast<std::size_t>(B) * ci * H * W; }
  std::size_t ny() const { return static_cast<std::size_t>(B) * co * Ho * Wo; }
};

/// The harness of layer L on inputs [B][in_channels][H][W].
template <class Layer>
Harness<Layer> harness(const Layer& L, int B, int H, int W) {
  return {L, B, L.spec().in_channels, L.spec().out_channels, H, W, L.out_extent(H), L.out_extent(W)};
}

/// Parameters from the layer's init (seeded).
template <class Layer>
Vec init_params(const Layer& L, std::uint64_t seed) {
  Vec p(L.n_params());
  kpde::Rng rng(seed);
  L.init(p.data(), rng);
  return p;
}

/// FD checks (check_vjp) of dx and of the parameter gradient of any layer harness.
template <class Layer>
void expect_fd_gradients(const Harness<Layer>& h, const std::string& name) {
  Vec params = init_params(h.layer, 11), x = randn(h.nx(), 12);
  const Vec v = randn(h.ny(), 13);
  Vec dx(h.nx()), grad(params.size(), 0.0);
  h.backward(params, x, v, dx, grad);
  GradientOptions o;
  o.what = name + " dx";
  EXPECT_TRUE(fd_within(check_vjp([&](const Vec& xx) { return h.forward(params, xx); }, x, v, dx, o), 1e-6));
  o.what = name + " dparams";
  EXPECT_TRUE(fd_within(check_vjp([&](const Vec& pp) { return h.forward(pp, x); }, params, v, grad, o), 1e-6));
}

/// backward ADDS into grad (a second call doubles it, bit for bit), with or without dx.
template <class Layer>
void expect_grad_added(const Harness<Layer>& h, const Vec& params, const Vec& x, const Vec& dy) {
  Vec dx(h.nx()), none, once(params.size(), 0.0), twice(params.size(), 0.0);
  h.backward(params, x, dy, dx, once);
  h.backward(params, x, dy, none, twice);
  EXPECT_EQ(once, twice);  // the same with and without dx
  h.backward(params, x, dy, none, twice);
  for (std::size_t i = 0; i < once.size(); ++i) EXPECT_EQ(twice[i], 2 * once[i]) << i;
}

/// The float layer hf against the double layer h (same shapes) at (params, x, dy): forward, dx
/// and grad agree to 1e-5 relative.
template <class Layer, class LayerF>
void expect_float_agrees(const Harness<Layer>& h, const Harness<LayerF>& hf, const Vec& params, const Vec& x,
                         const Vec& dy) {
  const auto to_f = [](const Vec& v) { return std::vector<float>(v.begin(), v.end()); };
  const auto to_d = [](const std::vector<float>& v) { return Vec(v.begin(), v.end()); };
  EXPECT_LT(rel_diff(to_d(hf.forward(to_f(params), to_f(x))), h.forward(params, x)), 1e-5);
  Vec dx(h.nx()), grad(params.size(), 0.0);
  std::vector<float> dxf(h.nx()), gradf(params.size(), 0.0f);
  h.backward(params, x, dy, dx, grad);
  hf.backward(to_f(params), to_f(x), to_f(dy), dxf, gradf);
  EXPECT_LT(rel_diff(to_d(dxf), dx), 1e-5);
  EXPECT_LT(rel_diff(to_d(gradf), grad), 1e-5);
}

/// Kernel, stride and padding of a test case.
struct Geo {
  int k, s, p;
};

const char* mode_name(PadMode m) {
  return m == PadMode::zeros ? "zeros" : m == PadMode::reflect ? "reflect" : "circular";
}

// ---- Conv2d -------------------------------------------------------------------------------

TEST(Conv2dForward, MatchesDirectLoop) {
  for (PadMode mode : {PadMode::zeros, PadMode::reflect, PadMode::circular})
    for (Geo g : {Geo{1, 1, 0}, Geo{1, 2, 1}, Geo{3, 1, 1}, Geo{3, 2, 1}, Geo{4, 1, 2}, Geo{4, 2, 1}, Geo{3, 1, 0}})
      for (bool bias : {true, false})
        for (auto hw : {std::pair<int, int>{7, 6}, std::pair<int, int>{8, 9}}) {
          Conv2dSpec s;
          s.in_channels = 2, s.out_channels = 3, s.kernel = g.k, s.stride = g.s, s.padding = g.p, s.pad = mode;
          s.bias = bias;
          const Conv2d<double> L(s);
          const auto h = harness(L, 3, hw.first, hw.second);
          const Vec params = randn(L.n_params(), 1), x = randn(h.nx(), 2);
          EXPECT_LT(rel_diff(h.forward(params, x), direct_conv(s, params, x, 3, hw.first, hw.second)), 1e-13)
              << mode_name(mode) << " k" << g.k << " s" << g.s << " p" << g.p << " bias " << bias << " "
              << hw.first << "x" << hw.second;
        }
}

TEST(Conv2dGradient, FiniteDifferencesEveryPadMode) {
  for (PadMode mode : {PadMode::zeros, PadMode::reflect, PadMode::circular})
    for (Geo g : {Geo{3, 1, 1}, Geo{3, 2, 1}, Geo{4, 2, 2}}) {
      Conv2dSpec s;
      s.in_channels = 3, s.out_channels = 4, s.kernel = g.k, s.stride = g.s, s.padding = g.p, s.pad = mode;
      const Conv2d<double> L(s);
      expect_fd_gradients(harness(L, 2, 7, 6), std::string("Conv2d ") + mode_name(mode) + " k" +
                                                   std::to_string(g.k) + " s" + std::to_string(g.s));
    }
}

/// Dot-product tests of a layer's backward at (params, x, dy); the layers are affine in x and
/// linear in the parameters: <y(a) - y(0), dy> = <a, dx> and <y(p), dy> = <p, grad>.
template <class Layer>
void expect_backward_adjoint(const Harness<Layer>& h, const Vec& params, const Vec& x, const Vec& dy) {
  Vec dx(h.nx()), grad(params.size(), 0.0);
  h.backward(params, x, dy, dx, grad);
  const Vec y0 = h.forward(params, Vec(h.nx(), 0.0));
  const auto linear_in_x = [&](const Vec& a) {
    Vec y = h.forward(params, a);
    for (std::size_t i = 0; i < y.size(); ++i) y[i] -= y0[i];
    return y;
  };
  EXPECT_LT(adjoint_mismatch(linear_in_x, [&](const Vec&) { return dx; }, x, dy), 1e-13) << "dx";
  const auto linear_in_params = [&](const Vec& p) { return h.forward(p, x); };
  EXPECT_LT(adjoint_mismatch(linear_in_params, [&](const Vec&) { return grad; }, params, dy), 1e-13) << "grad";
}

// Shapes large enough to run in parallel and to split every pass of the engine (output-pixel
// tiles starting mid-row, input-channel chunks of dx and of dW, pixel tiles of dW), 9 items
// (two in gradient group 0): forward against the direct loop, backward by dot-product tests.
TEST(Conv2dGradient, TiledShapesAdjointTests) {
  Conv2dSpec s;
  s.in_channels = 32, s.out_channels = 4, s.kernel = 3, s.stride = 1, s.padding = 1, s.pad = PadMode::reflect;
  const Conv2d<double> L(s);
  const int B = 9, H = 31, W = 33;
  const auto h = harness(L, B, H, W);
  const Vec params = randn(L.n_params(), 3), x = randn(h.nx(), 4), dy = randn(h.ny(), 5);
  EXPECT_LT(rel_diff(h.forward(params, x), direct_conv(s, params, x, B, H, W)), 1e-13);
  expect_backward_adjoint(h, params, x, dy);
}

// The two engines of 3x3 stride-1 convolutions (nn::set_conv3x3_engine) agree on forward, dx
// and dW for every padding mode, with and without bias, on shapes that split rows into several
// bands and pixel blocks (W not a multiple of the vector width), and so does ConvTranspose2d
// k3 s1 p1 (the adjoint path); float agrees with double through the direct engine.
TEST(Conv2d, DirectEngineMatchesGemm) {
  using kpde::nn::Conv3x3Engine;
  // forward, dx and grad of harness h through engine e (then back to the default, gemm)
  const auto run = [](Conv3x3Engine e, const auto& h, const Vec& params, const Vec& x, const Vec& dy) {
    kpde::nn::set_conv3x3_engine(e);
    std::array<Vec, 3> r{h.forward(params, x), Vec(h.nx(), 0.0), Vec(params.size(), 0.0)};
    h.backward(params, x, dy, r[1], r[2]);
    kpde::nn::set_conv3x3_engine(Conv3x3Engine::gemm);
    return r;
  };
  const auto expect_agree = [&](const auto& h, const Vec& params, const Vec& x, const Vec& dy, const std::string& what) {
    const auto a = run(Conv3x3Engine::gemm, h, params, x, dy), b = run(Conv3x3Engine::direct, h, params, x, dy);
    for (int k = 0; k < 3; ++k) EXPECT_LT(rel_diff(b[k], a[k]), 1e-14) << what << " (y, dx, grad)[" << k << "]";
  };
  for (PadMode mode : {PadMode::zeros, PadMode::reflect, PadMode::circular})
    for (bool bias : {true, false}) {
      Conv2dSpec s;
      s.in_channels = 5, s.out_channels = 7, s.kernel = 3, s.stride = 1, s.padding = 1, s.pad = mode, s.bias = bias;
      const Conv2d<double> L(s);
      const Conv2d<float> Lf(s);
      const auto h = harness(L, 3, 19, 37);
      const Vec params = randn(L.n_params(), 1), x = randn(h.nx(), 2), dy = randn(h.ny(), 3);
      expect_agree(h, params, x, dy, std::string(mode_name(mode)) + (bias ? " bias" : ""));
      kpde::nn::set_conv3x3_engine(Conv3x3Engine::direct);
      EXPECT_LT(rel_diff(h.forward(params, x), direct_conv(s, params, x, 3, 19, 37)), 1e-13);
      if (mode == PadMode::zeros) expect_float_agrees(h, harness(Lf, 3, 19, 37), params, x, dy);
      kpde::nn::set_conv3x3_engine(Conv3x3Engine::gemm);
    }
  ConvTranspose2dSpec t;
  t.in_channels = 6, t.out_channels = 5, t.kernel = 3, t.stride = 1, t.padding = 1;
  const ConvTranspose2d<double> Lt(t);
  const auto ht = harness(Lt, 2, 17, 33);
  expect_agree(ht, randn(Lt.n_params(), 4), randn(ht.nx(), 5), randn(ht.ny(), 6), "ConvTranspose2d k3 s1 p1");
}

TEST(Conv2d, GradIsAddedDxOptionalAndFloatAgrees) {
  Conv2dSpec s;
  s.in_channels = 5, s.out_channels = 6, s.pad = PadMode::circular, s.stride = 2;
  const Conv2d<double> L(s);
  const Conv2d<float> Lf(s);
  const auto h = harness(L, 3, 10, 9);
  const Vec params = init_params(L, 1), x = randn(h.nx(), 2), dy = randn(h.ny(), 3);
  expect_grad_added(h, params, x, dy);
  expect_float_agrees(h, harness(Lf, 3, 10, 9), params, x, dy);
}

TEST(Conv2d, SizesInitAndFlops) {
  Conv2dSpec s;
  s.in_channels = 8, s.out_channels = 32, s.kernel = 3, s.stride = 2, s.padding = 1;
  const Conv2d<double> L(s);
  EXPECT_EQ(L.n_params(), 32u * 8 * 9 + 32);
  EXPECT_EQ(L.out_extent(224), 112);
  EXPECT_DOUBLE_EQ(L.forward_flops(16, 224, 224), 2.0 * 16 * 112 * 112 * 32 * 8 * 9);
  const Vec p = init_params(L, 5), q = init_params(L, 5);
  EXPECT_EQ(p, q);
  const double bound = 1 / std::sqrt(72.0);
  double lo = 0, hi = 0;
  for (double v : p) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  EXPECT_GT(hi - lo, 1.8 * bound);  // the whole range is used
}

TEST(Conv2d, BadShapesThrow) {
  using kpde::test::expect_input_error;
  Conv2dSpec s;
  s.in_channels = 3, s.out_channels = 4, s.padding = 2, s.pad = PadMode::reflect;
  const Conv2d<double> L(s);
  const Vec params(L.n_params(), 0.1);
  Vec x(2 * 3 * 7 * 6), y(2 * 4 * 9 * 8), dx(x.size()), grad(params.size());
  expect_input_error([&] { L.forward(params.data(), cmap_of(x, 2, 3, 7, 6), map_of(y, 2, 4, 9, 7)); },
                     {"Conv2d::forward", "y must be [2][4][9][8]", "got [2][4][9][7]"});
  expect_input_error([&] { L.forward(params.data(), cmap_of(x, 2, 2, 7, 9), map_of(y, 2, 4, 9, 8)); },
                     {"Conv2d::forward", "x must be [2][3][7][9]", "got [2][2][7][9]"});
  expect_input_error([&] { L.forward(params.data(), cmap_of(x, 2, 3, 2, 21), map_of(y, 2, 4, 4, 23)); },
                     {"reflect padding 2", "2 x 21"});
  expect_input_error(
      [&] {
        L.backward(params.data(), cmap_of(x, 2, 3, 7, 6), cmap_of(y, 2, 4, 9, 8), map_of(dx, 2, 3, 6, 7), grad.data());
      },
      {"Conv2d::backward", "dx must be [2][3][7][6]"});
  EXPECT_THROW(L.backward(params.data(), cmap_of(x, 2, 3, 7, 6), cmap_of(y, 1, 4, 9, 8), Arr4<double>(), grad.data()),
               InputError);
  Conv2dSpec big = s;
  big.kernel = 9, big.padding = 0, big.pad = PadMode::zeros;
  const Conv2d<double> Lbig(big);
  EXPECT_THROW(Lbig.forward(params.data(), cmap_of(x, 2, 3, 7, 6), map_of(y, 2, 4, 1, 1)), InputError);
  Conv2dSpec bad = s;
  bad.kernel = 0;
  expect_input_error([&] { Conv2d<double> l(bad); }, {"Conv2d", "kernel", ">= 1", "got 0"});
  bad = s, bad.stride = 0;
  expect_input_error([&] { bad.validate(); }, {"stride"});
  bad = s, bad.padding = -1;
  expect_input_error([&] { bad.validate(); }, {"padding"});
  bad = s, bad.in_channels = 0;
  expect_input_error([&] { bad.validate(); }, {"in_channels"});
}

// ---- ConvTranspose2d ----------------------------------------------------------------------

/// ConvTranspose2d cases: kernel, stride, padding, output_padding.
const std::vector<std::array<int, 4>> kTransposeCases = {{3, 2, 1, 1}, {2, 2, 0, 0}, {4, 2, 1, 0},
                                                         {3, 3, 0, 2}, {3, 1, 1, 0}, {2, 2, 1, 1}};

TEST(ConvTranspose2d, OutputShapeAndDirectLoop) {
  ConvTranspose2dSpec s;
  s.in_channels = 3, s.out_channels = 2, s.kernel = 3, s.stride = 2, s.padding = 1, s.output_padding = 1;
  const ConvTranspose2d<double> L(s);
  EXPECT_EQ(L.out_extent(5), 10);  // (5 - 1) 2 - 2 + 3 + 1
  EXPECT_EQ(L.n_params(), 3u * 2 * 9 + 2);
  EXPECT_DOUBLE_EQ(L.forward_flops(2, 5, 4), 2.0 * 2 * 5 * 4 * 3 * 2 * 9);
  for (const auto& g : kTransposeCases) {
    ConvTranspose2dSpec t = s;
    t.kernel = g[0], t.stride = g[1], t.padding = g[2], t.output_padding = g[3];
    const ConvTranspose2d<double> Lt(t);
    const auto h = harness(Lt, 2, 5, 4);
    EXPECT_EQ(h.Ho, 4 * g[1] - 2 * g[2] + g[0] + g[3]);
    const Vec params = randn(Lt.n_params(), 1), x = randn(h.nx(), 2);
    EXPECT_LT(rel_diff(h.forward(params, x), direct_conv_transpose(t, params, x, 2, 5, 4)), 1e-13)
        << "k" << g[0] << " s" << g[1] << " p" << g[2] << " op" << g[3];
  }
}

TEST(ConvTranspose2d, AdjointOfConv2d) {
  for (const auto& g : kTransposeCases) {
    ConvTranspose2dSpec t;
    t.in_channels = 4, t.out_channels = 3, t.kernel = g[0], t.stride = g[1], t.padding = g[2];
    t.output_padding = g[3], t.bias = false;
    Conv2dSpec c;
    c.in_channels = 3, c.out_channels = 4, c.kernel = g[0], c.stride = g[1], c.padding = g[2], c.bias = false;
    const ConvTranspose2d<double> Lt(t);
    const Conv2d<double> Lc(c);
    const auto ht = harness(Lt, 2, 5, 6);
    const auto hc = harness(Lc, 2, ht.Ho, ht.Wo);
    ASSERT_TRUE(hc.Ho == 5 && hc.Wo == 6);
    const Vec w = randn(Lt.n_params(), 1);
    EXPECT_LT(adjoint_mismatch([&](const Vec& a) { return ht.forward(w, a); },
                               [&](const Vec& b) { return hc.forward(w, b); }, randn(ht.nx(), 2), randn(ht.ny(), 3)),
              1e-12)
        << "k" << g[0] << " s" << g[1] << " p" << g[2] << " op" << g[3];
  }
}

// A shape large enough to run in parallel: forward against the direct loop, backward by dot-product tests.
TEST(ConvTranspose2d, ParallelShapesAdjointTests) {
  ConvTranspose2dSpec s;
  s.in_channels = 16, s.out_channels = 8, s.kernel = 3, s.stride = 2, s.padding = 1, s.output_padding = 1;
  const ConvTranspose2d<double> L(s);
  const int B = 5, H = 15, W = 17;
  const auto h = harness(L, B, H, W);
  const Vec params = randn(L.n_params(), 3), x = randn(h.nx(), 4), dy = randn(h.ny(), 5);
  EXPECT_LT(rel_diff(h.forward(params, x), direct_conv_transpose(s, params, x, B, H, W)), 1e-13);
  expect_backward_adjoint(h, params, x, dy);
}

TEST(ConvTranspose2d, FiniteDifferences) {
  ConvTranspose2dSpec s;
  s.in_channels = 3, s.out_channels = 4, s.kernel = 3, s.stride = 2, s.padding = 1, s.output_padding = 1;
  const ConvTranspose2d<double> L(s);
  expect_fd_gradients(harness(L, 2, 4, 3), "ConvTranspose2d k3 s2 p1 op1");
  s.kernel = 2, s.padding = 0, s.output_padding = 0;
  const ConvTranspose2d<double> L2(s);
  expect_fd_gradients(harness(L2, 3, 3, 4), "ConvTranspose2d k2 s2");
}

TEST(ConvTranspose2d, GradIsAddedFloatAndBadShapes) {
  ConvTranspose2dSpec s;
  s.in_channels = 3, s.out_channels = 2, s.kernel = 3, s.stride = 2, s.padding = 1, s.output_padding = 1;
  const ConvTranspose2d<double> L(s);
  const ConvTranspose2d<float> Lf(s);
  const auto h = harness(L, 2, 4, 5);
  const Vec params = init_params(L, 1), x = randn(h.nx(), 2), dy = randn(h.ny(), 3);
  expect_grad_added(h, params, x, dy);
  expect_float_agrees(h, harness(Lf, 2, 4, 5), params, x, dy);
  Vec y(h.ny());
  kpde::test::expect_input_error(
      [&] { L.forward(params.data(), cmap_of(x, 2, 3, 4, 5), map_of(y, 2, 2, 10, 8)); },
      {"ConvTranspose2d::forward", "y must be [2][2][8][10]", "got [2][2][10][8]"});
  EXPECT_THROW(L.forward(params.data(), cmap_of(x, 2, 2, 6, 5), map_of(y, 2, 2, 8, 10)), InputError);
  ConvTranspose2dSpec bad = s;
  bad.output_padding = 2;
  kpde::test::expect_input_error([&] { ConvTranspose2d<double> l(bad); }, {"output_padding", "stride"});
}

// ---- pooling and upsampling ---------------------------------------------------------------

/// avg_pool2d_forward of x [B][C][H][W], and its backward from dy [B][C][H/k][W/k].
Vec pooled(int k, const Vec& x, int B, int C, int H, int W) {
  Vec y(x.size() / (k * k));
  avg_pool2d_forward<double>(k, cmap_of(x, B, C, H, W), map_of(y, B, C, H / k, W / k));
  return y;
}
Vec pool_grad(int k, const Vec& dy, int B, int C, int H, int W) {
  Vec dx(dy.size() * k * k);
  avg_pool2d_backward<double>(k, cmap_of(dy, B, C, H / k, W / k), map_of(dx, B, C, H, W));
  return dx;
}

TEST(Pool2d, AvgForwardByHand) {
  Vec x(16);
  for (int i = 0; i < 16; ++i) x[i] = i;
  EXPECT_EQ(pooled(2, x, 1, 1, 4, 4), (Vec{2.5, 4.5, 10.5, 12.5}));
}

TEST(Pool2d, AvgBackwardIsAdjoint) {
  struct Shape {
    int k, B, C, H, W;
  };
  for (Shape sh : {Shape{1, 2, 3, 6, 12}, Shape{2, 2, 3, 6, 12}, Shape{3, 2, 3, 6, 12}, Shape{2, 2, 8, 128, 128}}) {
    const int k = sh.k, B = sh.B, C = sh.C, H = sh.H, W = sh.W;  // the last one runs in parallel
    EXPECT_LT(adjoint_mismatch([&](const Vec& a) { return pooled(k, a, B, C, H, W); },
                               [&](const Vec& b) { return pool_grad(k, b, B, C, H, W); }, randn(B * C * H * W, 1),
                               randn(B * C * (H / k) * (W / k), 2)),
              1e-14)
        << "k " << k;
  }
}

TEST(Pool2d, BadShapesThrow) {
  Vec x(2 * 3 * 6 * 9), y(2 * 3 * 3 * 4);
  kpde::test::expect_input_error(
      [&] { avg_pool2d_forward<double>(2, cmap_of(x, 2, 3, 6, 9), map_of(y, 2, 3, 3, 4)); },
      {"avg_pool2d_forward", "window 2", "6 x 9"});
  kpde::test::expect_input_error(
      [&] { avg_pool2d_forward<double>(3, cmap_of(x, 2, 3, 6, 9), map_of(y, 2, 3, 3, 2)); },
      {"y must be [2][3][2][3]"});
  EXPECT_THROW(avg_pool2d_backward<double>(0, cmap_of(y, 2, 3, 3, 4), map_of(x, 2, 3, 6, 9)), InputError);
  EXPECT_THROW(avg_pool2d_backward<double>(3, cmap_of(y, 2, 3, 3, 4), map_of(x, 2, 3, 6, 9)), InputError);
}

/// avg_pool2d_forward with the remainder dropped: x [B][C][H][W] -> [B][C][H/k][W/k] (floor),
/// and its backward.
Vec pooled_floor(int k, const Vec& x, int B, int C, int H, int W) {
  Vec y(static_cast<std::size_t>(B) * C * (H / k) * (W / k));
  avg_pool2d_forward<double>(k, cmap_of(x, B, C, H, W), map_of(y, B, C, H / k, W / k), PoolRemainder::drop);
  return y;
}
Vec pool_floor_grad(int k, const Vec& dy, int B, int C, int H, int W) {
  Vec dx(static_cast<std::size_t>(B) * C * H * W, 7.0);  // every entry must be overwritten
  avg_pool2d_backward<double>(k, cmap_of(dy, B, C, H / k, W / k), map_of(dx, B, C, H, W), PoolRemainder::drop);
  return dx;
}

TEST(Pool2d, AvgDropsTheRemainder) {
  Vec x(25);
  for (int i = 0; i < 25; ++i) x[i] = i;
  EXPECT_EQ(pooled_floor(2, x, 1, 1, 5, 5), (Vec{3, 5, 13, 15}));  // row 4 and column 4 unused
  const Vec dx = pool_floor_grad(2, Vec{4, 8, 12, 16}, 1, 1, 5, 5);
  EXPECT_EQ(dx, (Vec{1, 1, 2, 2, 0, 1, 1, 2, 2, 0, 3, 3, 4, 4, 0, 3, 3, 4, 4, 0, 0, 0, 0, 0, 0}));
  struct Shape {
    int k, B, C, H, W;
  };
  for (Shape sh : {Shape{2, 2, 3, 7, 5}, Shape{3, 2, 3, 13, 12}, Shape{2, 2, 3, 6, 12}, Shape{2, 2, 8, 129, 127}}) {
    const int k = sh.k, B = sh.B, C = sh.C, H = sh.H, W = sh.W;  // the last one runs in parallel
    EXPECT_LT(adjoint_mismatch([&](const Vec& a) { return pooled_floor(k, a, B, C, H, W); },
                               [&](const Vec& b) { return pool_floor_grad(k, b, B, C, H, W); },
                               randn(B * C * H * W, 1), randn(B * C * (H / k) * (W / k), 2)),
              1e-14)
        << "k " << k << ", " << H << " x " << W;
  }
  // where k divides the extents, drop and error agree
  const Vec x2 = randn(2 * 3 * 6 * 12, 3);
  EXPECT_EQ(pooled_floor(2, x2, 2, 3, 6, 12), pooled(2, x2, 2, 3, 6, 12));
  Vec y(1);
  kpde::test::expect_input_error(
      [&] {
        avg_pool2d_forward<double>(3, cmap_of(x, 1, 1, 2, 12), map_of(y, 1, 1, 0, 4), PoolRemainder::drop);
      },
      {"avg_pool2d_forward", "window 3 is larger than x", "2 x 12"});
  EXPECT_THROW(
      avg_pool2d_backward<double>(6, cmap_of(y, 1, 1, 0, 1), map_of(x, 1, 1, 5, 5), PoolRemainder::drop),
      InputError);
}

/// upsample_forward of x [B][C][H][W] by f, and its backward from dy [B][C][f H][f W].
Vec upsampled(UpsampleMode mode, int f, const Vec& x, int B, int C, int H, int W) {
  Vec y(x.size() * f * f);
  upsample_forward<double>(mode, f, cmap_of(x, B, C, H, W), map_of(y, B, C, H * f, W * f));
  return y;
}
Vec upsample_grad(UpsampleMode mode, int f, const Vec& dy, int B, int C, int H, int W) {
  Vec dx(dy.size() / (f * f));
  upsample_backward<double>(mode, f, cmap_of(dy, B, C, H * f, W * f), map_of(dx, B, C, H, W));
  return dx;
}

TEST(Upsample, ForwardByHand) {
  const Vec x{1, 2, 3, 4};
  EXPECT_EQ(upsampled(UpsampleMode::nearest, 2, x, 1, 1, 2, 2),
            (Vec{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  // torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
  EXPECT_EQ(upsampled(UpsampleMode::bilinear, 2, x, 1, 1, 2, 2),
            (Vec{1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4}));
  // factor 3 on one row [0, 3]: sources max((j + 1/2)/3 - 1/2, 0) = 0, 0, 1/3, 2/3, 1, 4/3 (clamped).
  const Vec y = upsampled(UpsampleMode::bilinear, 3, Vec{0, 3}, 1, 1, 1, 2);
  const Vec row{0, 0, 1, 2, 3, 3};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 6; ++j) EXPECT_NEAR(y[i * 6 + j], row[j], 1e-15) << i << " " << j;
}

TEST(Upsample, BackwardIsAdjoint) {
  for (UpsampleMode mode : {UpsampleMode::nearest, UpsampleMode::bilinear})
    for (int f : {1, 2, 3, 4}) {
      const int B = 2, C = f == 4 ? 4 : 3, H = f == 4 ? 32 : 4, W = f == 4 ? 32 : 5;  // f = 4 runs in parallel
      EXPECT_LT(adjoint_mismatch([&](const Vec& a) { return upsampled(mode, f, a, B, C, H, W); },
                                 [&](const Vec& b) { return upsample_grad(mode, f, b, B, C, H, W); },
                                 randn(B * C * H * W, 1), randn(B * C * H * W * f * f, 2)),
                1e-14)
          << (mode == UpsampleMode::nearest ? "nearest" : "bilinear") << " factor " << f;
    }
}

TEST(Upsample, FloatAgreesAndBadShapesThrow) {
  const Vec x = randn(2 * 3 * 4 * 5, 1);
  std::vector<float> xf(x.begin(), x.end()), yf(x.size() * 4);
  upsample_forward<float>(UpsampleMode::bilinear, 2, cmap_of(xf, 2, 3, 4, 5), map_of(yf, 2, 3, 8, 10));
  EXPECT_LT(rel_diff(Vec(yf.begin(), yf.end()), upsampled(UpsampleMode::bilinear, 2, x, 2, 3, 4, 5)), 1e-6);
  Vec y(x.size() * 4), dx(x.size());
  kpde::test::expect_input_error(
      [&] { upsample_forward<double>(UpsampleMode::nearest, 2, cmap_of(x, 2, 3, 4, 5), map_of(y, 2, 3, 10, 8)); },
      {"upsample_forward", "y must be [2][3][8][10]", "got [2][3][10][8]"});
  EXPECT_THROW(upsample_forward<double>(UpsampleMode::bilinear, 0, cmap_of(x, 2, 3, 4, 5), map_of(y, 2, 3, 8, 10)),
               InputError);
  EXPECT_THROW(upsample_backward<double>(UpsampleMode::bilinear, 2, cmap_of(y, 2, 3, 8, 10), map_of(dx, 2, 3, 5, 4)),
               InputError);
}

}  // namespace
