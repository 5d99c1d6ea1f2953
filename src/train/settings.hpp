#pragma once
/// The trainer's part of a `training:` section (docs/config.md): the stages (by the
/// stage registry), the term weights and their balancing, checkpoint and monitor
/// periods. A method's own keys (points, sampling, ...) are read from the same section
/// by the method's loader; Document::check_unused() then catches typos in either.
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "train/stage.hpp"

namespace kpde::train {

/// Automatic weighting of the loss terms.
enum class Balance {
  none,
  /// lambda_k <- alpha lambda_k + (1 - alpha) w_k (sum_j |g_j|) / |g_k|, g_k the gradient
  /// of term k (Wang, Wang & Perdikaris 2023), every balance_every first-order steps.
  grad_norm,
};

struct TrainerSettings {
  std::vector<std::shared_ptr<const StageConfig>> stages;
  std::vector<double> weights;  ///< configured weight w_k of each term (weights.<name>, default 1)
  Balance balance = Balance::none;
  long balance_every = 100;
  double balance_alpha = 0.9;   ///< moving-average factor of the balanced weights
  long checkpoint_every = 1000;  ///< steps between checkpoints (0: only at stage ends)
  /// > 0: every this many steps the objective's monitor() goes into the history.
  long monitor_every = 0;
  /// > 0: the wall-time budget of a run in seconds (training.max_wall_s); the method stops
  /// training when it is spent and still writes its outputs. Not part of the fingerprint
  /// of a configuration: a resumed run may have another budget.
  double max_wall_s = 0;
  /// Steps of all stages.
  long total_steps() const;
};

/// Reads stages, weights.<term> (for each of term_names), weights.balance,
/// weights.balance_every, weights.balance_alpha, checkpoint_every, monitor_every and max_wall_s
/// from `training`. Errors name the file, line and key.
TrainerSettings load_trainer_settings(config::Node training, const std::vector<std::string>& term_names,
                                      const StageParseContext& context);

}  // namespace kpde::train
