#pragma once
/// Batched 2-D convolutions on feature maps [B][C][H][W] (nn/layer.hpp conventions):
/// Conv2d (zeros, reflect or circular padding) and ConvTranspose2d (its adjoint with
/// zero padding, PyTorch's conventions). Both run as im2col + kpde::gemm per batch item
/// on the Kokkos host space (3x3 stride-1 kernels also directly: set_conv3x3_engine);
/// parameter gradients are summed over gradient_groups(B) partials in a fixed order, so
/// results do not depend on the number of threads.
#include <cstddef>

#include "core/rng.hpp"
#include "core/types.hpp"
#include "nn/layer.hpp"

namespace kpde::nn {

/// The engine of 3x3, stride-1, padding-1 convolutions that keep the grid (MgNO's smoothers):
/// `gemm` (the default: im2col + kpde::gemm, what every other shape runs) or `direct`
/// (register-blocked output rows over shifted, padded copies of the input, no im2col matrix;
/// the adjoint the same with the flipped kernel for zeros and circular padding). They measured
/// within a few percent on an MgNO step. Process-wide; for benchmarks (`kpde bench mgno`
/// times both) and tests. Not thread-safe against running convolutions.
enum class Conv3x3Engine { direct, gemm };
void set_conv3x3_engine(Conv3x3Engine e);
Conv3x3Engine conv3x3_engine();

/// Shape of a Conv2d: in -> out channels, a square kernel k, stride s, padding p on
/// every side of the input (filled as `pad` says), an optional bias per output channel.
struct Conv2dSpec {
  int in_channels = 1;         ///< C_in >= 1
  int out_channels = 1;        ///< C_out >= 1
  int kernel = 3;              ///< k >= 1 (k x k window)
  int stride = 1;              ///< s >= 1
  int padding = 1;             ///< p >= 0 (reflect: p < H and p < W, checked at forward)
  PadMode pad = PadMode::zeros;  ///< how the padded border is filled
  bool bias = true;            ///< add b[out]
  /// Throws InputError naming the first field out of range (channels, kernel, stride >= 1, padding >= 0).
  void validate() const;
};

/// y[b][o][i][j] = b_o + sum_{c,p,q} W[o][c][p][q] x_pad[b][c][i*s + p - pad][j*s + q - pad],
/// x [B][C_in][H][W] -> y [B][C_out][Ho][Wo], Ho = (H + 2 pad - k) / s + 1 (same for Wo);
/// x_pad is x extended by spec().pad. Parameters: W [C_out][C_in][k][k] then b [C_out].
template <class T>
class Conv2d {
 public:
  /// A layer of the given shape (spec.validate() is called).
  explicit Conv2d(const Conv2dSpec& spec);
  /// The shape this layer was built with.
  const Conv2dSpec& spec() const { return spec_; }
  /// C_out C_in k^2 (+ C_out with bias).
  std::size_t n_params() const;
  /// Output extent of an input extent n: (n + 2 padding - kernel) / stride + 1 (< 1: too small).
  int out_extent(int n) const;
  /// PyTorch's default: every W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in k^2,
  /// drawn in buffer order into params [n_params()].
  void init(T* params, Rng& rng) const;
  /// y = conv(x) + b (see the class comment); x [B][C_in][H][W], y [B][C_out][Ho][Wo]
  /// (overwritten). Throws InputError on a shape mismatch or a too-small input.
  void forward(const T* params, const Arr4<const T>& x, const Arr4<T>& y) const;
  /// From dy = dL/dy [B][C_out][Ho][Wo]: dx = conv^T(dy) [B][C_in][H][W] (overwritten, skipped when
  /// dx.data() == nullptr) and grad [n_params()] += (dL/dW, dL/db) (ADDED), x the forward's input.
  void backward(const T* params, const Arr4<const T>& x, const Arr4<const T>& dy, const Arr4<T>& dx,
                T* grad) const;
  /// Multiply-adds of forward, counted as 2 flops: 2 B Ho Wo C_out C_in k^2.
  double forward_flops(int B, int H, int W) const;

 private:
  Conv2dSpec spec_;
};

/// Shape of a ConvTranspose2d (PyTorch's): in -> out channels, kernel k, stride s,
/// padding p (removed from the output), output_padding (extra rows/columns at the end).
struct ConvTranspose2dSpec {
  int in_channels = 1;     ///< C_in >= 1
  int out_channels = 1;    ///< C_out >= 1
  int kernel = 2;          ///< k >= 1
  int stride = 2;          ///< s >= 1
  int padding = 0;         ///< p >= 0
  int output_padding = 0;  ///< 0 <= output_padding < stride
  bool bias = true;        ///< add b[out]
  /// Throws InputError naming the first field out of range.
  void validate() const;
};

/// The adjoint of a zero-padded Conv2d with the same k, s, p (C_out -> C_in channels,
/// weights shared): y[b][o][i*s + p_ - pad][j*s + q - pad] += W[c][o][p_][q] x[b][c][i][j],
/// plus b_o everywhere; x [B][C_in][H][W] -> y [B][C_out][Ho][Wo],
/// Ho = (H - 1) s - 2 pad + k + output_padding. Parameters: W [C_in][C_out][k][k] then b [C_out].
template <class T>
class ConvTranspose2d {
 public:
  /// A layer of the given shape (spec.validate() is called).
  explicit ConvTranspose2d(const ConvTranspose2dSpec& spec);
  /// The shape this layer was built with.
  const ConvTranspose2dSpec& spec() const { return spec_; }
  /// C_in C_out k^2 (+ C_out with bias).
  std::size_t n_params() const;
  /// Output extent of an input extent n: (n - 1) stride - 2 padding + kernel + output_padding.
  int out_extent(int n) const;
  /// PyTorch's default: every W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = C_out k^2
  /// (PyTorch takes weight.size(1) k^2), drawn in buffer order into params [n_params()].
  void init(T* params, Rng& rng) const;
  /// y = conv^T(x) + b (see the class comment); x [B][C_in][H][W], y [B][C_out][Ho][Wo] (overwritten).
  void forward(const T* params, const Arr4<const T>& x, const Arr4<T>& y) const;
  /// From dy [B][C_out][Ho][Wo]: dx = conv(dy) [B][C_in][H][W] (overwritten, skipped when
  /// dx.data() == nullptr) and grad [n_params()] += (dL/dW, dL/db) (ADDED), x the forward's input.
  void backward(const T* params, const Arr4<const T>& x, const Arr4<const T>& dy, const Arr4<T>& dx,
                T* grad) const;
  /// Multiply-adds of forward, counted as 2 flops: 2 B H W C_in C_out k^2.
  double forward_flops(int B, int H, int W) const;

 private:
  ConvTranspose2dSpec spec_;
};

extern template class Conv2d<float>;
extern template class Conv2d<double>;
extern template class ConvTranspose2d<float>;
extern template class ConvTranspose2d<double>;

}  // namespace kpde::nn
