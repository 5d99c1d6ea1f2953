#include "nn/resample.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace kpde::nn {
namespace {


void check_factor(const std::string& where, const char* name, int f) {
  if (f < 1) throw InputError(where + ": " + name + " must be >= 1, got " + std::to_string(f));
}

// The pooled map x [B][C][H][W] checked for pooling by k: k divides H and W (error), or the
// window fits (drop).
template <class V>
void check_poolable(const std::string& where, const char* name, const V& x, int k, PoolRemainder remainder) {
  check_factor(where, "k", k);
  const std::size_t H = x.extent(2), W = x.extent(3), uk = static_cast<std::size_t>(k);
  if (remainder == PoolRemainder::drop) {
    if (H < uk || W < uk)
      throw InputError(where + ": the window " + std::to_string(k) + " is larger than " + name + ", " +
                       std::to_string(H) + " x " + std::to_string(W));
    return;
  }
  if (H % uk != 0 || W % uk != 0)
    throw InputError(where + ": the window " + std::to_string(k) + " must divide the extents of " + name + ", got " +
                     std::to_string(H) + " x " + std::to_string(W) + " (crop or pad the input to a multiple of " +
                     std::to_string(k) + ", or drop the remainder)");
}

// f(plane) for every plane b * C + c of B C planes of `per_plane` elements (of the larger map):
// in parallel, or in order on the calling thread when there are fewer than 2^18 elements (a
// parallel region would cost more than it saves).
template <class F>
void for_each_plane(const char* name, std::size_t n_planes, std::size_t per_plane, const F& f) {
  if (n_planes * per_plane < (std::size_t(1) << 18)) {
    for (std::size_t plane = 0; plane < n_planes; ++plane) f(plane);
    return;
  }
  Kokkos::parallel_for(name, Kokkos::RangePolicy<HostExec>(0, n_planes), [&](const std::size_t plane) { f(plane); });
}

// Bilinear taps along one axis of an output extent n f: source rows lo[i], hi[i], weight of hi w_hi[i].
template <class T>
struct Taps {
  std::vector<int> lo, hi;
  std::vector<T> w_hi;
  Taps(int n, int f) : lo(static_cast<std::size_t>(n) * f), hi(lo.size()), w_hi(lo.size()) {
    for (std::size_t i = 0; i < lo.size(); ++i) {
      const double s = std::max((static_cast<double>(i) + 0.5) / f - 0.5, 0.0);
      lo[i] = static_cast<int>(s);
      hi[i] = lo[i] + (lo[i] < n - 1 ? 1 : 0);
      w_hi[i] = static_cast<T>(s - lo[i]);
    }
  }
};

}  // namespace

template <class T>
void avg_pool2d_forward(int k, const Arr4<const T>& x, const Arr4<T>& y, PoolRemainder remainder) {
  const std::string where = "avg_pool2d_forward";
  check_poolable(where, "x", x, k, remainder);
  const std::size_t B = x.extent(0), C = x.extent(1), H = x.extent(2), W = x.extent(3), Ho = H / k, Wo = W / k;
  detail::check_map(where, "x", x, B, C, H, W);
  detail::check_map(where, "y", y, B, C, Ho, Wo);
  const T scale = T(1) / static_cast<T>(k * k);
  for_each_plane("kpde::avg_pool2d_forward", B * C, H * W, [&](std::size_t plane) {
    const T* xp = x.data() + plane * H * W;
    T* yp = y.data() + plane * Ho * Wo;
    for (std::size_t i = 0; i < Ho; ++i) {
      T* row = yp + i * Wo;
      std::fill(row, row + Wo, T(0));
      for (int p = 0; p < k; ++p) {
        const T* src = xp + (i * k + p) * W;
        for (std::size_t j = 0; j < Wo; ++j)
          for (int q = 0; q < k; ++q) row[j] += src[j * k + q];
      }
      for (std::size_t j = 0; j < Wo; ++j) row[j] *= scale;
    }
  });
}

template <class T>
void avg_pool2d_backward(int k, const Arr4<const T>& dy, const Arr4<T>& dx, PoolRemainder remainder) {
  const std::string where = "avg_pool2d_backward";
  check_poolable(where, "dx", dx, k, remainder);
  const std::size_t B = dx.extent(0), C = dx.extent(1), H = dx.extent(2), W = dx.extent(3), Ho = H / k, Wo = W / k;
  detail::check_map(where, "dx", dx, B, C, H, W);
  detail::check_map(where, "dy", dy, B, C, Ho, Wo);
  const T scale = T(1) / static_cast<T>(k * k);
  for_each_plane("kpde::avg_pool2d_backward", B * C, H * W, [&](std::size_t plane) {
    const T* gp = dy.data() + plane * Ho * Wo;
    T* dp = dx.data() + plane * H * W;
    const std::size_t Hk = Ho * k, Wk = Wo * k;  // rows and columns [Hk, H), [Wk, W) were dropped
    for (std::size_t i = 0; i < H; ++i) {
      T* row = dp + i * W;
      if (i >= Hk) {
        std::fill(row, row + W, T(0));
        continue;
      }
      const T* src = gp + (i / k) * Wo;
      for (std::size_t j = 0; j < Wk; ++j) row[j] = scale * src[j / k];
      std::fill(row + Wk, row + W, T(0));
    }
  });
}

template <class T>
void upsample_forward(UpsampleMode mode, int factor, const Arr4<const T>& x, const Arr4<T>& y) {
  const std::string where = "upsample_forward";
  check_factor(where, "factor", factor);
  const std::size_t B = x.extent(0), C = x.extent(1), H = x.extent(2), W = x.extent(3);
  const std::size_t f = factor, Ho = H * f, Wo = W * f;
  detail::check_map(where, "x", x, B, C, H, W);
  detail::check_map(where, "y", y, B, C, Ho, Wo);
  if (mode == UpsampleMode::nearest) {
    for_each_plane("kpde::upsample_forward", B * C, Ho * Wo, [&](std::size_t plane) {
      const T* xp = x.data() + plane * H * W;
      T* yp = y.data() + plane * Ho * Wo;
      for (std::size_t i = 0; i < Ho; ++i) {
        const T* src = xp + (i / f) * W;
        for (std::size_t j = 0; j < Wo; ++j) yp[i * Wo + j] = src[j / f];
      }
    });
    return;
  }
  const Taps<T> ty(static_cast<int>(H), factor), tx(static_cast<int>(W), factor);
  for_each_plane("kpde::upsample_forward", B * C, Ho * Wo, [&](std::size_t plane) {
    const T* xp = x.data() + plane * H * W;
    T* yp = y.data() + plane * Ho * Wo;
    for (std::size_t i = 0; i < Ho; ++i) {
      const T* r0 = xp + ty.lo[i] * W;
      const T* r1 = xp + ty.hi[i] * W;
      const T a1 = ty.w_hi[i], a0 = T(1) - a1;
      for (std::size_t j = 0; j < Wo; ++j) {
        const int c0 = tx.lo[j], c1 = tx.hi[j];
        const T b1 = tx.w_hi[j], b0 = T(1) - b1;
        yp[i * Wo + j] = a0 * (b0 * r0[c0] + b1 * r0[c1]) + a1 * (b0 * r1[c0] + b1 * r1[c1]);
      }
    }
  });
}

template <class T>
void upsample_backward(UpsampleMode mode, int factor, const Arr4<const T>& dy, const Arr4<T>& dx) {
  const std::string where = "upsample_backward";
  check_factor(where, "factor", factor);
  const std::size_t B = dx.extent(0), C = dx.extent(1), H = dx.extent(2), W = dx.extent(3);
  const std::size_t f = factor, Ho = H * f, Wo = W * f;
  detail::check_map(where, "dx", dx, B, C, H, W);
  detail::check_map(where, "dy", dy, B, C, Ho, Wo);
  if (mode == UpsampleMode::nearest) {
    for_each_plane("kpde::upsample_backward", B * C, Ho * Wo, [&](std::size_t plane) {
      const T* gp = dy.data() + plane * Ho * Wo;
      T* dp = dx.data() + plane * H * W;
      std::fill(dp, dp + H * W, T(0));
      for (std::size_t i = 0; i < Ho; ++i) {
        T* row = dp + (i / f) * W;
        for (std::size_t j = 0; j < Wo; ++j) row[j / f] += gp[i * Wo + j];
      }
    });
    return;
  }
  const Taps<T> ty(static_cast<int>(H), factor), tx(static_cast<int>(W), factor);
  for_each_plane("kpde::upsample_backward", B * C, Ho * Wo, [&](std::size_t plane) {
    const T* gp = dy.data() + plane * Ho * Wo;
    T* dp = dx.data() + plane * H * W;
    std::fill(dp, dp + H * W, T(0));
    for (std::size_t i = 0; i < Ho; ++i) {
      T* r0 = dp + ty.lo[i] * W;
      T* r1 = dp + ty.hi[i] * W;
      const T a1 = ty.w_hi[i], a0 = T(1) - a1;
      for (std::size_t j = 0; j < Wo; ++j) {
        const int c0 = tx.lo[j], c1 = tx.hi[j];
        const T b1 = tx.w_hi[j], b0 = T(1) - b1, g = gp[i * Wo + j];
        r0[c0] += a0 * b0 * g;
        r0[c1] += a0 * b1 * g;
        r1[c0] += a1 * b0 * g;
        r1[c1] += a1 * b1 * g;
      }
    }
  });
}

template void avg_pool2d_forward<float>(int, const Arr4<const float>&, const Arr4<float>&, PoolRemainder);
template void avg_pool2d_forward<double>(int, const Arr4<const double>&, const Arr4<double>&, PoolRemainder);
template void avg_pool2d_backward<float>(int, const Arr4<const float>&, const Arr4<float>&, PoolRemainder);
template void avg_pool2d_backward<double>(int, const Arr4<const double>&, const Arr4<double>&, PoolRemainder);
template void upsample_forward<float>(UpsampleMode, int, const Arr4<const float>&, const Arr4<float>&);
template void upsample_forward<double>(UpsampleMode, int, const Arr4<const double>&, const Arr4<double>&);
template void upsample_backward<float>(UpsampleMode, int, const Arr4<const float>&, const Arr4<float>&);
template void upsample_backward<double>(UpsampleMode, int, const Arr4<const double>&, const Arr4<double>&);

}  // namespace kpde::nn
