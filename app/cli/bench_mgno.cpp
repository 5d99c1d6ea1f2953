// kpde bench mgno: time per training step of an MgNO (forward and backward of a batch
// of B inputs on an n x n grid, float32 or float64), the forward alone, the GFLOP/s of
// the forward's multiply-adds, and the convolution engine's choice measured: the
// dominant convolution of the model (3x3, stride 1, C -> C on the finest grid) through
// nn::Conv2d (im2col + kpde::gemm, what MgNO runs) against a direct loop nest (per
// output channel, input channel and tap, a vectorised pass over the rows; the same
// Kokkos parallel loop over (sample, output channel)). The one that measures faster
// belongs in the model.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/rng.hpp"
#include "nn/conv2d.hpp"
#include "operators/mgno.hpp"
#include "runtime/runtime.hpp"

namespace kpde::cli {

namespace {

using Clock = std::chrono::steady_clock;

/// Median of `reps` timings (seconds) of f after one warm-up call.
template <class F>
double median_seconds(int reps, const F& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

template <class T>
int run(const Args& a) {
  operators::MgnoSpec s;
  s.channels = static_cast<int>(a.integer("--channels", 24, 1));
  s.layers = static_cast<int>(a.integer("--layers", 5, 1));
  const auto sm = a.integer_list("--smoothing", "1,1,1,1,1,2", 1);
  s.smoothing.assign(sm.begin(), sm.end());
  const int B = static_cast<int>(a.integer("--batch", 8, 1)), n = static_cast<int>(a.integer("--grid", 85, 2));
  const int reps = static_cast<int>(a.integer("--reps", 5, 1));
  const std::string engine = a.str("--engine", "gemm");
  if (engine != "direct" && engine != "gemm")
    throw InputError("kpde bench mgno: --engine must be direct or gemm, got '" + engine + "'");
  nn::set_conv3x3_engine(engine == "gemm" ? nn::Conv3x3Engine::gemm : nn::Conv3x3Engine::direct);
  const operators::Mgno<T> net(s);
  std::vector<T> p(net.n_params()), g(net.n_params()), x(static_cast<std::size_t>(B) * n * n),
      u(static_cast<std::size_t>(B) * n * n);
  net.init_params(p.data(), 1);
  Rng rng(2);
  for (T& v : x) v = T(rng.normal());
  const Arr4<const T> xa(x.data(), B, 1, n, n);
  const Arr4<T> ua(u.data(), B, 1, n, n);
  typename operators::Mgno<T>::Cache cache;
  const double fwd = median_seconds(reps, [&] { net.forward(p.data(), xa, ua); });
  const double step = median_seconds(reps, [&] {
    net.forward(p.data(), xa, ua, &cache);
    std::fill(g.begin(), g.end(), T(0));
    net.backward(p.data(), cache, Arr4<const T>(u.data(), B, 1, n, n), g.data());
  });
  const double flops = net.forward_flops(B, n, n);
  std::printf("kpde bench mgno engine=%s threads=%d precision=%s grid=%d batch=%d channels=%d layers=%d levels=%d params=%zu\n",
              engine.c_str(), Runtime::n_threads(), sizeof(T) == 4 ? "float32" : "float64", n, B, s.channels, s.layers, s.levels(),
              net.n_params());
  std::printf("  forward            %9.2f ms  %6.2f ms/sample  %6.1f GFLOP/s (%.2f GFLOP per sample)\n", 1e3 * fwd,
              1e3 * fwd / B, flops / fwd * 1e-9, flops / B * 1e-9);
  std::printf("  forward + backward %9.2f ms  %6.2f ms/sample  (one training step; x %.2f the forward)\n", 1e3 * step,
              1e3 * step / B, step / fwd);
  // the dominant convolution: 3x3, C -> C, on the finest grid, forward and dx, both engines
  const int C = s.channels;
  std::vector<T> W(static_cast<std::size_t>(C) * C * 9), xc(static_cast<std::size_t>(B) * C * n * n),
      dy(xc.size()), y1(xc.size()), y2(xc.size()), dx1(xc.size()), dx2(xc.size());
  for (T& v : W) v = T(rng.normal() / 12);
  for (T& v : xc) v = T(rng.normal());
  for (T& v : dy) v = T(rng.normal());
  nn::Conv2dSpec cs;
  cs.in_channels = cs.out_channels = C, cs.kernel = 3, cs.stride = 1, cs.padding = 1, cs.bias = false;
  const nn::Conv2d<T> conv(cs);
  const Arr4<const T> xv(xc.data(), B, C, n, n);
  const auto time_engine = [&](nn::Conv3x3Engine e, std::vector<T>& y, std::vector<T>& dx, double& tf, double& tb) {
    const nn::Conv3x3Engine before = nn::conv3x3_engine();
    nn::set_conv3x3_engine(e);
    tf = median_seconds(reps, [&] { conv.forward(W.data(), xv, Arr4<T>(y.data(), B, C, n, n)); });
    tb = median_seconds(reps, [&] {
      std::fill(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(W.size()), T(0));
      conv.backward(W.data(), xv, Arr4<const T>(dy.data(), B, C, n, n), Arr4<T>(dx.data(), B, C, n, n), g.data());
    });
    nn::set_conv3x3_engine(before);
  };
  if (g.size() < W.size()) g.resize(W.size());
  double tgf = 0, tgb = 0, tdf = 0, tdb = 0;
  time_engine(nn::Conv3x3Engine::gemm, y1, dx1, tgf, tgb);
  time_engine(nn::Conv3x3Engine::direct, y2, dx2, tdf, tdb);
  const auto max_diff = [](const std::vector<T>& a, const std::vector<T>& b) {
    double d = 0, m = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      d = std::max(d, double(std::abs(a[i] - b[i]))), m = std::max(m, double(std::abs(a[i])));
    return std::pair<double, double>(d, m);
  };
  const auto [dyf, my] = max_diff(y1, y2);
  const auto [dxf, mx] = max_diff(dx1, dx2);
  const double cf = conv.forward_flops(B, n, n);
  std::printf("  conv 3x3 %d->%d on %dx%d x %d, forward: im2col + kpde::gemm %8.2f ms (%6.1f GFLOP/s), direct %8.2f ms "
              "(%6.1f GFLOP/s); max |difference| %.1e of %.1e; faster: %s\n",
              C, C, n, n, B, 1e3 * tgf, cf / tgf * 1e-9, 1e3 * tdf, cf / tdf * 1e-9, dyf, my, tgf <= tdf ? "gemm" : "direct");
  std::printf("  conv 3x3 %d->%d on %dx%d x %d, backward (dW by im2col + gemm, dx by the engine): gemm %8.2f ms, "
              "direct %8.2f ms; dx max |difference| %.1e of %.1e; faster: %s\n",
              C, C, n, n, B, 1e3 * tgb, 1e3 * tdb, dxf, mx, tgb <= tdb ? "gemm" : "direct");
  return 0;
}

}  // namespace

int bench_mgno(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "bench mgno");
  return a.str("--precision", "float32") == "float64" ? run<double>(a) : run<float>(a);
}

}  // namespace kpde::cli
