#pragma once
/// Parameter-free resampling of feature maps [B][C][H][W] (nn/layer.hpp conventions):
/// average pooling and integer-factor upsampling, forward and backward (the adjoint of
/// forward). Planes run in parallel on the Kokkos host space; every output element is
/// computed by one thread in a fixed order, so results do not depend on the thread count.
#include "core/types.hpp"
#include "nn/layer.hpp"

namespace kpde::nn {

/// What average pooling does with the last H % k rows and W % k columns of its input.
enum class PoolRemainder {
  error,  ///< InputError unless k divides H and W
  drop    ///< ignored: Ho = floor(H/k), Wo = floor(W/k) (PyTorch's ceil_mode=false, Keras 'valid')
};

/// y[b][c][i][j] = (1/k^2) sum_{p,q < k} x[b][c][i k + p][j k + q]: window = stride = k,
/// x [B][C][H][W] -> y [B][C][H/k][W/k] (floor; overwritten). InputError unless k >= 1, y has
/// that shape and, with PoolRemainder::error, k divides H and W (with drop: k <= H and k <= W).
template <class T>
void avg_pool2d_forward(int k, const Arr4<const T>& x, const Arr4<T>& y,
                        PoolRemainder remainder = PoolRemainder::error);

/// The adjoint of avg_pool2d_forward: dx[b][c][i][j] = dy[b][c][i/k][j/k] / k^2 for
/// i < (H/k) k and j < (W/k) k, 0 in the dropped rows and columns; dy [B][C][H/k][W/k] ->
/// dx [B][C][H][W] (overwritten; H, W taken from dx; the same checks as forward).
template <class T>
void avg_pool2d_backward(int k, const Arr4<const T>& dy, const Arr4<T>& dx,
                         PoolRemainder remainder = PoolRemainder::error);

/// How upsample_forward interpolates.
enum class UpsampleMode {
  nearest,  ///< y[i][j] = x[i/f][j/f]
  bilinear  ///< PyTorch's align_corners=false: source s = max((i + 1/2)/f - 1/2, 0), edges clamped
};

/// Upsampling by an integer factor f >= 1: x [B][C][H][W] -> y [B][C][f H][f W] (overwritten);
/// nearest: y[i][j] = x[i/f][j/f]; bilinear: y[i][j] = sum of the 2 x 2 neighbours of the source
/// point (s_i, s_j), s = max((i + 1/2)/f - 1/2, 0), index floor(s) and min(floor(s) + 1, n - 1),
/// weights 1 - frac(s) and frac(s) per axis (PyTorch's bilinear, align_corners=false).
template <class T>
void upsample_forward(UpsampleMode mode, int factor, const Arr4<const T>& x, const Arr4<T>& y);

/// The adjoint of upsample_forward: dy [B][C][f H][f W] -> dx [B][C][H][W] (overwritten;
/// H, W taken from dx).
template <class T>
void upsample_backward(UpsampleMode mode, int factor, const Arr4<const T>& dy, const Arr4<T>& dx);

extern template void avg_pool2d_forward<float>(int, const Arr4<const float>&, const Arr4<float>&, PoolRemainder);
extern template void avg_pool2d_forward<double>(int, const Arr4<const double>&, const Arr4<double>&, PoolRemainder);
extern template void avg_pool2d_backward<float>(int, const Arr4<const float>&, const Arr4<float>&, PoolRemainder);
extern template void avg_pool2d_backward<double>(int, const Arr4<const double>&, const Arr4<double>&, PoolRemainder);
extern template void upsample_forward<float>(UpsampleMode, int, const Arr4<const float>&, const Arr4<float>&);
extern template void upsample_forward<double>(UpsampleMode, int, const Arr4<const double>&, const Arr4<double>&);
extern template void upsample_backward<float>(UpsampleMode, int, const Arr4<const float>&, const Arr4<float>&);
extern template void upsample_backward<double>(UpsampleMode, int, const Arr4<const double>&, const Arr4<double>&);

}  // namespace kpde::nn
