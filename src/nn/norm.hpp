#pragma once
/// Normalisation layers (conventions: nn/layer.hpp): GroupNorm over channel groups of a
/// token set or map, LayerNorm over the last axis of rows. Statistics are accumulated
/// in double (also for float) with a two-pass mean / variance; backward recomputes them.
#include <cstddef>

#include "core/types.hpp"
#include "nn/layer.hpp"

namespace kpde::nn {

/// GroupNorm over x [B][C][N] (a map [B][C][H][W] through as_tokens): for each item b
/// and group g of C/G consecutive channels, mean mu and biased variance var over the
/// (C/G) N values, and
///   y[b][c][n] = gamma[c] (x[b][c][n] - mu) / sqrt(var + eps) + beta[c].
/// Parameters: gamma [C], then beta [C] (init: 1, 0). As PyTorch's nn.GroupNorm.
template <class T>
class GroupNorm {
 public:
  /// groups >= 1, channels a multiple of groups, eps > 0 (InputError otherwise).
  GroupNorm(int groups, int channels, double eps = 1e-5);

  /// Number of groups G.
  int groups() const { return groups_; }
  /// Number of channels C.
  int channels() const { return channels_; }
  /// 2 C.
  std::size_t n_params() const { return 2 * static_cast<std::size_t>(channels_); }
  /// gamma = 1, beta = 0.
  void init(T* params) const;

  /// y = GroupNorm(x): x, y [B][C][N] (y overwritten; y may alias x).
  void forward(const T* params, const Arr3<const T>& x, const Arr3<T>& y) const;
  /// For the cotangent dy [B][C][N], with xh = (x - mu) / s, s = sqrt(var + eps):
  ///   dx = (gamma dy - mean_g(gamma dy) - xh mean_g(gamma dy xh)) / s   (overwritten;
  ///   skipped when dx.data() == nullptr; dx may alias dy),
  ///   grad += (dgamma[c] = sum_{b,n} dy xh, dbeta[c] = sum_{b,n} dy) (skipped when grad is null),
  /// mean_g over the group's (C/G) N values; items summed over gradient_groups(B) groups.
  void backward(const T* params, const Arr3<const T>& x, const Arr3<const T>& dy, const Arr3<T>& dx, T* grad) const;

 private:
  int groups_, channels_;
  double eps_;
};

/// LayerNorm over the last axis of x [R][D]: per row mean mu and biased variance var,
///   y[r][d] = gamma[d] (x[r][d] - mu) / sqrt(var + eps) + beta[d].
/// Parameters: gamma [D], then beta [D] (init: 1, 0). As PyTorch's nn.LayerNorm(D).
template <class T>
class LayerNorm {
 public:
  /// dim >= 1, eps > 0 (InputError otherwise).
  explicit LayerNorm(int dim, double eps = 1e-5);

  /// Normalised width D.
  int dim() const { return dim_; }
  /// 2 D.
  std::size_t n_params() const { return 2 * static_cast<std::size_t>(dim_); }
  /// gamma = 1, beta = 0.
  void init(T* params) const;

  /// y = LayerNorm(x): x, y [R][D] (y overwritten; y may alias x).
  void forward(const T* params, const Mat<const T>& x, const Mat<T>& y) const;
  /// For the cotangent dy [R][D], per row (xh = (x - mu) / s, s = sqrt(var + eps)):
  ///   dx = (gamma dy - mean_d(gamma dy) - xh mean_d(gamma dy xh)) / s   (overwritten;
  ///   skipped when dx.data() == nullptr; dx may alias dy),
  ///   grad += (dgamma = sum_r dy xh, dbeta = sum_r dy) (skipped when grad is null);
  /// rows in blocks of 64, blocks summed over gradient_groups(blocks) contiguous groups.
  void backward(const T* params, const Mat<const T>& x, const Mat<const T>& dy, const Mat<T>& dx, T* grad) const;

 private:
  int dim_;
  double eps_;
};

extern template class GroupNorm<float>;
extern template class GroupNorm<double>;
extern template class LayerNorm<float>;
extern template class LayerNorm<double>;

}  // namespace kpde::nn
