#pragma once
/// The Poisson PINN of `kpde bench pinn-step` and `kpde demo`, written out by hand:
///   -lap u = f on [-1,1]^2, f = 2 pi^2 sin(pi x) sin(pi y), u = 0 on the boundary,
///   exact u = sin(pi x) sin(pi y).
/// Loss = mean_i (-lap u(x_i) - f(x_i))^2 + mean_j u(b_j)^2 over n_interior uniform
/// interior points and n_boundary uniform boundary points (side chosen uniformly),
/// the same loss as the PyTorch anchor script (bench/compare_torch.sh).
/// The interior pass carries the channels (u, u_x, u_y, u_xx + u_yy); the boundary
/// pass carries u only.
#include <cmath>

#include "core/rng.hpp"
#include "core/types.hpp"
#include "nn/network.hpp"

namespace kpde::cli {

template <class T>
class PoissonPinn {
 public:
  PoissonPinn(const nn::NetworkSpec& spec, int n_interior, int n_boundary, std::uint64_t seed)
      : net_(spec),
        xc_("xc", n_interior, 2),
        f_("f", n_interior),
        xb_("xb", n_boundary, 2),
        out_b_("out_b", n_boundary, 1, 1) {
    Rng rng(seed);
    const double pi = M_PI;
    for (int i = 0; i < n_interior; ++i) {
      const double x = 2 * rng.uniform() - 1, y = 2 * rng.uniform() - 1;
      xc_(i, 0) = T(x), xc_(i, 1) = T(y);
      f_(i) = T(2 * pi * pi * std::sin(pi * x) * std::sin(pi * y));
    }
    for (int j = 0; j < n_boundary; ++j) {
      const double t = 2 * rng.uniform() - 1;
      const int side = static_cast<int>(rng.uniform() * 4);
      xb_(j, 0) = T(side == 0 ? -1.0 : side == 1 ? 1.0 : t);
      xb_(j, 1) = T(side == 2 ? -1.0 : side == 3 ? 1.0 : t);
    }
  }

  const nn::Network<T>& net() const { return net_; }
  int n_interior() const { return static_cast<int>(xc_.extent(0)); }
  int n_boundary() const { return static_cast<int>(xb_.extent(0)); }

  /// Loss and its gradient with respect to params (written into grad), through the
  /// fused block pass (Network::forward_backward): no activation is stored.
  double loss_and_grad(const Vec<const T>& params, const Vec<T>& grad) {
    const auto P = nn::as_batch(params);
    const auto G = nn::as_batch(grad);
    const int nc = n_interior(), nb = n_boundary();
    const T* f = f_.data();
    // interior: y channels (u, u_x, u_y, lap u); r = -lap u - f
    const nn::BlockLoss<T> interior = [=](int, int p0, int np, const T* y, T* dy) {
      double s = 0;
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < np; ++p) dy[c * np + p] = T(0);
      for (int p = 0; p < np; ++p) {
        const T r = -y[3 * np + p] - f[p0 + p];
        s += double(r) * double(r);
        dy[3 * np + p] = T(-2) * r / T(nc);
      }
      return s / nc;
    };
    const nn::BlockLoss<T> boundary = [=](int, int, int np, const T* y, T* dy) {
      double s = 0;
      for (int p = 0; p < np; ++p) {
        s += double(y[p]) * double(y[p]);
        dy[p] = T(2) * y[p] / T(nb);
      }
      return s / nb;
    };
    const double lr = net_.forward_backward(P, nn::as_batch(Mat<const T>(xc_)), nn::ChannelSpec::laplacian(2),
                                            interior, ws_c_, G, false);
    const double lb = net_.forward_backward(P, nn::as_batch(Mat<const T>(xb_)), nn::ChannelSpec::value(2),
                                            boundary, ws_b_, G, true);
    return lr + lb;
  }

  /// Relative L2 error against the exact solution on an n x n grid of [-1,1]^2.
  double rel_l2(const Vec<const T>& params, int n = 101) const {
    Mat<T> xg("xg", n * n, 2);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) xg(i * n + j, 0) = T(-1 + 2.0 * i / (n - 1)), xg(i * n + j, 1) = T(-1 + 2.0 * j / (n - 1));
    Arr3<T> u("u", n * n, 1, 1);
    net_.forward(nn::as_batch(params), nn::as_batch(Mat<const T>(xg)), nn::ChannelSpec::value(2), nn::as_batch(u));
    double e = 0, s = 0;
    for (int k = 0; k < n * n; ++k) {
      const double ex = std::sin(M_PI * double(xg(k, 0))) * std::sin(M_PI * double(xg(k, 1)));
      e += (double(u(k, 0, 0)) - ex) * (double(u(k, 0, 0)) - ex);
      s += ex * ex;
    }
    return std::sqrt(e / s);
  }

  /// GEMM floating-point operations of one loss_and_grad.
  double flops() const {
    return net_.forward_flops(n_interior(), 4) + net_.backward_flops(n_interior(), 4, false) +
           net_.forward_flops(n_boundary(), 1) + net_.backward_flops(n_boundary(), 1, false);
  }

 private:
  nn::Network<T> net_;
  Mat<T> xc_;
  Vec<T> f_;
  Mat<T> xb_;
  Arr3<T> out_b_;
  nn::Workspace<T> ws_c_, ws_b_;
};

}  // namespace kpde::cli
