#pragma once
/// DeepONet (Lu et al. 2021), the unstacked form, for aligned data (the same output
/// points for every sample):
///
///   G(u)(y)_o = sigma (sum_{k<p} b_{o p + k}(u) t_k(y) + b0_o),   o < n_out,
///
/// branch b: an MLP on the sensor values u [m] (tanh hidden layers, a linear last layer
/// of p n_out: "several outputs by splitting the branch"), or a CNN (cnn_branch.hpp) on
/// gridded inputs u = an image [C][H][W] (m = C H W), trunk t: a kpde network
/// (nn::Network, tanh, a linear last layer of p) on the coordinates y [d]. A batch is
/// two small passes and one GEMM per output:
///   G_o [B][P] = B_o [B][p] T^T [p][P] + b0_o,
/// and its reverse pass is two more GEMMs (dB_o = dG_o T, dT = sum_o dG_o^T B_o) and the
/// branch's and trunk's own reverse passes.
///
/// Derivative channels (PI-DeepONet): the trunk carries d/dy channels (nn::ChannelSpec:
/// value, gradient, second derivatives; kpde's forward-mode engine, no tape), and since
/// b_k does not depend on y, channel c of G is the same GEMM on the trunk's channel c:
///   G_c,o [B][P] = B_o [B][p] T_c^T [p][P]  (+ b0_o on the value channel only),
/// one GEMM over all P C rows of the trunk output [P][C][p].
///
/// Parameters (one flat buffer): the branch layers (nn::Linear, W then b per layer), then
/// the trunk network's parameters, then b0 [n_out] (absent without the bias).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/types.hpp"
#include "nn/linear.hpp"
#include "nn/network.hpp"
#include "operators/cnn_branch.hpp"

namespace kpde::operators {

struct DeepOnetSpec {
  int sensors = 100;       ///< m: values of the input function the branch reads
  int coord_dim = 1;       ///< d: coordinates of the output points
  int outputs = 1;         ///< n_out
  int basis = 40;          ///< p: basis functions of the trunk
  int branch_width = 40;   ///< hidden width of the branch
  int branch_depth = 2;    ///< hidden layers of the branch (>= 1)
  int trunk_width = 40;    ///< hidden width of the trunk
  int trunk_depth = 2;     ///< hidden layers of the trunk (>= 1)
  /// Fourier features of the trunk's input (nn::FeatureSpec: none, fourier_fixed,
  /// fourier_random; no Gaussian features).
  nn::FeatureSpec trunk_features;
  bool bias = true;        ///< the output bias b0 (PI-DeepONet has none)
  /// sigma: the output is sigma (sum_k b_k t_k + b0), so the network works at unit scale
  /// for targets of any size (the RMS of the training targets; 1 for PI-DeepONet).
  double output_scale = 1;
  /// A CNN branch (cnn.channels x cnn.height x cnn.width = sensors; cnn.outputs is set to
  /// basis x outputs) instead of the MLP (branch_width, branch_depth unused).
  bool cnn_branch = false;
  CnnBranchSpec cnn;
  /// Throws InputError naming the field when out of range.
  void validate() const;
};

template <class T>
class DeepOnet {
 public:
  explicit DeepOnet(const DeepOnetSpec& spec);
  const DeepOnetSpec& spec() const { return spec_; }
  std::size_t n_params() const { return n_params_; }
  /// Offsets of the trunk's parameters and of b0 in the buffer.
  std::size_t trunk_offset() const { return trunk_offset_; }
  std::size_t bias_offset() const { return bias_offset_; }
  const nn::Network<T>& trunk() const { return trunk_; }

  /// Branch: PyTorch's default initialisation per layer; trunk: Glorot normal; b0 = 0.
  void init_params(T* params, std::uint64_t seed) const;

  /// What backward() needs from forward().
  struct Cache {
    std::vector<Mat<T>> inputs;   ///< input of every branch layer [B][in_l]
    std::vector<Mat<T>> pre;      ///< pre-activations of the hidden branch layers [B][w]
    Mat<T> branch;                ///< branch output [B][p n_out]
    Arr4<T> trunk;                ///< trunk output [1][P][C][p]
    Arr3<T> y;                    ///< the points [1][P][d]
    nn::ChannelSpec channels;     ///< the trunk's channels
    nn::Workspace<T> ws;          ///< the trunk network's workspace
    typename CnnBranch<T>::Cache cnn;  ///< the CNN branch's
  };

  /// u [B][m], y [P][d] -> G [B][P][n_out] (overwritten). With cache, keeps what
  /// backward() needs.
  void forward(const T* params, const Mat<const T>& u, const Mat<const T>& y, const Arr3<T>& G,
               Cache* cache = nullptr) const;
  /// With derivative channels: u [B][m], y [P][d] -> G [B][P][C][n_out] (overwritten), C =
  /// channels.n_channels(), channels.dim = d.
  void forward(const T* params, const Mat<const T>& u, const Mat<const T>& y, const nn::ChannelSpec& channels,
               const Arr4<T>& G, Cache* cache = nullptr) const;
  /// dG [B][P][n_out] = d(loss)/dG of the last forward(..., cache) -> grad [n_params]
  /// (overwritten).
  void backward(const T* params, Cache& cache, const Arr3<const T>& dG, T* grad) const;
  /// dG [B][P][C][n_out] of the last forward with channels -> grad [n_params] (overwritten).
  void backward(const T* params, Cache& cache, const Arr4<const T>& dG, T* grad) const;

  /// GEMM flops of forward on B samples and P points (about as many again backward).
  double forward_flops(int B, int P) const;

 private:
  DeepOnetSpec spec_;
  std::vector<nn::Linear<T>> branch_;
  std::optional<CnnBranch<T>> cnn_;
  std::vector<std::size_t> branch_offsets_;
  nn::Network<T> trunk_;
  std::size_t trunk_offset_ = 0, bias_offset_ = 0, n_params_ = 0;
};

extern template class DeepOnet<float>;
extern template class DeepOnet<double>;

}  // namespace kpde::operators
