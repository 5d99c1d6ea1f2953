#pragma once
/// Linear (dense) layer over rows, forward and backward (conventions: nn/layer.hpp),
/// and the small helpers the batched layers share: column-major views of raw memory
/// for kpde::gemm and the shape checks.
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"
#include "nn/layer.hpp"

namespace kpde::nn {

namespace detail {

/// An unmanaged column-major [rows][cols] view of host memory (column stride rows), the
/// operand type of kpde::gemm. A C-order block [r][c] is the column-major matrix [c][r].
template <class T>
using ColMatrix = Kokkos::View<T**, Kokkos::LayoutLeft, HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

/// ColMatrix over p: rows x cols, column-major, column stride rows.
template <class T>
ColMatrix<T> col_matrix(T* p, int rows, int cols) {
  return ColMatrix<T>(p, static_cast<std::size_t>(rows), static_cast<std::size_t>(cols));
}

/// "[e0][e1]..." of the extents of v.
template <class V>
std::string extents_string(const V& v) {
  std::string s;
  for (unsigned r = 0; r < V::rank; ++r) s += "[" + std::to_string(v.extent(r)) + "]";
  return s;
}

/// An extent that require_extents accepts whatever it is.
inline constexpr std::size_t any_extent = static_cast<std::size_t>(-1);

/// Throws kpde::InputError "<where>: <what> has extents [..], expected [..]" unless the
/// extents of v are `expected` (any_extent: any value).
template <class V>
void require_extents(const char* where, const char* what, const V& v, std::initializer_list<std::size_t> expected) {
  bool ok = expected.size() == V::rank;
  std::string want;
  unsigned r = 0;
  for (const std::size_t e : expected) {
    want += e == any_extent ? std::string("[any]") : "[" + std::to_string(e) + "]";
    if (ok && e != any_extent && v.extent(r) != e) ok = false;
    ++r;
  }
  if (!ok)
    throw InputError(std::string(where) + ": " + what + " has extents " + extents_string(v) + ", expected " + want);
}

/// Throws kpde::InputError "<where>: <what> is null" when p == nullptr.
inline void require_data(const char* where, const char* what, const void* p) {
  if (p == nullptr) throw InputError(std::string(where) + ": " + what + " is null");
}

/// grad[i] += sum_{g < groups} partials[g * n + i] for i < n, the groups summed in
/// order (in double for float), in parallel over i: the fixed-order reduction of the
/// per-group parameter gradients of nn/layer.hpp.
template <class T>
void add_partials(T* grad, const T* partials, int groups, std::size_t n) {
  using Acc = std::conditional_t<(sizeof(T) < sizeof(double)), double, T>;
  constexpr std::size_t chunk = 4096;
  const std::size_t n_chunks = (n + chunk - 1) / chunk;
  Kokkos::parallel_for(
      "kpde::nn::add_partials", Kokkos::RangePolicy<HostExec>(0, n_chunks), [&](const std::size_t k) {
        const std::size_t i1 = std::min(n, (k + 1) * chunk);
        for (std::size_t i = k * chunk; i < i1; ++i) {
          Acc s = 0;
          for (int g = 0; g < groups; ++g) s += Acc(partials[static_cast<std::size_t>(g) * n + i]);
          grad[i] += T(s);
        }
      });
}

}  // namespace detail

/// Linear map of rows: y[r][o] = b[o] + sum_i W[o][i] x[r][i], x [R][in] -> y [R][out].
/// Parameters (n_params() values): W [out][in] (C order), then b [out] when bias is on.
/// Work runs over blocks of 64 rows in parallel, one kpde::gemm per block.
template <class T>
class Linear {
 public:
  /// in, out >= 1 (InputError otherwise); bias: whether b exists.
  Linear(int in, int out, bool bias = true);

  /// Input width.
  int in() const { return in_; }
  /// Output width.
  int out() const { return out_; }
  /// Whether the layer has the bias b.
  bool has_bias() const { return bias_; }
  /// out * in (+ out with bias).
  std::size_t n_params() const;

  /// PyTorch's default: W and b ~ U(-1/sqrt(in), 1/sqrt(in)), drawn in parameter order.
  void init(T* params, Rng& rng) const;
  /// Kaiming normal, fan_out mode (MIP's hypernetwork heads): W ~ N(0, 2/out), b = 0.
  void init_kaiming_fan_out(T* params, Rng& rng) const;

  /// y = x W^T + b: x [R][in] -> y [R][out] (y overwritten; y must not alias x).
  void forward(const T* params, const Mat<const T>& x, const Mat<T>& y) const;
  /// For the cotangent dy [R][out]: dx = dy W [R][in] (overwritten; skipped when
  /// dx.data() == nullptr) and grad += (dW = dy^T x, db = sum_r dy[r]) (skipped when
  /// grad == nullptr). Row blocks are summed over gradient_groups(blocks) partial groups
  /// (contiguous block ranges) in a fixed order.
  void backward(const T* params, const Mat<const T>& x, const Mat<const T>& dy, const Mat<T>& dx, T* grad) const;

  /// Multiply-adds times 2 of forward over R rows: 2 R in out.
  double forward_flops(int R) const { return 2.0 * R * in_ * out_; }

 private:
  int in_, out_;
  bool bias_;
};

extern template class Linear<float>;
extern template class Linear<double>;

}  // namespace kpde::nn
