#pragma once
/// The `model:` and `training:` sections of a `kpde solve` config (docs/config.md),
/// read into plain structs. Errors name the file, line, column and key.
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "mesh/sampling.hpp"
#include "nn/network.hpp"
#include "optim/adam.hpp"
#include "optim/lbfgs.hpp"

namespace kpde::pinn {

enum class Precision { float64, float32 };

/// `model:` type mlp | modified_mlp | gaussian_features (the network of nn::Network;
/// gaussian_features: an mlp on trainable Gaussian features, default width 16, depth 1).
struct ModelSettings {
  nn::NetworkSpec network;
  Precision precision = Precision::float64;
  nn::Init init = nn::Init::xavier_normal;
  std::uint64_t seed = 1;
  /// gaussian_features: a checkpoint.h5 whose parameters replace the initial ones: of
  /// the same model, or of its diagonal-covariance version when this one is full
  /// (the off-diagonal entries then start at 0: fine-tuning a trained diagonal model).
  /// With `balance: grad_norm` the term weights start from the checkpoint's too.
  std::string init_from;
};

/// One optimisation stage.
struct StageSettings {
  enum class Kind { adam, lbfgs, least_squares };
  Kind kind = Kind::adam;
  long steps = 0;                 ///< adam: updates; lbfgs: iterations; least_squares: 1
  optim::AdamOptions adam;
  optim::LbfgsOptions lbfgs;
  double ridge = 0;               ///< least squares: Tikhonov weight relative to the mean row norm^2
  /// lbfgs: optimise the hidden layers only, the output layer being the least-squares
  /// optimum at every evaluation (variable projection; linear operators).
  bool varpro = false;
  /// lbfgs: iterations per set of collocation points (0: one set for the whole stage).
  /// At each multiple, fresh interior points are drawn and L-BFGS restarts from the
  /// current iterate with an empty history (its curvature pairs belong to the old sum).
  long resample_every = 0;
  /// Weight of the residual modes during this stage (< 0: training.weights.modes_weight;
  /// 0: off). Early in training the low modes of the residual are mostly the aliasing
  /// of its oscillating part on the sample points, so they are better weighed late.
  double modes_weight = -1;
  std::string name() const;       ///< "adam", "lbfgs", "least_squares"
};

/// `training:`.
struct TrainingSettings {
  long n_interior = 4096;
  long n_boundary = 512;
  mesh::InteriorMethod method = mesh::InteriorMethod::sobol;
  long resample_every = 0;        ///< Adam steps between fresh collocation points (0: never)
  double w_residual = 1, w_dirichlet = 1, w_neumann = 1;
  std::string balance = "none";   ///< none | grad_norm
  long balance_every = 100;
  double balance_alpha = 0.9;     ///< moving-average factor of the balanced weights
  long adaptive_every = 0;        ///< residual-based adaptive resampling period (0: off)
  long adaptive_candidates = 0;   ///< candidate points per adaptive round (0: 4 n_interior)
  double adaptive_fraction = 0.5; ///< share of the interior points picked by residual
  std::vector<StageSettings> stages;
  long checkpoint_every = 1000;   ///< steps between checkpoints (0: only at stage ends)
  /// > 0: every this many steps, the relative L2 error against the exact solution at
  /// 4096 fixed Sobol points of Omega goes into the history (time to accuracy).
  long monitor_every = 0;
  /// Exact Dirichlet data: u = g + phi N with phi = 0 on the constrained sides of a box
  /// domain whose conditions are all Dirichlet with one common value g (pinn_loss.hpp).
  bool hard_dirichlet = false;
  /// Low modes of the residual (`weights: {modes: n, modes_weight: w}`): the residual
  /// term becomes mean_p r_p^2 + w sum_m w_m c_m^2, c_m = mean_p r_p phi_m(x_p), over
  /// the n^d cosine products phi_m of the bounding box, w_m = (1 + |k_m|^2)^-2
  /// (pinn_loss.hpp). 0: off.
  int residual_modes = 0;
  double modes_weight = 0;
  std::uint64_t seed = 0;         ///< collocation points
  long total_steps() const;
};

ModelSettings load_model(config::Node section, int input_dim);
TrainingSettings load_training(config::Node section, bool linear_operator);

}  // namespace kpde::pinn
