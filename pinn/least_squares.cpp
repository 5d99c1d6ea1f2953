// The output layer by least squares (PinnObjective::project, objective.hpp).
#include <Eigen/Dense>
#include <cmath>

#include "core/error.hpp"
#include "pinn/objective.hpp"
#include "pinn/points.hpp"

namespace kpde::pinn {

template <class T>
std::pair<std::size_t, std::size_t> PinnObjective<T>::projected_range() const {
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
void PinnObjective<T>::project(const Vec<T>& params, const std::vector<double>& lambda, double ridge) {
  KPDE_REQUIRE(!problem_.nonlinear, InputError, "least_squares: the operator is nonlinear");
  KPDE_REQUIRE(!settings_.residual_weight, InputError,
               "least_squares: not implemented with training.residual_weight (use output_layer: none)");
  const nn::NetworkSpec& spec = net_.spec();
  const int w = spec.width, m = spec.output_dim;
  if (!fnet_) {
    nn::NetworkSpec fspec = spec;
    fspec.output_dim = w;
    fnet_ = std::make_shared<const nn::Network<T>>(fspec);
  }
  const nn::Network<T>& fnet = *fnet_;
  // The feature network has W_o = I (w x w), b_o = 0, the same hidden layers and gates.
  const std::size_t H = projected_range().first;
  const std::size_t rest = params.extent(0) - H - std::size_t(m) * w - m;
  Vec<T> fp("kpde::pinn::feature_params", fnet.n_params());
  for (std::size_t i = 0; i < H; ++i) fp(i) = params(i);
  for (int j = 0; j < w; ++j) fp(H + std::size_t(j) * w + j) = T(1);
  for (std::size_t i = 0; i < rest; ++i) fp(H + std::size_t(w) * w + w + i) = params(H + std::size_t(m) * w + m + i);

  // this rank's points (all of them on one rank); the scales use the global counts
  const int ni = n_interior_here(), nd = static_cast<int>(x_d_.extent(0)), nn_ = static_cast<int>(x_n_.extent(0));
  const bool mode_rows = n_interior() > 0 && modes_on();
  const int rows = ni + nd + nn_ + w + 1 + (mode_rows ? n_modes_ : 0);
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(rows, w + 1);
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(rows);
  const auto features = [&](const Mat<T>& x, const nn::ChannelSpec& ch) {
    Arr3<T> out("kpde::pinn::features", x.extent(0), ch.n_channels(), w);
    fnet.forward(nn::as_batch(Vec<const T>(fp)), nn::as_batch(Mat<const T>(x)), ch, nn::as_batch(out));
    return out;
  };
  int row = 0, modes_row0 = 0;
  if (ni > 0 || mode_rows) {
    const auto H_ = ni > 0 ? features(int_.x, ch_int_) : Arr3<T>();
    const double s = std::sqrt(lambda[0] / n_interior());
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
    modes_row0 = row;
    if (mode_rows) {
      const double cm = s > 0 ? std::sqrt(lambda[0] * modes_weight_) / (n_interior() * s) : 0.0;
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
      const double s = std::sqrt(lambda[1] * b.w[q] / n_dirichlet());
      for (int j = 0; j < w; ++j) A(row, j) = s * double(H_(q, 0, j));
      A(row, w) = s;
      rhs(row) = s * b.g[q];
    }
  }
  if (nn_ > 0) {
    const auto H_ = features(x_n_, ch_n_);
    const data::BoundaryTargets::Set& b = targets_.flux;
    // the row is linear in N's channels: r = sum_c a_c N_c + r(N = 0), a_c from
    // flux_residual's dr/dN (the exact-data transform included)
    const data::HardDirichlet* hf = hard_flux_ ? &*hard_flux_ : nullptr;
    std::vector<double> zero(1 + dim_, 0.0), a(1 + dim_);
    for (int q = 0; q < nn_; ++q, ++row) {
      const double s = std::sqrt(lambda[2] * b.w[q] / n_neumann());
      const double* h = hf ? flux_jets_.data() + static_cast<std::size_t>(q) * hf->stride() : nullptr;
      const double r0 = flux_residual(b, q, dim_, hf, h, zero.data(), 1, a.data());
      for (int j = 0; j < w; ++j) {
        double v = 0;
        for (int c = 0; c <= dim_; ++c) v += a[c] * double(H_(q, c, j));
        A(row, j) = s * v;
      }
      A(row, w) = s * a[0];  // the output bias moves N's value only
      rhs(row) = -s * r0;
    }
  }
  Eigen::VectorXd theta;
  if (sharded()) {
    theta = solve_rows_parallel(A, rhs, row, modes_row0, mode_rows ? n_modes_ : 0, ridge);
  } else {
    const double mean_sq = A.topRows(row).colwise().squaredNorm().mean();
    const double reg = std::sqrt(ridge * std::max(mean_sq, 1e-300));
    for (int j = 0; j <= w; ++j, ++row) A(row, j) = reg;
    theta = A.householderQr().solve(rhs);
  }
  if (!theta.allFinite()) throw Error("least_squares: the solve gave non-finite weights (the features are degenerate)");
  for (int j = 0; j < w; ++j) params(H + j) = T(theta(j));
  params(H + w) = T(theta(w));
}

template <class T>
Eigen::VectorXd PinnObjective<T>::solve_rows_parallel(Eigen::MatrixXd& A, Eigen::VectorXd& rhs, int rows,
                                                      int modes_row0, int n_mode_rows, double ridge) const {
  // The least-squares solution depends on [A b] only through its Gram matrix, which the
  // triangular factor R of [A b] = Q R keeps: stacking every rank's R (TSQR) and the mode
  // rows (sums over every rank's points, so summed over the ranks) gives the problem of
  // one process. The stack is the same on every rank, so is its solution.
  const int c = static_cast<int>(A.cols());  // w + 1
  const int c1 = c + 1;                      // with the right-hand side
  Eigen::MatrixXd point_rows(rows - n_mode_rows, c1);
  for (int r = 0, k = 0; r < rows; ++r) {
    if (r >= modes_row0 && r < modes_row0 + n_mode_rows) continue;
    point_rows.row(k).head(c) = A.row(r);
    point_rows(k++, c) = rhs(r);
  }
  std::vector<double> tri(static_cast<std::size_t>(c1) * c1, 0.0);  // R, row-major, zero-padded
  if (point_rows.rows() > 0) {
    const Eigen::HouseholderQR<Eigen::MatrixXd> qr(point_rows);
    const Eigen::MatrixXd& m = qr.matrixQR();
    for (int i = 0; i < std::min<int>(c1, static_cast<int>(m.rows())); ++i)
      for (int j = i; j < c1; ++j) tri[static_cast<std::size_t>(i) * c1 + j] = m(i, j);
  }
  const std::vector<double> stack = comm_->gather_all(tri);
  std::vector<double> modes(static_cast<std::size_t>(n_mode_rows) * c1);
  for (int m = 0; m < n_mode_rows; ++m) {
    for (int j = 0; j < c; ++j) modes[static_cast<std::size_t>(m) * c1 + j] = A(modes_row0 + m, j);
    modes[static_cast<std::size_t>(m) * c1 + c] = rhs(modes_row0 + m);
  }
  comm_->sum(modes);
  const int ns = comm_->size() * c1, top = ns + n_mode_rows;
  Eigen::MatrixXd B = Eigen::MatrixXd::Zero(top + c, c1);
  for (int i = 0; i < ns; ++i)
    for (int j = 0; j < c1; ++j) B(i, j) = stack[static_cast<std::size_t>(i) * c1 + j];
  for (int m = 0; m < n_mode_rows; ++m)
    for (int j = 0; j < c1; ++j) B(ns + m, j) = modes[static_cast<std::size_t>(m) * c1 + j];
  // the ridge of one process: its column norms are those of the stack (Q is orthogonal)
  const double mean_sq = B.topRows(top).leftCols(c).colwise().squaredNorm().mean();
  const double reg = std::sqrt(ridge * std::max(mean_sq, 1e-300));
  for (int j = 0; j < c; ++j) B(top + j, j) = reg;
  return B.leftCols(c).householderQr().solve(B.col(c));
}

template std::pair<std::size_t, std::size_t> PinnObjective<float>::projected_range() const;
template std::pair<std::size_t, std::size_t> PinnObjective<double>::projected_range() const;
template void PinnObjective<float>::project(const Vec<float>&, const std::vector<double>&, double);
template void PinnObjective<double>::project(const Vec<double>&, const std::vector<double>&, double);
template Eigen::VectorXd PinnObjective<float>::solve_rows_parallel(Eigen::MatrixXd&, Eigen::VectorXd&, int, int, int,
                                                                   double) const;
template Eigen::VectorXd PinnObjective<double>::solve_rows_parallel(Eigen::MatrixXd&, Eigen::VectorXd&, int, int, int,
                                                                    double) const;

}  // namespace kpde::pinn
