// The output layer by least squares (PinnObjective::project, objective.hpp).
#include <Eigen/Dense>
#include <cmath>

#include "core/error.hpp"
#include "pinn/objective.hpp"

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

template std::pair<std::size_t, std::size_t> PinnObjective<float>::projected_range() const;
template std::pair<std::size_t, std::size_t> PinnObjective<double>::projected_range() const;
template void PinnObjective<float>::project(const Vec<float>&, const std::vector<double>&, double);
template void PinnObjective<double>::project(const Vec<double>&, const std::vector<double>&, double);

}  // namespace kpde::pinn
