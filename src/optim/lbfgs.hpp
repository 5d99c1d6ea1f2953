#pragma once
/// L-BFGS in double with a strong-Wolfe line search (Nocedal & Wright, Numerical
/// Optimization, 2nd ed.: Alg. 7.4 two-loop recursion, Alg. 3.5 bracketing and
/// Alg. 3.6 zoom with safeguarded cubic interpolation).
///
/// Built to not stop early in silence (the common failure of L-BFGS in PINN codes):
///  - no stop on a small decrease in one iteration; the only decrease-based rule is
///    the patience window (f_rel_tol), which is off by default;
///  - the first iteration, and every restart, takes a scaled steepest-descent step
///    with initial step length alpha0 = min(1, 1/||g||_2);
///  - a point that gives sufficient decrease but never meets the curvature condition
///    within max_line_search trials is still accepted (progress is progress);
///  - when the line search finds no decrease, the history is discarded and the search
///    is retried once along -g before reporting line_search_failed;
///  - curvature pairs with y's <= 1e-10 ||s|| ||y|| are skipped, so the inverse-Hessian
///    approximation stays positive definite;
///  - a non-finite f or gradient at a trial point counts as "step too long": the step
///    shrinks; non_finite is reported only when no finite trial point can be found;
///  - x ends at the best finite point evaluated, and the message says why it stopped.
/// Not done yet: bound constraints, MPI-distributed vectors (x is one host buffer).
#include <functional>
#include <string>
#include <vector>

#include "core/types.hpp"

namespace kpde::optim {

/// Settings of lbfgs_minimize.
struct LbfgsOptions {
  int max_iterations = 1000;  ///< accepted steps, >= 0
  int max_evaluations = 0;    ///< objective calls, >= 0; 0 means 25 * max_iterations (+1)
  int history = 50;           ///< curvature pairs (s, y) kept, >= 1
  double grad_tol = 1e-10;    ///< converged when ||g||_inf <= grad_tol, >= 0
  /// > 0: converged when (f_{k-patience} - f_k) <= f_rel_tol * |f_{k-patience}|,
  /// i.e. the relative decrease over the last `patience` iterations is that small.
  /// 0 (default) disables the rule.
  double f_rel_tol = 0;
  int patience = 10;          ///< window of the f_rel_tol and floor rules, in iterations, >= 1
  /// The rounding floor: stop (reason rounding_floor) when the line search along the
  /// L-BFGS direction finds no decrease for the second time within `patience`
  /// iterations. Along a descent direction that only happens when rounding errors of f
  /// are as large as its decrease; steepest-descent retries then advance by noise alone.
  bool stop_at_floor = true;
  double c1 = 1e-4;           ///< sufficient decrease: f(x + a d) <= f(x) + c1 a g'd
  double c2 = 0.9;            ///< curvature: |g(x + a d)'d| <= c2 |g'd|; 0 < c1 < c2 < 1
  int max_line_search = 25;   ///< objective calls per line search, >= 1

  /// Throws kpde::InputError naming the bad field.
  void validate() const;
};

/// Why lbfgs_minimize returned.
enum class LbfgsStop {
  converged,            ///< ||g||_inf <= grad_tol, or the f_rel_tol patience rule held
  max_iterations,       ///< max_iterations steps taken
  max_evaluations,      ///< the objective-call budget ran out
  line_search_failed,   ///< no decrease along the L-BFGS direction nor along -g
  rounding_floor,       ///< stop_at_floor: f no longer decreases beyond its rounding
  non_finite,           ///< the start, or every trial point of a search, was not finite
  stopped_by_callback,  ///< the callback returned false
};

/// The enumerator's name, e.g. "line_search_failed".
const char* to_string(LbfgsStop reason);

/// What lbfgs_minimize did.
struct LbfgsResult {
  double f = 0;          ///< objective at the returned x (the best finite point seen)
  double grad_norm = 0;  ///< ||g||_inf at the returned x
  int iterations = 0;    ///< accepted steps
  int evaluations = 0;   ///< objective calls
  LbfgsStop reason = LbfgsStop::converged;
  std::string message;   ///< why it stopped, at which f, after how many iterations
};

/// The objective: writes grad f(x) into grad (same length as x) and returns f(x).
/// May return NaN/inf (or write them into grad) for points it cannot evaluate.
using Objective = std::function<double(const Vec<const double>& x, const Vec<double>& grad)>;

/// Called after every accepted step with the iteration number (1, 2, ...), f and
/// ||g||_inf at the new point; return false to stop (reason stopped_by_callback).
using LbfgsCallback = std::function<bool(int iteration, double f, double grad_norm)>;

/// Everything an L-BFGS run needs to continue exactly where it stopped (a checkpoint):
/// the current iterate with its f and gradient, the curvature pairs (oldest first) and
/// the counters. Filled by lbfgs_minimize on return; when valid on entry, the run
/// continues from it instead of evaluating f at x (so a run split into several calls,
/// with max_iterations raised between them, follows the same iterates as one call).
struct LbfgsState {
  bool valid = false;
  std::vector<double> x, g;                 ///< current iterate and its gradient
  double f = 0;                             ///< f at x
  std::vector<std::vector<double>> s, y;    ///< curvature pairs, oldest first
  std::vector<double> rho;                  ///< 1 / s'y of each pair
  double gamma = 1;                         ///< s'y / y'y of the newest pair
  int iterations = 0, evaluations = 0;      ///< counters so far (limits apply to them)
  std::vector<double> f_history;            ///< f after each iteration (patience rule)
  int last_qn_failure = -1;                 ///< iteration of the last failed L-BFGS search (floor rule)
};

/// Minimises f from x. On return x holds the best finite point evaluated (the start
/// when nothing better was found). Direction d = -H g from the two-loop recursion
/// with H0 = (s'y / y'y) I of the newest pair; steps satisfy the strong Wolfe
/// conditions (c1, c2) whenever the line search can meet them.
/// Throws kpde::InputError when options.validate() does; exceptions thrown by f or
/// callback propagate (x then holds the last accepted iterate).
/// With `state`: continues from *state when state->valid (x is overwritten with
/// state->x first) and stores the state at return into *state (the last accepted
/// iterate, which may differ from the returned best point x).
LbfgsResult lbfgs_minimize(const Objective& f, const Vec<double>& x, const LbfgsOptions& options,
                           const LbfgsCallback& callback = {}, LbfgsState* state = nullptr);

}  // namespace kpde::optim
