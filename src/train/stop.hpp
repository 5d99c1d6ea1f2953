#pragma once
/// Stop criteria of a training run (Ginkgo's stop/ as the model): objects the trainer
/// asks after every step. Each says go on, suspend (stop now with a checkpoint: the run
/// can continue with resume) or finish (training is done early: the remaining stages
/// are skipped and the run ends as a completed one). Divergence is the criterion asked
/// before the parameters are updated; a run that diverges ends with kpde::Error and
/// keeps its last good checkpoint.
#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace kpde::train {

enum class Verdict { go, suspend, finish };

/// Where the run stands after a step.
struct StepState {
  long global_step = 0;  ///< steps done, all stages counted (after this step)
  double loss = 0;       ///< loss of this step (at the parameters before the update)
  double run_s = 0;      ///< seconds of this run (without resumed runs)
  double wall_s = 0;     ///< training seconds including resumed runs
};

class StopCriterion {
 public:
  virtual ~StopCriterion() = default;
  virtual Verdict check(const StepState& s) const = 0;
  /// Why it stopped, for messages ("stopped after 17 steps").
  virtual std::string reason(const StepState& s) const = 0;
};

/// Suspends once `steps` steps are done (a job that ends with its time slot).
class StopAfterSteps : public StopCriterion {
 public:
  explicit StopAfterSteps(long steps) : steps_(steps) {}
  Verdict check(const StepState& s) const override { return s.global_step == steps_ ? Verdict::suspend : Verdict::go; }
  std::string reason(const StepState& s) const override;

 private:
  long steps_;
};

/// Suspends once this run has taken `seconds` of wall time.
class WallTimeLimit : public StopCriterion {
 public:
  explicit WallTimeLimit(double seconds) : seconds_(seconds) {}
  Verdict check(const StepState& s) const override { return s.run_s >= seconds_ ? Verdict::suspend : Verdict::go; }
  std::string reason(const StepState& s) const override;

 private:
  double seconds_;
};

/// Suspends when interrupt_requested() is set: an application's SIGINT/SIGTERM handler
/// sets it, the run stops after the step in progress with a checkpoint. Every trainer
/// asks it after its own criteria.
std::atomic<bool>& interrupt_requested();
class Interrupted : public StopCriterion {
 public:
  Verdict check(const StepState&) const override {
    return interrupt_requested().load(std::memory_order_relaxed) ? Verdict::suspend : Verdict::go;
  }
  std::string reason(const StepState& s) const override;
};

/// Finishes once the loss is at or below `tolerance`.
class LossTolerance : public StopCriterion {
 public:
  explicit LossTolerance(double tolerance) : tolerance_(tolerance) {}
  Verdict check(const StepState& s) const override { return s.loss <= tolerance_ ? Verdict::finish : Verdict::go; }
  std::string reason(const StepState& s) const override;

 private:
  double tolerance_;
};

/// Divergence: a loss (or a gradient) that is not finite. describe() names the loss and
/// its terms for the message of the diverged run.
class Divergence {
 public:
  bool diverged(double loss) const { return !std::isfinite(loss); }
  /// "the loss is nan (residual term nan, dirichlet term 1.2e-3; hint)".
  std::string describe(double loss, const std::vector<std::string>& names, const std::vector<double>& terms,
                       const std::string& hint) const;
};

}  // namespace kpde::train
