#pragma once
/// The derivative-propagating network engine (docs/design.md 3.1-3.3).
///
/// Architecture (NetworkSpec):
///   x in R^d (d = 1..3)
///   -> features phi(x) in R^F:   none (phi = x), or Fourier features: optionally the
///      raw inputs, then sin(w_m . x) for m = 0..M-1, then cos(w_m . x). Fixed
///      (HyPINO): w = 2 pi 0.1 2^k e_j for k = 0..4 and each axis j; random: w_m =
///      2 pi b_m, b_m ~ N(0, sigma^2 I). Fourier features have no trainable parameters.
///      Or trainable Gaussian features (gaussian_features.hpp, PIG): optionally the raw
///      inputs, then k channels phi_c(x) = sum_g w_gc exp(-|U_g (x - mu_g)|^2 / 2)
///      (F = k, or d + k with include_input), N Gaussians cut off beyond
///      `cutoff` (Mahalanobis distance), found through a grid index rebuilt every call.
///   -> depth hidden layers  A_l = act(W_l H_{l-1} + b_l), H_0 = phi, width w;
///      modified_mlp (Wang-Teng-Perdikaris gating, as in HyPINO): U = tanh(Wu phi + bu),
///      V = tanh(Wv phi + bv), and after every hidden layer H_l = U*A_l + V*(1-A_l)
///      (so the gate acts before each following hidden layer and before the output);
///      plain mlp: H_l = A_l.
///   -> output y = W_o H_L + b_o in R^m (m >= 1), no activation.
///
/// Parameters: one flat buffer per network (docs/design.md 3.2), in this order:
///   W_1 [w][F], b_1 [w], ..., W_L [w][w], b_L [w], W_o [m][w], b_o [m],
///   then for modified_mlp Wu [w][F], bu [w], Wv [w][F], bv [w]   (W row-major [out][in]),
///   then for Gaussian features the N Gaussians [N][2d + n_u + k]: mu[d], log sigma[d],
///   (full covariance: the upper entries of U), w[k] (gaussian_features.hpp). The dense
///   part [0, n_dense_params) comes first; its gradient is reduced from per-task partials,
///   the Gaussians' gradient is gathered per Gaussian (no buffer of size N per task).
///
/// Batched weights (docs/design.md 3.3): every call takes B networks of the same spec, with
/// params [B][n_params], points [B][N][d] and outputs [B][N][C][m] (C channels of
/// channels.hpp). B = 1 is a single network. Work is split into blocks of
/// block_points points; blocks run in parallel on the Kokkos host space, and each
/// block goes through all layers (GEMM + channel kernels) while it is in cache.
/// Gradients are summed over blocks in a fixed order: results do not depend on the
/// number of threads.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "nn/activation.hpp"
#include "nn/channels.hpp"

namespace kpde::nn {

enum class Arch { mlp, modified_mlp };
enum class FeatureKind { none, fourier_fixed, fourier_random, gaussian };
enum class Init { xavier_normal, xavier_uniform, kaiming_normal, kaiming_uniform };

Init parse_init(const std::string& name);

struct FeatureSpec {
  FeatureKind kind = FeatureKind::none;
  int n_frequencies = 5;      ///< fixed: k = 0..n_frequencies-1
  double base = 0.1;          ///< fixed: w_k = 2 pi base 2^k
  /// fixed: the input axes that get the ladder (the others enter raw, with
  /// include_input); all by default. E.g. x only where only x oscillates.
  std::array<bool, 3> axes{true, true, true};
  int n_random = 64;          ///< random: number of frequency vectors M
  double sigma = 1.0;         ///< random: b_m ~ N(0, sigma^2 I)
  bool include_input = true;  ///< prepend the raw inputs to the features
  std::uint64_t seed = 1234;  ///< random: seed of the frequency draw
  // gaussian (PIG):
  int n_gaussians = 1000;          ///< N
  int gauss_channels = 4;          ///< k feature channels (F = k), 1..64
  bool full_covariance = false;    ///< U upper triangular (else diagonal)
  bool gauss_include_input = false;  ///< prepend the raw inputs x to the k Gaussian channels
  double sigma_init = 0;           ///< initial sigma on every axis; 0: (hi_a - lo_a) / N^(1/d)
  double weight_scale = 0.1;       ///< initial weights ~ N(0, weight_scale^2)
  double cutoff = 4;               ///< a Gaussian is dropped where |U (x - mu)| > cutoff
  /// Taper the Gaussians to zero at the cutoff: exp(-q/2) minus its cubic Taylor
  /// polynomial in q at cutoff^2, so the profile and its first three q-derivatives are 0
  /// there; the loss is then C^1 in the parameters however points cross the cutoff
  /// (gaussian_features.hpp). Off: the hard cut (the loss jumps where a point crosses).
  bool taper = false;
  std::array<double, 3> lo{-1, -1, -1}, hi{1, 1, 1};  ///< box of the initial means
};

struct NetworkSpec {
  int input_dim = 2;
  int output_dim = 1;
  int width = 64;
  int depth = 4;  ///< number of hidden layers
  Activation activation = Activation::tanh;
  Arch arch = Arch::mlp;
  FeatureSpec features;
  int block_points = 64;  ///< points per block (tuning knob; results do not depend on it beyond round-off)
  void validate() const;
};

/// Storage kept between a forward pass and its backward pass; reusable across calls.
template <class T>
struct Workspace {
  Kokkos::View<T*, HostSpace> store;     ///< per-block layer activations (forward)
  Kokkos::View<T*, HostSpace> scratch;   ///< per-thread scratch
  Kokkos::View<T*, HostSpace> partial;   ///< per-task gradients of the dense parameters
  Kokkos::View<T*, HostSpace> dfeat;     ///< Gaussian features: d(loss)/d(Gaussian channels) [B][N][C][k]
  int B = 0, N = 0, C = 0;
  ChannelSpec channels;
  bool valid = false;
};

/// A point-wise loss evaluated block by block inside Network::forward_backward.
///   loss(b, p0, np, y, dy): y holds the outputs of points p0 .. p0+np-1 of network b,
///   output k, channel c, point p at y[k + m*(c*np + p)]; the callee writes
///   d(loss)/d(y) into dy (same layout) and returns the block's loss contribution.
/// Called concurrently from several threads for different blocks.
template <class T>
using BlockLoss = std::function<double(int b, int p0, int np, const T* y, T* dy)>;

namespace detail {
template <class T, class Act, int G, int S>
struct BlockPass;
template <class T>
struct GaussCtx;
}

template <class T>
class Network {
 public:
  explicit Network(const NetworkSpec& spec);

  const NetworkSpec& spec() const { return spec_; }
  int n_params() const { return static_cast<int>(n_params_); }
  int n_features() const { return F_; }
  bool gaussian_features() const { return spec_.features.kind == FeatureKind::gaussian; }
  /// Parameters before the Gaussian features (all of them for other feature kinds).
  int n_dense_params() const { return static_cast<int>(n_dense_); }
  /// Parameters of the Gaussian features (0 for other kinds); they come last.
  int n_feature_params() const { return static_cast<int>(n_params_ - n_dense_); }
  /// Frequency vectors of the Fourier features, [M][d] (empty without features).
  const std::vector<double>& frequencies() const { return omega_; }

  /// Writes initial parameters of one network: weights by `init` (normal or uniform,
  /// Glorot: var = 2/(fan_in+fan_out), Kaiming: var = 2/fan_in), biases zero.
  /// Deterministic given the seed (own RNG, identical on every platform).
  void init_params(const Vec<T>& params, std::uint64_t seed, Init init = Init::xavier_normal) const;

  /// Forward pass with derivative channels.
  ///   params [B][n_params], x [B][N][d]  ->  out [B][N][C][m]
  /// With ws, keeps what backward needs (memory ~ N C width (2..3) depth per network).
  void forward(const Mat<const T>& params, const Arr3<const T>& x, const ChannelSpec& channels,
               const Arr4<T>& out, Workspace<T>* ws = nullptr) const;

  /// Reverse pass of the last forward(..., ws) call with the same params and x.
  ///   d_out [B][N][C][m] = d(loss)/d(out)
  ///   grad  [B][n_params]: d(loss)/d(params), added to grad when accumulate, else written
  ///   dx    [B][N][d] (optional, extent 0 to skip): d(loss)/d(x), written (not for
  ///         Gaussian features: InputError)
  void backward(const Mat<const T>& params, const Arr3<const T>& x, Workspace<T>& ws,
                const Arr4<const T>& d_out, const Mat<T>& grad, bool accumulate = false,
                const Arr3<T>& dx = Arr3<T>()) const;

  /// Fused forward + loss + backward for a loss that is a sum over points: each block
  /// of points goes forward through all layers, gets its adjoint from `loss`, and goes
  /// back, while its activations are in cache (nothing of size N is stored).
  /// Returns the summed loss; grad [B][n_params] as in backward (no dx).
  double forward_backward(const Mat<const T>& params, const Arr3<const T>& x, const ChannelSpec& channels,
                          const BlockLoss<T>& loss, Workspace<T>& ws, const Mat<T>& grad,
                          bool accumulate = false) const;

  /// The feature jets of one network: params [n_params], x [N][d] -> out [N][C][F]
  /// (channel c of feature f at point p in out(p, c, f)); for the tests and plots.
  void features(const Vec<const T>& params, const Mat<const T>& x, const ChannelSpec& channels,
                const Arr3<T>& out) const;

  /// Gaussian features: the prepared Gaussians and grid index of every network of the
  /// batch for this call's points (empty for other feature kinds); built by every
  /// forward / backward call (include nn/gaussian_features.hpp to use the result).
  std::vector<detail::GaussCtx<T>> gauss_contexts(const Mat<const T>& params, const Arr3<const T>& x,
                                                  const ChannelSpec& channels) const;

  /// GEMM floating-point operations of one forward (and of one backward) pass on N
  /// points with C channels, per network: 2*rows*cols*inner summed over layers.
  double forward_flops(int N, int C) const;
  double backward_flops(int N, int C, bool input_grad) const;

 private:
  struct Dense {
    std::size_t W = 0, b = 0;
    int in = 0, out = 0;
  };
  NetworkSpec spec_;
  int F_ = 0;                 // features
  int M_ = 0;                 // Fourier frequency vectors
  int raw_ = 0;               // raw-input feature rows
  std::vector<double> omega_; // [M][d]
  std::vector<Dense> hidden_;
  Dense out_, u_, v_;
  std::size_t n_params_ = 0;
  std::size_t n_dense_ = 0;   // offset of the Gaussian parameters

  struct TaskSplit {
    int n_blocks = 0, per_task = 1, tasks_per_net = 0, n_tasks = 0;
  };
  template <class, class, int, int>
  friend struct detail::BlockPass;

  std::size_t block_store_size(int C) const;
  void check_shapes(const Mat<const T>& params, const Arr3<const T>& x, const ChannelSpec& channels,
                    const char* what) const;
  TaskSplit split_tasks(int B, int N) const;
  void reduce_partials(const Workspace<T>& ws, const TaskSplit& t, int B, const Mat<T>& grad, bool accumulate) const;
  bool gaussian() const { return spec_.features.kind == FeatureKind::gaussian; }
};

/// Views of one network as a batch of one (no copy): params [n] -> [1][n],
/// x [N][d] -> [1][N][d], out [N][C][m] -> [1][N][C][m].
template <class T>
Mat<T> as_batch(const Vec<T>& v) {
  return Mat<T>(v.data(), 1, v.extent(0));
}
template <class T>
Arr3<T> as_batch(const Mat<T>& m) {
  return Arr3<T>(m.data(), 1, m.extent(0), m.extent(1));
}
template <class T>
Arr4<T> as_batch(const Arr3<T>& a) {
  return Arr4<T>(a.data(), 1, a.extent(0), a.extent(1), a.extent(2));
}

extern template class Network<float>;
extern template class Network<double>;

}  // namespace kpde::nn
