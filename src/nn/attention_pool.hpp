#pragma once
/// Attention pooling of a token set by learned queries (conventions: nn/layer.hpp):
/// multi-head attention with PyTorch nn.MultiheadAttention semantics (batch_first, no
/// dropout, no masks), the queries being parameters.
#include <cstddef>

#include "core/rng.hpp"
#include "core/types.hpp"
#include "nn/layer.hpp"

namespace kpde::nn {

/// Tokens x [B][D][N], channel-first (as_tokens of a map [B][D][H][W]), pooled by Tq
/// learned queries Q [Tq][D] into y [B][Tq][D]. Per item, with X = x_b^T [N][D]:
///   q = Q Wq^T + bq [Tq][D],  k = X Wk^T + bk [N][D],  v = X Wv^T + bv [N][D];
///   per head h (dims [h dh, (h+1) dh), dh = D / heads):
///     A_h = softmax_n(q_h k_h^T / sqrt(dh)) [Tq][N],  o_h = A_h v_h [Tq][dh];
///   y_b = concat_h(o_h) Wo^T + bo [Tq][D].
/// Parameters, in this order: Q [Tq][D], Wq [D][D], bq [D], Wk [D][D], bk [D],
/// Wv [D][D], bv [D], Wo [D][D], bo [D] (weights [out][in], C order).
template <class T>
class AttentionPool {
 public:
  /// dim >= 1, heads >= 1 dividing dim, queries >= 1 (InputError otherwise).
  AttentionPool(int dim, int heads, int queries);

  /// Token width D.
  int dim() const { return dim_; }
  /// Number of heads.
  int heads() const { return heads_; }
  /// Number of learned queries Tq.
  int queries() const { return queries_; }
  /// Tq D + 4 D^2 + 4 D.
  std::size_t n_params() const;

  /// Q ~ N(0, 1); Wq, Wk, Wv, Wo ~ U(-a, a), a = sqrt(6 / (D + D)) (Xavier uniform of a
  /// D x D matrix); biases 0. Drawn in parameter order.
  void init(T* params, Rng& rng) const;

  /// y = AttentionPool(x): x [B][D][N] (N >= 1) -> y [B][Tq][D] (overwritten).
  /// In parallel over the items; the softmax subtracts the row maximum.
  void forward(const T* params, const Arr3<const T>& x, const Arr3<T>& y) const;
  /// For the cotangent dy [B][Tq][D]: dx [B][D][N] (overwritten; skipped when
  /// dx.data() == nullptr) and grad += d(<dy, y>)/d(params) (skipped when grad is null).
  /// Recomputes the forward internals per item; items are summed over
  /// gradient_groups(B) partial groups (item b in group b % groups) in a fixed order,
  /// in parallel over the groups.
  void backward(const T* params, const Arr3<const T>& x, const Arr3<const T>& dy, const Arr3<T>& dx, T* grad) const;

  /// Multiply-adds times 2 of forward on B items of N tokens:
  ///   B (4 N D^2 + 4 Tq N D + 2 Tq D^2) + 2 Tq D^2 (projections, scores, A v, output; q once).
  double forward_flops(int B, int N) const;

 private:
  int dim_, heads_, queries_;
};

extern template class AttentionPool<float>;
extern template class AttentionPool<double>;

}  // namespace kpde::nn
