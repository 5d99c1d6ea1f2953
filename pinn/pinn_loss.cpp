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

}  // namespace

template <class T>
PinnLoss<T>::PinnLoss(const data::Problem& problem, const nn::Network<T>& net, const TrainingSettings& settings)
    : problem_(problem),
      net_(net),
      settings_(settings),
      dim_(problem.dim),
      residual_(problem, settings.hard_dirichlet),
      ch_int_(residual_.channels()),
      hard_(settings.hard_dirichlet) {
  ch_d_ = nn::ChannelSpec::value(dim_);
  ch_n_ = nn::ChannelSpec::with_gradient(dim_);
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
        r[p] = residual_(in.pts, p, &out(0, p, 0, 0), 1, dr.data() + static_cast<std::size_t>(p) * C);
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
          residual_.to_network(in.pts, p, da, dn);
          for (int k = 0; k < C; ++k) dout(0, p, k, 0) = T(dn[k]);
        } else {
          for (int k = 0; k < C; ++k) dout(0, p, k, 0) = T(da[k]);
        }
      });
  net_.backward(params, X, ws_int_, dout, grad, false);
  return ms * scale + w * c2;
}

template <class T>
typename PinnLoss<T>::Interior PinnLoss<T>::make_interior(const Mat<const double>& x) const {
  const int n = static_cast<int>(x.extent(0));
  Interior in;
  in.x = Mat<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::x_interior"), n, dim_);
  for (int p = 0; p < n; ++p)
    for (int k = 0; k < dim_; ++k) in.x(p, k) = T(x(p, k));
  in.pts = residual_.at(x);
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

template <class T>
void PinnLoss<T>::set_interior(const Mat<const double>& x) {
  x_int_ = Mat<double>("kpde::pinn::interior", x.extent(0), x.extent(1));
  Kokkos::deep_copy(x_int_, x);
  int_ = make_interior(x_int_);
}

template <class T>
void PinnLoss<T>::set_boundary(const mesh::BoundarySamples& b) {
  bnd_ = b;
  targets_ = data::boundary_targets(problem_, b, hard_);
  const auto fill = [&](const data::BoundaryTargets::Set& s) {
    Mat<T> x("kpde::pinn::x_boundary", s.x.size(), dim_);
    for (std::size_t p = 0; p < s.x.size(); ++p)
      for (int k = 0; k < dim_; ++k) x(p, k) = T(s.x[p][k]);
    return x;
  };
  x_d_ = fill(targets_.dirichlet);
  x_n_ = fill(targets_.flux);
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
        const double r = residual_(in.pts, p0 + p, y + p, np, dr);
        s += r * r;
        if (hard_) {  // u = g + phi N: back from u's channels to N's
          for (int c = 0; c < C; ++c) dr[c] *= 2 * scale * r;
          residual_.to_network(in.pts, p0 + p, dr, dn);
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
    t.dirichlet = net_.forward_backward(P, nn::as_batch(Mat<const T>(x_d_)), ch_d_, f, ws_d_, nn::as_batch(tg[1]), false);
  } else {
    Kokkos::deep_copy(tg[1], T(0));
  }
  // Neumann / Robin: alpha u + beta n.grad u - g
  if (n_neumann() > 0) {
    const double scale = 1.0 / n_neumann();
    const data::BoundaryTargets::Set& b = targets_.flux;
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
    t.neumann = net_.forward_backward(P, nn::as_batch(Mat<const T>(x_n_)), ch_n_, f, ws_n_, nn::as_batch(tg[2]), false);
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
    const data::HardDirichlet* hard = residual_.hard();  // null without hard Dirichlet data
    const auto hard_at = [&](int p) { return int_.pts.hard.data() + static_cast<std::size_t>(p) * hard->stride(); };
    one[0] = 1;
    for (int p = 0; p < ni; ++p, ++row) {
      // residual is linear: r = sum_c dr[c] u_c - f; dr from a zero output
      residual_.of_u(int_.pts, p, zero.data(), 1, dr.data());
      if (hard_) {
        // u_c = g_c + T(N)_c with T linear: rows of T(h_j), bias T(1), rhs f - sum dr g
        for (int j = 0; j < w; ++j) {
          for (int c = 0; c < C; ++c) hj[c] = double(H_(p, c, j));
          hard->forward(hard_at(p), hj.data(), 1, false, tj.data());
          for (int c = 0; c < C; ++c) A(row, j) += s * dr[c] * tj[c];
        }
        hard->forward(hard_at(p), one.data(), 1, false, tj.data());
        for (int c = 0; c < C; ++c) A(row, w) += s * dr[c] * tj[c];
        hard->forward(hard_at(p), zero.data(), 1, true, g0.data());
        double gsum = 0;
        for (int c = 0; c < C; ++c) gsum += dr[c] * g0[c];
        rhs(row) = s * (int_.pts.f[p] - gsum);
        continue;
      }
      for (int c = 0; c < C; ++c) {
        if (dr[c] == 0) continue;
        for (int j = 0; j < w; ++j) A(row, j) += s * dr[c] * double(H_(p, c, j));
        if (c == 0) A(row, w) += s * dr[c];
      }
      rhs(row) = s * int_.pts.f[p];
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
    const auto H_ = features(x_d_, ch_d_);
    const data::BoundaryTargets::Set& b = targets_.dirichlet;
    for (int q = 0; q < nd; ++q, ++row) {
      const double s = std::sqrt(lambda[1] * b.w[q] / nd);
      for (int j = 0; j < w; ++j) A(row, j) = s * double(H_(q, 0, j));
      A(row, w) = s;
      rhs(row) = s * b.g[q];
    }
  }
  if (nn_ > 0) {
    const auto H_ = features(x_n_, ch_n_);
    const data::BoundaryTargets::Set& b = targets_.flux;
    for (int q = 0; q < nn_; ++q, ++row) {
      const double s = std::sqrt(lambda[2] * b.w[q] / nn_);
      for (int j = 0; j < w; ++j) {
        double v = b.alpha[q] * double(H_(q, 0, j));
        for (int k = 0; k < dim_; ++k) v += b.beta[q] * b.normal[q * dim_ + k] * double(H_(q, 1 + k, j));
        A(row, j) = s * v;
      }
      A(row, w) = s * b.alpha[q];
      rhs(row) = s * b.g[q];
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
