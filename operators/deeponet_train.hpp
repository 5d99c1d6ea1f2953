#pragma once
/// `kpde train` with `model: {type: deeponet}` (docs/config.md, "kpde train: deeponet"):
///   model:    {type: deeponet | pi_deeponet, basis, branch: {width, depth},
///              trunk: {width, depth, features}, bias, seed}
///   physics:  (pi_deeponet) {problem: a problem section, boundary_points, data: false}
///   data:     {generate: a kpde generate config (kind antiderivative), relative to this
///              config; train: {n, seed} or {file: dataset.h5}; test: the same}
///   training: {batch, precision, stages, checkpoint_every, monitor_every, max_wall_s}
///   output:   {dir}
/// The run writes config.resolved.yaml (first), checkpoint.h5, model.h5 (the flat
/// parameters and the architecture), metrics.json (test relative L2: mean, median, 95th
/// percentile), history.h5 and loss.png. Under mpirun the ranks share every batch.
#include <memory>
#include <string>

#include "config/config.hpp"
#include "data/problem.hpp"
#include "operators/deeponet.hpp"
#include "operators/deeponet_objective.hpp"
#include "train/settings.hpp"

namespace kpde::operators {

struct DeepOnetTrainConfig {
  std::string type = "deeponet";  ///< deeponet | pi_deeponet
  DeepOnetSpec spec;
  /// pi_deeponet: the problem whose source the input function joins (operator_physics.hpp)
  std::shared_ptr<const data::Problem> problem;
  std::string problem_text;  ///< its resolved section (model.h5)
  int boundary_points = 1;   ///< points sampled on the constrained boundary parts
  bool physics_with_data = false;  ///< pi_deeponet: the data term as well
  std::uint64_t model_seed = 1;
  OperatorData train, test;
  std::string data_kind;      ///< the data's kind (antiderivative)
  long batch = 100;
  bool float64 = true;
  bool relative_loss = false;  ///< training.loss: relative (else mse)
  train::TrainerSettings training;
  std::string output_dir = "kpde_out/deeponet";
  std::string fingerprint, resolved, model_text;
};

/// Reads the whole config (and makes or reads the data); errors name file, line and key.
DeepOnetTrainConfig load_deeponet_config(config::Document& doc);

struct DeepOnetRunOptions {
  std::string out, resume;
  /// A trained DeepONet's model.h5 to start from (transfer learning, e.g. to a new
  /// geometry): the same architecture and data kind; InputError otherwise.
  std::string init_from;
  bool quiet = false;
  double max_wall_s = -1;
  long stop_after = 0;
};

struct DeepOnetRun {
  long steps = 0;
  double wall_s = 0, loss = 0;
  double test_mean = NAN, test_median = NAN, test_p95 = NAN;
  bool finished = false;
  std::string stop_reason, out;
};

DeepOnetRun run_deeponet_training(const DeepOnetTrainConfig& cfg, const DeepOnetRunOptions& options);

}  // namespace kpde::operators
