#include "hypernet/pinn_loss.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cmath>

#include "core/error.hpp"

namespace kpde::hypernet {

const std::vector<std::string>& loss_term_names() {
  static const std::vector<std::string> names{"residual", "dirichlet", "neumann",   "value",      "gradient",
                                              "hessian",  "ls_fit",    "ls_value",  "ls_gradient"};
  return names;
}

namespace {

constexpr int C = 5;            // channels u, u_x, u_y, u_xx, u_yy
constexpr int W = kTargetWidth;  // basis functions

struct Huber {
  double delta;
  double value(double r) const {
    const double a = std::abs(r);
    return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
  }
  double slope(double r) const { return std::abs(r) <= delta ? r : (r > 0 ? delta : -delta); }
};

/// u's channel c at point p for output layer (w, b).
inline double channel(const double* phi, int p, int c, const double* theta) {
  const double* f = phi + (static_cast<std::size_t>(p) * C + static_cast<std::size_t>(c)) * W;
  double v = c == 0 ? theta[W] : 0.0;
  for (int j = 0; j < W; ++j) v += f[j] * theta[j];
  return v;
}

/// Adds d(loss)/d(channel c at p) = du into dphi (through theta) and into dtheta.
inline void channel_adjoint(const double* phi, int p, int c, const double* theta, double du, double* dphi,
                            double* dtheta) {
  const std::size_t o = (static_cast<std::size_t>(p) * C + static_cast<std::size_t>(c)) * W;
  if (dphi)
    for (int j = 0; j < W; ++j) dphi[o + j] += du * theta[j];
  if (dtheta) {
    for (int j = 0; j < W; ++j) dtheta[j] += du * phi[o + j];
    if (c == 0) dtheta[W] += du;
  }
}

/// Supervised Huber terms (value, gradient, hessian: the first `orders` of them) of
/// output layer theta into t[0..orders-1], relative: every error is divided by s = the
/// RMS of u* over the sample's points + 1e-3 (so a sample's terms do not depend on its
/// scale; one s for all orders, as a derivative's own RMS may vanish); with weights wt,
/// their adjoints into dphi / dtheta.
void supervised(const SamplePoints& s, const double* phi, const double* theta, const Huber& rho, int orders,
                const double* wt, double* t, double* dphi, double* dtheta) {
  const int n = s.n_interior;
  if (s.truth.empty() || n == 0) return;
  const double inv = 1.0 / n;
  double ms = 0;
  for (int p = 0; p < n; ++p) {
    const double v = s.truth[static_cast<std::size_t>(p) * C];
    ms += v * v * inv;
  }
  const double scale = std::sqrt(ms) + 1e-3;
  const double rms[3] = {scale, scale, scale};
  for (int p = 0; p < n; ++p)
    for (int c = 0; c < C; ++c) {
      const int k = c == 0 ? 0 : (c < 3 ? 1 : 2);
      if (k >= orders) continue;
      const double r =
          (channel(phi, p, c, theta) - s.truth[static_cast<std::size_t>(p) * C + static_cast<std::size_t>(c)]) / rms[k];
      const double share = c == 0 ? inv : 0.5 * inv;
      t[k] += share * rho.value(r);
      if (wt && wt[k] != 0) channel_adjoint(phi, p, c, theta, wt[k] * share * rho.slope(r) / rms[k], dphi, dtheta);
    }
}

/// The rows of the least-squares problem: A [rows][33], b [rows], and for each row its
/// point, kind (0 interior, 1 Dirichlet, 2 Neumann) and row scale.
struct Rows {
  Eigen::MatrixXd A;
  Eigen::VectorXd b;
  std::vector<int> point, kind;
  std::vector<double> a;
};

/// Rows over the basis functions of M networks (phis[m] [N][5][32]): columns
/// 32 m + j, then the shared bias (column 32 M).
Rows build_rows(const SamplePoints& s, const std::vector<const double*>& phis, const LossSettings& st) {
  const int M = static_cast<int>(phis.size()), bias = W * M;
  int nd = 0, nn = 0;
  for (int k = 0; k < s.n_boundary; ++k) nd += std::isfinite(s.g[static_cast<std::size_t>(k)]), nn += std::isfinite(s.h[static_cast<std::size_t>(k)]);
  Rows r;
  const int rows = s.n_interior + nd + nn;
  r.A.setZero(rows, bias + 1);
  r.b.setZero(rows);
  r.point.reserve(static_cast<std::size_t>(rows)), r.kind.reserve(static_cast<std::size_t>(rows)), r.a.reserve(static_cast<std::size_t>(rows));
  const double aR = s.n_interior ? std::sqrt(st.ls_residual / s.n_interior) : 0, aD = nd ? std::sqrt(st.ls_dirichlet / nd) : 0,
               aN = nn ? std::sqrt(st.ls_neumann / nn) : 0;
  int i = 0;
  for (int p = 0; p < s.n_interior; ++p, ++i) {
    for (int m = 0; m < M; ++m)
      for (int c = 0; c < C; ++c) {
        const double cc = s.coefficients[static_cast<std::size_t>(c)];
        if (cc == 0) continue;
        const double* f = phis[static_cast<std::size_t>(m)] + (static_cast<std::size_t>(p) * C + static_cast<std::size_t>(c)) * W;
        for (int j = 0; j < W; ++j) r.A(i, W * m + j) += aR * cc * f[j];
      }
    r.A(i, bias) = aR * s.coefficients[0];
    r.b(i) = aR * s.f[static_cast<std::size_t>(p)];
    r.point.push_back(p), r.kind.push_back(0), r.a.push_back(aR);
  }
  for (int k = 0; k < s.n_boundary; ++k) {
    const int p = s.n_interior + k;
    const std::size_t sk = static_cast<std::size_t>(k);
    if (std::isfinite(s.g[sk])) {
      for (int m = 0; m < M; ++m) {
        const double* f = phis[static_cast<std::size_t>(m)] + static_cast<std::size_t>(p) * C * W;
        for (int j = 0; j < W; ++j) r.A(i, W * m + j) = aD * f[j];
      }
      r.A(i, bias) = aD;
      r.b(i) = aD * s.g[sk];
      r.point.push_back(p), r.kind.push_back(1), r.a.push_back(aD), ++i;
    }
    if (std::isfinite(s.h[sk])) {
      const double nx = s.normal[2 * sk], ny = s.normal[2 * sk + 1];
      for (int m = 0; m < M; ++m) {
        const double* fx = phis[static_cast<std::size_t>(m)] + (static_cast<std::size_t>(p) * C + 1) * W;
        const double* fy = fx + W;
        for (int j = 0; j < W; ++j) r.A(i, W * m + j) = aN * (nx * fx[j] + ny * fy[j]);
      }
      r.b(i) = aN * s.h[sk];
      r.point.push_back(p), r.kind.push_back(2), r.a.push_back(aN), ++i;
    }
  }
  return r;
}

struct Fit {
  Eigen::VectorXd theta;
  double mu = 0, E = 0;
  Eigen::LLT<Eigen::MatrixXd> llt;
};

Fit solve_rows(const Rows& r, double ridge) {
  Fit f;
  Eigen::MatrixXd M = r.A.transpose() * r.A;
  f.mu = ridge * (M.trace() / static_cast<double>(M.cols()) + 1e-12);
  M.diagonal().array() += f.mu;
  f.llt.compute(M);
  f.theta = f.llt.solve(r.A.transpose() * r.b);
  f.E = (r.A * f.theta - r.b).squaredNorm() + f.mu * f.theta.squaredNorm();
  return f;
}

/// All terms of one sample into t[9]; with w, the adjoint of sum_k w_k t_k into dphi
/// [N][5][32] (added) and dout [33] (added). ls receives theta*.
void sample_terms(const SamplePoints& s, const double* phi, const double* out, const LossSettings& st, const double* w,
                  double* t, double* dphi, double* dout, std::array<double, kOut>* ls) {
  const Huber rho{st.huber_delta};
  const bool grad = w != nullptr;
  // ---- the emitted output layer
  if (s.n_interior > 0) {
    const double inv = 1.0 / s.n_interior;
    for (int p = 0; p < s.n_interior; ++p) {
      double Lu = 0;
      for (int c = 0; c < C; ++c)
        if (s.coefficients[static_cast<std::size_t>(c)] != 0) Lu += s.coefficients[static_cast<std::size_t>(c)] * channel(phi, p, c, out);
      const double r = Lu - s.f[static_cast<std::size_t>(p)];
      t[0] += inv * rho.value(r);
      if (grad && w[0] != 0) {
        const double d = w[0] * inv * rho.slope(r);
        for (int c = 0; c < C; ++c)
          if (s.coefficients[static_cast<std::size_t>(c)] != 0)
            channel_adjoint(phi, p, c, out, d * s.coefficients[static_cast<std::size_t>(c)], dphi, dout);
      }
    }
  }
  int nd = 0, nn = 0;
  for (int k = 0; k < s.n_boundary; ++k) nd += std::isfinite(s.g[static_cast<std::size_t>(k)]), nn += std::isfinite(s.h[static_cast<std::size_t>(k)]);
  for (int k = 0; k < s.n_boundary; ++k) {
    const int p = s.n_interior + k;
    const std::size_t sk = static_cast<std::size_t>(k);
    if (std::isfinite(s.g[sk])) {
      const double r = channel(phi, p, 0, out) - s.g[sk];
      t[1] += rho.value(r) / nd;
      if (grad && w[1] != 0) channel_adjoint(phi, p, 0, out, w[1] * rho.slope(r) / nd, dphi, dout);
    }
    if (std::isfinite(s.h[sk])) {
      const double nx = s.normal[2 * sk], ny = s.normal[2 * sk + 1];
      const double r = nx * channel(phi, p, 1, out) + ny * channel(phi, p, 2, out) - s.h[sk];
      t[2] += rho.value(r) / nn;
      if (grad && w[2] != 0) {
        const double d = w[2] * rho.slope(r) / nn;
        channel_adjoint(phi, p, 1, out, d * nx, dphi, dout);
        channel_adjoint(phi, p, 2, out, d * ny, dphi, dout);
      }
    }
  }
  supervised(s, phi, out, rho, 3, grad ? w + 3 : nullptr, t + 3, dphi, dout);

  // ---- the least-squares output layer
  const Rows rows = build_rows(s, {phi}, st);
  const Fit fit = solve_rows(rows, st.ridge);
  t[6] += fit.E;
  std::array<double, kOut> theta{};
  for (int j = 0; j < kOut; ++j) theta[static_cast<std::size_t>(j)] = fit.theta(j);
  if (ls) *ls = theta;
  std::array<double, kOut> g{};
  supervised(s, phi, theta.data(), rho, 2, grad ? w + 7 : nullptr, t + 7, dphi, grad ? g.data() : nullptr);
  if (!grad) return;
  // dA = w6 (2 r theta^T + |theta|^2 dmu/dA) - (r z^T + (A z) theta^T) - (z . theta) dmu/dA,
  // z = M^-1 g, dmu/dA = ridge 2 A / 33 (see the header).
  const Eigen::Map<const Eigen::VectorXd> gv(g.data(), kOut);
  const Eigen::VectorXd z = fit.llt.solve(gv);
  const Eigen::VectorXd r = rows.A * fit.theta - rows.b;
  const Eigen::VectorXd Az = rows.A * z;
  const double dmu_scale = (w[6] * fit.theta.squaredNorm() - z.dot(fit.theta)) * st.ridge * 2.0 / kOut;
  Eigen::MatrixXd dA = (2 * w[6]) * r * fit.theta.transpose() - r * z.transpose() - Az * fit.theta.transpose();
  dA += dmu_scale * rows.A;
  for (int i = 0; i < static_cast<int>(rows.point.size()); ++i) {
    const std::size_t si = static_cast<std::size_t>(i);
    const int p = rows.point[si];
    const double a = rows.a[si];
    const auto add = [&](int c, double factor) {
      double* d = dphi + (static_cast<std::size_t>(p) * C + static_cast<std::size_t>(c)) * W;
      for (int j = 0; j < W; ++j) d[j] += factor * dA(i, j);
    };
    if (rows.kind[si] == 0) {
      for (int c = 0; c < C; ++c)
        if (s.coefficients[static_cast<std::size_t>(c)] != 0) add(c, a * s.coefficients[static_cast<std::size_t>(c)]);
    } else if (rows.kind[si] == 1) {
      add(0, a);
    } else {
      const std::size_t k = static_cast<std::size_t>(p - s.n_interior);
      add(1, a * s.normal[2 * k]);
      add(2, a * s.normal[2 * k + 1]);
    }
  }
}

}  // namespace

std::vector<double> least_squares_joint(const SamplePoints& s, const std::vector<const double*>& phis,
                                        const LossSettings& settings, double* fit) {
  const Fit f = solve_rows(build_rows(s, phis, settings), settings.ridge);
  if (fit) *fit = f.E;
  return std::vector<double>(f.theta.data(), f.theta.data() + f.theta.size());
}

std::array<double, kOut> least_squares_output(const SamplePoints& s, const double* phi, const LossSettings& settings,
                                              double* fit) {
  const Fit f = solve_rows(build_rows(s, {phi}, settings), settings.ridge);
  if (fit) *fit = f.E;
  std::array<double, kOut> theta{};
  for (int j = 0; j < kOut; ++j) theta[static_cast<std::size_t>(j)] = f.theta(j);
  return theta;
}

template <class T>
EmittedLoss<T>::EmittedLoss(LossSettings settings) : settings_(settings), basis_(target_spec(kTargetWidth)) {}

template <class T>
double EmittedLoss<T>::evaluate(const Mat<const T>& targets, const std::vector<const SamplePoints*>& samples,
                                const std::vector<double>& weights, std::vector<double>& terms, const Mat<T>& d_targets,
                                std::vector<std::array<double, kOut>>* ls_out) {
  const int B = static_cast<int>(samples.size());
  KPDE_REQUIRE(B >= 1 && static_cast<int>(targets.extent(0)) == B && targets.extent(1) == target_size(), Error,
               "EmittedLoss: targets must be [samples][5409]");
  KPDE_REQUIRE(weights.size() == kLossTerms, Error, "EmittedLoss: one weight per term");
  const int N = samples[0]->n_points();
  for (const SamplePoints* s : samples)
    KPDE_REQUIRE(s->n_points() == N && N > 0, Error, "EmittedLoss: every sample of a batch needs the same number of points");
  const bool grad = d_targets.extent(0) > 0;
  const std::size_t nb = basis_size(), nt = target_size();
  Mat<T> basis("basis", static_cast<std::size_t>(B), nb);
  Arr3<T> x("x", static_cast<std::size_t>(B), static_cast<std::size_t>(N), 2);
  for (int b = 0; b < B; ++b) {
    basis_from_target(&targets(b, 0), &basis(b, 0));
    for (int p = 0; p < N; ++p)
      for (int a = 0; a < 2; ++a)
        x(b, p, a) = static_cast<T>(samples[static_cast<std::size_t>(b)]->x[2 * static_cast<std::size_t>(p) + static_cast<std::size_t>(a)]);
  }
  const nn::ChannelSpec channels = nn::ChannelSpec::diagonal(2);
  Arr4<T> phi("phi", static_cast<std::size_t>(B), static_cast<std::size_t>(N), std::size_t(C), std::size_t(W));
  basis_.forward(basis, x, channels, phi, grad ? &ws_ : nullptr);
  Arr4<T> dphi_t(std::string("dphi"), grad ? static_cast<std::size_t>(B) : 0, static_cast<std::size_t>(N), std::size_t(C), std::size_t(W));
  std::vector<std::array<double, kLossTerms>> t(static_cast<std::size_t>(B));
  std::vector<std::array<double, kOut>> ls(static_cast<std::size_t>(B));
  std::vector<std::array<double, kOut>> dout(static_cast<std::size_t>(B));
  std::vector<double> w(weights);
  for (double& v : w) v /= B;
  const std::size_t per = static_cast<std::size_t>(N) * C * W;
  const LossSettings st = settings_;
  Kokkos::parallel_for(
      "kpde::hypernet::emitted_loss", Kokkos::RangePolicy<HostExec>(0, B), [&](const int b) {
        const std::size_t sb = static_cast<std::size_t>(b);
        std::vector<double> ph(per), dph(grad ? per : 0, 0.0);
        const T* src = &phi(b, 0, 0, 0);
        for (std::size_t k = 0; k < per; ++k) ph[k] = static_cast<double>(src[k]);
        double out[kOut];
        const TargetTensor& Wo = target_tensors()[6];
        for (int j = 0; j < W; ++j) out[j] = static_cast<double>(targets(b, Wo.offset + static_cast<std::size_t>(j)));
        out[W] = static_cast<double>(targets(b, target_tensors()[13].offset));
        t[sb].fill(0.0);
        dout[sb].fill(0.0);
        sample_terms(*samples[sb], ph.data(), out, st, grad ? w.data() : nullptr, t[sb].data(), grad ? dph.data() : nullptr,
                     dout[sb].data(), &ls[sb]);
        if (grad) {
          T* dst = &dphi_t(b, 0, 0, 0);
          for (std::size_t k = 0; k < per; ++k) dst[k] = static_cast<T>(dph[k]);
        }
      });
  terms.assign(kLossTerms, 0.0);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < kLossTerms; ++k) terms[static_cast<std::size_t>(k)] += t[static_cast<std::size_t>(b)][static_cast<std::size_t>(k)] / B;
  double total = 0;
  for (int k = 0; k < kLossTerms; ++k) total += weights[static_cast<std::size_t>(k)] * terms[static_cast<std::size_t>(k)];
  if (ls_out) *ls_out = ls;
  if (!grad) return total;
  Mat<T> gbasis("gbasis", static_cast<std::size_t>(B), nb);
  basis_.backward(basis, x, ws_, dphi_t, gbasis, false);
  const TargetTensor &Wo = target_tensors()[6], &bo = target_tensors()[13];
  for (int b = 0; b < B; ++b) {
    T* row = &d_targets(b, 0);
    for (std::size_t k = 0; k < nt; ++k) row[k] = T(0);
    add_basis_gradient(&gbasis(b, 0), row);
    for (int j = 0; j < W; ++j) row[Wo.offset + static_cast<std::size_t>(j)] = static_cast<T>(dout[static_cast<std::size_t>(b)][static_cast<std::size_t>(j)]);
    row[bo.offset] = static_cast<T>(dout[static_cast<std::size_t>(b)][W]);
  }
  return total;
}

template class EmittedLoss<float>;
template class EmittedLoss<double>;

}  // namespace kpde::hypernet
