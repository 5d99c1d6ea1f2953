#pragma once
/// Conventions shared by the batched layers of nn/ (conv2d, resample, linear, norm,
/// pointwise, attention_pool), used by the hypernetwork and the neural operators.
///
///  - Feature maps are Arr4<T> [B][C][H][W] (NCHW, C order); token sets and rows are
///    Arr3<T> [B][N][D] or Mat<T> [rows][D]. A map [B][C][H][W] is also the token
///    set [B][C][H*W] channel-first (no copy: `as_tokens`).
///  - A layer owns no parameters: forward/backward take `const T* params`, a pointer
///    to the layer's block in a model's flat buffer (docs/design.md 3.2), of length
///    n_params(), and backward ADDS d(loss)/d(params) into `T* grad` (same layout), so
///    a model sums over the uses of a layer without zeroing in between.
///  - backward writes d(loss)/d(input) (overwrites) into dx; a dx with data() ==
///    nullptr skips it (the first layer of a model).
///  - Work runs on the Kokkos host space in parallel over the batch (and rows/channels
///    where the batch is small). Parameter gradients are summed over a fixed number
///    of partial groups in a fixed order, so results do not depend on the number of
///    threads.
///  - Parameter initialisation draws from kpde::Rng (same numbers on every platform).
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/types.hpp"

namespace kpde::nn {

/// Padding of a convolution's input outside [0, H) x [0, W):
///   zeros:    0;
///   reflect:  mirror without repeating the edge (index -1 -> 1, H -> H-2), as PyTorch;
///   circular: periodic (index -1 -> H-1, H -> 0).
enum class PadMode { zeros, reflect, circular };

/// A map [B][C][H][W] viewed as tokens [B][C][H*W] (channel-first; no copy).
template <class T>
Arr3<T> as_tokens(const Arr4<T>& x) {
  return Arr3<T>(x.data(), x.extent(0), x.extent(1), x.extent(2) * x.extent(3));
}

/// Number of partial-gradient groups over a batch of B: min(B, 8) (fixed, so sums do
/// not depend on the thread count); item b belongs to group b % groups.
inline int gradient_groups(int B) { return B < 8 ? (B < 1 ? 1 : B) : 8; }

namespace detail {

/// "[B][C][H][W]": the extents of a rank-4 view.
template <class V>
std::string map_extents(const V& v) {
  std::string s;
  for (int r = 0; r < 4; ++r) s += "[" + std::to_string(v.extent(r)) + "]";
  return s;
}

/// InputError "<where>: <name> must be [B][C][H][W], got [..]" unless the map v has
/// these extents and is contiguous.
template <class V>
void check_map(const std::string& where, const char* name, const V& v, long B, long C, long H, long W) {
  if (static_cast<long>(v.extent(0)) != B || static_cast<long>(v.extent(1)) != C ||
      static_cast<long>(v.extent(2)) != H || static_cast<long>(v.extent(3)) != W)
    throw InputError(where + ": " + name + " must be [" + std::to_string(B) + "][" + std::to_string(C) + "][" +
                     std::to_string(H) + "][" + std::to_string(W) + "], got " + map_extents(v));
  KPDE_REQUIRE(v.span_is_contiguous(), InputError, where + ": " + name + " must be a contiguous array");
}

}  // namespace detail

}  // namespace kpde::nn
