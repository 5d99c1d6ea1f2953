// GELU, tanh, ReLU and FiLM: element-wise loops in parallel over chunks (GELU, tanh, ReLU) or
// over (item, channel) rows (FiLM).
#include "nn/pointwise.hpp"

#include <cmath>

#include <unsupported/Eigen/SpecialFunctions>

#include "core/error.hpp"
#include "nn/activation.hpp"
#include "nn/linear.hpp"

namespace kpde::nn {

namespace {

constexpr std::size_t kChunk = 4096;  // values per task

/// f(i0, i1) over [0, n) in chunks of kChunk, in parallel.
template <class F>
void for_chunks(const char* label, std::size_t n, F&& f) {
  const std::size_t n_chunks = (n + kChunk - 1) / kChunk;
  if (n_chunks == 1) return f(std::size_t(0), n);
  Kokkos::parallel_for(label, Kokkos::RangePolicy<HostExec>(0, n_chunks),
                       [&](const std::size_t k) { f(k * kChunk, std::min(n, (k + 1) * kChunk)); });
}

}  // namespace

/// Phi(x[i]) = (1 + erf(x[i] / sqrt 2)) / 2 for i < n. float: Eigen's vectorised erf (a
/// rational approximation, |error| <= 4e-7 on the whole line, 40x the speed of the scalar
/// libm call that dominated the MgNO step's pointwise time); double: std::erf (the FD tests'
/// precision).
void normal_cdf(std::size_t n, const float* x, float* Phi) {
  using A = Eigen::Array<float, Eigen::Dynamic, 1>;
  const auto xs = Eigen::Map<const A>(x, Eigen::Index(n));
  Eigen::Map<A>(Phi, Eigen::Index(n)) = 0.5f * (1.0f + (xs * 0.70710678118654752440f).erf());
}
void normal_cdf(std::size_t n, const double* x, double* Phi) {
  for (std::size_t i = 0; i < n; ++i) Phi[i] = 0.5 * (1.0 + std::erf(x[i] * 0.70710678118654752440));
}

template <class T>
void gelu_forward(std::size_t n, const T* x, T* y) {
  KPDE_ASSERT(n == 0 || (x && y), "gelu_forward: null pointers");
  for_chunks("kpde::nn::gelu_forward", n, [&](std::size_t i0, std::size_t i1) {
    T Phi[kChunk];  // y = x Phi(x), Phi first (y may alias x)
    normal_cdf(i1 - i0, x + i0, Phi);
#pragma omp simd
    for (std::size_t i = i0; i < i1; ++i) y[i] = x[i] * Phi[i - i0];
  });
}

template <class T>
void gelu_backward(std::size_t n, const T* x, const T* dy, T* dx) {
  KPDE_ASSERT(n == 0 || (x && dy && dx), "gelu_backward: null pointers");
  for_chunks("kpde::nn::gelu_backward", n, [&](std::size_t i0, std::size_t i1) {
    T Phi[kChunk];  // GELU' = Phi + x phi, phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    normal_cdf(i1 - i0, x + i0, Phi);
#pragma omp simd
    for (std::size_t i = i0; i < i1; ++i) {
      const T z = x[i];
      const T phi = T(0.39894228040143267794) * detail::vexp(T(-0.5) * z * z);
      dx[i] = dy[i] * (Phi[i - i0] + z * phi);
    }
  });
}

template <class T>
void tanh_forward(std::size_t n, const T* x, T* y) {
  KPDE_ASSERT(n == 0 || (x && y), "tanh_forward: null pointers");
  for_chunks("kpde::nn::tanh_forward", n, [&](std::size_t i0, std::size_t i1) {
#pragma omp simd
    for (std::size_t i = i0; i < i1; ++i) {
      T s0, s1, s2, s3;
      TanhAct::eval(x[i], s0, s1, s2, s3);
      y[i] = s0;
    }
  });
}

template <class T>
void tanh_backward(std::size_t n, const T* x, const T* dy, T* dx) {
  KPDE_ASSERT(n == 0 || (x && dy && dx), "tanh_backward: null pointers");
  for_chunks("kpde::nn::tanh_backward", n, [&](std::size_t i0, std::size_t i1) {
#pragma omp simd
    for (std::size_t i = i0; i < i1; ++i) {
      T s0, s1, s2, s3;
      TanhAct::eval(x[i], s0, s1, s2, s3);
      dx[i] = dy[i] * s1;
    }
  });
}

template <class T>
void relu_forward(std::size_t n, const T* x, T* y) {
  KPDE_ASSERT(n == 0 || (x && y), "relu_forward: null pointers");
  for_chunks("kpde::nn::relu_forward", n, [&](std::size_t i0, std::size_t i1) {
#pragma omp simd
    for (std::size_t i = i0; i < i1; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];
  });
}

template <class T>
void relu_backward(std::size_t n, const T* x, const T* dy, T* dx) {
  KPDE_ASSERT(n == 0 || (x && dy && dx), "relu_backward: null pointers");
  for_chunks("kpde::nn::relu_backward", n, [&](std::size_t i0, std::size_t i1) {
#pragma omp simd
    for (std::size_t i = i0; i < i1; ++i) dx[i] = x[i] > T(0) ? dy[i] : T(0);
  });
}

template <class T>
void film_forward(const Arr3<const T>& x, const Mat<const T>& gamma, const Mat<const T>& beta, const Arr3<T>& y) {
  const std::size_t B = x.extent(0), C = x.extent(1), N = x.extent(2);
  detail::require_extents("film_forward", "gamma", gamma, {B, C});
  detail::require_extents("film_forward", "beta", beta, {B, C});
  detail::require_extents("film_forward", "y", y, {B, C, N});
  KPDE_ASSERT(x.span_is_contiguous() && y.span_is_contiguous(), "film_forward: contiguous x and y");
  Kokkos::parallel_for("kpde::nn::film_forward", Kokkos::RangePolicy<HostExec>(0, B * C), [&](const std::size_t bc) {
    const T g = gamma.data()[bc], be = beta.data()[bc];
    const T* xr = x.data() + bc * N;
    T* yr = y.data() + bc * N;
#pragma omp simd
    for (std::size_t n = 0; n < N; ++n) yr[n] = g * xr[n] + be;
  });
}

template <class T>
void film_backward(const Arr3<const T>& x, const Mat<const T>& gamma, const Arr3<const T>& dy, const Arr3<T>& dx,
                   const Mat<T>& dgamma, const Mat<T>& dbeta) {
  const std::size_t B = x.extent(0), C = x.extent(1), N = x.extent(2);
  detail::require_extents("film_backward", "gamma", gamma, {B, C});
  detail::require_extents("film_backward", "dy", dy, {B, C, N});
  if (dx.data()) detail::require_extents("film_backward", "dx", dx, {B, C, N});
  if (dgamma.data()) detail::require_extents("film_backward", "dgamma", dgamma, {B, C});
  if (dbeta.data()) detail::require_extents("film_backward", "dbeta", dbeta, {B, C});
  using Acc = std::conditional_t<(sizeof(T) < sizeof(double)), double, T>;
  Kokkos::parallel_for("kpde::nn::film_backward", Kokkos::RangePolicy<HostExec>(0, B * C), [&](const std::size_t bc) {
    const T* xr = x.data() + bc * N;
    const T* dyr = dy.data() + bc * N;
    Acc sg = 0, sb = 0;
#pragma omp simd reduction(+ : sg, sb)
    for (std::size_t n = 0; n < N; ++n) {
      sg += Acc(dyr[n]) * Acc(xr[n]);
      sb += Acc(dyr[n]);
    }
    if (dgamma.data()) dgamma.data()[bc] = T(sg);
    if (dbeta.data()) dbeta.data()[bc] = T(sb);
    if (dx.data()) {
      const T g = gamma.data()[bc];
      T* dxr = dx.data() + bc * N;
#pragma omp simd
      for (std::size_t n = 0; n < N; ++n) dxr[n] = g * dyr[n];
    }
  });
}

template void gelu_forward<float>(std::size_t, const float*, float*);
template void gelu_forward<double>(std::size_t, const double*, double*);
template void gelu_backward<float>(std::size_t, const float*, const float*, float*);
template void gelu_backward<double>(std::size_t, const double*, const double*, double*);
template void tanh_forward<float>(std::size_t, const float*, float*);
template void tanh_forward<double>(std::size_t, const double*, double*);
template void tanh_backward<float>(std::size_t, const float*, const float*, float*);
template void tanh_backward<double>(std::size_t, const double*, const double*, double*);
template void relu_forward<float>(std::size_t, const float*, float*);
template void relu_forward<double>(std::size_t, const double*, double*);
template void relu_backward<float>(std::size_t, const float*, const float*, float*);
template void relu_backward<double>(std::size_t, const double*, const double*, double*);
template void film_forward<float>(const Arr3<const float>&, const Mat<const float>&, const Mat<const float>&,
                                  const Arr3<float>&);
template void film_forward<double>(const Arr3<const double>&, const Mat<const double>&, const Mat<const double>&,
                                   const Arr3<double>&);
template void film_backward<float>(const Arr3<const float>&, const Mat<const float>&, const Arr3<const float>&,
                                   const Arr3<float>&, const Mat<float>&, const Mat<float>&);
template void film_backward<double>(const Arr3<const double>&, const Mat<const double>&, const Arr3<const double>&,
                                    const Arr3<double>&, const Mat<double>&, const Mat<double>&);

}  // namespace kpde::nn
