#pragma once
/// A convolutional branch network for DeepONet on gridded 2-D inputs (the branch of
/// MT-DeepONet on Darcy, Kumar et al. 2025): an image x [C][H][W] ->
///
///   L conv blocks   a_{l+1} = avgpool_p( act( conv_l(a_l) ) ),   a_0 = x,
///   flatten         f = a_L as [C_L H_L W_L] (C order, channel first),
///   dense layers    h_{k+1} = tanh(W_k h_k + b_k),  h_0 = f,   then a linear last layer
///                   to `outputs` values.
///
/// conv_l: nn::Conv2d, filters[l] output channels, kernel k x k (odd), stride 1, 'same' zero
/// padding k/2, with bias; avgpool_p: window = stride = p, the last H % p rows and W % p
/// columns dropped (H_{l+1} = floor(H_l / p), Keras 'valid', PyTorch ceil_mode=false).
/// The defaults are MT-DeepONet's: 4 x [conv 5x5 ReLU, pool 2] with 16, 32, 64, 64 filters
/// (100 -> 50 -> 25 -> 12 -> 6), dense 128, 128 tanh.
///
/// Parameters (one flat buffer, layer order): per conv layer W [F_l][C_l][k][k] then
/// b [F_l], then per dense layer W [out][in] then b [out]. Results do not depend on the
/// thread count (each layer sums its gradient partials in a fixed order, nn/layer.hpp).
#include <cstddef>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/types.hpp"
#include "nn/conv2d.hpp"
#include "nn/linear.hpp"

namespace kpde::operators {

/// Activation of the conv blocks of a CnnBranch.
enum class CnnActivation {
  relu,  ///< max(z, 0) (MT-DeepONet's)
  gelu,  ///< z Phi(z) (exact erf form)
  tanh   ///< tanh z
};

/// "relu", "gelu" or "tanh" (case-insensitive) -> CnnActivation; InputError naming the
/// choices otherwise.
CnnActivation parse_cnn_activation(const std::string& name);
/// The name parse_cnn_activation reads.
std::string to_string(CnnActivation a);

/// Shape of a CnnBranch (see the file comment).
struct CnnBranchSpec {
  int channels = 2;                         ///< C: input channels (>= 1)
  int height = 0;                           ///< H: input rows (>= 1, large enough for the pools)
  int width = 0;                            ///< W: input columns (>= 1, large enough for the pools)
  std::vector<int> filters = {16, 32, 64, 64};  ///< output channels of each conv block (>= 1 block)
  int kernel = 5;                           ///< k: odd, >= 1 ('same' padding k/2)
  int pool = 2;                             ///< p: pooling window and stride (>= 1; 1: no pooling)
  std::vector<int> dense = {128, 128};      ///< widths of the hidden dense layers (may be empty)
  int outputs = 0;                          ///< q: width of the linear last layer (>= 1)
  CnnActivation conv_activation = CnnActivation::relu;  ///< activation of the conv blocks
  // The hidden dense layers use tanh (the only choice so far).

  /// Throws InputError naming the first field out of range, e.g. an image too small for the
  /// number of pools (every block must leave a map of at least 1 x 1).
  void validate() const;
  /// Rows of the map after conv block l (0 <= l <= filters.size(); l = 0: the input): floor(H / p^l).
  int map_height(int l) const;
  /// Columns of the map after conv block l: floor(W / p^l).
  int map_width(int l) const;
};

template <class T>
class CnnBranch {
 public:
  /// A branch of the given shape (spec.validate() is called).
  explicit CnnBranch(const CnnBranchSpec& spec);
  /// The shape this branch was built with.
  const CnnBranchSpec& spec() const { return spec_; }
  /// Parameters of every layer together.
  std::size_t n_params() const { return n_params_; }
  /// Values of one input image: C H W.
  int input_size() const { return spec_.channels * spec_.height * spec_.width; }
  /// Width of the flattened last map (the first dense layer's input): F_L H_L W_L.
  int flat_size() const;
  /// Offset in the buffer of conv layer l's parameters (l < filters.size()).
  std::size_t conv_offset(int l) const { return conv_offsets_[static_cast<std::size_t>(l)]; }
  /// Offset in the buffer of dense layer l's parameters (l <= dense.size(); the last is the output layer).
  std::size_t dense_offset(int l) const { return dense_offsets_[static_cast<std::size_t>(l)]; }

  /// PyTorch's defaults per layer (nn::Conv2d::init, nn::Linear::init: W, b ~ U(-1/sqrt(fan_in),
  /// 1/sqrt(fan_in))), drawn from rng in layer order into params [n_params()].
  void init(T* params, Rng& rng) const;

  /// What backward() needs from forward().
  struct Cache {
    std::vector<Arr4<T>> maps;      ///< input of conv block l [B][C_l][H_l][W_l] (maps[0]: a copy of x)
                                    ///< and, last, the pooled output of the last block [B][F_L][H_L][W_L]
    std::vector<Arr4<T>> conv_pre;  ///< conv outputs before the activation [B][F_l][H_l][W_l]
    std::vector<Mat<T>> dense_in;   ///< input of dense layer l [B][in_l] (dense_in[0] views maps.back())
    std::vector<Mat<T>> dense_pre;  ///< pre-activations of the hidden dense layers [B][w_l]
  };

  /// x [B][C H W] (each row an image [C][H][W] in C order) -> out [B][outputs] (overwritten).
  /// With cache, keeps what backward() needs (a copy of x and every layer's input and
  /// pre-activation). Throws InputError on a shape mismatch.
  void forward(const T* params, const Mat<const T>& x, const Mat<T>& out, Cache* cache = nullptr) const;
  /// dout [B][outputs] = d(loss)/d(out) of the last forward(..., cache) -> grad [n_params()]
  /// (OVERWRITTEN) and, when dx is given, dx [B][C H W] = d(loss)/dx (overwritten).
  void backward(const T* params, Cache& cache, const Mat<const T>& dout, T* grad,
                const Mat<T>* dx = nullptr) const;

  /// GEMM flops of forward on B images (convolutions and dense layers; pooling and activations
  /// not counted); backward costs about twice as much.
  double forward_flops(int B) const;

 private:
  CnnBranchSpec spec_;
  std::vector<nn::Conv2d<T>> conv_;
  std::vector<nn::Linear<T>> dense_;
  std::vector<std::size_t> conv_offsets_, dense_offsets_;
  std::size_t n_params_ = 0;
};

extern template class CnnBranch<float>;
extern template class CnnBranch<double>;

}  // namespace kpde::operators
