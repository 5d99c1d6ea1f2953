#include "pinn/pinn_loss.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace kpde::pinn {

namespace {

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int channel_of(const nn::ChannelSpec& ch, const data::Derivative& d) {
  if (d.order == 0) return 0;
  if (d.order == 1) return ch.grad_channel(d.i);
  return ch.hessian_channel(d.i, d.j);
}

}  // namespace

template <class T>
PinnLoss<T>::PinnLoss(const data::Problem& problem, const nn::Network<T>& net, const TrainingSettings& settings)
    : problem_(problem), net_(net), settings_(settings), dim_(problem.dim) {
  const auto derivs = problem.operator_derivatives();
  bool any1 = false, any2 = false, mixed = false;
  for (const auto& d : derivs) {
    any1 = any1 || d.order >= 1;
    any2 = any2 || d.order == 2;
    mixed = mixed || (d.order == 2 && d.i != d.j);
  }
  if (!problem.nonlinear && problem.constant_coefficients() && any2 && !mixed) {
    std::array<double, 3> a{0, 0, 0};
    for (const auto& t : problem.terms)
      if (t.derivative.order == 2) a[t.derivative.i] = t.coefficient.constant_value();
    ch_int_ = nn::ChannelSpec::laplacian(dim_, a);
    for (const auto& t : problem.terms)
      if (t.derivative.order < 2) terms_.push_back({channel_of(ch_int_, t.derivative), t.coefficient.constant_value(), -1});
    terms_.push_back({ch_int_.second_channel(0), 1.0, -1});
  } else {
    ch_int_ = mixed ? nn::ChannelSpec::hessian(dim_)
              : any2 ? nn::ChannelSpec::diagonal(dim_)
              : any1 ? nn::ChannelSpec::with_gradient(dim_)
                     : nn::ChannelSpec::value(dim_);
    if (!problem.nonlinear) {
      for (std::size_t k = 0; k < problem.terms.size(); ++k) {
        const auto& t = problem.terms[k];
        Term term{channel_of(ch_int_, t.derivative), 0.0, -1};
        if (t.coefficient.is_constant()) {
          term.constant = t.coefficient.constant_value();
        } else {
          term.variable = static_cast<int>(term_field_.size());
          term_field_.push_back(static_cast<int>(k));
        }
        terms_.push_back(term);
      }
    } else {
      const auto all = data::all_derivatives(dim_);
      var_channel_.assign(all.size(), -1);
      for (std::size_t k = 0; k < all.size(); ++k)
        if (problem.residual->depends_on(static_cast<int>(k))) {
          var_channel_[k] = channel_of(ch_int_, all[k]);
          active_vars_.push_back(static_cast<int>(k));
        }
      if (active_vars_.size() > static_cast<std::size_t>(pde::kMaxJetVariables))
        throw InputError("the residual depends on more than 8 derivatives");
    }
  }
  ch_d_ = nn::ChannelSpec::value(dim_);
  ch_n_ = nn::ChannelSpec::with_gradient(dim_);
  if (settings.hard_dirichlet) setup_hard();
  modes_weight_ = settings.residual_modes > 0 ? settings.modes_weight : 0.0;
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
void PinnLoss<T>::set_modes_weight(double w) {
  KPDE_REQUIRE(w >= 0 && std::isfinite(w), InputError, "modes_weight: must be a finite number >= 0");
  KPDE_REQUIRE(w == 0 || n_modes_ > 0, InputError, "modes_weight: needs training.weights.modes (cosine modes per axis)");
  modes_weight_ = w;
}

template <class T>
double PinnLoss<T>::residual_with_modes(const Mat<const T>& params, const Mat<T>& grad) {
  // Not fused: c_m needs every r_p before any adjoint. forward (keeping the blocks in
  // ws_int_), r_p and dr_p/du_c, c_m, the adjoints, backward.
  const int n = n_interior(), C = ch_int_.n_channels(), M = n_modes_;
  const double scale = 1.0 / n, w = modes_weight_;
  const Interior& in = int_;
  const auto X = nn::as_batch(Mat<const T>(in.x));
  Arr4<T> out(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::out_modes"), 1, n, C, 1);
  net_.forward(params, X, ch_int_, out, &ws_int_);
  std::vector<double> r(n), dr(static_cast<std::size_t>(n) * C);
  Kokkos::parallel_for(
      "kpde::pinn::residual_modes", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
        r[p] = net_residual(in, p, &out(0, p, 0, 0), 1, dr.data() + static_cast<std::size_t>(p) * C);
      });
  // c_m = (1/n) sum_p r_p phi_m(x_p), in a fixed order (the same c on every run)
  std::vector<double> c(M, 0.0);
  double ms = 0;
  for (int p = 0; p < n; ++p) {
    const double* ph = in.modes.data() + static_cast<std::size_t>(p) * M;
    for (int m = 0; m < M; ++m) c[m] += r[p] * ph[m];
    ms += r[p] * r[p];
  }
  double c2 = 0;
  for (int m = 0; m < M; ++m) c[m] *= scale, c2 += mode_w_[m] * c[m] * c[m];
  // dL/du_c(p) = 2 scale (r_p + w sum_m w_m c_m phi_m(x_p)) dr_p/du_c
  Arr4<T> dout(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::dout_modes"), 1, n, C, 1);
  Kokkos::parallel_for(
      "kpde::pinn::residual_modes_adjoint", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
        const double* ph = in.modes.data() + static_cast<std::size_t>(p) * M;
        double sp = 0, da[16], dn[16];
        for (int m = 0; m < M; ++m) sp += mode_w_[m] * c[m] * ph[m];
        const double a = 2 * scale * (r[p] + w * sp);
        const double* drp = dr.data() + static_cast<std::size_t>(p) * C;
        for (int k = 0; k < C; ++k) da[k] = a * drp[k];
        if (hard_) {
          hard_backward(in, p, da, dn);
          for (int k = 0; k < C; ++k) dout(0, p, k, 0) = T(dn[k]);
        } else {
          for (int k = 0; k < C; ++k) dout(0, p, k, 0) = T(da[k]);
        }
      });
  net_.backward(params, X, ws_int_, dout, grad, false);
  return ms * scale + w * c2;
}

template <class T>
void PinnLoss<T>::setup_hard() {
  const auto refuse = [](const std::string& why) {
    throw InputError("training.hard_dirichlet: " + why + " (use the penalty form: hard_dirichlet: false)");
  };
  const mesh::Geometry& geo = *problem_.geometry;
  if (geo.shape().op() != mesh::Shape::Op::primitive || geo.n_parts() != 2 * dim_ || geo.part_name(0) != "left")
    refuse("needs a plain box domain (no holes or unions)");
  if (problem_.conditions.empty()) refuse("the problem has no boundary condition");
  const std::string g_text = problem_.conditions[0].value.describe();
  std::string phi;
  const char* axis[3] = {"x", "y", "z"};
  std::vector<bool> side(2 * dim_, false);
  for (const auto& c : problem_.conditions) {
    if (c.kind != mesh::BoundaryKind::dirichlet)
      refuse("needs Dirichlet conditions only; part '" + c.part_name + "' has another kind");
    if (c.value.describe() != g_text || !c.value.has_derivatives())
      refuse("needs one Dirichlet value expression on every side; '" + c.part_name + "' has " + c.value.describe() +
             ", '" + problem_.conditions[0].part_name + "' has " + g_text);
    side[c.part] = true;
  }
  // phi = product over the constrained sides of the normalised distance to that side,
  // (x - lo) / h or (hi - x) / h with h the half-width of the box along the axis.
  for (int k = 0; k < 2 * dim_; ++k) {
    if (!side[k]) continue;
    const int a = k / 2;
    const double lo = geo.lo()[a], hi = geo.hi()[a], h = 0.5 * (hi - lo);
    char term[160];
    if (k % 2 == 0) std::snprintf(term, sizeof term, "((%s - (%.17g)) / %.17g)", axis[a], lo, h);
    else std::snprintf(term, sizeof term, "(((%.17g) - %s) / %.17g)", hi, axis[a], h);
    phi += (phi.empty() ? "" : " * ") + std::string(term);
  }
  phi_ = std::make_shared<const pde::Expression>(pde::Expression::parse(phi, data::coordinate_names(dim_)));
  hard_g_ = &problem_.conditions[0].value;
  hard_ = true;
  const int S = ch_int_.n_second();
  hard_stride_ = 2 + 2 * dim_ + 2 * S + S * dim_;
}

template <class T>
typename PinnLoss<T>::Interior PinnLoss<T>::make_interior(const Mat<const double>& x) const {
  const int n = static_cast<int>(x.extent(0));
  Interior in;
  in.x = Mat<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::x_interior"), n, dim_);
  for (int p = 0; p < n; ++p)
    for (int k = 0; k < dim_; ++k) in.x(p, k) = T(x(p, k));
  in.f.resize(n);
  problem_.source.values(x, in.f.data());
  for (int k : term_field_) {
    in.coef.emplace_back(n);
    problem_.terms[k].coefficient.values(x, in.coef.back().data());
  }
  if (problem_.nonlinear) in.xd.assign(x.data(), x.data() + static_cast<std::size_t>(n) * dim_);
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
  if (hard_) {
    const int d = dim_, S = ch_int_.n_second();
    in.hard.assign(static_cast<std::size_t>(n) * hard_stride_, 0.0);
    std::array<std::array<std::array<double, 3>, 3>, 6> A{};
    for (int sidx = 0; sidx < S; ++sidx) A[sidx] = ch_int_.second_matrix(sidx);
    const int active[3] = {0, 1, 2};
    Kokkos::parallel_for(
        "kpde::pinn::hard_dirichlet_data", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
          const mesh::Point pt = mesh::row_point(x, p);
          const pde::Expression::Jet g = hard_g_->jet(pt, d);
          pde::Expression::Jet f;
          phi_->eval_jet(pt.data(), active, d, f);
          double* h = in.hard.data() + static_cast<std::size_t>(p) * hard_stride_;
          h[0] = g.value;
          h[1 + d + S] = f.value;
          for (int i = 0; i < d; ++i) h[1 + i] = g.grad[i], h[2 + d + S + i] = f.grad[i];
          for (int sidx = 0; sidx < S; ++sidx) {
            double G = 0, P = 0;
            for (int i = 0; i < d; ++i)
              for (int j = 0; j < d; ++j) G += A[sidx][i][j] * g.hess[i][j], P += A[sidx][i][j] * f.hess[i][j];
            h[1 + d + sidx] = G;
            h[2 + 2 * d + S + sidx] = P;
            for (int j = 0; j < d; ++j) {
              double v = 0;
              for (int i = 0; i < d; ++i) v += A[sidx][i][j] * f.grad[i];
              h[2 + 2 * d + 2 * S + sidx * d + j] = v;
            }
          }
        });
  }
  return in;
}

template <class T>
template <class Y>
void PinnLoss<T>::hard_forward(const Interior& in, int p, const Y* y, int stride, bool with_g, double* u) const {
  const int d = dim_, S = ch_int_.n_second(), G = ch_int_.n_grad();
  const double* h = in.hard.data() + static_cast<std::size_t>(p) * hard_stride_;
  const double phi = h[1 + d + S], n0 = double(y[0]);
  const double w = with_g ? 1.0 : 0.0;
  u[0] = w * h[0] + phi * n0;
  for (int i = 0; i < G; ++i) u[1 + i] = w * h[1 + i] + h[2 + d + S + i] * n0 + phi * double(y[(1 + i) * stride]);
  for (int sidx = 0; sidx < S; ++sidx) {
    double v = w * h[1 + d + sidx] + h[2 + 2 * d + S + sidx] * n0 + phi * double(y[(1 + G + sidx) * stride]);
    for (int j = 0; j < G; ++j) v += 2 * h[2 + 2 * d + 2 * S + sidx * d + j] * double(y[(1 + j) * stride]);
    u[1 + G + sidx] = v;
  }
}

template <class T>
void PinnLoss<T>::hard_backward(const Interior& in, int p, const double* du, double* dn) const {
  const int d = dim_, S = ch_int_.n_second(), G = ch_int_.n_grad();
  const double* h = in.hard.data() + static_cast<std::size_t>(p) * hard_stride_;
  const double phi = h[1 + d + S];
  dn[0] = phi * du[0];
  for (int i = 0; i < G; ++i) dn[0] += h[2 + d + S + i] * du[1 + i], dn[1 + i] = phi * du[1 + i];
  for (int sidx = 0; sidx < S; ++sidx) {
    const double ds = du[1 + G + sidx];
    dn[0] += h[2 + 2 * d + S + sidx] * ds;
    for (int j = 0; j < G; ++j) dn[1 + j] += 2 * h[2 + 2 * d + 2 * S + sidx * d + j] * ds;
    dn[1 + G + sidx] = phi * ds;
  }
}

template <class T>
template <class Y>
double PinnLoss<T>::residual(const Interior& in, int p, const Y* y, int stride, double* dr) const {
  const int C = ch_int_.n_channels();
  for (int c = 0; c < C; ++c) dr[c] = 0;
  if (!problem_.nonlinear) {
    double r = -in.f[p];
    for (const Term& t : terms_) {
      const double c = t.variable < 0 ? t.constant : in.coef[t.variable][p];
      r += c * double(y[t.channel * stride]);
      dr[t.channel] += c;
    }
    return r;
  }
  const int nv = static_cast<int>(problem_.residual_variables.size());
  const int nd = static_cast<int>(var_channel_.size());
  double vars[16] = {0};
  for (int k : active_vars_) vars[k] = double(y[var_channel_[k] * stride]);
  for (int k = 0; k < dim_ && nd + k < nv; ++k) vars[nd + k] = in.xd[static_cast<std::size_t>(p) * dim_ + k];
  pde::Expression::Jet jet;
  problem_.residual->eval_jet(vars, active_vars_.data(), static_cast<int>(active_vars_.size()), jet);
  for (std::size_t a = 0; a < active_vars_.size(); ++a) dr[var_channel_[active_vars_[a]]] += jet.grad[a];
  return jet.value - in.f[p];
}

template <class T>
template <class Y>
double PinnLoss<T>::net_residual(const Interior& in, int p, const Y* y, int stride, double* dr) const {
  if (!hard_) return residual(in, p, y, stride, dr);
  double uc[16];
  hard_forward(in, p, y, stride, true, uc);
  return residual(in, p, uc, 1, dr);
}

template <class T>
void PinnLoss<T>::set_interior(const Mat<const double>& x) {
  x_int_ = Mat<double>("kpde::pinn::interior", x.extent(0), x.extent(1));
  Kokkos::deep_copy(x_int_, x);
  int_ = make_interior(x_int_);
}

template <class T>
void PinnLoss<T>::set_boundary(const mesh::BoundarySamples& b) {
  bnd_ = b;
  d_ = Boundary{}, n_ = Boundary{};
  std::vector<std::array<double, 3>> xd, xn;
  for (int q = 0; q < b.n_points(); ++q) {
    const mesh::Point x = mesh::row_point(Mat<const double>(b.x), q);
    for (const auto& c : problem_.conditions) {
      if (c.part != b.part(q)) continue;
      if (hard_ && c.kind == mesh::BoundaryKind::dirichlet) continue;  // exact by construction
      const double g = c.value(x);
      if (c.kind == mesh::BoundaryKind::dirichlet) {
        xd.push_back(x);
        d_.g.push_back(g), d_.w.push_back(c.weight);
      } else {
        xn.push_back(x);
        n_.g.push_back(g), n_.w.push_back(c.weight);
        const bool robin = c.kind == mesh::BoundaryKind::robin;
        n_.alpha.push_back(robin ? c.alpha : 0.0);
        n_.beta.push_back(robin ? c.beta : 1.0);
        for (int k = 0; k < dim_; ++k) n_.normal.push_back(b.normal(q, k));
      }
    }
  }
  const auto fill = [&](Boundary& s, const std::vector<std::array<double, 3>>& pts) {
    s.x = Mat<T>("kpde::pinn::x_boundary", pts.size(), dim_);
    for (std::size_t p = 0; p < pts.size(); ++p)
      for (int k = 0; k < dim_; ++k) s.x(p, k) = T(pts[p][k]);
  };
  fill(d_, xd);
  fill(n_, xn);
}

template <class T>
void PinnLoss<T>::sample(std::uint64_t round) {
  mesh::InteriorOptions io;
  io.method = settings_.method;
  io.seed = mix(settings_.seed, 2 * round);
  io.scramble = true;
  set_interior(mesh::sample_interior(*problem_.geometry, static_cast<int>(settings_.n_interior), io));
  set_boundary(mesh::sample_boundary(*problem_.geometry, static_cast<int>(settings_.n_boundary),
                                     mix(settings_.seed, 2 * round + 1), problem_.constrained_parts()));
}

template <class T>
double PinnLoss<T>::loss_and_grad(const Vec<const T>& params, const Vec<T>& grad, LossTerms* terms,
                                  std::array<Vec<T>, kTerms>* term_grads) {
  const std::size_t np_ = params.extent(0);
  std::array<Vec<T>, kTerms> local;
  std::array<Vec<T>, kTerms>& tg = term_grads ? *term_grads : local;
  for (int k = 0; k < kTerms; ++k)
    if (tg[k].extent(0) != np_) tg[k] = Vec<T>("kpde::pinn::term_grad", np_);
  const auto P = nn::as_batch(params);
  LossTerms t;
  const int C = ch_int_.n_channels();

  // interior: r = R[u] - f
  if (n_interior() > 0) {
    const double scale = 1.0 / n_interior();
    const Interior& in = int_;
    const nn::BlockLoss<T> f = [&, scale, C](int, int p0, int np, const T* y, T* dy) {
      double s = 0, dr[16], dn[16];
      for (int i = 0; i < C * np; ++i) dy[i] = T(0);
      for (int p = 0; p < np; ++p) {
        const double r = net_residual(in, p0 + p, y + p, np, dr);
        s += r * r;
        if (hard_) {  // u = g + phi N: back from u's channels to N's
          for (int c = 0; c < C; ++c) dr[c] *= 2 * scale * r;
          hard_backward(in, p0 + p, dr, dn);
          for (int c = 0; c < C; ++c) dy[c * np + p] = T(dn[c]);
          continue;
        }
        for (int c = 0; c < C; ++c)
          if (dr[c] != 0) dy[c * np + p] = T(2 * scale * r * dr[c]);
      }
      return s * scale;
    };
    if (modes_on())
      t.residual = residual_with_modes(P, nn::as_batch(tg[0]));
    else
      t.residual = net_.forward_backward(P, nn::as_batch(Mat<const T>(in.x)), ch_int_, f, ws_int_, nn::as_batch(tg[0]), false);
  } else {
    Kokkos::deep_copy(tg[0], T(0));
  }
  // Dirichlet: u - g
  if (n_dirichlet() > 0) {
    const double scale = 1.0 / n_dirichlet();
    const Boundary& b = d_;
    const nn::BlockLoss<T> f = [&, scale](int, int p0, int np, const T* y, T* dy) {
      double s = 0;
      for (int p = 0; p < np; ++p) {
        const double r = double(y[p]) - b.g[p0 + p];
        s += b.w[p0 + p] * r * r;
        dy[p] = T(2 * scale * b.w[p0 + p] * r);
      }
      return s * scale;
    };
    t.dirichlet = net_.forward_backward(P, nn::as_batch(Mat<const T>(b.x)), ch_d_, f, ws_d_, nn::as_batch(tg[1]), false);
  } else {
    Kokkos::deep_copy(tg[1], T(0));
  }
  // Neumann / Robin: alpha u + beta n.grad u - g
  if (n_neumann() > 0) {
    const double scale = 1.0 / n_neumann();
    const Boundary& b = n_;
    const int d = dim_;
    const nn::BlockLoss<T> f = [&, scale, d](int, int p0, int np, const T* y, T* dy) {
      double s = 0;
      for (int p = 0; p < np; ++p) {
        const int q = p0 + p;
        double r = b.alpha[q] * double(y[p]) - b.g[q];
        for (int k = 0; k < d; ++k) r += b.beta[q] * b.normal[q * d + k] * double(y[(1 + k) * np + p]);
        s += b.w[q] * r * r;
        const double a = 2 * scale * b.w[q] * r;
        dy[p] = T(a * b.alpha[q]);
        for (int k = 0; k < d; ++k) dy[(1 + k) * np + p] = T(a * b.beta[q] * b.normal[q * d + k]);
      }
      return s * scale;
    };
    t.neumann = net_.forward_backward(P, nn::as_batch(Mat<const T>(b.x)), ch_n_, f, ws_n_, nn::as_batch(tg[2]), false);
  } else {
    Kokkos::deep_copy(tg[2], T(0));
  }
  if (terms) *terms = t;
  return combine(tg, t, grad);
}

template <class T>
double PinnLoss<T>::combine(const std::array<Vec<T>, kTerms>& term_grads, const LossTerms& t,
                            const Vec<T>& grad) const {
  const T l0 = T(lambda[0]), l1 = T(lambda[1]), l2 = T(lambda[2]);
  const Vec<T> g0 = term_grads[0], g1 = term_grads[1], g2 = term_grads[2];
  Kokkos::parallel_for(
      "kpde::pinn::combine_grads", Kokkos::RangePolicy<HostExec>(0, grad.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i) { grad(i) = l0 * g0(i) + l1 * g1(i) + l2 * g2(i); });
  return lambda[0] * t.residual + lambda[1] * t.dirichlet + lambda[2] * t.neumann;
}

template <class T>
void PinnLoss<T>::evaluate(const Vec<const T>& params, const Mat<const double>& x, std::vector<double>* u,
                           std::vector<double>* r) const {
  const int n = static_cast<int>(x.extent(0));
  const nn::ChannelSpec ch = r ? ch_int_ : nn::ChannelSpec::value(dim_);
  const int C = ch.n_channels();
  const Interior in = (r || hard_) ? make_interior(x) : Interior{};
  Mat<T> xt("kpde::pinn::x_eval", n, dim_);
  for (int p = 0; p < n; ++p)
    for (int k = 0; k < dim_; ++k) xt(p, k) = T(x(p, k));
  Arr3<T> out("kpde::pinn::out_eval", n, C, 1);
  net_.forward(nn::as_batch(params), nn::as_batch(Mat<const T>(xt)), ch, nn::as_batch(out));
  if (u) {
    u->resize(n);
    for (int p = 0; p < n; ++p) {
      if (hard_) {
        const double* h = in.hard.data() + static_cast<std::size_t>(p) * hard_stride_;
        (*u)[p] = h[0] + h[1 + dim_ + ch_int_.n_second()] * double(out(p, 0, 0));
      } else {
        (*u)[p] = double(out(p, 0, 0));
      }
    }
  }
  if (r) {
    r->resize(n);
    Kokkos::parallel_for(
        "kpde::pinn::residual_eval", Kokkos::RangePolicy<HostExec>(0, n), [&](const int p) {
          double dr[16];
          (*r)[p] = net_residual(in, p, &out(p, 0, 0), 1, dr);
        });
  }
}

template <class T>
std::pair<std::size_t, std::size_t> PinnLoss<T>::output_layer() const {
  // Parameter layout (nn/network.hpp): hidden layers [0, H), W_o [m][w], b_o [m], then the
  // modified-MLP gates, then the Gaussian features (the feature network below has the
  // same tail, so the copy of `rest` covers both).
  const nn::NetworkSpec& spec = net_.spec();
  const std::size_t w = spec.width, m = spec.output_dim, n = net_.n_params();
  const std::size_t rest = (spec.arch == nn::Arch::modified_mlp ? 2 * (w * net_.n_features() + w) : 0) +
                           net_.n_feature_params();  // then the Gaussian features
  return {n - rest - m * w - m, m * w + m};
}

template <class T>
void PinnLoss<T>::solve_output_layer(const Vec<T>& params, double ridge) {
  KPDE_REQUIRE(!problem_.nonlinear, InputError, "least_squares: the operator is nonlinear");
  const nn::NetworkSpec& spec = net_.spec();
  const int w = spec.width, m = spec.output_dim;
  if (!fnet_) {
    nn::NetworkSpec fspec = spec;
    fspec.output_dim = w;
    fnet_ = std::make_shared<const nn::Network<T>>(fspec);
  }
  const nn::Network<T>& fnet = *fnet_;
  // The feature network has W_o = I (w x w), b_o = 0, the same hidden layers and gates.
  const std::size_t H = output_layer().first;
  const std::size_t rest = params.extent(0) - H - std::size_t(m) * w - m;
  Vec<T> fp("kpde::pinn::feature_params", fnet.n_params());
  for (std::size_t i = 0; i < H; ++i) fp(i) = params(i);
  for (int j = 0; j < w; ++j) fp(H + std::size_t(j) * w + j) = T(1);
  for (std::size_t i = 0; i < rest; ++i) fp(H + std::size_t(w) * w + w + i) = params(H + std::size_t(m) * w + m + i);

  const int ni = n_interior(), nd = n_dirichlet(), nn_ = n_neumann();
  const int rows = ni + nd + nn_ + w + 1 + (ni > 0 && modes_on() ? n_modes_ : 0);
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(rows, w + 1);
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(rows);
  const auto features = [&](const Mat<T>& x, const nn::ChannelSpec& ch) {
    Arr3<T> out("kpde::pinn::features", x.extent(0), ch.n_channels(), w);
    fnet.forward(nn::as_batch(Vec<const T>(fp)), nn::as_batch(Mat<const T>(x)), ch, nn::as_batch(out));
    return out;
  };
  int row = 0;
  if (ni > 0) {
    const auto H_ = features(int_.x, ch_int_);
    const double s = std::sqrt(lambda[0] / ni);
    const int C = ch_int_.n_channels();
    std::vector<double> dr(C);
    std::vector<double> hj(C), tj(C), one(C, 0.0), g0(C), zero(C, 0.0);
    one[0] = 1;
    for (int p = 0; p < ni; ++p, ++row) {
      // residual is linear: r = sum_c dr[c] u_c - f; dr from a zero output
      residual(int_, p, zero.data(), 1, dr.data());
      if (hard_) {
        // u_c = g_c + T(N)_c with T linear: rows of T(h_j), bias T(1), rhs f - sum dr g
        for (int j = 0; j < w; ++j) {
          for (int c = 0; c < C; ++c) hj[c] = double(H_(p, c, j));
          hard_forward(int_, p, hj.data(), 1, false, tj.data());
          for (int c = 0; c < C; ++c) A(row, j) += s * dr[c] * tj[c];
        }
        hard_forward(int_, p, one.data(), 1, false, tj.data());
        for (int c = 0; c < C; ++c) A(row, w) += s * dr[c] * tj[c];
        hard_forward(int_, p, zero.data(), 1, true, g0.data());
        double gsum = 0;
        for (int c = 0; c < C; ++c) gsum += dr[c] * g0[c];
        rhs(row) = s * (int_.f[p] - gsum);
        continue;
      }
      for (int c = 0; c < C; ++c) {
        if (dr[c] == 0) continue;
        for (int j = 0; j < w; ++j) A(row, j) += s * dr[c] * double(H_(p, c, j));
        if (c == 0) A(row, w) += s * dr[c];
      }
      rhs(row) = s * int_.f[p];
    }
    // residual modes: rows sqrt(l_r w w_m) c_m = sqrt(l_r w w_m) (1/N) sum_p phi_m(x_p) r_p,
    // from the point rows above (each is sqrt(l_r / N) times r_p's row)
    const int M = n_modes_;
    if (modes_on()) {
      const double cm = s > 0 ? std::sqrt(lambda[0] * modes_weight_) / (ni * s) : 0.0;
      for (int m = 0; m < M; ++m, ++row) {
        const double cw = cm * std::sqrt(mode_w_[m]);
        for (int p = 0; p < ni; ++p) {
          const double ph = cw * int_.modes[static_cast<std::size_t>(p) * M + m];
          A.row(row) += ph * A.row(row - m - ni + p);
          rhs(row) += ph * rhs(row - m - ni + p);
        }
      }
    }
  }
  if (nd > 0) {
    const auto H_ = features(d_.x, ch_d_);
    for (int q = 0; q < nd; ++q, ++row) {
      const double s = std::sqrt(lambda[1] * d_.w[q] / nd);
      for (int j = 0; j < w; ++j) A(row, j) = s * double(H_(q, 0, j));
      A(row, w) = s;
      rhs(row) = s * d_.g[q];
    }
  }
  if (nn_ > 0) {
    const auto H_ = features(n_.x, ch_n_);
    for (int q = 0; q < nn_; ++q, ++row) {
      const double s = std::sqrt(lambda[2] * n_.w[q] / nn_);
      for (int j = 0; j < w; ++j) {
        double v = n_.alpha[q] * double(H_(q, 0, j));
        for (int k = 0; k < dim_; ++k) v += n_.beta[q] * n_.normal[q * dim_ + k] * double(H_(q, 1 + k, j));
        A(row, j) = s * v;
      }
      A(row, w) = s * n_.alpha[q];
      rhs(row) = s * n_.g[q];
    }
  }
  const double mean_sq = A.topRows(row).colwise().squaredNorm().mean();
  const double reg = std::sqrt(ridge * std::max(mean_sq, 1e-300));
  for (int j = 0; j <= w; ++j, ++row) A(row, j) = reg;
  const Eigen::VectorXd theta = A.householderQr().solve(rhs);
  if (!theta.allFinite()) throw Error("least_squares: the solve gave non-finite weights (the features are degenerate)");
  for (int j = 0; j < w; ++j) params(H + j) = T(theta(j));
  params(H + w) = T(theta(w));
}

template <class T>
double PinnLoss<T>::flops() const {
  const auto f = [&](int n, const nn::ChannelSpec& ch) {
    return net_.forward_flops(n, ch.n_channels()) + net_.backward_flops(n, ch.n_channels(), false);
  };
  return f(n_interior(), ch_int_) + f(n_dirichlet(), ch_d_) + f(n_neumann(), ch_n_);
}

template class PinnLoss<float>;
template class PinnLoss<double>;

}  // namespace kpde::pinn
