#pragma once
/// Antiderivative samples for DeepONet (Lu et al. 2021; Wang, Wang & Perdikaris 2021):
///
///   s'(x) = u(x) on [0, 1],  s(0) = 0,
///
/// u a Gaussian random field with mean 0 and covariance k(x, x') = exp(-|x - x'|^2 /
/// (2 l^2)) (length scale l = 0.2), drawn on a fine uniform grid of
/// F = (m - 1) r + 1 nodes (m sensors, r = refine) as u = L z, L the Cholesky factor of
/// K + 1e-10 I, z ~ N(0, I) from Rng(mix_seed(seed, index)). Between the fine nodes u is
/// linear, so s(x) = int_0^x u is exact by the trapezoidal rule on the fine grid (a
/// quadratic between nodes). The sensors x_i = i / (m - 1), i = 0..m-1, and the output
/// points y_j = j / (P - 1), j = 0..P-1, are fine-grid nodes when (P - 1) divides
/// (m - 1) r; they are the same for every sample (aligned data).
#include <cstdint>
#include <vector>

namespace kpde::data {

struct AntiderivativeSettings {
  int sensors = 100;          ///< m: sensor nodes of u on [0, 1], 2..10000
  int points = 100;           ///< P: output nodes of s on [0, 1], 2..10000
  double length_scale = 0.2;  ///< l of the squared-exponential kernel, > 0
  int refine = 10;            ///< r: fine-grid intervals per sensor interval, 1..100
  /// Fine-grid nodes F = (m - 1) r + 1.
  int fine_nodes() const { return (sensors - 1) * refine + 1; }
  /// Throws InputError naming the setting when out of range, or when the output points
  /// are not fine-grid nodes ((P - 1) must divide (m - 1) r), or F > 20001.
  void validate() const;
};

struct AntiderivativeSample {
  std::vector<double> u;  ///< [m]: u at the sensors
  std::vector<double> s;  ///< [P]: s = int_0^y u at the output points
};

/// Sample `index` of stream `seed` (depends only on settings, seed and index).
AntiderivativeSample generate_antiderivative_sample(const AntiderivativeSettings& s, std::uint64_t seed,
                                                    std::uint64_t index);

}  // namespace kpde::data
