#include "pinn/system_objective.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "data/solution_output.hpp"
#include "io/hdf5.hpp"
#include "pinn/points.hpp"

namespace kpde::pinn {

template <class T>
SystemObjective<T>::SystemObjective(const data::Problem& problem, const nn::Network<T>& net,
                                    const PinnSettings& settings, bool per_term_gradients)
    : problem_(problem),
      net_(net),
      settings_(settings),
      residual_(problem),
      per_term_(per_term_gradients),
      dim_(problem.dim),
      F_(problem.n_fields()),
      E_(static_cast<int>(problem.equations.size())),
      ch_int_(residual_.channels()),
      ch_d_(nn::ChannelSpec::value(problem.dim)),
      ch_n_(nn::ChannelSpec::with_gradient(problem.dim)) {
  KPDE_REQUIRE(net.spec().output_dim == F_, Error, "SystemObjective: the network needs one output per field");
  if (settings.hard_dirichlet)
    for (int k = 0; k < F_; ++k) {
      hard_.emplace_back(problem, ch_int_, k);
      hard_flux_.emplace_back(problem, ch_n_, k);
    }
  if (settings.residual_modes > 0)
    throw InputError("training.weights.modes: residual modes are not implemented for systems yet");
}

template <class T>
std::vector<std::string> SystemObjective<T>::term_names() const {
  std::vector<std::string> names;
  for (const auto& e : problem_.equations) names.push_back(e.name);
  names.push_back("dirichlet");
  names.push_back("neumann");
  return names;
}

template <class T>
bool SystemObjective<T>::term_active(int k) const {
  return k < E_ ? n_interior() > 0 : k == E_ ? n_dirichlet() > 0 : n_neumann() > 0;
}

template <class T>
void SystemObjective<T>::sample(std::uint64_t round) {
  const PointSet pts = draw_points(problem_, settings_, round);
  set_interior(pts.interior);
  set_boundary(pts.boundary);
}

template <class T>
void SystemObjective<T>::set_interior(const Mat<const double>& x) {
  const std::size_t n = x.extent(0);
  x_int_ = Mat<double>("kpde::pinn::interior", n, dim_);
  Kokkos::deep_copy(x_int_, x);
  xt_int_ = Mat<T>("kpde::pinn::x_interior", n, dim_);
  for (std::size_t p = 0; p < n; ++p)
    for (int k = 0; k < dim_; ++k) xt_int_(p, k) = T(x(p, k));
  sq_.assign(static_cast<std::size_t>(E_) * n, 0.0);
  hard_int_ = hard_jets(x);
  w_int_ = residual_weights(settings_, x);
}

template <class T>
std::vector<std::vector<double>> SystemObjective<T>::hard_jets(const Mat<const double>& x) const {
  std::vector<std::vector<double>> out;
  for (const auto& h : hard_) out.push_back(h.jets(x));
  return out;
}

template <class T>
template <class Y>
void SystemObjective<T>::field_channels(const double* const* jets, const Y* y, int np, int p, double* u) const {
  const int C = ch_int_.n_channels(), F = F_;
  if (hard_.empty()) {
    for (int c = 0; c < C; ++c)
      for (int k = 0; k < F; ++k) u[k + F * c] = double(y[k + F * (c * np + p)]);
    return;
  }
  double uk[16];
  for (int k = 0; k < F; ++k) {
    hard_[k].forward(jets[k], y + k + F * p, F * np, true, uk);
    for (int c = 0; c < C; ++c) u[k + F * c] = uk[c];
  }
}

template <class T>
void SystemObjective<T>::set_boundary(const mesh::BoundarySamples& b) {
  bnd_ = b;
  targets_ = data::boundary_targets(problem_, b, !hard_.empty());
  x_d_ = boundary_inputs<T>(targets_.dirichlet, dim_);
  x_n_ = boundary_inputs<T>(targets_.flux, dim_);
  flux_jets_.clear();
  pin_jets_.clear();
  for (const auto& h : hard_flux_) {
    flux_jets_.push_back(boundary_jets(h, targets_.flux, dim_));
    pin_jets_.push_back(boundary_jets(h, targets_.dirichlet, dim_));  // the pins
  }
}

template <class T>
void SystemObjective<T>::interior_terms(const Mat<const T>& P, int only, const std::vector<double>& w,
                                  std::vector<double>& terms, const Mat<T>& grad) {
  const int N = n_interior();
  if (N == 0) {
    for (int e = 0; e < E_; ++e) terms[e] = 0;
    Kokkos::deep_copy(grad, T(0));
    return;
  }
  const double scale = 1.0 / N;
  const int C = ch_int_.n_channels(), F = F_;
  const nn::BlockLoss<T> loss = [&, scale, C, F](int, int p0, int np, const T* y, T* dy) {
    for (int i = 0; i < C * F * np; ++i) dy[i] = T(0);
    // per point: the fields' channels u [C][F], r_e(u), du = sum_e 2 w_e r_e dr_e/du,
    // then du back to N's channels (through f = g + phi N with exact Dirichlet data)
    double g[8 * 10], u[8 * 10], du[8 * 10], duk[16], dnk[16];
    const double* jets[8] = {};  // per field: the point's transform jets (F <= 8)
    double s = 0;
    for (int p = 0; p < np; ++p) {
      const int q = p0 + p;
      const double* x = &x_int_(q, 0);
      for (std::size_t k = 0; k < hard_.size(); ++k) jets[k] = hard_int_[k].data() + static_cast<std::size_t>(q) * hard_[k].stride();
      field_channels(jets, y, np, p, u);
      for (int i = 0; i < C * F; ++i) du[i] = 0;
      const double wq = w_int_.empty() ? 1.0 : w_int_[q];  // training.residual_weight
      for (int e = only < 0 ? 0 : only; e < (only < 0 ? E_ : only + 1); ++e) {
        const double r = residual_(e, x, u, 1, 0, g);
        const double we = only < 0 ? w[e] : 1.0;
        sq_[static_cast<std::size_t>(e) * N + q] = wq * r * r;
        s += we * wq * r * r;
        const double a = 2 * scale * we * wq * r;
        const auto& in = residual_.inputs(e);
        for (std::size_t k = 0; k < in.size(); ++k) du[residual_.offset(in[k], 1, 0)] += a * g[k];
      }
      for (int k = 0; k < F; ++k) {
        for (int c = 0; c < C; ++c) duk[c] = du[k + F * c];
        if (!hard_.empty()) hard_[k].backward(jets[k], duk, dnk);
        else std::copy(duk, duk + C, dnk);
        for (int c = 0; c < C; ++c) dy[k + F * (c * np + p)] = T(dnk[c]);
      }
    }
    return s * scale;
  };
  net_.forward_backward(P, nn::as_batch(Mat<const T>(xt_int_)), ch_int_, loss, ws_int_, grad, false);
  for (int e = 0; e < E_; ++e) {
    if (only >= 0 && e != only) continue;
    double s = 0;  // in point order: the same for any number of threads
    for (int p = 0; p < N; ++p) s += sq_[static_cast<std::size_t>(e) * N + p];
    terms[e] = s * scale;
  }
}

template <class T>
double SystemObjective<T>::dirichlet(const Mat<const T>& P, const Mat<T>& grad, bool accumulate, double weight) {
  if (x_d_.extent(0) == 0) {
    if (!accumulate) Kokkos::deep_copy(grad, T(0));
    return 0;
  }
  const double scale = 1.0 / n_dirichlet();
  const data::BoundaryTargets::Set& b = targets_.dirichlet;
  const int F = F_;
  const nn::BlockLoss<T> loss = [&, scale, F, weight](int, int p0, int np, const T* y, T* dy) {
    for (int i = 0; i < F * np; ++i) dy[i] = T(0);
    double s = 0;
    for (int p = 0; p < np; ++p) {
      const int q = p0 + p, k = b.field[q];
      // under exact data the Dirichlet points are the pins: f_k = g_k + phi_k N_k there
      double v = double(y[k + F * p]), dv = 1;
      if (!hard_flux_.empty()) {
        const double* h = pin_jets_[k].data() + static_cast<std::size_t>(q) * hard_flux_[k].stride();
        dv = hard_flux_[k].phi(h);
        v = hard_flux_[k].value(h, v);
      }
      const double r = v - b.g[q];
      s += b.w[q] * r * r;
      dy[k + F * p] = T(2 * weight * scale * b.w[q] * r * dv);
    }
    return s * scale;
  };
  return net_.forward_backward(P, nn::as_batch(Mat<const T>(x_d_)), ch_d_, loss, ws_d_, grad, accumulate);
}

template <class T>
double SystemObjective<T>::neumann(const Mat<const T>& P, const Mat<T>& grad, bool accumulate, double weight) {
  if (x_n_.extent(0) == 0) {
    if (!accumulate) Kokkos::deep_copy(grad, T(0));
    return 0;
  }
  const double scale = 1.0 / n_neumann();
  const data::BoundaryTargets::Set& b = targets_.flux;
  const int F = F_, d = dim_;
  const nn::BlockLoss<T> loss = [&, scale, F, d, weight](int, int p0, int np, const T* y, T* dy) {
    for (int i = 0; i < F * (1 + d) * np; ++i) dy[i] = T(0);
    double s = 0, dr[4];
    for (int p = 0; p < np; ++p) {
      const int q = p0 + p, k = b.field[q];
      // field k's value and gradient channels, through its exact-data transform
      const data::HardDirichlet* hf = hard_flux_.empty() ? nullptr : &hard_flux_[k];
      const double* h = hf ? flux_jets_[k].data() + static_cast<std::size_t>(q) * hf->stride() : nullptr;
      const double r = flux_residual(b, q, d, hf, h, y + k + F * p, F * np, dr);
      s += b.w[q] * r * r;
      const double a = 2 * weight * scale * b.w[q] * r;
      for (int c = 0; c <= d; ++c) dy[k + F * (c * np + p)] = T(a * dr[c]);
    }
    return s * scale;
  };
  return net_.forward_backward(P, nn::as_batch(Mat<const T>(x_n_)), ch_n_, loss, ws_n_, grad, accumulate);
}

template <class T>
void SystemObjective<T>::evaluate(const Vec<const T>& params, std::vector<double>& terms, std::vector<Vec<T>>& tg) {
  KPDE_REQUIRE(static_cast<int>(terms.size()) == E_ + 2 && static_cast<int>(tg.size()) == E_ + 2, Error,
               "SystemObjective::evaluate: one entry per term");
  const auto P = nn::as_batch(params);
  for (int e = 0; e < E_; ++e) interior_terms(P, e, {}, terms, nn::as_batch(tg[e]));
  terms[E_] = dirichlet(P, nn::as_batch(tg[E_]), false, 1.0);
  terms[E_ + 1] = neumann(P, nn::as_batch(tg[E_ + 1]), false, 1.0);
}

template <class T>
double SystemObjective<T>::evaluate_weighted(const Vec<const T>& params, const std::vector<double>& w,
                                             std::vector<double>& terms, const Vec<T>& grad) {
  const auto P = nn::as_batch(params);
  const auto G = nn::as_batch(grad);
  interior_terms(P, -1, w, terms, G);
  terms[E_] = dirichlet(P, G, true, w[E_]);
  terms[E_ + 1] = neumann(P, G, true, w[E_ + 1]);
  double L = 0;
  for (int k = 0; k < E_ + 2; ++k) L += w[k] * terms[k];
  return L;
}

template <class T>
void SystemObjective<T>::evaluate_points(const Vec<const T>& params, const Mat<const double>& x,
                                         std::vector<std::vector<double>>* fields,
                                         std::vector<std::vector<double>>* r) const {
  const int n = static_cast<int>(x.extent(0));
  const nn::ChannelSpec ch = r ? ch_int_ : nn::ChannelSpec::value(dim_);
  const int C = ch.n_channels();
  Mat<T> xt("kpde::pinn::x_eval", n, dim_);
  for (int p = 0; p < n; ++p)
    for (int k = 0; k < dim_; ++k) xt(p, k) = T(x(p, k));
  Arr3<T> out("kpde::pinn::out_eval", n, C, F_);
  net_.forward(nn::as_batch(params), nn::as_batch(Mat<const T>(xt)), ch, nn::as_batch(out));
  const std::vector<std::vector<double>> jets = hard_jets(x);
  const auto jet = [&](int k, int p) { return jets[k].data() + static_cast<std::size_t>(p) * hard_[k].stride(); };
  if (fields) {
    fields->assign(F_, std::vector<double>(n));
    for (int k = 0; k < F_; ++k)
      for (int p = 0; p < n; ++p) {
        const double v = double(out(p, 0, k));
        (*fields)[k][p] = hard_.empty() ? v : hard_[k].value(jet(k, p), v);
      }
  }
  if (r) {
    r->assign(E_, std::vector<double>(n));
    Kokkos::parallel_for(
        "kpde::pinn::system_residual_eval", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
          double g[8 * 10], u[8 * 10];
          const double* jp[8] = {};
          for (std::size_t k = 0; k < hard_.size(); ++k) jp[k] = jet(static_cast<int>(k), p);
          field_channels(jp, &out(p, 0, 0), 1, 0, u);
          for (int e = 0; e < E_; ++e) (*r)[e][p] = residual_(e, &x(p, 0), u, 1, 0, g);
        });
  }
}

template <class T>
void SystemObjective<T>::before_step(long k, const Vec<const T>& params) {
  if (settings_.resample_every > 0 && k > 0 && k % settings_.resample_every == 0) sample(++round_);
  if (settings_.adaptive_every > 0 && k > 0 && k % settings_.adaptive_every == 0) {
    set_interior(adaptive_points(problem_, settings_, ++round_, n_interior(), [&](const Mat<const double>& cand) {
      std::vector<std::vector<double>> r;
      evaluate_points(params, cand, nullptr, &r);
      std::vector<double> score(cand.extent(0), 0.0);  // |r| over the equations
      for (const auto& re : r)
        for (std::size_t p = 0; p < score.size(); ++p) score[p] += re[p] * re[p];
      for (double& s : score) s = std::sqrt(s);
      return score;
    }));
  }
}

template <class T>
std::vector<std::string> SystemObjective<T>::monitor_names() const {
  std::vector<std::string> names;
  for (std::size_t f = 0; f < problem_.fields.size(); ++f)
    if (problem_.field_exact[f]) names.push_back("rel_l2_" + problem_.fields[f]);
  if (!names.empty()) names.insert(names.begin(), "rel_l2");
  return names;
}

template <class T>
std::vector<double> SystemObjective<T>::monitor(const Vec<const T>& params) {
  if (monitor_names().empty()) return {};
  if (monitor_u_.empty()) {
    mesh::InteriorOptions io;
    io.method = mesh::InteriorMethod::sobol;
    io.scramble = false;
    monitor_x_ = mesh::sample_interior(*problem_.geometry, 4096, io);
    monitor_u_.resize(F_);
    for (int f = 0; f < F_; ++f)
      if (problem_.field_exact[f]) {
        monitor_u_[f].resize(monitor_x_.extent(0));
        problem_.field_exact[f]->values(monitor_x_, monitor_u_[f].data());
      }
  }
  std::vector<std::vector<double>> u;
  evaluate_points(params, monitor_x_, &u, nullptr);
  std::vector<double> out{0.0};
  for (int f = 0; f < F_; ++f) {
    if (monitor_u_[f].empty()) continue;
    const data::ErrorMetrics m = data::error_metrics(u[f], monitor_u_[f], {});
    out.push_back(m.truth_vanishes ? std::sqrt(m.mse) : m.rel_l2);  // a vanishing truth: the rms error
    out[0] = std::max(out[0], out.back());
  }
  return out;
}

template <class T>
void SystemObjective<T>::save_state(io::H5File& f, const std::string& group) const {
  save_points(f, group, x_int_, bnd_, round_);
}

template <class T>
void SystemObjective<T>::load_state(const io::H5File& f, const std::string& group) {
  const PointSet pts = load_points(f, group, problem_, &round_);
  set_interior(pts.interior);
  set_boundary(pts.boundary);
}

template <class T>
double SystemObjective<T>::flops() const {
  return pass_flops(net_, n_interior(), ch_int_) + pass_flops(net_, static_cast<int>(x_d_.extent(0)), ch_d_) +
         pass_flops(net_, static_cast<int>(x_n_.extent(0)), ch_n_);
}

template class SystemObjective<float>;
template class SystemObjective<double>;

}  // namespace kpde::pinn
