#pragma once
/// Observers of a training run (Ginkgo's log/ as the model): objects the trainer calls
/// after every step, at the end of every stage and at the end of the run. The trainer
/// always has three, in this order: the history (one record per step), the monitor
/// (the objective's monitor() every monitor_every steps) and the progress line.
#include <functional>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "train/history.hpp"

namespace kpde::train {

template <class T>
class Objective;

/// What an observer sees after a step.
template <class T>
struct StepInfo {
  int stage = 0;                     ///< index of the running stage
  int n_stages = 0;
  std::string stage_name;            ///< its kind ("adam")
  long step = 0;                     ///< step within the stage, after this one (1-based)
  long stage_steps = 0;              ///< the stage's budget
  long global_step = 0;              ///< steps done, all stages and resumed runs counted
  long total_steps = 0;              ///< of all stages
  long run_start_step = 0;           ///< global_step when this run started
  double loss = 0;
  const std::vector<double>* terms = nullptr;  ///< unweighted terms
  double lr = 0;                     ///< learning rate of this step (0: none)
  double wall_s = 0;                 ///< training seconds including resumed runs
  double run_s = 0;                  ///< seconds of this run
  /// The current parameters (evaluated on demand: for L-BFGS a copy of the iterate).
  std::function<Vec<const T>()> params;
};

template <class T>
class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_step(const StepInfo<T>& s) {}
  /// Before the first step of a fresh run (global step 0, loss NaN; not on resume).
  virtual void on_start(const StepInfo<T>& s) {}
  /// After the last step with the final loss and terms (not for a suspended run).
  virtual void on_end(const StepInfo<T>& s) {}
};

/// Records step, loss, each term by name, lr, wall_s and stage into a History (the
/// record of a step carries the global step before it).
template <class T>
class HistoryRecorder : public Observer<T> {
 public:
  HistoryRecorder(History& history, std::vector<std::string> term_names)
      : history_(history), names_(std::move(term_names)) {}
  void on_step(const StepInfo<T>& s) override;

 private:
  History& history_;
  std::vector<std::string> names_;
};

/// Every `every` steps: monitor_step, monitor_wall_s and monitor_<name> for each of the
/// objective's monitor_names() at the current parameters.
template <class T>
class Monitor : public Observer<T> {
 public:
  Monitor(History& history, Objective<T>& objective, long every) : history_(history), objective_(objective), every_(every) {}
  /// Every `every` steps, and at the initial parameters of a fresh run (step 0).
  void on_step(const StepInfo<T>& s) override;
  void on_start(const StepInfo<T>& s) override;

 private:
  void record(const StepInfo<T>& s);
  History& history_;
  Objective<T>& objective_;
  long every_;
};

/// The progress line on stderr: "[2/2 lbfgs] step 120/1000 loss 1.2e-05 (res 1.1e-05,
/// dir 1.0e-06) eta 42s", redrawn in place at most twice a second on a terminal, one
/// line every 10 s otherwise; the final line is always printed.
template <class T>
class ProgressLine : public Observer<T> {
 public:
  /// active(k): whether term k is shown (the first term always is).
  ProgressLine(std::vector<std::string> term_names, std::function<bool(int)> active)
      : names_(std::move(term_names)), active_(std::move(active)) {}
  void on_step(const StepInfo<T>& s) override { print(s, false); }
  void on_end(const StepInfo<T>& s) override { print(s, true); }

 private:
  void print(const StepInfo<T>& s, bool force);
  std::vector<std::string> names_;
  std::function<bool(int)> active_;
  double last_ = -1e9;
};

extern template class HistoryRecorder<float>;
extern template class HistoryRecorder<double>;
extern template class Monitor<float>;
extern template class Monitor<double>;
extern template class ProgressLine<float>;
extern template class ProgressLine<double>;

}  // namespace kpde::train
