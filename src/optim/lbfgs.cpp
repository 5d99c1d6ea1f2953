#include "optim/lbfgs.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace kpde::optim {

namespace {

using Policy = Kokkos::RangePolicy<HostExec>;

/// Curvature pairs with s'y <= curvature_eps * ||s|| ||y|| are not stored.
constexpr double curvature_eps = 1e-10;

// ---- vector kernels (host) ------------------------------------------------------------
// Kokkos parallel_for / parallel_reduce on the host execution space; vectors shorter
// than parallel_min run as plain loops, because a parallel launch costs more than the
// work there (a 100-D problem takes ~10 launches per pair per iteration).

constexpr std::size_t parallel_min = 16384;

Vec<double> new_vec(const char* label, std::size_t n) {
  return Vec<double>(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), n);
}

template <class F>
void for_each(const char* label, std::size_t n, const F& f) {
  if (n < parallel_min) {
    for (std::size_t i = 0; i < n; ++i) f(i);
  } else {
    Kokkos::parallel_for(label, Policy(0, n), [=](const std::size_t i) { f(i); });
  }
}

/// sum_i term(i), in double.
template <class F>
double sum_of(const char* label, std::size_t n, const F& term) {
  double sum = 0;
  if (n < parallel_min) {
    for (std::size_t i = 0; i < n; ++i) sum += term(i);
  } else {
    Kokkos::parallel_reduce(
        label, Policy(0, n), [=](const std::size_t i, double& s) { s += term(i); }, sum);
  }
  return sum;
}

double dot(const Vec<const double>& a, const Vec<const double>& b) {
  return sum_of("kpde::optim::lbfgs::dot", a.extent(0),
                [=](const std::size_t i) { return a(i) * b(i); });
}

/// max_i |a_i|; expects finite entries.
double inf_norm(const Vec<const double>& a) {
  const std::size_t n = a.extent(0);
  double result = 0;
  if (n < parallel_min) {
    for (std::size_t i = 0; i < n; ++i) result = std::max(result, std::abs(a(i)));
  } else {
    Kokkos::parallel_reduce(
        "kpde::optim::lbfgs::inf_norm", Policy(0, n),
        [=](const std::size_t i, double& m) { m = std::max(m, std::abs(a(i))); },
        Kokkos::Max<double>(result));
  }
  return result;
}

bool all_finite(const Vec<const double>& a) {
  return sum_of("kpde::optim::lbfgs::count_non_finite", a.extent(0),
                [=](const std::size_t i) { return std::isfinite(a(i)) ? 0.0 : 1.0; }) == 0;
}

/// y <- y + alpha x
void axpy(double alpha, const Vec<const double>& x, const Vec<double>& y) {
  for_each("kpde::optim::lbfgs::axpy", x.extent(0),
           [=](const std::size_t i) { y(i) += alpha * x(i); });
}

/// z <- x + alpha d
void step_to(const Vec<const double>& x, double alpha, const Vec<const double>& d,
             const Vec<double>& z) {
  for_each("kpde::optim::lbfgs::step_to", x.extent(0),
           [=](const std::size_t i) { z(i) = x(i) + alpha * d(i); });
}

/// z <- a - b
void difference(const Vec<const double>& a, const Vec<const double>& b, const Vec<double>& z) {
  for_each("kpde::optim::lbfgs::difference", a.extent(0),
           [=](const std::size_t i) { z(i) = a(i) - b(i); });
}

/// z <- alpha x
void scaled(double alpha, const Vec<const double>& x, const Vec<double>& z) {
  for_each("kpde::optim::lbfgs::scaled", x.extent(0),
           [=](const std::size_t i) { z(i) = alpha * x(i); });
}

// ---- scalar helpers --------------------------------------------------------------------

/// Minimiser of the cubic that interpolates phi and phi' at a and b (Nocedal & Wright
/// eq. 3.59); NaN when that cubic has no local minimiser.
double cubic_minimizer(double a, double fa, double da, double b, double fb, double db) {
  const double d1 = da + db - 3.0 * (fa - fb) / (a - b);
  const double disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return std::numeric_limits<double>::quiet_NaN();
  const double d2 = (b > a ? 1.0 : -1.0) * std::sqrt(disc);
  const double denom = db - da + 2.0 * d2;
  if (denom == 0) return std::numeric_limits<double>::quiet_NaN();
  return b - (b - a) * (db + d2 - d1) / denom;
}


// ---- the minimiser -------------------------------------------------------------------

/// A point on the search line: step alpha, phi(alpha) = f(x + alpha d), phi'(alpha).
struct LinePoint {
  double alpha = 0;
  double f = 0;
  double slope = 0;
};

enum class SearchStatus {
  wolfe,        ///< strong Wolfe point found
  armijo_only,  ///< sufficient decrease, curvature condition not met in time
  no_decrease,  ///< finite trial points, none with sufficient decrease
  non_finite,   ///< every trial point was non-finite
  budget,       ///< the evaluation budget ran out before any acceptable point
};

class Minimizer {
 public:
  Minimizer(const Objective& objective, const Vec<double>& x, const LbfgsOptions& options,
            const LbfgsCallback& callback, LbfgsState* state)
      : objective_(objective), callback_(callback), options_(options), x_(x), n_(x.extent(0)), state_(state) {
    const long default_budget = 25L * options.max_iterations + 1;
    max_evaluations_ = options.max_evaluations > 0
                           ? options.max_evaluations
                           : static_cast<int>(std::min<long>(default_budget, INT_MAX));
    // Gradient buffers start at 0: an objective that skips an entry leaves no garbage.
    g_ = Vec<double>("kpde::optim::lbfgs::g", n_);
    d_ = new_vec("kpde::optim::lbfgs::d", n_);
    x_t_ = new_vec("kpde::optim::lbfgs::x_trial", n_);
    g_t_ = Vec<double>("kpde::optim::lbfgs::g_trial", n_);
    x_lo_ = new_vec("kpde::optim::lbfgs::x_lo", n_);
    g_lo_ = Vec<double>("kpde::optim::lbfgs::g_lo", n_);
    s_tmp_ = new_vec("kpde::optim::lbfgs::s", n_);
    y_tmp_ = new_vec("kpde::optim::lbfgs::y", n_);
    best_x_ = new_vec("kpde::optim::lbfgs::best_x", n_);
    best_g_ = new_vec("kpde::optim::lbfgs::best_g", n_);
    s_.resize(options.history);
    y_.resize(options.history);
    rho_.resize(options.history);
    alpha_tmp_.resize(options.history);
  }

  LbfgsResult run();

 private:
  bool budget_left() const { return evaluations_ < max_evaluations_; }

  /// f and g at x_t_; remembers the best finite point. Returns false when f or the
  /// slope g'd is not finite (the slope is not finite when any g_i is not).
  bool evaluate_trial(double alpha, LinePoint& point);
  SearchStatus line_search(double f0, double slope0, double alpha0, LinePoint& accepted);
  void compute_direction();
  void steepest_descent();
  void push_pair();
  void clear_history() {
    n_pairs_ = 0;
    oldest_ = 0;
  }
  int slot(int j) const { return (oldest_ + j) % options_.history; }  // j = 0: oldest pair
  LbfgsResult finish(LbfgsStop reason, const std::string& why);

  const Objective& objective_;
  const LbfgsCallback& callback_;
  const LbfgsOptions& options_;
  Vec<double> x_;
  std::size_t n_;
  int max_evaluations_ = 0;
  int evaluations_ = 0;
  int iterations_ = 0;
  double f_ = 0;
  double grad_norm_ = 0;
  Vec<double> g_, d_, x_t_, g_t_, x_lo_, g_lo_, s_tmp_, y_tmp_, best_x_, best_g_;
  double best_f_ = std::numeric_limits<double>::infinity();
  // History ring: pair j (0 = oldest) lives in slot (oldest_ + j) % history.
  std::vector<Vec<double>> s_, y_;
  std::vector<double> rho_, alpha_tmp_;
  int n_pairs_ = 0;
  int oldest_ = 0;
  double gamma_ = 1;  // s'y / y'y of the newest pair
  LbfgsState* state_ = nullptr;
  std::vector<double> f_history_;
  int last_qn_failure_ = -1;  // iteration of the last failed search along the L-BFGS direction
  void restore_state();
  void save_state();
};

void Minimizer::restore_state() {
  const LbfgsState& st = *state_;
  if (st.x.size() != n_ || st.g.size() != n_ || st.s.size() != st.y.size() ||
      st.s.size() > static_cast<std::size_t>(options_.history))
    throw Error("lbfgs_minimize: the saved state does not fit this problem (" + std::to_string(st.x.size()) +
                " parameters, " + std::to_string(st.s.size()) + " pairs; expected " + std::to_string(n_) +
                " parameters and at most " + std::to_string(options_.history) + " pairs)");
  for (std::size_t i = 0; i < n_; ++i) x_(i) = st.x[i], g_(i) = st.g[i];
  f_ = st.f;
  clear_history();
  for (std::size_t k = 0; k < st.s.size(); ++k) {
    if (st.s[k].size() != n_ || st.y[k].size() != n_) throw Error("lbfgs_minimize: a saved pair has the wrong length");
    Vec<double> sv = new_vec("kpde::optim::lbfgs::s", n_), yv = new_vec("kpde::optim::lbfgs::y", n_);
    for (std::size_t i = 0; i < n_; ++i) sv(i) = st.s[k][i], yv(i) = st.y[k][i];
    const int j = slot(n_pairs_);
    s_[j] = sv, y_[j] = yv;
    rho_[j] = st.rho.size() == st.s.size() ? st.rho[k] : 1.0 / dot(sv, yv);
    ++n_pairs_;
  }
  gamma_ = st.gamma;
  iterations_ = st.iterations;
  evaluations_ = st.evaluations;
  f_history_ = st.f_history;
  last_qn_failure_ = st.last_qn_failure;
}

void Minimizer::save_state() {
  LbfgsState& st = *state_;
  st.valid = true;
  st.x.assign(x_.data(), x_.data() + n_);
  st.g.assign(g_.data(), g_.data() + n_);
  st.f = f_;
  st.s.clear(), st.y.clear(), st.rho.clear();
  for (int j = 0; j < n_pairs_; ++j) {
    const int k = slot(j);
    st.s.emplace_back(s_[k].data(), s_[k].data() + n_);
    st.y.emplace_back(y_[k].data(), y_[k].data() + n_);
    st.rho.push_back(rho_[k]);
  }
  st.gamma = gamma_;
  st.iterations = iterations_;
  st.evaluations = evaluations_;
  st.f_history = f_history_;
  st.last_qn_failure = last_qn_failure_;
}

bool Minimizer::evaluate_trial(double alpha, LinePoint& point) {
  step_to(x_, alpha, d_, x_t_);
  ++evaluations_;
  point.alpha = alpha;
  point.f = objective_(x_t_, g_t_);
  point.slope = dot(g_t_, d_);
  if (!std::isfinite(point.f) || !std::isfinite(point.slope)) return false;
  if (point.f < best_f_) {
    best_f_ = point.f;
    Kokkos::deep_copy(best_x_, x_t_);
    Kokkos::deep_copy(best_g_, g_t_);
  }
  return true;
}

// Strong-Wolfe line search along d_ from x_ (Nocedal & Wright Alg. 3.5 + 3.6).
// On wolfe/armijo_only the accepted point is in x_lo_, g_lo_ and `accepted`.
SearchStatus Minimizer::line_search(double f0, double slope0, double alpha0, LinePoint& accepted) {
  const double c1 = options_.c1;
  const double c2 = options_.c2;
  const auto sufficient = [&](const LinePoint& p) { return p.f <= f0 + c1 * p.alpha * slope0; };
  const auto curvature = [&](const LinePoint& p) { return std::abs(p.slope) <= -c2 * slope0; };

  LinePoint lo{0.0, f0, slope0};  // best point with sufficient decrease so far (alpha 0: x)
  LinePoint hi;
  bool hi_finite = true;
  bool any_finite = false;
  bool bracketed = false;
  int trials = 0;
  double alpha = alpha0;
  LinePoint trial;

  // Phase 1: step forward until [lo, hi] brackets a strong-Wolfe point.
  while (!bracketed) {
    if (trials >= options_.max_line_search) break;
    if (!budget_left()) break;
    ++trials;
    if (!evaluate_trial(alpha, trial)) {  // too long: everything beyond is suspect
      hi = LinePoint{alpha, 0.0, 0.0};
      hi_finite = false;
      bracketed = true;
      break;
    }
    any_finite = true;
    if (!sufficient(trial) || (lo.alpha > 0 && trial.f >= lo.f)) {
      hi = trial;
      hi_finite = true;
      bracketed = true;
      break;
    }
    std::swap(x_t_, x_lo_);
    std::swap(g_t_, g_lo_);
    const LinePoint previous = lo;
    lo = trial;
    if (curvature(trial)) {
      accepted = lo;
      return SearchStatus::wolfe;
    }
    if (trial.slope >= 0) {  // passed a minimiser of phi: it lies in [previous, trial]
      hi = previous;
      hi_finite = true;
      bracketed = true;
      break;
    }
    // Still going down steeply: extrapolate (safeguards of Moré & Thuente).
    const double width = trial.alpha - previous.alpha;
    const double lower = trial.alpha + 1.1 * width;
    const double upper = trial.alpha + 4.0 * width;
    const double c = cubic_minimizer(previous.alpha, previous.f, previous.slope, trial.alpha,
                                     trial.f, trial.slope);
    alpha = std::isfinite(c) && c > trial.alpha ? std::clamp(c, lower, upper) : upper;
  }

  // Phase 2: zoom into [lo, hi]. lo has sufficient decrease and the lowest f so far;
  // a non-finite hi is only known to be too long.
  while (bracketed && trials < options_.max_line_search && budget_left()) {
    const double left = std::min(lo.alpha, hi.alpha);
    const double right = std::max(lo.alpha, hi.alpha);
    const double width = right - left;
    if (width <= 4.0 * std::numeric_limits<double>::epsilon() * right) break;  // collapsed
    double c = std::numeric_limits<double>::quiet_NaN();
    if (hi_finite) c = cubic_minimizer(lo.alpha, lo.f, lo.slope, hi.alpha, hi.f, hi.slope);
    if (std::isfinite(c)) {
      c = std::clamp(c, left + 0.1 * width, right - 0.1 * width);
    } else {
      c = 0.5 * (left + right);
    }
    ++trials;
    if (!evaluate_trial(c, trial)) {
      hi = LinePoint{c, 0.0, 0.0};
      hi_finite = false;
      continue;
    }
    any_finite = true;
    if (!sufficient(trial) || trial.f >= lo.f) {
      hi = trial;
      hi_finite = true;
      continue;
    }
    std::swap(x_t_, x_lo_);
    std::swap(g_t_, g_lo_);
    if (curvature(trial)) {
      accepted = trial;
      return SearchStatus::wolfe;
    }
    if (trial.slope * (hi.alpha - lo.alpha) >= 0) {
      hi = lo;
      hi_finite = true;
    }
    lo = trial;
  }

  if (lo.alpha > 0) {
    accepted = lo;
    return SearchStatus::armijo_only;
  }
  if (trials == 0 || (!budget_left() && trials < options_.max_line_search)) {
    return SearchStatus::budget;
  }
  return any_finite ? SearchStatus::no_decrease : SearchStatus::non_finite;
}

void Minimizer::steepest_descent() { scaled(-1.0, g_, d_); }

// d = -H g by the two-loop recursion (Nocedal & Wright Alg. 7.4), H0 = gamma I.
void Minimizer::compute_direction() {
  steepest_descent();
  if (n_pairs_ == 0) return;
  for (int j = n_pairs_ - 1; j >= 0; --j) {
    const int k = slot(j);
    alpha_tmp_[k] = rho_[k] * dot(s_[k], d_);
    axpy(-alpha_tmp_[k], y_[k], d_);
  }
  scaled(gamma_, d_, d_);
  for (int j = 0; j < n_pairs_; ++j) {
    const int k = slot(j);
    const double beta = rho_[k] * dot(y_[k], d_);
    axpy(alpha_tmp_[k] - beta, s_[k], d_);
  }
}

// s = x_lo - x, y = g_lo - g; stored unless the curvature s'y is too small.
void Minimizer::push_pair() {
  difference(x_lo_, x_, s_tmp_);
  difference(g_lo_, g_, y_tmp_);
  const double sy = dot(s_tmp_, y_tmp_);
  const double ss = dot(s_tmp_, s_tmp_);
  const double yy = dot(y_tmp_, y_tmp_);
  if (!(sy > curvature_eps * std::sqrt(ss) * std::sqrt(yy)) || !(yy > 0)) return;
  const int m = options_.history;
  int k;
  if (n_pairs_ < m) {
    k = slot(n_pairs_);
    ++n_pairs_;
  } else {
    k = oldest_;
    oldest_ = (oldest_ + 1) % m;
  }
  std::swap(s_[k], s_tmp_);
  std::swap(y_[k], y_tmp_);
  if (s_tmp_.extent(0) != n_) s_tmp_ = new_vec("kpde::optim::lbfgs::s", n_);
  if (y_tmp_.extent(0) != n_) y_tmp_ = new_vec("kpde::optim::lbfgs::y", n_);
  rho_[k] = 1.0 / sy;
  gamma_ = sy / yy;
}

LbfgsResult Minimizer::finish(LbfgsStop reason, const std::string& why) {
  LbfgsResult result;
  result.reason = reason;
  result.iterations = iterations_;
  result.evaluations = evaluations_;
  result.f = f_;
  result.grad_norm = grad_norm_;
  if (state_ && std::isfinite(f_)) save_state();
  if (best_f_ < f_) {  // a line-search trial was better than the last accepted iterate
    Kokkos::deep_copy(x_, best_x_);
    result.f = best_f_;
    result.grad_norm = inf_norm(best_g_);
  }
  std::ostringstream m;
  m << "L-BFGS " << (reason == LbfgsStop::converged ? "converged" : "stopped") << " ("
    << to_string(reason) << "): " << why << "; f = " << format_number(result.f)
    << ", ||g||_inf = " << format_number(result.grad_norm) << " after " << iterations_ << " iterations and "
    << evaluations_ << " evaluations";
  result.message = m.str();
  return result;
}

LbfgsResult Minimizer::run() {
  const bool resumed = state_ && state_->valid;
  if (resumed) {
    restore_state();
  } else {
    ++evaluations_;
    f_ = objective_(x_, g_);
  }
  if (!std::isfinite(f_) || !all_finite(g_)) {
    grad_norm_ = std::numeric_limits<double>::quiet_NaN();
    return finish(LbfgsStop::non_finite,
                  "f or its gradient is not finite at the starting point");
  }
  best_f_ = f_;
  Kokkos::deep_copy(best_x_, x_);
  Kokkos::deep_copy(best_g_, g_);
  grad_norm_ = inf_norm(g_);
  if (!resumed) f_history_ = {f_};
  std::vector<double>& f_history = f_history_;

  for (;;) {
    if (grad_norm_ <= options_.grad_tol) {
      return finish(LbfgsStop::converged, "||g||_inf <= grad_tol = " + format_number(options_.grad_tol));
    }
    if (options_.f_rel_tol > 0 && iterations_ >= options_.patience) {
      const double f_old = f_history[iterations_ - options_.patience];
      if (f_old - f_ <= options_.f_rel_tol * std::abs(f_old)) {
        return finish(LbfgsStop::converged,
                      "f decreased by " + format_number(f_old - f_) + " over the last " +
                          std::to_string(options_.patience) + " iterations, <= f_rel_tol = " +
                          format_number(options_.f_rel_tol) + " relative to " + format_number(f_old));
      }
    }
    if (iterations_ >= options_.max_iterations) {
      return finish(LbfgsStop::max_iterations,
                    "reached max_iterations = " + std::to_string(options_.max_iterations));
    }
    if (!budget_left()) {
      return finish(LbfgsStop::max_evaluations,
                    "reached max_evaluations = " + std::to_string(max_evaluations_));
    }

    compute_direction();
    double slope0 = dot(g_, d_);
    bool steepest = n_pairs_ == 0;
    if (!steepest && !(slope0 < 0)) {  // not a descent direction (rounding): restart
      clear_history();
      steepest_descent();
      slope0 = dot(g_, d_);
      steepest = true;
    }
    const double sd_alpha0 = std::min(1.0, 1.0 / std::sqrt(-slope0));  // 1 / ||g||_2 for d = -g
    LinePoint accepted;
    SearchStatus status = line_search(f_, slope0, steepest ? sd_alpha0 : 1.0, accepted);
    if ((status == SearchStatus::no_decrease || status == SearchStatus::non_finite) &&
        !steepest) {
      // Along a descent direction no decrease twice within `patience` iterations: f is
      // at its rounding floor (further steps would follow the noise of f).
      if (options_.stop_at_floor && status == SearchStatus::no_decrease && last_qn_failure_ >= 0 &&
          iterations_ - last_qn_failure_ < options_.patience) {
        return finish(LbfgsStop::rounding_floor,
                      "f is at its rounding floor: no decrease along the L-BFGS direction at iterations " +
                          std::to_string(last_qn_failure_) + " and " + std::to_string(iterations_) +
                          " (stop_at_floor)");
      }
      if (status == SearchStatus::no_decrease) last_qn_failure_ = iterations_;
      // The quasi-Newton model may be stale: forget it and try steepest descent once.
      clear_history();
      steepest_descent();
      slope0 = dot(g_, d_);
      status = line_search(f_, slope0, std::min(1.0, 1.0 / std::sqrt(-slope0)), accepted);
    }
    switch (status) {
      case SearchStatus::wolfe:
      case SearchStatus::armijo_only: break;
      case SearchStatus::budget:
        return finish(LbfgsStop::max_evaluations,
                      "reached max_evaluations = " + std::to_string(max_evaluations_) +
                          " inside a line search");
      case SearchStatus::non_finite:
        return finish(LbfgsStop::non_finite,
                      "every trial point of the line search (" +
                          std::to_string(options_.max_line_search) +
                          " steps, halving) gave a non-finite f or gradient");
      case SearchStatus::no_decrease:
        return finish(LbfgsStop::line_search_failed,
                      "no decrease of f along the L-BFGS direction nor along -g; f is "
                      "probably at the limit of its floating-point precision, or the "
                      "gradient does not match f");
    }

    push_pair();
    Kokkos::deep_copy(x_, x_lo_);
    std::swap(g_, g_lo_);
    f_ = accepted.f;
    grad_norm_ = inf_norm(g_);
    ++iterations_;
    f_history.push_back(f_);
    if (callback_ && !callback_(iterations_, f_, grad_norm_)) {
      return finish(LbfgsStop::stopped_by_callback, "the callback asked to stop");
    }
  }
}

}  // namespace

void LbfgsOptions::validate() const {
  const auto bad = [](const std::string& what) { throw InputError("L-BFGS options: " + what); };
  if (max_iterations < 0) bad("max_iterations must be >= 0, got " + std::to_string(max_iterations));
  if (max_evaluations < 0) {
    bad("max_evaluations must be >= 0 (0 = 25 * max_iterations), got " +
        std::to_string(max_evaluations));
  }
  if (history < 1) bad("history must be >= 1, got " + std::to_string(history));
  if (!(grad_tol >= 0) || !std::isfinite(grad_tol)) bad("grad_tol must be >= 0, got " + format_number(grad_tol));
  if (!(f_rel_tol >= 0) || !std::isfinite(f_rel_tol)) {
    bad("f_rel_tol must be >= 0 (0 = off), got " + format_number(f_rel_tol));
  }
  if (patience < 1) bad("patience must be >= 1, got " + std::to_string(patience));
  if (!(c1 > 0 && c1 < c2 && c2 < 1)) {
    bad("the Wolfe constants must satisfy 0 < c1 < c2 < 1, got c1 = " + format_number(c1) +
        ", c2 = " + format_number(c2));
  }
  if (max_line_search < 1) {
    bad("max_line_search must be >= 1, got " + std::to_string(max_line_search));
  }
}

const char* to_string(LbfgsStop reason) {
  switch (reason) {
    case LbfgsStop::converged: return "converged";
    case LbfgsStop::max_iterations: return "max_iterations";
    case LbfgsStop::max_evaluations: return "max_evaluations";
    case LbfgsStop::line_search_failed: return "line_search_failed";
    case LbfgsStop::rounding_floor: return "rounding_floor";
    case LbfgsStop::non_finite: return "non_finite";
    case LbfgsStop::stopped_by_callback: return "stopped_by_callback";
  }
  return "unknown";
}

LbfgsResult lbfgs_minimize(const Objective& f, const Vec<double>& x, const LbfgsOptions& options,
                           const LbfgsCallback& callback, LbfgsState* state) {
  options.validate();
  if (!f) throw Error("lbfgs_minimize: no objective given");
  Minimizer minimizer(f, x, options, callback, state);
  return minimizer.run();
}

}  // namespace kpde::optim
