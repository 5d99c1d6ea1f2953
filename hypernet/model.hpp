#pragma once
/// The hypernetwork: a PDE specification (input.hpp) -> the 5,409 parameters of the
/// target PINN (target.hpp), in normalised units (multiply the output layer by sigma).
///
///   grids [11][n/p][n/p] --stem conv k3 s2, GELU--> [S][..]
///   stage s = 1..K:  conv k3 s2 (GELU) -> `blocks` residual blocks
///                    x + conv(GELU(GN(conv(GELU(GN(x))))))  -> FiLM: (1 + a_s) x + b_s
///   conditioning z = GELU(L2 GELU(L1 cond)), [a_s, b_s] = F_s z
///   pooling: P_s = AttentionPool_s(tokens of stage s) [14][w_s]; P = concat_s P_s [14][sum w_s]
///   head k (one per target tensor):  theta_k = theta0_k + L2_k GN_k(GELU(L1_k [P_k, z]))
///   (P_k row k of P; z also goes straight to every head, so the operator's coefficients
///   reach the emitted weights without passing through the feature maps)
/// theta0_k (the bias of L2_k) starts at a Glorot draw of the target network and L2_k's
/// weights at Kaiming fan-out times correction_scale: the magnitude-invariant form of
/// MIP (Ortiz et al. 2024), so the heads predict a correction to learned base weights.
///
/// Parameters: one flat buffer (docs/design.md 3.2), blocks in the order above.
/// forward() keeps the activations backward() needs in a Cache (about 20 maps per stage
/// per sample).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "hypernet/input.hpp"
#include "hypernet/target.hpp"

namespace kpde::hypernet {

struct ModelSpec {
  int input_pool = 2;               ///< average-pooling factor of the 224 grids
  int stem = 48;                    ///< channels of the stem convolution (stride 2)
  std::vector<int> widths{64, 128, 224};  ///< channels of the stages (each starts with stride 2)
  int blocks = 1;                   ///< residual blocks per stage
  int groups = 8;                   ///< GroupNorm groups in the residual blocks (divides every width)
  int cond = 128;                   ///< width of the conditioning vector z
  int attention_heads = 4;          ///< heads of every attention pooling (divides every width)
  int head_hidden = 256;            ///< hidden width of the heads of the weight tensors W1..W4, Wu, Wv
  int small_hidden = 64;            ///< hidden width of the heads of Wo and the biases
  int head_groups = 8;              ///< GroupNorm groups of the heads (divides both hidden widths)
  double correction_scale = 1.0;    ///< scale of the heads' last layer at initialisation (1: MIP's Kaiming fan-out)
  /// Throws InputError naming the field when a size is out of range or a divisibility fails.
  void validate() const;
  /// "pool 2, stem 48, widths 64/128/224, 1 block(s), cond 128, heads 256/64"
  std::string describe() const;
};

template <class T>
class Model {
 public:
  explicit Model(const ModelSpec& spec);
  ~Model();
  Model(Model&&) noexcept;
  const ModelSpec& spec() const { return spec_; }
  std::size_t n_params() const;
  /// Initial parameters (deterministic given the seed).
  void init(T* params, std::uint64_t seed) const;
  /// Grid size the model expects (kGrid / input_pool).
  int input_size() const;

  /// The activations of a forward pass that backward needs.
  struct Cache {
    int B = 0;
    Arr4<const T> grids;
    Mat<const T> cond;
    Arr4<T> stem_pre, stem_out;
    struct BlockCache {
      Arr4<T> in, g1, a1, c1, g2, a2;
    };
    struct StageCache {
      Arr4<T> down_pre, down_out, pre_film, out;  // out = FiLM(pre_film)
      std::vector<BlockCache> blocks;
      Mat<T> gamma, beta;
      Arr3<T> pooled;  // [B][14][w]
    };
    std::vector<StageCache> stages;
    Mat<T> h1_pre, h1, h2_pre, z;
    struct HeadCache {
      Mat<T> in, pre, act, gn;
    };
    std::vector<HeadCache> heads;
  };
  /// grids [B][11][m][m], cond [B][61] -> targets [B][5409]. With cache, keeps what
  /// backward needs.
  void forward(const T* params, const Arr4<const T>& grids, const Mat<const T>& cond, const Mat<T>& targets,
               Cache* cache = nullptr) const;
  /// From d(loss)/d(targets) [B][5409]: grad [n_params] (ADDED). Uses the cache of the
  /// last forward with the same params and inputs.
  void backward(const T* params, Cache& cache, const Mat<const T>& d_targets, T* grad) const;
  /// Floating-point operations of one forward pass per sample (convolutions, pooling, heads).
  double forward_flops() const;

  std::unique_ptr<Cache> make_cache() const;
  /// Offsets of the layers' parameter blocks in the flat buffer, in order (for tests
  /// and diagnostics).
  const std::vector<std::size_t>& param_blocks() const { return blocks_; }

 private:
  struct Layers;
  ModelSpec spec_;
  std::unique_ptr<Layers> layers_;
  std::vector<std::size_t> blocks_;
};

extern template class Model<float>;
extern template class Model<double>;

/// Stacks prepared inputs into the model's input views (grids [B][11][m][m], cond [B][61]).
template <class T>
void stack_inputs(const std::vector<const PreparedInput*>& inputs, const Arr4<T>& grids, const Mat<T>& cond);

}  // namespace kpde::hypernet
