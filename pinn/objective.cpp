#include "pinn/objective.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "data/report.hpp"
#include "io/hdf5.hpp"
#include "pinn/points.hpp"

namespace kpde::pinn {

template <class T>
PinnObjective<T>::PinnObjective(const data::Problem& problem, const nn::Network<T>& net, const PinnSettings& settings)
    : problem_(problem),
      net_(net),
      settings_(settings),
      dim_(problem.dim),
      residual_(problem, settings.hard_dirichlet),
      ch_int_(residual_.channels()),
      hard_(settings.hard_dirichlet) {
  ch_d_ = nn::ChannelSpec::value(dim_);
  ch_n_ = nn::ChannelSpec::with_gradient(dim_);
  if (hard_) hard_flux_.emplace(problem, ch_n_);
  modes_weight_ = settings.residual_modes > 0 ? settings.modes_weight : 0.0;
  if (settings.residual_modes > 0 && settings.residual_weight)
    throw InputError("training.residual_weight: not implemented together with training.weights.modes");
  if (settings.residual_modes > 0) {
    const int nm = settings.residual_modes;
    n_modes_ = 1;
    for (int a = 0; a < dim_; ++a) n_modes_ *= nm;
    mode_w_.resize(n_modes_);
    for (int m = 0; m < n_modes_; ++m) {  // 1 / (1 + |k|^2)^2, m = sum_a k_a n^a
      double k2 = 0;
      for (int a = 0, r = m; a < dim_; ++a, r /= nm) k2 += double(r % nm) * (r % nm);
      mode_w_[m] = 1.0 / ((1 + k2) * (1 + k2));
    }
  }
}

template <class T>
void PinnObjective<T>::set_modes_weight(double w) {
  KPDE_REQUIRE(w >= 0 && std::isfinite(w), InputError, "modes_weight: must be a finite number >= 0");
  KPDE_REQUIRE(w == 0 || n_modes_ > 0, InputError, "modes_weight: needs training.weights.modes (cosine modes per axis)");
  modes_weight_ = w;
}

template <class T>
typename PinnObjective<T>::Interior PinnObjective<T>::make_interior(const Mat<const double>& x) const {
  const int n = static_cast<int>(x.extent(0));
  Interior in;
  in.x = Mat<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::x_interior"), n, dim_);
  for (int p = 0; p < n; ++p)
    for (int k = 0; k < dim_; ++k) in.x(p, k) = T(x(p, k));
  in.pts = residual_.at(x);
  in.w = residual_weights(settings_, x);
  if (n_modes_ > 0) {
    // phi_m(x) = prod_a psi_{m_a}(t_a) on the bounding box, m = sum_a m_a n^a
    const int nm = settings_.residual_modes, M = n_modes_;
    const mesh::Point& lo = problem_.geometry->lo();
    const mesh::Point& hi = problem_.geometry->hi();
    in.modes.assign(static_cast<std::size_t>(n) * M, 1.0);
    std::vector<double> psi(static_cast<std::size_t>(dim_) * nm);
    for (int p = 0; p < n; ++p) {
      for (int a = 0; a < dim_; ++a) {
        const double t = (x(p, a) - lo[a]) / (hi[a] - lo[a]);
        for (int k = 0; k < nm; ++k) psi[a * nm + k] = k == 0 ? 1.0 : std::sqrt(2.0) * std::cos(k * M_PI * t);
      }
      double* ph = in.modes.data() + static_cast<std::size_t>(p) * M;
      for (int m = 0; m < M; ++m) {
        int r = m;
        for (int a = 0; a < dim_; ++a, r /= nm) ph[m] *= psi[a * nm + r % nm];
      }
    }
  }
  return in;
}

namespace {

/// Rows [r0, r1) of x.
Mat<double> rows_of(const Mat<const double>& x, long r0, long r1) {
  Mat<double> out("kpde::pinn::shard", static_cast<std::size_t>(r1 - r0), x.extent(1));
  for (long p = r0; p < r1; ++p)
    for (std::size_t k = 0; k < x.extent(1); ++k) out(p - r0, k) = x(p, k);
  return out;
}

}  // namespace

template <class T>
bool PinnObjective<T>::distribute(const train::Comm& comm) {
  comm_ = &comm;
  // points set before are re-set: from now on this rank evaluates its shard
  if (x_int_.extent(0) > 0 || bnd_.x.extent(0) > 0) {
    const Mat<double> x = x_int_;
    const mesh::BoundarySamples b = bnd_;
    set_interior(x);
    set_boundary(b);
  }
  return true;
}

template <class T>
void PinnObjective<T>::count_points() {
  std::vector<double> n{double(int_.x.extent(0)), double(targets_.dirichlet.size()), double(targets_.flux.size())};
  if (sharded()) comm_->sum(n);
  for (int k = 0; k < 3; ++k) n_global_[k] = static_cast<int>(n[k]);
}

template <class T>
void PinnObjective<T>::set_interior(const Mat<const double>& x) {
  x_int_ = Mat<double>("kpde::pinn::interior", x.extent(0), x.extent(1));
  Kokkos::deep_copy(x_int_, x);
  if (sharded() && !local_points_) {
    const auto [p0, p1] = comm_->shard(static_cast<long>(x_int_.extent(0)));
    int_ = make_interior(rows_of(x_int_, p0, p1));
  } else {
    int_ = make_interior(x_int_);
  }
  count_points();
}

template <class T>
void PinnObjective<T>::set_boundary(const mesh::BoundarySamples& b) {
  bnd_ = b;
  mesh::BoundarySamples here = b;  // this rank's shard of the boundary points
  if (sharded() && !local_points_ && b.x.extent(0) > 0) {
    const auto [q0, q1] = comm_->shard(static_cast<long>(b.x.extent(0)));
    here.x = rows_of(b.x, q0, q1);
    here.normal = rows_of(b.normal, q0, q1);
    here.part = Vec<int>("kpde::pinn::part_shard", static_cast<std::size_t>(q1 - q0));
    for (long q = q0; q < q1; ++q) here.part(q - q0) = b.part(q);
  }
  targets_ = data::boundary_targets(problem_, here, hard_);
  x_d_ = boundary_inputs<T>(targets_.dirichlet, dim_);
  x_n_ = boundary_inputs<T>(targets_.flux, dim_);
  if (hard_flux_) flux_jets_ = boundary_jets(*hard_flux_, targets_.flux, dim_);
  count_points();
}

template <class T>
void PinnObjective<T>::sample(std::uint64_t round) {
  const PointSet pts = draw_points(problem_, settings_, round);
  set_interior(pts.interior);
  set_boundary(pts.boundary);
}

template <class T>
bool PinnObjective<T>::term_active(int k) const {
  return k == kResidual ? n_interior() > 0 : k == kDirichlet ? n_dirichlet() > 0 : n_neumann() > 0;
}

template <class T>
void PinnObjective<T>::evaluate(const Vec<const T>& params, std::vector<double>& terms,
                                std::vector<Vec<T>>& tg) {
  KPDE_REQUIRE(terms.size() == 3 && tg.size() == 3, Error, "PinnObjective::evaluate: three terms");
  const auto P = nn::as_batch(params);
  const int C = ch_int_.n_channels();

  // interior: r = R[u] - f (this rank's points; the means divide by the global counts)
  if (n_interior() > 0 && (n_interior_here() > 0 || modes_on())) {
    const double scale = 1.0 / n_interior();
    const Interior& in = int_;
    const nn::BlockLoss<T> f = [&, scale, C](int, int p0, int np, const T* y, T* dy) {
      double s = 0, dr[16], dn[16];
      for (int i = 0; i < C * np; ++i) dy[i] = T(0);
      for (int p = 0; p < np; ++p) {
        const double r = residual_(in.pts, p0 + p, y + p, np, dr);
        const double wp = in.w.empty() ? 1.0 : in.w[p0 + p];
        s += wp * r * r;
        if (hard_) {  // u = g + phi N: back from u's channels to N's
          for (int c = 0; c < C; ++c) dr[c] *= 2 * scale * wp * r;
          residual_.to_network(in.pts, p0 + p, dr, dn);
          for (int c = 0; c < C; ++c) dy[c * np + p] = T(dn[c]);
          continue;
        }
        for (int c = 0; c < C; ++c)
          if (dr[c] != 0) dy[c * np + p] = T(2 * scale * wp * r * dr[c]);
      }
      return s * scale;
    };
    if (modes_on())
      terms[kResidual] = residual_with_modes(P, nn::as_batch(tg[kResidual]));
    else
      terms[kResidual] =
          net_.forward_backward(P, nn::as_batch(Mat<const T>(in.x)), ch_int_, f, ws_int_, nn::as_batch(tg[kResidual]), false);
  } else {
    terms[kResidual] = 0;
    Kokkos::deep_copy(tg[kResidual], T(0));
  }
  // Dirichlet: u - g
  if (x_d_.extent(0) > 0) {
    const double scale = 1.0 / n_dirichlet();
    const data::BoundaryTargets::Set& b = targets_.dirichlet;
    const nn::BlockLoss<T> f = [&, scale](int, int p0, int np, const T* y, T* dy) {
      double s = 0;
      for (int p = 0; p < np; ++p) {
        const double r = double(y[p]) - b.g[p0 + p];
        s += b.w[p0 + p] * r * r;
        dy[p] = T(2 * scale * b.w[p0 + p] * r);
      }
      return s * scale;
    };
    terms[kDirichlet] =
        net_.forward_backward(P, nn::as_batch(Mat<const T>(x_d_)), ch_d_, f, ws_d_, nn::as_batch(tg[kDirichlet]), false);
  } else {
    terms[kDirichlet] = 0;
    Kokkos::deep_copy(tg[kDirichlet], T(0));
  }
  // Neumann / Robin: alpha u + beta n.grad u - g
  if (x_n_.extent(0) > 0) {
    const double scale = 1.0 / n_neumann();
    const data::BoundaryTargets::Set& b = targets_.flux;
    const int d = dim_;
    const data::HardDirichlet* hf = hard_flux_ ? &*hard_flux_ : nullptr;
    const nn::BlockLoss<T> f = [&, scale, d, hf](int, int p0, int np, const T* y, T* dy) {
      double s = 0, dr[4];
      for (int p = 0; p < np; ++p) {
        const int q = p0 + p;
        const double* h = hf ? flux_jets_.data() + static_cast<std::size_t>(q) * hf->stride() : nullptr;
        const double r = flux_residual(b, q, d, hf, h, y + p, np, dr);
        s += b.w[q] * r * r;
        const double a = 2 * scale * b.w[q] * r;
        for (int c = 0; c <= d; ++c) dy[c * np + p] = T(a * dr[c]);
      }
      return s * scale;
    };
    terms[kNeumann] =
        net_.forward_backward(P, nn::as_batch(Mat<const T>(x_n_)), ch_n_, f, ws_n_, nn::as_batch(tg[kNeumann]), false);
  } else {
    terms[kNeumann] = 0;
    Kokkos::deep_copy(tg[kNeumann], T(0));
  }
}

template <class T>
void PinnObjective<T>::evaluate_points(const Vec<const T>& params, const Mat<const double>& x, std::vector<double>* u,
                                       std::vector<double>* r) const {
  const int n = static_cast<int>(x.extent(0));
  const nn::ChannelSpec ch = r ? ch_int_ : nn::ChannelSpec::value(dim_);
  const int C = ch.n_channels();
  const data::Residual::Points pts = (r || hard_) ? residual_.at(x) : data::Residual::Points{};
  Mat<T> xt("kpde::pinn::x_eval", n, dim_);
  for (int p = 0; p < n; ++p)
    for (int k = 0; k < dim_; ++k) xt(p, k) = T(x(p, k));
  Arr3<T> out("kpde::pinn::out_eval", n, C, 1);
  net_.forward(nn::as_batch(params), nn::as_batch(Mat<const T>(xt)), ch, nn::as_batch(out));
  if (u) {
    u->resize(n);
    for (int p = 0; p < n; ++p) (*u)[p] = residual_.value(pts, p, double(out(p, 0, 0)));
  }
  if (r) {
    r->resize(n);
    Kokkos::parallel_for(
        "kpde::pinn::residual_eval", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
          double dr[16];
          (*r)[p] = residual_(pts, p, &out(p, 0, 0), 1, dr);
        });
  }
}

template <class T>
void PinnObjective<T>::begin_stage(int index) {
  set_modes_weight(settings_.modes_weight_of_stage(index));
}

template <class T>
void PinnObjective<T>::before_step(long k, const Vec<const T>& params) {
  if (settings_.resample_every > 0 && k > 0 && k % settings_.resample_every == 0) sample(++round_);
  if (settings_.adaptive_every > 0 && k > 0 && k % settings_.adaptive_every == 0) adaptive_round(params, ++round_);
}

template <class T>
void PinnObjective<T>::adaptive_round(const Vec<const T>& params, std::uint64_t round) {
  set_interior(adaptive_points(problem_, settings_, round, n_interior(), [&](const Mat<const double>& cand) {
    std::vector<double> r;
    evaluate_points(params, cand, nullptr, &r);
    return r;
  }));
}

template <class T>
std::vector<std::string> PinnObjective<T>::monitor_names() const {
  if (!data::has_truth(problem_)) return {};
  return {"rel_l2"};
}

template <class T>
std::vector<double> PinnObjective<T>::monitor(const Vec<const T>& params) {
  if (!data::has_truth(problem_)) return {};
  if (monitor_truth_.u.empty()) monitor_truth_ = data::truth_sample(problem_, 4096);
  std::vector<double> u;
  evaluate_points(params, monitor_truth_.points, &u, nullptr);
  double e2 = 0, t2 = 0;
  for (std::size_t k = 0; k < u.size(); ++k) {
    e2 += (u[k] - monitor_truth_.u[k]) * (u[k] - monitor_truth_.u[k]);
    t2 += monitor_truth_.u[k] * monitor_truth_.u[k];
  }
  return {std::sqrt(e2 / t2)};
}

template <class T>
void PinnObjective<T>::save_state(io::H5File& f, const std::string& group) const {
  save_points(f, group, x_int_, bnd_, round_);
}

template <class T>
void PinnObjective<T>::load_state(const io::H5File& f, const std::string& group) {
  const PointSet pts = load_points(f, group, problem_, &round_);
  set_interior(pts.interior);
  set_boundary(pts.boundary);
}

template <class T>
double PinnObjective<T>::flops() const {
  return pass_flops(net_, n_interior_here(), ch_int_) + pass_flops(net_, static_cast<int>(x_d_.extent(0)), ch_d_) +
         pass_flops(net_, static_cast<int>(x_n_.extent(0)), ch_n_);
}

template class PinnObjective<float>;
template class PinnObjective<double>;

}  // namespace kpde::pinn
