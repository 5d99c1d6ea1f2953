#pragma once
/// Parameter-free resampling of feature maps [B][C][H][W] (nn/layer.hpp conventions):
/// average pooling and integer-factor upsampling, forward and backward (the adjoint of
/// forward). Planes run in parallel on the Kokkos host space; every output element is
/// computed by one thread in a fixed order, so results do not depend on the thread count.
#include "core/types.hpp"
#include "nn/layer.hpp"

namespace kpde::nn {

/// y[b][c][i][j] = (1/k^2) sum_{p,q < k} x[b][c][i k + p][j k + q]: window = stride = k,
/// x [B][C][H][W] -> y [B][C][H/k][W/k] (overwritten). InputError unless k >= 1, k divides H
/// and W, and y has that shape.
template <class T>
void avg_pool2d_forward(int k, const Arr4<const T>& x, const Arr4<T>& y);

/// The adjoint of avg_pool2d_forward: dx[b][c][i][j] = dy[b][c][i/k][j/k] / k^2,
/// dy [B][C][H/k][W/k] -> dx [B][C][H][W] (overwritten; H, W taken from dx).
template <class T>
void avg_pool2d_backward(int k, const Arr4<const T>& dy, const Arr4<T>& dx);

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

extern template void avg_pool2d_forward<float>(int, const Arr4<const float>&, const Arr4<float>&);
extern template void avg_pool2d_forward<double>(int, const Arr4<const double>&, const Arr4<double>&);
extern template void avg_pool2d_backward<float>(int, const Arr4<const float>&, const Arr4<float>&);
extern template void avg_pool2d_backward<double>(int, const Arr4<const double>&, const Arr4<double>&);
extern template void upsample_forward<float>(UpsampleMode, int, const Arr4<const float>&, const Arr4<float>&);
extern template void upsample_forward<double>(UpsampleMode, int, const Arr4<const double>&, const Arr4<double>&);
extern template void upsample_backward<float>(UpsampleMode, int, const Arr4<const float>&, const Arr4<float>&);
extern template void upsample_backward<double>(UpsampleMode, int, const Arr4<const double>&, const Arr4<double>&);

}  // namespace kpde::nn
