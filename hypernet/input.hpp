#pragma once
/// What the encoder reads of a Spec: normalised grids and a conditioning vector.
///
/// Scale: sigma = max(max |g| on the Dirichlet mask, max |h| on the Neumann mask,
/// max |f| on the domain), or 1 when all are 0. The problems are linear, so the solution
/// for data / sigma is u / sigma: the network always sees data of size about 1, and the
/// emitted PINN's output layer is multiplied by sigma (exact, for any sigma; it makes
/// refinement rounds, whose residual data are small, look like any other problem).
///
/// Grids [kInputChannels][n/p][n/p] (average-pooled by the factor p), channels:
///   0 Dirichlet mask, 1 Neumann mask, 2 g/sigma, 3 h/sigma, 4 f/sigma,
///   5-7 slog(g/sigma), slog(h/sigma), slog(f/sigma) with slog(v) = sign(v) log(1 + 100|v|) / log(101)
///       (small values made visible), 8 domain mask, 9 x, 10 y.
/// Conditioning [kCondInputs]: the coefficients c (5), sin and cos(2 pi 0.1 2^k c_i) for
/// k = 0..4 (50), then the fractions of Dirichlet, Neumann and domain pixels and the
/// maxima of |g|, |h|, |f| over sigma (6).
#include <array>
#include <vector>

#include "hypernet/spec.hpp"

namespace kpde::hypernet {

constexpr int kInputChannels = 11;
constexpr int kCondInputs = 61;

/// The normalisation scale sigma of a spec (see the file comment).
double data_scale(const Spec& spec);

struct PreparedInput {
  int size = 0;                          ///< pooled grid size n / p
  double scale = 1;                      ///< sigma
  std::vector<float> grids;              ///< [kInputChannels][size][size]
  std::array<float, kCondInputs> cond{};
};

/// The encoder's input of a (validated) spec with pooling factor p (kGrid % p == 0).
PreparedInput prepare_input(const Spec& spec, int pool);

}  // namespace kpde::hypernet
