#pragma once
/// Training a PINN on a data::Problem (DESIGN.md 2): a sequence of stages (Adam, L-BFGS,
/// least squares for the output layer), collocation resampling, residual-based adaptive
/// sampling, automatic balancing of the loss terms, checkpoints and exact resume.
///
/// Determinism: given the config, the run is a function of nothing else (own RNG, fixed
/// reduction orders, checkpoints at fixed steps), so `--resume` reproduces the
/// uninterrupted run to rounding: Adam's moments, the L-BFGS history (s, y pairs), the
/// balanced weights and the current collocation points are all in the checkpoint.
/// L-BFGS runs in chunks of checkpoint_every iterations whether or not a run is resumed.
#include <string>
#include <vector>

#include "data/problem.hpp"
#include "nn/network.hpp"
#include "optim/lbfgs.hpp"
#include "pinn/pinn_loss.hpp"
#include "pinn/settings.hpp"

namespace kpde::pinn {

/// Loss history: one entry per Adam step / L-BFGS iteration / least-squares solve.
struct History {
  std::vector<double> step, loss, residual, dirichlet, neumann, lr, wall_s;
  std::vector<double> stage;  ///< stage index of each entry
  /// training.monitor_every: (step, wall_s, rel_l2 against the exact solution)
  std::vector<double> monitor_step, monitor_wall_s, monitor_rel_l2;
  std::size_t size() const { return step.size(); }
};

struct TrainerOptions {
  std::string checkpoint_path;  ///< "" = no checkpoints
  bool quiet = false;           ///< no progress line
  std::string fingerprint;      ///< text identifying the config (refuses a mismatched resume)
  /// > 0: stop after this many steps (all stages counted) with a checkpoint, as a job
  /// that hits its time slot would; `resume` continues exactly from there.
  long stop_after = 0;
};

struct TrainResult {
  long steps = 0;              ///< optimisation steps done (all stages)
  double wall_s = 0;           ///< training time (including earlier runs when resumed)
  double loss = 0;             ///< final loss
  LossTerms terms;             ///< final terms
  std::vector<std::string> messages;  ///< one line per stage (how it ended)
  bool stopped = false;        ///< stopped by TrainerOptions::stop_after (not finished)
};

template <class T>
class Trainer {
 public:
  Trainer(const data::Problem& problem, const ModelSettings& model, const TrainingSettings& training,
          TrainerOptions options);
  /// Initial parameters (model.seed) and collocation points (training.seed, round 0).
  void initialise();
  /// Loads a checkpoint written by this trainer; throws InputError when it is missing,
  /// unreadable or from a different configuration.
  void resume(const std::string& checkpoint_path);
  /// Runs the remaining stages. Throws kpde::Error (exit code 1) when the loss becomes
  /// non-finite, naming the step and the last good checkpoint.
  TrainResult run();

  const nn::Network<T>& net() const { return net_; }
  const Vec<T>& params() const { return params_; }
  PinnLoss<T>& loss() { return loss_; }
  const History& history() const { return history_; }
  long global_step() const { return global_step_; }

 private:
  /// model.init_from: parameters from a checkpoint (see ModelSettings::init_from).
  void init_from(const std::string& path);
  void save_checkpoint(int stage, long step_in_stage, const optim::Adam<T>* adam,
                       const optim::LbfgsState* lbfgs);
  void record(int stage, double loss, const LossTerms& t, double lr);
  void monitor();
  Mat<double> monitor_points_;
  std::vector<double> monitor_exact_;
  void progress(int stage, long k, long steps, double loss, const LossTerms& t, double lr, bool force = false);
  void adaptive_round(std::uint64_t round);
  void balance(const std::array<Vec<T>, kTerms>& term_grads);
  [[noreturn]] void diverged(const std::string& what) const;
  double elapsed() const;

  const data::Problem& problem_;
  ModelSettings model_;
  TrainingSettings training_;
  TrainerOptions options_;
  nn::Network<T> net_;
  PinnLoss<T> loss_;
  Vec<T> params_, grad_;
  History history_;
  // position
  int stage_ = 0;
  long step_in_stage_ = 0;
  long global_step_ = 0;
  std::uint64_t round_ = 0;
  double wall_before_ = 0;     // training time of earlier (resumed) runs
  double start_ = 0;           // steady clock at run()
  long start_step_ = 0;        // global_step_ at run()
  double last_progress_ = -1e9;
  long last_checkpoint_step_ = -1;
  // resumed optimiser state
  bool have_adam_state_ = false;
  long adam_t_ = 0;
  std::vector<double> adam_m_, adam_v_;
  optim::LbfgsState lbfgs_state_;
};

extern template class Trainer<float>;
extern template class Trainer<double>;

}  // namespace kpde::pinn
