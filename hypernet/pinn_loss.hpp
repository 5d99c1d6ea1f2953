#pragma once
/// The losses of emitted PINNs (HyPINO's physics and supervised terms) and the
/// least-squares output layer, with their gradients with respect to the emitted
/// parameters.
///
/// One sample s: points x_p (canonical coordinates), interior points first, then
/// boundary points; data normalised by the sample's scale sigma (so that a linear
/// problem's solution is sigma times the normalised one). The basis network
/// (target.hpp) gives Phi_p = [H_j, dH_j/dx, dH_j/dy, d2H_j/dx2, d2H_j/dy2]_{j<32} at every
/// point. With an output layer theta = (w, b) in R^33 the PINN is u = w . H + b, and
///   L theta at p = sum_c C_c (Phi_p,c . w) + c_u b    (C = (c_u, c_ux, c_uy, c_uxx, c_uyy)).
///
/// Two output layers are judged:
///  - the emitted one (the heads' W_o, b_o): Huber terms
///      residual  = mean_interior rho(L u - f),   dirichlet = mean rho(u - g),
///      neumann   = mean rho(n . grad u - h),      value = mean rho((u - u*) / s),
///      gradient  = mean over (x, y) of mean rho((u_i - u*_i) / s),
///      hessian   = mean over (xx, yy) of mean rho((u_ii - u*_ii) / s)
///    (* : the known solution; s = RMS of u* over the sample's interior points + 1e-3, so
///    the supervised terms do not depend on the sample's scale)
///  - the least-squares one theta* = argmin E(theta), E = |A theta - b|^2 + mu |theta|^2,
///    rows sqrt(w_R / N_R) (L theta - f), sqrt(w_D / N_D) (u - g), sqrt(w_N / N_N) (n . grad u - h),
///    mu = ridge (trace(A^T A) / 33 + 1e-12): terms ls_fit = E(theta*), ls_value and
///    ls_gradient (as value and gradient, with theta*). theta* depends on Phi; the gradient
///    goes through it exactly (implicit differentiation of the normal equations).
/// Supervised terms are 0 for samples without a known solution. Every term is the mean
/// over the samples of the batch.
#include <array>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "hypernet/target.hpp"
#include "nn/network.hpp"

namespace kpde::hypernet {

/// Points and normalised data of one sample.
struct SamplePoints {
  std::array<double, 5> coefficients{};  ///< c_u, c_ux, c_uy, c_uxx, c_uyy
  double scale = 1;                      ///< sigma: data and solution are divided by it
  int n_interior = 0, n_boundary = 0;
  std::vector<double> x;       ///< [n_interior + n_boundary][2]
  std::vector<double> f;       ///< [n_interior] source / sigma
  std::vector<double> truth;   ///< [n_interior][5] (u, u_x, u_y, u_xx, u_yy) / sigma; empty: unknown
  std::vector<double> g;       ///< [n_boundary] Dirichlet value / sigma, NaN: no Dirichlet row there
  std::vector<double> h;       ///< [n_boundary] Neumann value / sigma, NaN: no Neumann row there
  std::vector<double> normal;  ///< [n_boundary][2] outward unit normal (Neumann rows)
  int n_points() const { return n_interior + n_boundary; }
};

/// Settings of the losses.
struct LossSettings {
  double huber_delta = 1;      ///< rho(r) = r^2/2 for |r| <= delta, delta (|r| - delta/2) beyond
  double ls_residual = 1;      ///< w_R of the least-squares rows
  double ls_dirichlet = 10;    ///< w_D
  double ls_neumann = 3;       ///< w_N
  double ridge = 1e-6;         ///< relative ridge of the least-squares fit
};

/// Names of the terms, in order.
const std::vector<std::string>& loss_term_names();
constexpr int kLossTerms = 9;

/// The least-squares output layer of one sample (33 numbers, normalised units) from the
/// basis channels phi [N][5][32]; E(theta*) into *fit when given.
std::array<double, kOut> least_squares_output(const SamplePoints& s, const double* phi, const LossSettings& settings,
                                              double* fit = nullptr);

/// The joint least-squares output layers of M networks' basis channels phis[m]
/// [N][5][32] (the rows as above over 32 M columns and one shared bias): theta
/// [32 M + 1], network m's weights at 32 m, the bias last; E(theta*) into *fit.
std::vector<double> least_squares_joint(const SamplePoints& s, const std::vector<const double*>& phis,
                                        const LossSettings& settings, double* fit = nullptr);

/// The losses of a batch of emitted PINNs.
template <class T>
class EmittedLoss {
 public:
  explicit EmittedLoss(LossSettings settings = {});
  const LossSettings& settings() const { return settings_; }

  /// targets [B][5409] (target.hpp layout, normalised units), one sample per row ->
  /// terms[k] (mean over samples) and returns sum_k weights[k] terms[k]; with d_targets
  /// (extent 0 to skip) writes d(returned value)/d(targets) [B][5409]. ls_out (optional,
  /// B entries) receives the least-squares output layers.
  double evaluate(const Mat<const T>& targets, const std::vector<const SamplePoints*>& samples,
                  const std::vector<double>& weights, std::vector<double>& terms, const Mat<T>& d_targets,
                  std::vector<std::array<double, kOut>>* ls_out = nullptr);

 private:
  LossSettings settings_;
  nn::Network<T> basis_;
  nn::Workspace<T> ws_;
};

extern template class EmittedLoss<float>;
extern template class EmittedLoss<double>;

}  // namespace kpde::hypernet
