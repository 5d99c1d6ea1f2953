#pragma once
/// Adam and AdamW on one flat parameter buffer (docs/design.md 3.2), plus global
/// gradient-norm helpers. Host memory, Kokkos host execution space; element-wise
/// work runs as Kokkos::parallel_for, norms as parallel_reduce in double.
#include <cstddef>

#include "core/types.hpp"
#include "optim/schedule.hpp"

namespace kpde::optim {

/// Settings of Adam / AdamW. Defaults are PyTorch's.
struct AdamOptions {
  double beta1 = 0.9;     ///< decay of the first moment m, in [0, 1)
  double beta2 = 0.999;   ///< decay of the second moment v, in [0, 1)
  double eps = 1e-8;      ///< added to sqrt(vhat) in the denominator, > 0
  double weight_decay = 0;  ///< wd >= 0; how it acts depends on `decoupled`
  /// false: classic Adam L2 decay, g <- g + wd * p before the moments are updated.
  /// true:  AdamW, p <- p - lr * wd * p, decoupled from the moments.
  bool decoupled = false;
  /// > 0: scale the gradient by clip_norm / ||g||_2 when ||g||_2 > clip_norm, before
  /// weight decay and the moments (the caller's gradient is not modified). 0: off.
  double clip_norm = 0;
  Schedule schedule;  ///< learning rate per step

  /// Throws kpde::InputError on betas outside [0, 1), eps <= 0, weight_decay < 0,
  /// clip_norm < 0, non-finite values or an invalid schedule.
  void validate() const;
};

/// ||x||_2 = sqrt(sum_i x_i^2), accumulated in double. Not overflow-safe: entries
/// beyond ~1e154 in magnitude give inf. A non-finite entry gives a non-finite result.
template <class T>
double global_norm(const Vec<const T>& x);

/// Same as above for a non-const view (template deduction does not see the implicit
/// Vec<T> -> Vec<const T> conversion).
template <class T>
double global_norm(const Vec<T>& x) {
  return global_norm<T>(Vec<const T>(x));
}

/// Global-norm clipping: n = ||grad||_2; when n > max_norm, grad <- grad * max_norm / n.
/// Returns n, the norm before clipping. A non-finite n leaves grad untouched.
/// Throws kpde::Error when max_norm <= 0.
template <class T>
double clip_by_global_norm(const Vec<T>& grad, double max_norm);

/// Adam (Kingma & Ba) with bias correction, PyTorch's conventions. Step t = 1, 2, ...
/// (t = n_steps() + 1 during the call), lr = schedule.lr_at(t - 1), gradient g:
///   g    <- c * g                 c = min(1, clip_norm / ||g||_2) when clip_norm > 0
///   g    <- g + wd * p            (classic Adam, decoupled = false)
///   m    <- b1 m + (1 - b1) g
///   v    <- b2 v + (1 - b2) g^2
///   mhat =  m / (1 - b1^t),  vhat = v / (1 - b2^t)
///   p    <- p - lr * wd * p       (AdamW, decoupled = true; uses the old p)
///   p    <- p - lr * mhat / (sqrt(vhat) + eps)      (eps added after the square root)
/// Moments are stored in T; the scalar factors are computed in double.
/// T is float or double (explicitly instantiated).
/// Not done yet: AMSGrad, per-group options, device (non-host) memory.
template <class T>
class Adam {
 public:
  /// An optimizer for a parameter buffer of n_params entries; m = v = 0, no steps taken.
  /// Throws kpde::InputError when options.validate() does.
  Adam(std::size_t n_params, AdamOptions options);

  /// One update of params (length n_params) from grad (same length), as in the class
  /// comment; returns the learning rate used. grad is not modified.
  /// Throws kpde::Error, leaving params and the state untouched, when grad has a
  /// non-finite entry or a length differs from n_params.
  double step(const Vec<T>& params, const Vec<const T>& grad);

  /// Number of completed steps (t of the last step; 0 before the first).
  long n_steps() const { return n_steps_; }
  /// Number of parameters this optimizer was made for.
  std::size_t n_params() const { return n_params_; }
  /// The learning rate the next step will use: schedule.lr_at(n_steps()).
  double next_lr() const { return options_.schedule.lr_at(n_steps_); }
  /// The (validated) options this optimizer was made with.
  const AdamOptions& options() const { return options_; }

  /// Forget the history: m = v = 0, n_steps = 0.
  void reset();

  /// First moment m (length n_params), for checkpoints.
  const Vec<T>& m() const { return m_; }
  /// Second moment v (length n_params), for checkpoints.
  const Vec<T>& v() const { return v_; }
  /// Restore a checkpoint: copies m and v (length n_params) and sets n_steps().
  /// Throws kpde::Error on a length mismatch or n_steps < 0.
  void set_state(long n_steps, const Vec<const T>& m, const Vec<const T>& v);

 private:
  std::size_t n_params_;
  AdamOptions options_;
  long n_steps_ = 0;
  Vec<T> m_;
  Vec<T> v_;
};

extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace kpde::optim
