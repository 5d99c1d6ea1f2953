#pragma once
/// The PINN's sections of a `kpde solve` config (docs/config.md): `model:` (the
/// network) and the PINN's own keys of `training:` (collocation points, sampling,
/// residual modes, exact Dirichlet data). The trainer's keys of `training:` (stages,
/// weights, balancing, checkpoints) are read by train::load_trainer_settings.
/// Errors name the file, line, column and key.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "mesh/sampling.hpp"
#include "nn/network.hpp"
#include "pde/expression.hpp"

namespace kpde::pinn {

enum class Precision { float64, float32 };

/// `model:` type mlp | modified_mlp | gaussian_features (the network of nn::Network;
/// gaussian_features: an mlp on trainable Gaussian features, default width 16, depth 1).
struct ModelSettings {
  nn::NetworkSpec network;
  Precision precision = Precision::float64;
  nn::Init init = nn::Init::xavier_normal;
  std::uint64_t seed = 1;
  /// A checkpoint.h5 or model.h5 whose parameters replace the initial ones (any model
  /// type): of the same model, or of its diagonal-covariance version when this one is a
  /// full-covariance Gaussian-feature model (the off-diagonal entries then start at 0).
  /// With `balance: grad_norm` the term weights start from the checkpoint's too. The
  /// path is taken as given (relative to the working directory).
  std::string init_from;
};

/// The PINN's keys of `training:`.
struct PinnSettings {
  long n_interior = 4096;
  long n_boundary = 512;
  mesh::InteriorMethod method = mesh::InteriorMethod::sobol;
  long resample_every = 0;        ///< first-order steps between fresh collocation points (0: never)
  long adaptive_every = 0;        ///< residual-based adaptive resampling period (0: off)
  long adaptive_candidates = 0;   ///< candidate points per adaptive round (0: 4 n_interior)
  double adaptive_fraction = 0.5; ///< share of the interior points picked by residual
  /// Exact Dirichlet data: u = g + phi N with phi = 0 on the constrained sides of a box
  /// domain whose conditions are all Dirichlet with one common value g (data/residual.hpp).
  bool hard_dirichlet = false;
  /// `residual_weight`: w(x) >= 0 (an expression over x, y, z) multiplying every interior
  /// point's squared residual, of every equation: the residual terms become
  /// mean_p w(x_p) r_p^2 (adaptive sampling ranks by sqrt(w) |r|). For singular points of
  /// the data, e.g. the lid corners of a driven cavity, where no smooth u has a small
  /// residual. Null: w = 1.
  std::shared_ptr<const pde::Expression> residual_weight;
  /// Low modes of the residual (`weights: {modes: n, modes_weight: w}`): the residual
  /// term becomes mean_p r_p^2 + w sum_m w_m c_m^2, c_m = mean_p r_p phi_m(x_p), over
  /// the n^d cosine products phi_m of the bounding box, w_m = (1 + |k_m|^2)^-2
  /// (objective.hpp). 0: off.
  int residual_modes = 0;
  double modes_weight = 0;
  /// Per stage: its own modes_weight (< 0: modes_weight). Early in training the low
  /// modes of the residual are mostly the aliasing of its oscillating part on the sample
  /// points, so they are better weighed late.
  std::vector<double> stage_modes_weight;
  std::uint64_t seed = 0;         ///< collocation points
  /// The modes weight of stage i.
  double modes_weight_of_stage(int i) const;
};

ModelSettings load_model(config::Node section, int input_dim);
PinnSettings load_pinn_settings(config::Node training);

}  // namespace kpde::pinn
