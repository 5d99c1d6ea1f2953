// GroupNorm and LayerNorm: forward and backward with two-pass statistics in double.
#include "nn/norm.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "nn/linear.hpp"

namespace kpde::nn {

namespace {

constexpr int kRowBlock = 64;  // LayerNorm rows per task

/// Mean and 1/sqrt(var + eps) of p[0..m) (biased variance, two passes, in double).
template <class T>
void moments(const T* p, std::size_t m, double eps, double& mu, double& rstd) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (std::size_t i = 0; i < m; ++i) s += double(p[i]);
  mu = m > 0 ? s / double(m) : 0.0;
  double v = 0;
#pragma omp simd reduction(+ : v)
  for (std::size_t i = 0; i < m; ++i) {
    const double d = double(p[i]) - mu;
    v += d * d;
  }
  rstd = 1.0 / std::sqrt((m > 0 ? v / double(m) : 0.0) + eps);
}

/// sum_i dy[i] and sum_i dy[i] (x[i] - mu) over i < m, in double.
template <class T>
void cotangent_sums(const T* x, const T* dy, std::size_t m, double mu, double& sdy, double& sdyx) {
  double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
  for (std::size_t i = 0; i < m; ++i) {
    a += double(dy[i]);
    b += double(dy[i]) * (double(x[i]) - mu);
  }
  sdy = a, sdyx = b;
}

/// dx[i] = c_dy dy[i] + c_x (x[i] - mu) + c0 over i < m (dx may alias dy).
template <class T>
void affine2(const T* x, const T* dy, T* dx, std::size_t m, double mu, double c_dy, double c_x, double c0) {
  const T a = T(c_dy), b = T(c_x), c = T(c0), mt = T(mu);
#pragma omp simd
  for (std::size_t i = 0; i < m; ++i) dx[i] = a * dy[i] + b * (x[i] - mt) + c;
}

void check_eps(const char* where, double eps) {
  if (!(eps > 0)) throw InputError(std::string(where) + ": eps must be > 0 (given " + std::to_string(eps) + ")");
}

}  // namespace

// ---- GroupNorm ------------------------------------------------------------------------

template <class T>
GroupNorm<T>::GroupNorm(int groups, int channels, double eps) : groups_(groups), channels_(channels), eps_(eps) {
  if (groups < 1 || channels < 1 || channels % groups != 0)
    throw InputError("GroupNorm: channels must be a positive multiple of groups (given groups = " +
                     std::to_string(groups) + ", channels = " + std::to_string(channels) + ")");
  check_eps("GroupNorm", eps);
}

template <class T>
void GroupNorm<T>::init(T* params) const {
  detail::require_data("GroupNorm::init", "params", params);
  for (int c = 0; c < channels_; ++c) params[c] = T(1), params[channels_ + c] = T(0);
}

template <class T>
void GroupNorm<T>::forward(const T* params, const Arr3<const T>& x, const Arr3<T>& y) const {
  const std::size_t B = x.extent(0), C = std::size_t(channels_), N = x.extent(2);
  detail::require_data("GroupNorm::forward", "params", params);
  detail::require_extents("GroupNorm::forward", "x", x, {detail::any_extent, C, detail::any_extent});
  detail::require_extents("GroupNorm::forward", "y", y, {B, C, N});
  KPDE_ASSERT(x.span_is_contiguous() && y.span_is_contiguous(), "GroupNorm: contiguous x and y");
  const std::size_t cg = C / groups_, G = std::size_t(groups_);
  const T* gamma = params;
  const T* beta = params + C;
  Kokkos::parallel_for(
      "kpde::nn::GroupNorm::forward", Kokkos::RangePolicy<HostExec>(0, B * G), [&](const std::size_t task) {
        const std::size_t b = task / G, c0 = (task % G) * cg;
        const T* xp = x.data() + (b * C + c0) * N;
        T* yp = y.data() + (b * C + c0) * N;
        double mu, rstd;
        moments(xp, cg * N, eps_, mu, rstd);
        for (std::size_t c = 0; c < cg; ++c) {
          const T s = T(double(gamma[c0 + c]) * rstd), t = beta[c0 + c], m = T(mu);
          const T* xc = xp + c * N;
          T* yc = yp + c * N;
#pragma omp simd
          for (std::size_t n = 0; n < N; ++n) yc[n] = s * (xc[n] - m) + t;
        }
      });
}

template <class T>
void GroupNorm<T>::backward(const T* params, const Arr3<const T>& x, const Arr3<const T>& dy, const Arr3<T>& dx,
                            T* grad) const {
  const std::size_t B = x.extent(0), C = std::size_t(channels_), N = x.extent(2);
  detail::require_data("GroupNorm::backward", "params", params);
  detail::require_extents("GroupNorm::backward", "x", x, {detail::any_extent, C, detail::any_extent});
  detail::require_extents("GroupNorm::backward", "dy", dy, {B, C, N});
  if (dx.data()) detail::require_extents("GroupNorm::backward", "dx", dx, {B, C, N});
  KPDE_ASSERT(x.span_is_contiguous() && dy.span_is_contiguous() && dx.span_is_contiguous(),
              "GroupNorm: contiguous views");
  if ((!dx.data() && !grad) || B == 0) return;
  const std::size_t cg = C / groups_, G = std::size_t(groups_), M = cg * N;
  const std::size_t GG = std::size_t(gradient_groups(static_cast<int>(B)));
  const T* gamma = params;
  std::vector<double> partials(GG * 2 * C, 0.0);  // [gradient group][dgamma C | dbeta C]
  // Task (gg, g): items b = gg, gg + GG, ... of norm group g; partial sums of group gg.
  Kokkos::parallel_for(
      "kpde::nn::GroupNorm::backward", Kokkos::RangePolicy<HostExec>(0, GG * G), [&](const std::size_t task) {
        const std::size_t gg = task / G, c0 = (task % G) * cg;
        double* dgamma = partials.data() + gg * 2 * C;
        double* dbeta = dgamma + C;
        std::vector<double> sdy(cg), sdyx(cg);
        for (std::size_t b = gg; b < B; b += GG) {
          const std::size_t off = (b * C + c0) * N;
          double mu, rstd;
          moments(x.data() + off, M, eps_, mu, rstd);
          double m1 = 0, m2 = 0;  // sum gamma dy, sum gamma dy (x - mu)
          for (std::size_t c = 0; c < cg; ++c) {
            cotangent_sums(x.data() + off + c * N, dy.data() + off + c * N, N, mu, sdy[c], sdyx[c]);
            dgamma[c0 + c] += sdyx[c] * rstd;
            dbeta[c0 + c] += sdy[c];
            m1 += double(gamma[c0 + c]) * sdy[c];
            m2 += double(gamma[c0 + c]) * sdyx[c];
          }
          if (!dx.data()) continue;
          // dx = rstd (gamma dy - m1/M - (x - mu) rstd^2 m2/M)
          m1 /= double(M), m2 *= rstd * rstd / double(M);
          for (std::size_t c = 0; c < cg; ++c) {
            const std::size_t o = off + c * N;
            affine2(x.data() + o, dy.data() + o, dx.data() + o, N, mu, rstd * double(gamma[c0 + c]), -rstd * m2,
                    -rstd * m1);
          }
        }
      });
  if (grad)
    for (std::size_t i = 0; i < 2 * C; ++i) {
      double s = 0;
      for (std::size_t gg = 0; gg < GG; ++gg) s += partials[gg * 2 * C + i];
      grad[i] += T(s);
    }
}

// ---- LayerNorm ------------------------------------------------------------------------

template <class T>
LayerNorm<T>::LayerNorm(int dim, double eps) : dim_(dim), eps_(eps) {
  if (dim < 1) throw InputError("LayerNorm: dim must be >= 1 (given " + std::to_string(dim) + ")");
  check_eps("LayerNorm", eps);
}

template <class T>
void LayerNorm<T>::init(T* params) const {
  detail::require_data("LayerNorm::init", "params", params);
  for (int d = 0; d < dim_; ++d) params[d] = T(1), params[dim_ + d] = T(0);
}

template <class T>
void LayerNorm<T>::forward(const T* params, const Mat<const T>& x, const Mat<T>& y) const {
  const std::size_t R = x.extent(0), D = std::size_t(dim_);
  detail::require_data("LayerNorm::forward", "params", params);
  detail::require_extents("LayerNorm::forward", "x", x, {detail::any_extent, D});
  detail::require_extents("LayerNorm::forward", "y", y, {R, D});
  KPDE_ASSERT(x.span_is_contiguous() && y.span_is_contiguous(), "LayerNorm: contiguous x and y");
  const T* gamma = params;
  const T* beta = params + D;
  const std::size_t n_blocks = (R + kRowBlock - 1) / kRowBlock;
  Kokkos::parallel_for(
      "kpde::nn::LayerNorm::forward", Kokkos::RangePolicy<HostExec>(0, n_blocks), [&](const std::size_t k) {
        for (std::size_t r = k * kRowBlock; r < std::min(R, (k + 1) * kRowBlock); ++r) {
          const T* xr = x.data() + r * D;
          T* yr = y.data() + r * D;
          double mu, rstd;
          moments(xr, D, eps_, mu, rstd);
          const T m = T(mu), s = T(rstd);
#pragma omp simd
          for (std::size_t d = 0; d < D; ++d) yr[d] = gamma[d] * ((xr[d] - m) * s) + beta[d];
        }
      });
}

template <class T>
void LayerNorm<T>::backward(const T* params, const Mat<const T>& x, const Mat<const T>& dy, const Mat<T>& dx,
                            T* grad) const {
  const std::size_t R = x.extent(0), D = std::size_t(dim_);
  detail::require_data("LayerNorm::backward", "params", params);
  detail::require_extents("LayerNorm::backward", "x", x, {detail::any_extent, D});
  detail::require_extents("LayerNorm::backward", "dy", dy, {R, D});
  if (dx.data()) detail::require_extents("LayerNorm::backward", "dx", dx, {R, D});
  KPDE_ASSERT(x.span_is_contiguous() && dy.span_is_contiguous() && dx.span_is_contiguous(),
              "LayerNorm: contiguous views");
  const std::size_t n_blocks = (R + kRowBlock - 1) / kRowBlock;
  if ((!dx.data() && !grad) || n_blocks == 0) return;
  const std::size_t GG = std::size_t(gradient_groups(static_cast<int>(n_blocks)));
  const T* gamma = params;
  std::vector<double> partials(GG * 2 * D, 0.0);  // [group][dgamma D | dbeta D]
  Kokkos::parallel_for(
      "kpde::nn::LayerNorm::backward", Kokkos::RangePolicy<HostExec>(0, GG), [&](const std::size_t g) {
        const std::size_t r0 = g * n_blocks / GG * kRowBlock, r1 = std::min(R, (g + 1) * n_blocks / GG * kRowBlock);
        double* dgamma = partials.data() + g * 2 * D;
        double* dbeta = dgamma + D;
        for (std::size_t r = r0; r < r1; ++r) {
          const T* xr = x.data() + r * D;
          const T* dyr = dy.data() + r * D;
          double mu, rstd;
          moments(xr, D, eps_, mu, rstd);
          double m1 = 0, m2 = 0;  // sum gamma dy, sum gamma dy (x - mu)
#pragma omp simd reduction(+ : m1, m2)
          for (std::size_t d = 0; d < D; ++d) {
            const double gd = double(dyr[d]), xc = double(xr[d]) - mu;
            dgamma[d] += gd * xc * rstd;
            dbeta[d] += gd;
            m1 += double(gamma[d]) * gd;
            m2 += double(gamma[d]) * gd * xc;
          }
          if (!dx.data()) continue;
          m1 /= double(D), m2 *= rstd * rstd / double(D);
          T* dxr = dx.data() + r * D;
          const T a = T(rstd), b = T(-rstd * m2), c = T(-rstd * m1), m = T(mu);
#pragma omp simd
          for (std::size_t d = 0; d < D; ++d) dxr[d] = a * gamma[d] * dyr[d] + b * (xr[d] - m) + c;
        }
      });
  if (grad)
    for (std::size_t i = 0; i < 2 * D; ++i) {
      double s = 0;
      for (std::size_t g = 0; g < GG; ++g) s += partials[g * 2 * D + i];
      grad[i] += T(s);
    }
}

template class GroupNorm<float>;
template class GroupNorm<double>;
template class LayerNorm<float>;
template class LayerNorm<double>;

}  // namespace kpde::nn
