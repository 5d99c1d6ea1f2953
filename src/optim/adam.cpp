#include "optim/adam.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "core/error.hpp"

namespace kpde::optim {

namespace {

using Policy = Kokkos::RangePolicy<HostExec>;

void require_finite(double value, const char* name) {
  if (!std::isfinite(value)) {
    std::ostringstream m;
    m << "Adam: " << name << " must be finite, got " << value;
    throw InputError(m.str());
  }
}

/// Number of entries of x that are NaN or +-inf.
template <class T>
long count_non_finite(const Vec<const T>& x) {
  long count = 0;
  Kokkos::parallel_reduce(
      "kpde::optim::count_non_finite", Policy(0, x.extent(0)),
      [=](const std::size_t i, long& c) { c += std::isfinite(x(i)) ? 0 : 1; }, count);
  return count;
}

std::string length_mismatch(const char* what, std::size_t got, std::size_t expected) {
  std::ostringstream m;
  m << "Adam: " << what << " has " << got << " entries, the optimizer was made for "
    << expected;
  return m.str();
}

}  // namespace

void AdamOptions::validate() const {
  require_finite(beta1, "beta1");
  require_finite(beta2, "beta2");
  require_finite(eps, "eps");
  require_finite(weight_decay, "weight_decay");
  require_finite(clip_norm, "clip_norm");
  if (beta1 < 0 || beta1 >= 1) {
    throw InputError("Adam: beta1 must be in [0, 1), got " + std::to_string(beta1));
  }
  if (beta2 < 0 || beta2 >= 1) {
    throw InputError("Adam: beta2 must be in [0, 1), got " + std::to_string(beta2));
  }
  if (eps <= 0) {
    std::ostringstream m;
    m << "Adam: eps must be > 0, got " << eps;
    throw InputError(m.str());
  }
  if (weight_decay < 0) {
    std::ostringstream m;
    m << "Adam: weight_decay must be >= 0, got " << weight_decay;
    throw InputError(m.str());
  }
  if (clip_norm < 0) {
    std::ostringstream m;
    m << "Adam: clip_norm must be >= 0 (0 = no clipping), got " << clip_norm;
    throw InputError(m.str());
  }
  schedule.validate();
}

template <class T>
double global_norm(const Vec<const T>& x) {
  double sum = 0;
  Kokkos::parallel_reduce(
      "kpde::optim::global_norm", Policy(0, x.extent(0)),
      [=](const std::size_t i, double& s) {
        const double xi = static_cast<double>(x(i));
        s += xi * xi;
      },
      sum);
  return std::sqrt(sum);
}

template <class T>
double clip_by_global_norm(const Vec<T>& grad, double max_norm) {
  if (!(max_norm > 0)) {
    std::ostringstream m;
    m << "clip_by_global_norm: max_norm must be > 0, got " << max_norm;
    throw Error(m.str());
  }
  const double norm = global_norm<T>(grad);
  if (std::isfinite(norm) && norm > max_norm) {
    const T scale = static_cast<T>(max_norm / norm);
    Kokkos::parallel_for("kpde::optim::clip_by_global_norm", Policy(0, grad.extent(0)),
                         [=](const std::size_t i) { grad(i) *= scale; });
  }
  return norm;
}

namespace {

AdamOptions validated(AdamOptions options) {
  options.validate();
  return options;
}

}  // namespace

template <class T>
Adam<T>::Adam(std::size_t n_params, AdamOptions options)
    : n_params_(n_params),
      options_(validated(std::move(options))),
      m_("kpde::optim::Adam::m", n_params),
      v_("kpde::optim::Adam::v", n_params) {}

template <class T>
double Adam<T>::step(const Vec<T>& params, const Vec<const T>& grad) {
  if (params.extent(0) != n_params_) {
    throw Error(length_mismatch("the parameter buffer", params.extent(0), n_params_));
  }
  if (grad.extent(0) != n_params_) {
    throw Error(length_mismatch("the gradient", grad.extent(0), n_params_));
  }
  // Check before touching anything, so that a bad gradient leaves no trace.
  const long bad = count_non_finite<T>(grad);
  if (bad > 0) {
    std::ostringstream m;
    m << "Adam step " << n_steps_ + 1 << ": non-finite gradient (" << bad << " of " << n_params_
      << " entries are NaN or inf); parameters left unchanged";
    throw Error(m.str());
  }

  double clip = 1.0;
  if (options_.clip_norm > 0) {
    const double norm = global_norm<T>(grad);
    if (norm > options_.clip_norm) clip = options_.clip_norm / norm;
  }

  const double lr = options_.schedule.lr_at(n_steps_);
  const long t = n_steps_ + 1;
  const double b1 = options_.beta1;
  const double b2 = options_.beta2;
  const double inv_bc1 = 1.0 / (1.0 - std::pow(b1, static_cast<double>(t)));
  const double inv_bc2 = 1.0 / (1.0 - std::pow(b2, static_cast<double>(t)));
  const bool decoupled = options_.decoupled;
  const double wd = options_.weight_decay;

  const T c = static_cast<T>(clip);
  const T l2 = static_cast<T>(decoupled ? 0.0 : wd);
  const T shrink = static_cast<T>(decoupled ? 1.0 - lr * wd : 1.0);
  const T tb1 = static_cast<T>(b1), tb2 = static_cast<T>(b2);
  const T ob1 = static_cast<T>(1.0 - b1), ob2 = static_cast<T>(1.0 - b2);
  const T ibc1 = static_cast<T>(inv_bc1), ibc2 = static_cast<T>(inv_bc2);
  const T tlr = static_cast<T>(lr), teps = static_cast<T>(options_.eps);
  const Vec<T> m = m_, v = v_;
  Kokkos::parallel_for(
      "kpde::optim::Adam::step", Policy(0, n_params_), [=](const std::size_t i) {
        const T p = params(i);
        const T g = c * grad(i) + l2 * p;
        const T mi = tb1 * m(i) + ob1 * g;
        const T vi = tb2 * v(i) + ob2 * g * g;
        m(i) = mi;
        v(i) = vi;
        const T mhat = mi * ibc1;
        const T vhat = vi * ibc2;
        params(i) = shrink * p - tlr * mhat / (std::sqrt(vhat) + teps);
      });
  n_steps_ = t;
  return lr;
}

template <class T>
void Adam<T>::reset() {
  Kokkos::deep_copy(m_, T(0));
  Kokkos::deep_copy(v_, T(0));
  n_steps_ = 0;
}

template <class T>
void Adam<T>::set_state(long n_steps, const Vec<const T>& m, const Vec<const T>& v) {
  if (n_steps < 0) throw Error("Adam::set_state: n_steps must be >= 0, got " + std::to_string(n_steps));
  if (m.extent(0) != n_params_) throw Error(length_mismatch("the saved first moment", m.extent(0), n_params_));
  if (v.extent(0) != n_params_) throw Error(length_mismatch("the saved second moment", v.extent(0), n_params_));
  Kokkos::deep_copy(m_, m);
  Kokkos::deep_copy(v_, v);
  n_steps_ = n_steps;
}

template double global_norm<float>(const Vec<const float>&);
template double global_norm<double>(const Vec<const double>&);
template double clip_by_global_norm<float>(const Vec<float>&, double);
template double clip_by_global_norm<double>(const Vec<double>&, double);
template class Adam<float>;
template class Adam<double>;

}  // namespace kpde::optim
