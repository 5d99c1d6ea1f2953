#pragma once
/// MgNO, the multigrid neural operator (He, Liu & Xu, ICLR 2024; ../shared/notes/operators.md A):
/// a grid operator from an input map a [C_in][H][W] to u [1][H][W],
///
///   x_0 = (a - mu) / s                                   (scalar input normalisation)
///   x_{l+1} = GELU( V_l(x_l) + K_l x_l + b_l ),  l = 0 .. layers-1
///   u = sigma * (W_out x_L)                              (1x1 conv C -> 1, no bias)
///
/// with no lifting or projection: V_l maps C_f = C_in (l = 0) or C channels to C. K_l is a
/// 1x1 convolution with bias (the pointwise path).
///
/// V (the V-cycle of one layer; linear in f, every operator a learned convolution of its
/// own, no activation inside). Levels 0 (finest) .. L-1, extents n_0 = H, n_{k+1} =
/// floor((n_k - 1) / 2) + 1 (the same for W); nu_k pre-smoothing steps on level k:
///   level 0:   u = S_{0,0} f_0, then for i = 1 .. nu_0-1:  u <- u + S_{0,i} (f_0 - A_{0,i} u)
///   level k>0: f_k = R_k q_k,  q_k = f_{k-1}                (restrict: data, the code's Darcy)
///                              q_k = f_{k-1} - A'_k u_{k-1}  (restrict: residual, textbook)
///              u_k = Pi_k u_{k-1}                            (u_{k-1} after its smoothing)
///              for i = 0 .. nu_k-1:  u_k <- u_k + S_{k,i} (f_k - A_{k,i} u_k)
///   upward:    for k = L-2 .. 0:  u_k <- u_k + P_k u_{k+1};  V(f_0) = u_0
/// A: 3x3 conv C -> C_f, S: 3x3 conv C_f -> C, both stride 1 padding 1; R (C_f -> C_f), Pi
/// (C -> C): 3x3 stride 2 padding 1; the stride-1 and stride-2 convolutions pad as `pad`
/// says (zeros: Dirichlet u = 0, reflect: Neumann, circular: periodic). P: transposed 3x3
/// conv C -> C, stride 2, padding 1, zero padded, output_padding 1 when n_k is even and 0
/// when odd, so that P maps n_{k+1} back onto n_k exactly for any extent. None of these has a bias. Because the weights do not depend on the extents, the
/// same model runs on any grid whose coarsest level is at least 2 x 2 (see min_extent()):
/// evaluation at another resolution applies the same stencils in grid units.
///
/// Parameters (one flat buffer), per layer l: for each level k in order: (k > 0) R_k, Pi_k,
/// (residual restriction) A'_k; for each step i: A_{k,i} (not for k = i = 0), S_{k,i}; then
/// P_0 .. P_{L-2}; then K_l (W [C][C_f] then b [C]); after the last layer W_out [1][C].
/// Conv weights are [C_out][C_in][3][3] (nn::Conv2d), P's [C_in][C_out][3][3]
/// (nn::ConvTranspose2d). Results do not depend on the thread count (nn/conv2d.hpp).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "nn/layer.hpp"

namespace kpde::operators {

/// Shape of an Mgno (see the file comment).
struct MgnoSpec {
  int in_channels = 1;                       ///< C_in >= 1
  int channels = 24;                         ///< C >= 1
  int layers = 5;                            ///< >= 1
  std::vector<int> smoothing = {1, 1, 1, 1, 1, 2};  ///< nu_k >= 1 per level; levels = its size (>= 1)
  nn::PadMode pad = nn::PadMode::zeros;
  bool residual_restriction = false;         ///< restrict f - A'u instead of f
  double input_mean = 0, input_std = 1;      ///< mu, s of the input normalisation (s > 0)
  double output_scale = 1;                   ///< sigma > 0
  int levels() const { return static_cast<int>(smoothing.size()); }
  /// Throws InputError naming the first field out of range.
  void validate() const;
  /// Extents n_0 .. n_{L-1} of an input extent n (see the file comment).
  std::vector<int> extents(int n) const;
  /// The smallest input extent whose coarsest level is >= 2 (3 for reflect padding).
  int min_extent() const;
};

/// "zeros", "reflect" or "circular" -> nn::PadMode; InputError naming the choices otherwise.
nn::PadMode parse_pad_mode(const std::string& name);
/// The name parse_pad_mode reads.
std::string to_string(nn::PadMode mode);

/// Where one layer's convolutions start in the flat buffer (offsets; kNone: absent).
struct MgnoLayerLayout {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  int c_f = 1;                                ///< channels of the layer's input
  std::vector<std::size_t> R, Pi, Ares;      ///< [level], kNone at level 0 (Ares: unless residual restriction)
  std::vector<std::vector<std::size_t>> A, S;  ///< [level][step] (A[0][0] = kNone)
  std::vector<std::size_t> P;                ///< [level < L-1]
  std::size_t K = 0, Kb = 0;                 ///< 1x1 weights [C][C_f] and bias [C]
};

template <class T>
class Mgno {
 public:
  /// A model of the given shape (spec.validate() is called).
  explicit Mgno(const MgnoSpec& spec);
  const MgnoSpec& spec() const { return spec_; }
  std::size_t n_params() const { return n_params_; }
  const MgnoLayerLayout& layout(int layer) const { return layouts_[static_cast<std::size_t>(layer)]; }
  /// Offset of W_out [1][C].
  std::size_t output_offset() const { return out_; }
  /// PyTorch's defaults (U(+-1/sqrt(fan_in)) per convolution, nn/conv2d.hpp) from Rng(seed).
  void init_params(T* params, std::uint64_t seed) const;

  /// What backward needs of a forward pass (per layer: every level's maps).
  struct Cache;
  /// u = MgNO(a): a [B][C_in][H][W] -> u [B][1][H][W] (overwritten). H, W >= min_extent();
  /// InputError otherwise. With a cache, keeps what backward needs.
  void forward(const T* params, const Arr4<const T>& a, const Arr4<T>& u, Cache* cache = nullptr) const;
  /// grad [n_params] += dL/dtheta from du = dL/du [B][1][H][W] and the cache of the forward pass;
  /// with da (not null), da [B][C_in][H][W] = dL/da (overwritten).
  void backward(const T* params, Cache& cache, const Arr4<const T>& du, T* grad, T* da = nullptr) const;
  /// The V-cycle of layer l alone (the linear map V_l): f [B][C_f][H][W] -> v [B][C][H][W].
  void vcycle(int layer, const T* params, const Arr4<const T>& f, const Arr4<T>& v) const;
  /// Multiply-adds of one forward pass, counted as 2 flops.
  double forward_flops(int B, int H, int W) const;

 private:
  MgnoSpec spec_;
  std::vector<MgnoLayerLayout> layouts_;
  std::size_t out_ = 0, n_params_ = 0;
};

/// One layer's maps of a forward pass (T: float or double).
template <class T>
struct MgnoLayerCache;

template <class T>
struct Mgno<T>::Cache {
  int B = 0, H = 0, W = 0;
  std::vector<T> x0;                          ///< the normalised input [B][C_in][H][W]
  std::vector<std::unique_ptr<MgnoLayerCache<T>>> layers;
  Cache();
  ~Cache();
};

extern template class Mgno<float>;
extern template class Mgno<double>;

}  // namespace kpde::operators
