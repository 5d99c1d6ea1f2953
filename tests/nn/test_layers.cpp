// The batched layers of nn/ (Linear, GroupNorm, LayerNorm, GELU, tanh, ReLU, FiLM,
// AttentionPool): forward against naive loops, input and parameter gradients against
// central differences (kpde::testing::check_vjp / check_gradient), gradients added,
// dx skipped, float against double, bad shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"
#include "nn/attention_pool.hpp"
#include "nn/linear.hpp"
#include "nn/norm.hpp"
#include "nn/pointwise.hpp"
#include "support/fd_check.hpp"

namespace {

using kpde::Arr3;
using kpde::InputError;
using kpde::Mat;
using kpde::Rng;
using Vec = std::vector<double>;
namespace nn = kpde::nn;
namespace kt = kpde::testing;

Vec randn(std::size_t n, Rng& rng, double scale = 1.0) {
  Vec v(n);
  for (double& e : v) e = scale * rng.normal();
  return v;
}

template <class T>
std::vector<T> cast(const Vec& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class T>
Vec back(const std::vector<T>& v) {
  return Vec(v.begin(), v.end());
}

/// max |a - b| / max |b|.
double rel_diff(const Vec& a, const Vec& b) {
  double e = 0, s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i])), s = std::max(s, std::abs(b[i]));
  return s > 0 ? e / s : e;
}

/// A layer under test, in double: y = fwd(x, p); bwd(x, p, dy, dx or null, grad) writes
/// dx and adds into grad.
struct LayerOps {
  std::function<Vec(const Vec& x, const Vec& p)> fwd;
  std::function<void(const Vec& x, const Vec& p, const Vec& dy, double* dx, double* grad)> bwd;
};

/// FD checks of dx and dparams (tolerance 1e-6; at most about 100 entries each), grad added on a second call with dx
/// skipped, and the dx of that call untouched.
void check_layer(const std::string& what, const LayerOps& ops, Vec x, Vec p, std::uint64_t seed = 7) {
  SCOPED_TRACE(what);
  Rng rng(seed);
  const Vec v = randn(ops.fwd(x, p).size(), rng);
  Vec dx(x.size(), 0.0), grad(p.size(), 0.0);
  ops.bwd(x, p, v, dx.data(), grad.data());
  kt::GradientOptions o;  // beyond 100 entries, about 100 of them (FD sweeps stay fast under ASan)
  const auto pick = [](std::size_t n) {
    return n > 100 ? kt::sampled_indices(n, 1 + n / 100) : std::vector<std::size_t>{};
  };
  o.what = what + " dx";
  o.indices = pick(x.size());
  EXPECT_TRUE(kt::fd_within(kt::check_vjp([&](const Vec& xx) { return ops.fwd(xx, p); }, x, v, dx, o), 1e-6));
  if (p.empty()) return;
  o.what = what + " dparams";
  o.indices = pick(p.size());
  const auto phi = [&](const Vec& pp) {
    const Vec y = ops.fwd(x, pp);
    double s = 0;
    for (std::size_t i = 0; i < y.size(); ++i) s += v[i] * y[i];
    return s;
  };
  EXPECT_TRUE(kt::fd_within(kt::check_gradient(phi, p, grad, o), 1e-6));
  Vec grad2 = grad;
  ops.bwd(x, p, v, nullptr, grad2.data());
  for (std::size_t i = 0; i < grad.size(); ++i) ASSERT_NEAR(grad2[i], 2 * grad[i], 1e-12 * (1 + std::abs(grad[i])));
}

/// The float instantiation against the double one (relative 1e-5): y, dx, grad.
void expect_float_matches(const LayerOps& d, const LayerOps& f, const Vec& x, const Vec& p, const Vec& dy) {
  EXPECT_LT(rel_diff(f.fwd(x, p), d.fwd(x, p)), 1e-5);
  Vec dxd(x.size()), dxf(x.size()), gd(p.size()), gf(p.size());
  d.bwd(x, p, dy, dxd.data(), gd.data());
  f.bwd(x, p, dy, dxf.data(), gf.data());
  EXPECT_LT(rel_diff(dxf, dxd), 1e-5);
  if (!p.empty()) {
    EXPECT_LT(rel_diff(gf, gd), 1e-5);
  }
}

/// LayerOps of a layer with forward(params, x, y) and backward(params, x, dy, dx, grad)
/// in precision T: view_x(p) / view_y(p) wrap T* or const T* p as the x / y views.
template <class T, class Layer, class ViewX, class ViewY>
LayerOps layer_ops(const Layer& L, std::size_t ny, ViewX view_x, ViewY view_y) {
  LayerOps ops;
  ops.fwd = [&L, ny, view_x, view_y](const Vec& x, const Vec& p) {
    const auto xt = cast<T>(x), pt = cast<T>(p);
    std::vector<T> y(ny);
    L.forward(pt.data(), view_x(xt.data()), view_y(y.data()));
    return back(y);
  };
  ops.bwd = [&L, view_x, view_y](const Vec& x, const Vec& p, const Vec& dy, double* dx, double* grad) {
    const auto xt = cast<T>(x), pt = cast<T>(p), dyt = cast<T>(dy);
    std::vector<T> dxt(x.size()), gt(grad, grad + p.size());
    using DxView = decltype(view_x(dxt.data()));
    L.backward(pt.data(), view_x(xt.data()), view_y(dyt.data()), dx ? view_x(dxt.data()) : DxView(), gt.data());
    if (dx) std::copy(dxt.begin(), dxt.end(), dx);
    std::copy(gt.begin(), gt.end(), grad);
  };
  return ops;
}

/// p -> Mat [rows][cols] over p (const or not).
auto mat_view(int rows, int cols) {
  return [rows, cols](auto* p) { return Mat<std::remove_pointer_t<decltype(p)>>(p, rows, cols); };
}

/// p -> Arr3 [n0][n1][n2] over p (const or not).
auto arr3_view(int n0, int n1, int n2) {
  return [n0, n1, n2](auto* p) { return Arr3<std::remove_pointer_t<decltype(p)>>(p, n0, n1, n2); };
}

// ---- Linear --------------------------------------------------------------------------

template <class T>
LayerOps linear_ops(const nn::Linear<T>& L, int R) {
  return layer_ops<T>(L, std::size_t(R) * L.out(), mat_view(R, L.in()), mat_view(R, L.out()));
}
TEST(Linear, ForwardMatchesNaive) {
  Rng rng(1);
  for (const bool bias : {true, false})
    for (const int R : {1, 3, 130}) {
      const int in = 5, out = 3;
      nn::Linear<double> L(in, out, bias);
      Vec p(L.n_params());
      L.init(p.data(), rng);
      const Vec x = randn(std::size_t(R) * in, rng), y = linear_ops(L, R).fwd(x, p);
      for (int r = 0; r < R; ++r)
        for (int o = 0; o < out; ++o) {
          double s = bias ? p[out * in + o] : 0.0;
          for (int i = 0; i < in; ++i) s += p[o * in + i] * x[r * in + i];
          EXPECT_NEAR(y[r * out + o], s, 1e-13) << "R " << R << " bias " << bias;
        }
    }
}

TEST(Linear, GradientsMatchFiniteDifferences) {
  Rng rng(2);
  for (const bool bias : {true, false})
    for (const int R : {1, 7, 150}) {  // 150 rows: three row blocks
      nn::Linear<double> L(4, 3, bias);
      check_layer("Linear R=" + std::to_string(R) + (bias ? " bias" : ""), linear_ops(L, R),
                  randn(std::size_t(R) * 4, rng), randn(L.n_params(), rng));
    }
}

TEST(Linear, Init) {
  nn::Linear<double> L(9, 4);
  Vec p(L.n_params());
  Rng rng(3);
  L.init(p.data(), rng);
  for (const double e : p) EXPECT_LE(std::abs(e), 1.0 / 3.0);
  L.init_kaiming_fan_out(p.data(), rng);
  for (int o = 0; o < 4; ++o) EXPECT_EQ(p[36 + o], 0.0);
  EXPECT_NE(p[0], 0.0);
}

TEST(Linear, FloatMatchesDouble) {
  Rng rng(4);
  const int R = 70;
  nn::Linear<double> Ld(6, 5);
  nn::Linear<float> Lf(6, 5);
  const Vec x = randn(R * 6, rng), p = randn(Ld.n_params(), rng), dy = randn(R * 5, rng);
  const LayerOps d = linear_ops(Ld, R), f = linear_ops(Lf, R);
  expect_float_matches(d, f, x, p, dy);
}

TEST(Linear, BadArguments) {
  EXPECT_THROW(nn::Linear<double>(0, 3), InputError);
  EXPECT_THROW(nn::Linear<double>(3, -1), InputError);
  nn::Linear<double> L(3, 2);
  Vec p(L.n_params()), x(12), y(8);
  EXPECT_THROW(L.forward(p.data(), Mat<const double>(x.data(), 3, 4), Mat<double>(y.data(), 3, 2)), InputError);
  EXPECT_THROW(L.forward(p.data(), Mat<const double>(x.data(), 4, 3), Mat<double>(y.data(), 3, 2)), InputError);
  EXPECT_THROW(L.backward(p.data(), Mat<const double>(x.data(), 4, 3), Mat<const double>(y.data(), 4, 2),
                          Mat<double>(x.data(), 3, 3), p.data()),
               InputError);
  try {
    L.forward(p.data(), Mat<const double>(x.data(), 4, 3), Mat<double>(y.data(), 2, 4));
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("Linear::forward: y has extents [2][4], expected [4][2]"), std::string::npos)
        << e.what();
  }
}

// ---- GroupNorm and LayerNorm -----------------------------------------------------------

template <class T>
LayerOps group_norm_ops(const nn::GroupNorm<T>& L, int B, int N) {
  const auto v = arr3_view(B, L.channels(), N);
  return layer_ops<T>(L, std::size_t(B) * L.channels() * N, v, v);
}
template <class T>
LayerOps layer_norm_ops(const nn::LayerNorm<T>& L, int R) {
  return layer_ops<T>(L, std::size_t(R) * L.dim(), mat_view(R, L.dim()), mat_view(R, L.dim()));
}
/// Naive normalisation of `count` blocks of `len` values; the affine index of value i
/// of a block is aff(i).
Vec naive_norm(const Vec& x, const Vec& p, std::size_t len, const std::function<std::size_t(std::size_t)>& aff) {
  const std::size_t nparam = p.size() / 2;
  Vec y(x.size());
  for (std::size_t b0 = 0; b0 < x.size(); b0 += len) {
    double mu = 0, var = 0;
    for (std::size_t i = 0; i < len; ++i) mu += x[b0 + i] / double(len);
    for (std::size_t i = 0; i < len; ++i) var += (x[b0 + i] - mu) * (x[b0 + i] - mu) / double(len);
    for (std::size_t i = 0; i < len; ++i)
      y[b0 + i] = p[aff(i)] * (x[b0 + i] - mu) / std::sqrt(var + 1e-5) + p[nparam + aff(i)];
  }
  return y;
}

TEST(GroupNorm, ForwardMatchesNaive) {
  Rng rng(5);
  const int B = 3, C = 6, G = 3, N = 4;
  nn::GroupNorm<double> L(G, C);
  Vec p(L.n_params());
  L.init(p.data());
  EXPECT_EQ(p[0], 1.0);
  EXPECT_EQ(p[C], 0.0);
  p = randn(L.n_params(), rng);
  const Vec x = randn(std::size_t(B) * C * N, rng, 3.0), y = group_norm_ops(L, B, N).fwd(x, p);
  // Blocks of one (item, group) are contiguous: len (C/G) N, channel (g C/G + i / N).
  const std::size_t len = std::size_t(C / G) * N;
  Vec ref_all(x.size());
  for (std::size_t blk = 0; blk < x.size() / len; ++blk) {  // gamma, beta of the block's group
    const std::size_t g = blk % G;
    Vec pg(2 * (C / G));
    for (int c = 0; c < C / G; ++c) pg[c] = p[g * (C / G) + c], pg[C / G + c] = p[C + g * (C / G) + c];
    const Vec xb(x.begin() + blk * len, x.begin() + (blk + 1) * len);
    const Vec yb = naive_norm(xb, pg, len, [&](std::size_t i) { return i / N; });
    std::copy(yb.begin(), yb.end(), ref_all.begin() + blk * len);
  }
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref_all[i], 1e-12);
}

TEST(GroupNorm, GradientsMatchFiniteDifferences) {
  Rng rng(6);
  struct Case { int B, G, C, N; };
  for (const Case c : {Case{3, 3, 6, 5}, Case{10, 2, 4, 3}, Case{2, 2, 6, 1}, Case{2, 1, 3, 4}}) {
    nn::GroupNorm<double> L(c.G, c.C);
    check_layer("GroupNorm B" + std::to_string(c.B) + " G" + std::to_string(c.G) + " N" + std::to_string(c.N),
                group_norm_ops(L, c.B, c.N), randn(std::size_t(c.B) * c.C * c.N, rng, 2.0),
                randn(L.n_params(), rng));
  }
}

TEST(GroupNorm, FloatMatchesDouble) {
  Rng rng(7);
  const int B = 4, N = 9;
  nn::GroupNorm<double> Ld(2, 6);
  nn::GroupNorm<float> Lf(2, 6);
  const Vec x = randn(std::size_t(B) * 6 * N, rng), p = randn(12, rng), dy = randn(x.size(), rng);
  const LayerOps d = group_norm_ops(Ld, B, N), f = group_norm_ops(Lf, B, N);
  expect_float_matches(d, f, x, p, dy);
}

TEST(GroupNorm, BadArguments) {
  EXPECT_THROW(nn::GroupNorm<double>(4, 6), InputError);
  EXPECT_THROW(nn::GroupNorm<double>(0, 6), InputError);
  EXPECT_THROW(nn::GroupNorm<double>(2, 6, 0.0), InputError);
  nn::GroupNorm<double> L(2, 6);
  Vec p(12), x(2 * 6 * 3), y(x.size());
  EXPECT_THROW(L.forward(p.data(), Arr3<const double>(x.data(), 2, 3, 6), Arr3<double>(y.data(), 2, 3, 6)),
               InputError);
  EXPECT_THROW(L.forward(p.data(), Arr3<const double>(x.data(), 2, 6, 3), Arr3<double>(y.data(), 1, 6, 3)),
               InputError);
}

TEST(LayerNorm, ForwardMatchesNaive) {
  Rng rng(8);
  const int R = 70, D = 5;
  nn::LayerNorm<double> L(D);
  const Vec x = randn(std::size_t(R) * D, rng, 2.0), p = randn(L.n_params(), rng);
  const Vec y = layer_norm_ops(L, R).fwd(x, p), ref = naive_norm(x, p, D, [](std::size_t i) { return i; });
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref[i], 1e-12);
}

TEST(LayerNorm, GradientsMatchFiniteDifferences) {
  Rng rng(9);
  for (const int R : {1, 70}) {
    nn::LayerNorm<double> L(5);
    check_layer("LayerNorm R" + std::to_string(R), layer_norm_ops(L, R), randn(std::size_t(R) * 5, rng, 2.0),
                randn(L.n_params(), rng));
  }
}

TEST(LayerNorm, FloatMatchesDoubleAndBadArguments) {
  Rng rng(10);
  const int R = 9;
  nn::LayerNorm<double> Ld(7);
  nn::LayerNorm<float> Lf(7);
  const Vec x = randn(std::size_t(R) * 7, rng), p = randn(14, rng), dy = randn(x.size(), rng);
  const LayerOps d = layer_norm_ops(Ld, R), f = layer_norm_ops(Lf, R);
  expect_float_matches(d, f, x, p, dy);
  EXPECT_THROW(nn::LayerNorm<double>(0), InputError);
  Vec y(x.size());
  EXPECT_THROW(Ld.forward(p.data(), Mat<const double>(x.data(), 7, R), Mat<double>(y.data(), 7, R)), InputError);
}

// ---- GELU, tanh, FiLM ------------------------------------------------------------------

template <class T>
LayerOps activation_ops(bool gelu) {
  LayerOps ops;
  ops.fwd = [gelu](const Vec& x, const Vec&) {
    auto y = cast<T>(x);  // in place: y aliases x
    gelu ? nn::gelu_forward<T>(y.size(), y.data(), y.data()) : nn::tanh_forward<T>(y.size(), y.data(), y.data());
    return back(y);
  };
  ops.bwd = [gelu](const Vec& x, const Vec&, const Vec& dy, double* dx, double*) {
    const auto xt = cast<T>(x);
    auto d = cast<T>(dy);  // dx aliases dy
    gelu ? nn::gelu_backward<T>(d.size(), xt.data(), d.data(), d.data())
         : nn::tanh_backward<T>(d.size(), xt.data(), d.data(), d.data());
    std::copy(d.begin(), d.end(), dx);
  };
  return ops;
}

TEST(Pointwise, GeluAndTanh) {
  Rng rng(11);
  Vec x = randn(5000, rng, 3.0);  // two chunks
  x[0] = 0, x[1] = -30, x[2] = 30;
  const Vec yg = activation_ops<double>(true).fwd(x, {}), yt = activation_ops<double>(false).fwd(x, {});
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(yg[i], 0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0))), 1e-14) << x[i];
    ASSERT_NEAR(yt[i], std::tanh(x[i]), 1e-14) << x[i];
  }
  const Vec xs(x.begin(), x.begin() + 40);
  check_layer("GELU", activation_ops<double>(true), xs, {});
  check_layer("tanh", activation_ops<double>(false), xs, {});
  for (const bool gelu : {true, false})
    expect_float_matches(activation_ops<double>(gelu), activation_ops<float>(gelu), x, {}, randn(x.size(), rng));
}

/// ReLU forward (in place) and backward (dx aliasing dy) in precision T.
template <class T>
LayerOps relu_ops() {
  LayerOps ops;
  ops.fwd = [](const Vec& x, const Vec&) {
    auto y = cast<T>(x);
    nn::relu_forward<T>(y.size(), y.data(), y.data());
    return back(y);
  };
  ops.bwd = [](const Vec& x, const Vec&, const Vec& dy, double* dx, double*) {
    const auto xt = cast<T>(x);
    auto d = cast<T>(dy);
    nn::relu_backward<T>(d.size(), xt.data(), d.data(), d.data());
    std::copy(d.begin(), d.end(), dx);
  };
  return ops;
}

TEST(Pointwise, Relu) {
  Rng rng(12);
  Vec x = randn(5000, rng, 3.0);  // two chunks
  x[0] = 0, x[1] = -30, x[2] = 30, x[3] = std::nan("");
  const Vec y = relu_ops<double>().fwd(x, {});
  EXPECT_TRUE(std::isnan(y[3]));
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (i != 3) {
      ASSERT_EQ(y[i], x[i] > 0 ? x[i] : 0.0) << x[i];
    }
  }
  const Vec ones(x.size(), 1.0);
  Vec d(x.size());
  relu_ops<double>().bwd(x, {}, ones, d.data(), nullptr);
  EXPECT_EQ(d[0], 0.0);  // the derivative at the kink is taken as 0
  for (std::size_t i = 1; i < x.size(); ++i) ASSERT_EQ(d[i], x[i] > 0 ? 1.0 : 0.0) << x[i];
  // central differences away from the kink (every |x| > 0.01 >> h)
  Vec xs;
  for (std::size_t i = 4; xs.size() < 40; ++i)
    if (std::abs(x[i]) > 0.01) xs.push_back(x[i]);
  check_layer("ReLU", relu_ops<double>(), xs, {});
  Vec xf(x.begin() + 4, x.end());
  expect_float_matches(relu_ops<double>(), relu_ops<float>(), xf, {}, randn(xf.size(), rng));
}

/// FiLM with p = [gamma [B][C], beta [B][C]] as the "parameters".
template <class T>
LayerOps film_ops(int B, int C, int N) {
  LayerOps ops;
  ops.fwd = [B, C, N](const Vec& x, const Vec& p) {
    const auto xt = cast<T>(x), pt = cast<T>(p);
    std::vector<T> y(x.size());
    nn::film_forward(Arr3<const T>(xt.data(), B, C, N), Mat<const T>(pt.data(), B, C),
                     Mat<const T>(pt.data() + B * C, B, C), Arr3<T>(y.data(), B, C, N));
    return back(y);
  };
  ops.bwd = [B, C, N](const Vec& x, const Vec& p, const Vec& dy, double* dx, double* grad) {
    const auto xt = cast<T>(x), pt = cast<T>(p), dyt = cast<T>(dy);
    std::vector<T> dxt(x.size()), dp(p.size());
    nn::film_backward(Arr3<const T>(xt.data(), B, C, N), Mat<const T>(pt.data(), B, C),
                      Arr3<const T>(dyt.data(), B, C, N), dx ? Arr3<T>(dxt.data(), B, C, N) : Arr3<T>(),
                      Mat<T>(dp.data(), B, C), Mat<T>(dp.data() + B * C, B, C));
    if (dx) std::copy(dxt.begin(), dxt.end(), dx);
    for (std::size_t i = 0; i < dp.size(); ++i) grad[i] += double(dp[i]);
  };
  return ops;
}

TEST(Film, ForwardGradientsFloat) {
  Rng rng(12);
  const int B = 3, C = 4, N = 5;
  const Vec x = randn(B * C * N, rng), p = randn(2 * B * C, rng);
  const Vec y = film_ops<double>(B, C, N).fwd(x, p);
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c)
      for (int n = 0; n < N; ++n) {
        const int i = (b * C + c) * N + n;
        EXPECT_NEAR(y[i], p[b * C + c] * x[i] + p[B * C + b * C + c], 1e-14);
      }
  check_layer("FiLM", film_ops<double>(B, C, N), x, p);
  EXPECT_LT(rel_diff(film_ops<float>(B, C, N).fwd(x, p), y), 1e-6);
  EXPECT_THROW(nn::film_forward(Arr3<const double>(x.data(), B, C, N), Mat<const double>(p.data(), C, B),
                                Mat<const double>(p.data(), B, C), Arr3<double>(nullptr, B, C, N)),
               InputError);
}

// ---- AttentionPool ---------------------------------------------------------------------

template <class T>
LayerOps attention_ops(const nn::AttentionPool<T>& L, int B, int N) {
  const int D = L.dim(), Tq = L.queries();
  return layer_ops<T>(L, std::size_t(B) * Tq * D, arr3_view(B, D, N), arr3_view(B, Tq, D));
}
/// Multi-head attention pooling by straight loops (the math of attention_pool.hpp).
Vec naive_attention(int D, int H, int Tq, int B, int N, const Vec& x, const Vec& p) {
  const std::size_t oWq = std::size_t(Tq) * D, obq = oWq + D * D, oWk = obq + D, obk = oWk + D * D;
  const std::size_t oWv = obk + D, obv = oWv + D * D, oWo = obv + D, obo = oWo + D * D;
  const int dh = D / H;
  Vec q(std::size_t(Tq) * D), y(std::size_t(B) * Tq * D);
  for (int t = 0; t < Tq; ++t)
    for (int d = 0; d < D; ++d) {
      q[t * D + d] = p[obq + d];
      for (int i = 0; i < D; ++i) q[t * D + d] += p[oWq + d * D + i] * p[t * D + i];
    }
  for (int b = 0; b < B; ++b) {
    Vec k(std::size_t(N) * D), v(std::size_t(N) * D), o(std::size_t(Tq) * D, 0.0);
    for (int n = 0; n < N; ++n)
      for (int d = 0; d < D; ++d) {
        k[n * D + d] = p[obk + d], v[n * D + d] = p[obv + d];
        for (int i = 0; i < D; ++i) {
          const double xi = x[(std::size_t(b) * D + i) * N + n];
          k[n * D + d] += p[oWk + d * D + i] * xi, v[n * D + d] += p[oWv + d * D + i] * xi;
        }
      }
    for (int h = 0; h < H; ++h)
      for (int t = 0; t < Tq; ++t) {
        Vec s(N);
        double z = 0;
        for (int n = 0; n < N; ++n) {
          for (int j = h * dh; j < (h + 1) * dh; ++j) s[n] += q[t * D + j] * k[n * D + j] / std::sqrt(double(dh));
        }
        for (int n = 0; n < N; ++n) z += std::exp(s[n]);
        for (int n = 0; n < N; ++n)
          for (int j = h * dh; j < (h + 1) * dh; ++j) o[t * D + j] += std::exp(s[n]) / z * v[n * D + j];
      }
    for (int t = 0; t < Tq; ++t)
      for (int d = 0; d < D; ++d) {
        double& yy = y[(std::size_t(b) * Tq + t) * D + d];
        yy = p[obo + d];
        for (int j = 0; j < D; ++j) yy += p[oWo + d * D + j] * o[t * D + j];
      }
  }
  return y;
}

TEST(AttentionPool, ForwardMatchesNaive) {
  Rng rng(13);
  for (const int H : {1, 2, 4}) {
    const int D = 8, Tq = 3, B = 3, N = 6;
    nn::AttentionPool<double> L(D, H, Tq);
    Vec p(L.n_params());
    L.init(p.data(), rng);
    EXPECT_EQ(p[std::size_t(Tq) * D + D * D], 0.0);  // bq
    for (std::size_t i = 0; i < p.size(); ++i) p[i] += 0.3 * rng.normal();  // nonzero biases
    const Vec x = randn(std::size_t(B) * D * N, rng);
    const Vec y = attention_ops(L, B, N).fwd(x, p), ref = naive_attention(D, H, Tq, B, N, x, p);
    for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-12) << "heads " << H;
  }
}

TEST(AttentionPool, GradientsMatchFiniteDifferences) {
  Rng rng(14);
  struct Case { int H, B, N; };
  for (const Case c : {Case{1, 2, 5}, Case{2, 9, 7}, Case{2, 1, 6}}) {
    nn::AttentionPool<double> L(4, c.H, 3);
    check_layer("AttentionPool heads " + std::to_string(c.H) + " B " + std::to_string(c.B),
                attention_ops(L, c.B, c.N), randn(std::size_t(c.B) * 4 * c.N, rng), randn(L.n_params(), rng, 0.7));
  }
}

TEST(AttentionPool, FloatMatchesDouble) {
  Rng rng(15);
  const int D = 8, B = 3, N = 10;
  nn::AttentionPool<double> Ld(D, 2, 4);
  nn::AttentionPool<float> Lf(D, 2, 4);
  const Vec x = randn(std::size_t(B) * D * N, rng), p = randn(Ld.n_params(), rng, 0.5), dy = randn(B * 4 * D, rng);
  const LayerOps d = attention_ops(Ld, B, N), f = attention_ops(Lf, B, N);
  expect_float_matches(d, f, x, p, dy);
}

TEST(AttentionPool, BadArguments) {
  EXPECT_THROW(nn::AttentionPool<double>(6, 4, 2), InputError);
  EXPECT_THROW(nn::AttentionPool<double>(4, 0, 2), InputError);
  EXPECT_THROW(nn::AttentionPool<double>(4, 2, 0), InputError);
  nn::AttentionPool<double> L(4, 2, 3);
  EXPECT_EQ(L.n_params(), std::size_t(3 * 4 + 4 * 16 + 4 * 4));
  Vec p(L.n_params()), x(2 * 4 * 5), y(2 * 3 * 4);
  EXPECT_THROW(L.forward(p.data(), Arr3<const double>(x.data(), 2, 5, 4), Arr3<double>(y.data(), 2, 3, 4)),
               InputError);
  EXPECT_THROW(L.forward(p.data(), Arr3<const double>(x.data(), 2, 4, 5), Arr3<double>(y.data(), 2, 4, 3)),
               InputError);
  EXPECT_THROW(L.forward(p.data(), Arr3<const double>(x.data(), 2, 4, 0), Arr3<double>(y.data(), 2, 3, 4)),
               InputError);
  EXPECT_THROW(L.backward(p.data(), Arr3<const double>(x.data(), 2, 4, 5), Arr3<const double>(y.data(), 2, 3, 4),
                          Arr3<double>(x.data(), 2, 5, 4), p.data()),
               InputError);
}

}  // namespace
