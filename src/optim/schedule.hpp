#pragma once
/// Learning-rate schedules for the first-order optimizers (Adam, AdamW).
///
/// A schedule maps the optimizer step index (counting from 0: step 0 is the first
/// update) to a learning rate. Schedules are plain values: no state, so a resumed
/// run gets the same rates from the saved step count.
#include "core/types.hpp"

namespace kpde::optim {

/// Which learning-rate curve a Schedule follows.
enum class ScheduleKind {
  constant,     ///< lr(step) = lr
  exponential,  ///< lr(step) = lr * decay_rate^(step / decay_steps), continuous in step
  cosine,       ///< linear warm-up from 0, then cosine decay from lr to min_lr
  onecycle,     ///< PyTorch's OneCycleLR (cosine): up from lr / div_factor to lr, then down
};

/// The name of a schedule kind ("constant", "exponential", "cosine").
const char* to_string(ScheduleKind kind);

/// A learning-rate schedule. Which fields are used depends on `kind`:
///  - constant:    lr
///  - exponential: lr, decay_rate, decay_steps
///  - cosine:      lr, warmup_steps, total_steps, min_lr
///  - onecycle:    lr (the peak), total_steps, pct_start, div_factor, final_div_factor
/// Not done yet: step-wise (staircase) decay, restarts, warm-up for the other kinds.
struct Schedule {
  ScheduleKind kind = ScheduleKind::constant;
  double lr = 1e-3;          ///< base (peak) learning rate, > 0
  double decay_rate = 0.9;   ///< exponential: factor per decay_steps steps, in (0, 1]
  int decay_steps = 1000;    ///< exponential: steps over which the rate drops by decay_rate, > 0
  int warmup_steps = 0;      ///< cosine: steps of linear warm-up from 0 to lr, >= 0
  int total_steps = 0;       ///< cosine: step at which the rate reaches min_lr, > warmup_steps
  double min_lr = 0;         ///< cosine: final rate, 0 <= min_lr <= lr
  double pct_start = 0.3;    ///< onecycle: share of total_steps spent rising, in (0, 1)
  double div_factor = 25;    ///< onecycle: the first rate is lr / div_factor, >= 1
  double final_div_factor = 1e4;  ///< onecycle: the last rate is lr / div_factor / final_div_factor, >= 1

  /// The learning rate of update number `step` (step >= 0, counting from 0):
  ///  - constant:    lr
  ///  - exponential: lr * decay_rate^(step / decay_steps)  (real-valued exponent)
  ///  - cosine, with W = warmup_steps and N = total_steps:
  ///      step <  W:      lr * step / W                 (0 at step 0, lr at step W)
  ///      W <= step <= N: min_lr + (lr - min_lr) * (1 + cos(pi (step - W) / (N - W))) / 2
  ///      step >  N:      min_lr
  ///  - onecycle (PyTorch's OneCycleLR with cosine annealing), with a = lr / div_factor,
  ///    z = a / final_div_factor, e1 = pct_start N - 1, e2 = N - 1 and
  ///    cos(x, y, t) = y + (x - y) (1 + cos(pi t)) / 2:
  ///      step <= e1:     cos(a, lr, step / e1)
  ///      e1 < step < e2: cos(lr, z, (step - e1) / (e2 - e1))
  ///      step >= e2:     z
  /// Expects validate() to pass; does not check it again.
  double lr_at(long step) const;

  /// Throws kpde::InputError naming the offending field when the schedule makes no
  /// sense: lr <= 0 or not finite, decay_rate outside (0, 1], decay_steps <= 0,
  /// cosine or onecycle without total_steps > 0, pct_start outside (0, 1), div factors < 1, warmup_steps < 0 or >= total_steps,
  /// min_lr outside [0, lr], or warmup_steps set for a kind that has no warm-up.
  void validate() const;
};

}  // namespace kpde::optim
