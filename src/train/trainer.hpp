#pragma once
/// train::Trainer: one training loop for every method (docs/design.md, "One trainer";
/// tiny-cuda-nn's trainer as the model). It owns the parameters, the term weights and
/// the history, runs the stages of TrainerSettings in order on an Objective, asks its
/// stop criteria after every step, calls its observers, and writes checkpoints from
/// which resume() continues exactly (bit for bit: the run depends on nothing else).
///
/// The weighted loss of a step is
///   L = sum_k lambda_k L_k,  dL/dtheta = sum_k lambda_k dL_k/dtheta,
/// with lambda from the configured weights, optionally balanced by gradient norms.
///
/// Checkpoints (train/checkpoint.hpp) are written every checkpoint_every steps at points
/// the stages choose (where their optimiser state is consistent: any Adam step, the ends
/// of L-BFGS's calls), at stage boundaries, at the end and when a run is suspended.
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/types.hpp"
#include "train/checkpoint.hpp"
#include "train/comm.hpp"
#include "train/history.hpp"
#include "train/objective.hpp"
#include "train/observer.hpp"
#include "train/settings.hpp"
#include "train/stage.hpp"
#include "train/stop.hpp"

namespace kpde::train {

struct TrainerOptions {
  std::string checkpoint_path;  ///< "" = no checkpoints
  std::string fingerprint;      ///< text identifying the configuration (a resume must match)
  std::string objective_kind;   ///< written into checkpoints, e.g. "pinn"
  bool quiet = false;           ///< no progress line
  /// The ranks of a data-parallel run (train/comm.hpp). With more than one, the objective
  /// must accept it (Objective::distribute); every rank runs the same trainer; the losses
  /// and gradients are summed over the ranks once per evaluation; the stop decisions are
  /// agreed on after every step; only rank 0 prints progress and writes checkpoints.
  Comm comm;

  /// A command's run in folder `dir`: checkpoints in dir/checkpoint.h5, data-parallel
  /// over MPI_COMM_WORLD (Comm::world()).
  static TrainerOptions in_folder(const std::string& dir, std::string fingerprint, std::string kind, bool quiet) {
    return {dir + "/checkpoint.h5", std::move(fingerprint), std::move(kind), quiet, Comm::world()};
  }
};

/// How run() ended.
struct TrainResult {
  long steps = 0;                      ///< steps done (all stages, resumed runs included)
  double wall_s = 0;                   ///< training time, resumed runs included
  double loss = 0;                     ///< final weighted loss
  std::vector<double> terms;           ///< final unweighted terms
  std::vector<std::string> messages;   ///< one line per finished stage
  /// go: every stage ran; suspend: a criterion stopped it early (continue with
  /// resume); finish: a criterion ended training early (the result is final).
  Verdict end = Verdict::go;
  std::string reason;                  ///< the criterion's reason when end != go
  const StopCriterion* stopped_by = nullptr;  ///< the criterion that ended it (end != go)
  bool out_of_time = false;  ///< suspended by settings.max_wall_s (the method still writes its outputs)
  bool interrupted = false;  ///< suspended by interrupt_requested() (a signal)
  bool stopped() const { return end == Verdict::suspend; }
};

template <class T>
class Trainer {
 public:
  /// The objective must outlive the trainer. The parameters start at 0: set them
  /// through params() before run(), or resume().
  Trainer(Objective<T>& objective, TrainerSettings settings, TrainerOptions options);
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  void add_stop(std::unique_ptr<StopCriterion> criterion) { criteria_.push_back(std::move(criterion)); }
  void add_observer(std::unique_ptr<Observer<T>> observer) { observers_.push_back(std::move(observer)); }

  /// Loads a checkpoint of this trainer: position, parameters, weights, history, the
  /// running stage's and the objective's state. Throws InputError when it is missing,
  /// unreadable, of another kind, schema or configuration.
  void resume(const std::string& path);
  /// Runs the remaining stages. Throws kpde::Error (exit code 1) when the loss becomes
  /// non-finite, naming the step and the last good checkpoint.
  TrainResult run();

  const Vec<T>& params() const { return params_; }
  const std::vector<double>& weights() const { return weights_; }
  void set_weights(std::vector<double> weights);
  const History& history() const { return history_; }
  long global_step() const { return global_step_; }
  const TrainerSettings& settings() const { return settings_; }
  Objective<T>& objective() { return objective_; }

  // ---- services for the stages ------------------------------------------------------------

  /// L (returned), dL/dtheta into grad and the unweighted terms at params. With
  /// first_order_step >= 0 (a first-order stage's step k) the weights are rebalanced
  /// first when Balance::grad_norm is due at k (k % balance_every == 0).
  double evaluate(const Vec<const T>& params, const Vec<T>& grad, std::vector<double>& terms,
                  long first_order_step = -1);
  /// Divergence check of a step's loss before the parameters change (throws).
  void check_loss(double loss, const std::vector<double>& terms) const;
  /// Throws the "training diverged" Error: `what` happened at the next step.
  [[noreturn]] void diverged(const std::string& what) const;
  /// After every step: records it (history, monitor, progress), counts it and asks the
  /// stop criteria. `current` gives the parameters after the step.
  Verdict step_done(long step_in_stage, double loss, const std::vector<double>& terms, double lr,
                    const std::function<Vec<const T>()>& current);
  /// Whether the step just done ends a checkpoint period (checkpoint_every).
  bool checkpoint_due() const;
  /// Writes a checkpoint at step_in_stage of the running stage, with `stage`'s state.
  void checkpoint(long step_in_stage, const Stage<T>* stage);

 private:
  void write_checkpoint(int stage, long step_in_stage, const Stage<T>* state);
  CheckpointIdentity identity() const;
  void rebalance();
  double combine(const std::vector<double>& terms, const Vec<T>& grad) const;
  double weighted_loss(const std::vector<double>& terms) const;
  double elapsed() const;
  StepInfo<T> info(long step_in_stage, double loss, const std::vector<double>* terms, double lr,
                   std::function<Vec<const T>()> current) const;

  Objective<T>& objective_;
  TrainerSettings settings_;
  TrainerOptions options_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Stage<T>>> stages_;
  std::vector<std::unique_ptr<StopCriterion>> criteria_;
  std::vector<std::unique_ptr<Observer<T>>> observers_;
  Divergence divergence_;
  Vec<T> params_;
  std::vector<double> weights_;
  std::vector<Vec<T>> term_grads_;
  std::vector<double> reduce_buffer_;  // Comm::sum_shares
  History history_;
  // position
  int stage_ = 0;              // the running (or next) stage
  long step_in_stage_ = 0;     // where a resumed stage continues
  long global_step_ = 0;
  double wall_before_ = 0;     // training time of earlier (resumed) runs
  double start_ = 0;           // steady clock at run()
  long start_step_ = 0;        // global_step_ at run()
  long last_checkpoint_step_ = -1;
  std::string stop_reason_;
  const StopCriterion* stopped_by_ = nullptr;
  const StopCriterion* wall_limit_ = nullptr;  ///< in criteria_ when settings.max_wall_s > 0
  const StopCriterion* interrupt_ = nullptr;   ///< in criteria_ (interrupt_requested)
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace kpde::train
