#pragma once
/// Low-discrepancy and stratified point sets on the unit cube [0,1)^d, d = 1..3:
/// the Sobol sequence and Latin hypercube samples. The geometry samplers
/// (mesh/sampling.hpp) map them onto a domain's bounding box and reject points outside.
#include <cstdint>

#include "core/rng.hpp"
#include "core/types.hpp"

namespace kpde::mesh {

/// The Sobol sequence in d <= 3 dimensions with the direction numbers of Joe and Kuo
/// (new-joe-kuo-6.21201, first entries: dim 2: s=1, a=0, m=(1); dim 3: s=2, a=1,
/// m=(1,3); dim 1 is van der Corput), in Gray-code order (Antonov-Saleev), 32 bits.
/// Point i (i = 0, 1, ...) unscrambled, in 2-D:
///   (0,0), (0.5,0.5), (0.75,0.25), (0.25,0.75), (0.375,0.375), (0.875,0.875), ...
/// the sequence of Joe-Kuo's reference program and scipy.stats.qmc.Sobol(scramble=False).
/// Point 0 is the origin (not skipped here; the geometry sampler skips it).
/// Scrambling (optional) is a random digital shift: every coordinate's 32-bit integer
/// is XOR-ed with a per-dimension random mask drawn from Rng(seed); this keeps the
/// (t,m,s)-net structure. Owen scrambling is not done. At most 2^32 points.
class SobolSequence {
 public:
  static constexpr int max_dim = 3;
  /// Throws kpde::InputError unless 1 <= dim <= max_dim.
  explicit SobolSequence(int dim, bool scramble = false, std::uint64_t seed = 0);
  int dim() const { return dim_; }
  /// Index of the point the next call to next() returns.
  std::uint64_t index() const { return index_; }
  /// Writes point index() (dim() values in [0,1)) to out and advances.
  /// Throws kpde::Error past 2^32 points.
  void next(double* out);
  /// Advances by n points without writing them.
  void skip(std::uint64_t n);

 private:
  int dim_;
  std::uint32_t v_[max_dim][32];
  std::uint32_t x_[max_dim] = {0, 0, 0};
  std::uint32_t shift_[max_dim] = {0, 0, 0};
  std::uint64_t index_ = 0;
};

/// Latin hypercube sample of n points in [0,1)^dim: for each dimension k an
/// independent random permutation pi_k of {0..n-1} and x_ik = (pi_k(i) + u_ik) / n with
/// u_ik uniform in [0,1), so each of the n strata [m/n, (m+1)/n) of every dimension
/// holds exactly one point. Returns [n][dim], LayoutRight. Deterministic given rng's
/// state. Throws kpde::InputError when n < 0 or dim < 1.
Mat<double> latin_hypercube(int n, int dim, Rng& rng);

}  // namespace kpde::mesh
