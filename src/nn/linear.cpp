// Linear layer: forward and backward through kpde::gemm over blocks of rows.
#include "nn/linear.hpp"

#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "nn/gemm.hpp"

namespace kpde::nn {

namespace {
constexpr int kRowBlock = 64;  // rows per task and per GEMM
}  // namespace

template <class T>
Linear<T>::Linear(int in, int out, bool bias) : in_(in), out_(out), bias_(bias) {
  if (in < 1 || out < 1)
    throw InputError("Linear: in and out must be >= 1 (given in = " + std::to_string(in) +
                     ", out = " + std::to_string(out) + ")");
}

template <class T>
std::size_t Linear<T>::n_params() const {
  return static_cast<std::size_t>(out_) * in_ + (bias_ ? static_cast<std::size_t>(out_) : 0);
}

template <class T>
void Linear<T>::init(T* params, Rng& rng) const {
  detail::require_data("Linear::init", "params", params);
  const double bound = 1.0 / std::sqrt(double(in_));
  for (std::size_t i = 0; i < n_params(); ++i) params[i] = T(bound * (2.0 * rng.uniform() - 1.0));
}

template <class T>
void Linear<T>::init_kaiming_fan_out(T* params, Rng& rng) const {
  detail::require_data("Linear::init_kaiming_fan_out", "params", params);
  const double sd = std::sqrt(2.0 / out_);
  const std::size_t nw = static_cast<std::size_t>(out_) * in_;
  for (std::size_t i = 0; i < nw; ++i) params[i] = T(sd * rng.normal());
  for (std::size_t i = nw; i < n_params(); ++i) params[i] = T(0);
}

template <class T>
void Linear<T>::forward(const T* params, const Mat<const T>& x, const Mat<T>& y) const {
  const std::size_t R = x.extent(0);
  detail::require_data("Linear::forward", "params", params);
  detail::require_extents("Linear::forward", "x", x, {detail::any_extent, std::size_t(in_)});
  detail::require_extents("Linear::forward", "y", y, {R, std::size_t(out_)});
  KPDE_ASSERT(x.span_is_contiguous() && y.span_is_contiguous(), "Linear: contiguous x and y");
  const int n_blocks = static_cast<int>((R + kRowBlock - 1) / kRowBlock);
  const auto W = detail::col_matrix(params, in_, out_);  // W^T, column-major [in][out]
  const T* b = bias_ ? params + static_cast<std::size_t>(out_) * in_ : nullptr;
  Kokkos::parallel_for(
      "kpde::nn::Linear::forward", Kokkos::RangePolicy<HostExec>(0, n_blocks), [&](const int k) {
        const std::size_t r0 = std::size_t(k) * kRowBlock;
        const int rows = static_cast<int>(std::min<std::size_t>(kRowBlock, R - r0));
        const auto xb = detail::col_matrix(x.data() + r0 * in_, in_, rows);  // x^T [in][rows]
        const auto yb = detail::col_matrix(y.data() + r0 * out_, out_, rows);  // y^T [out][rows]
        gemm('T', 'N', T(1), W, xb, T(0), yb);
        if (b)
          for (int r = 0; r < rows; ++r) {
            T* yr = y.data() + (r0 + r) * out_;
#pragma omp simd
            for (int o = 0; o < out_; ++o) yr[o] += b[o];
          }
      });
}

template <class T>
void Linear<T>::backward(const T* params, const Mat<const T>& x, const Mat<const T>& dy, const Mat<T>& dx,
                         T* grad) const {
  const std::size_t R = x.extent(0);
  detail::require_data("Linear::backward", "params", params);
  detail::require_extents("Linear::backward", "x", x, {detail::any_extent, std::size_t(in_)});
  detail::require_extents("Linear::backward", "dy", dy, {R, std::size_t(out_)});
  if (dx.data()) detail::require_extents("Linear::backward", "dx", dx, {R, std::size_t(in_)});
  KPDE_ASSERT(x.span_is_contiguous() && dy.span_is_contiguous() && dx.span_is_contiguous(), "Linear: contiguous views");
  const int n_blocks = static_cast<int>((R + kRowBlock - 1) / kRowBlock);
  const auto W = detail::col_matrix(params, in_, out_);  // W^T [in][out]

  if (dx.data())  // dx^T [in][rows] = W^T dy^T
    Kokkos::parallel_for(
        "kpde::nn::Linear::backward_dx", Kokkos::RangePolicy<HostExec>(0, n_blocks), [&](const int k) {
          const std::size_t r0 = std::size_t(k) * kRowBlock;
          const int rows = static_cast<int>(std::min<std::size_t>(kRowBlock, R - r0));
          gemm('N', 'N', T(1), W, detail::col_matrix(dy.data() + r0 * out_, out_, rows), T(0),
               detail::col_matrix(dx.data() + r0 * in_, in_, rows));
        });
  if (!grad || n_blocks == 0) return;

  // Parameter gradients: group g sums the contiguous block range [g nb/G, (g+1) nb/G).
  const int groups = gradient_groups(n_blocks);
  const std::size_t np = n_params(), nw = static_cast<std::size_t>(out_) * in_;
  std::vector<T> partials(groups > 1 ? np * groups : 0);
  using Acc = std::conditional_t<(sizeof(T) < sizeof(double)), double, T>;
  Kokkos::parallel_for(
      "kpde::nn::Linear::backward_params", Kokkos::RangePolicy<HostExec>(0, groups), [&](const int g) {
        const std::size_t r0 = std::size_t(g) * n_blocks / groups * kRowBlock;
        const std::size_t r1 = std::min(R, std::size_t(g + 1) * n_blocks / groups * kRowBlock);
        const int rows = static_cast<int>(r1 - r0);
        T* out = groups > 1 ? partials.data() + np * g : grad;
        const T beta = groups > 1 ? T(0) : T(1);
        // dW^T [in][out] = x^T [in][rows] dy [rows][out]
        gemm('N', 'T', T(1), detail::col_matrix(x.data() + r0 * in_, in_, rows),
             detail::col_matrix(dy.data() + r0 * out_, out_, rows), beta, detail::col_matrix(out, in_, out_));
        if (bias_) {
          std::vector<Acc> db(out_, Acc(0));
          for (std::size_t r = r0; r < r1; ++r) {
            const T* dyr = dy.data() + r * out_;
            for (int o = 0; o < out_; ++o) db[o] += Acc(dyr[o]);
          }
          for (int o = 0; o < out_; ++o) out[nw + o] = beta * out[nw + o] + T(db[o]);
        }
      });
  if (groups > 1) detail::add_partials(grad, partials.data(), groups, np);
}

template class Linear<float>;
template class Linear<double>;

}  // namespace kpde::nn
