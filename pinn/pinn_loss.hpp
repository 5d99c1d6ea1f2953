#pragma once
/// The PINN loss of a data::Problem (DESIGN.md 2):
///
///   L(theta) = l_r / N_r sum_p r(x_p)^2                               interior points
///            + l_D / N_D sum_q w_q (u(x_q) - g(x_q))^2                Dirichlet points
///            + l_N / N_N sum_q w_q (alpha u + beta n.grad u - g)^2    Neumann/Robin points
///   r(x) = R[u](x) - f(x), R the problem's operator (linear terms sum_k c_k(x) D_k u, or
///   the nonlinear residual expression), w_q the weight of the point's condition, l_*
///   the term weights (config weights times the automatic balancing factors).
///
/// Low modes of the residual (TrainingSettings::residual_modes = n > 0): the residual
/// term becomes
///   (1/N_r) sum_p r_p^2 + w sum_m w_m c_m^2,   c_m = (1/N_r) sum_p r_p phi_m(x_p),
///   phi_m(x) = prod_a psi_{k_a}((x_a - lo_a) / (hi_a - lo_a)), k in {0..n-1}^d,
///   psi_0 = 1, psi_k(t) = sqrt(2) cos(k pi t)   ([lo, hi] the bounding box of Omega),
///   w_m = 1 / (1 + |k|^2)^2,
/// so a residual that is one smooth mode counts (1 + w w_m) times. Why: for u + lap u = f
/// at high frequency an error e = cos(pi x/2) cos(pi y/2) leaves the residual
/// (1 - pi^2/2) e, while the oscillating part of u is scaled by 1 - 200 pi^2: the plain
/// mean square barely sees the smooth error, and the optimiser leaves it. w_m ~ |k|^-4
/// undoes a second-order operator's |k|^2 on the low modes, so that their errors weigh
/// alike (the mean square of L^-1 r is the squared error). The exact solution still has
/// zero loss. The c_m of the current parameters enter every point's adjoint,
///   dL/dr_p = (2/N_r) (r_p + w sum_m w_m c_m phi_m(x_p)),
/// so this pass is a forward keeping its blocks, then a backward (not fused).
///
/// The interior pass carries only the channels the operator needs (nn::ChannelSpec):
/// for constant coefficients and no mixed derivative the second-order terms collapse
/// into one channel sum_i c_ii u_ii (ChannelSpec::laplacian); variable coefficients
/// take the diagonal channels; u_xy takes the full Hessian. Boundary passes carry u
/// (Dirichlet) or u and grad u (Neumann, Robin). Each pass is one fused
/// nn::Network::forward_backward: nothing of size N is stored between forward and
/// backward.
#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "data/residual.hpp"
#include "mesh/sampling.hpp"
#include "nn/network.hpp"
#include "pinn/settings.hpp"

namespace kpde::pinn {

/// Loss terms (unweighted means: the sums above without l_*).
struct LossTerms {
  double residual = 0, dirichlet = 0, neumann = 0;
  double& operator[](int k) { return k == 0 ? residual : k == 1 ? dirichlet : neumann; }
  double operator[](int k) const { return k == 0 ? residual : k == 1 ? dirichlet : neumann; }
};
constexpr int kTerms = 3;
constexpr const char* kTermNames[kTerms] = {"residual", "dirichlet", "neumann"};

template <class T>
class PinnLoss {
 public:
  /// Keeps references to problem and net (they must outlive this object).
  PinnLoss(const data::Problem& problem, const nn::Network<T>& net, const TrainingSettings& settings);

  /// Draws fresh collocation points: interior by settings.method and boundary points on
  /// the parts that carry conditions, seeded by (settings.seed, round).
  void sample(std::uint64_t round);
  /// Replaces the interior points ([n][dim], inside Omega) and recomputes f and the
  /// coefficients there.
  void set_interior(const Mat<const double>& x);
  /// Replaces the boundary points (x, normals, part ids) and recomputes the targets.
  void set_boundary(const mesh::BoundarySamples& b);
  const Mat<double>& interior() const { return x_int_; }
  const mesh::BoundarySamples& boundary() const { return bnd_; }
  int n_interior() const { return static_cast<int>(x_int_.extent(0)); }
  int n_dirichlet() const { return targets_.dirichlet.size(); }
  int n_neumann() const { return targets_.flux.size(); }
  /// Whether a term has points.
  bool has_term(int k) const { return k == 0 ? n_interior() > 0 : k == 1 ? n_dirichlet() > 0 : n_neumann() > 0; }

  /// Term weights l_* (residual, dirichlet, neumann).
  std::array<double, kTerms> lambda{1, 1, 1};

  /// L(theta) (returned), its gradient (written into grad, length n_params) and the
  /// unweighted terms. With term_grads (3 buffers of n_params), also the gradient of each
  /// unweighted term (for balancing); grad is then sum_k l_k term_grads[k].
  double loss_and_grad(const Vec<const T>& params, const Vec<T>& grad, LossTerms* terms,
                       std::array<Vec<T>, kTerms>* term_grads = nullptr);

  /// The total from the unweighted terms and their gradients with the current weights:
  /// grad = sum_k lambda_k term_grads[k], returns sum_k lambda_k t[k] (what
  /// loss_and_grad returns). Lets a caller change lambda without a new network pass.
  double combine(const std::array<Vec<T>, kTerms>& term_grads, const LossTerms& t, const Vec<T>& grad) const;

  /// u and the residual r = R[u] - f at points x [n][dim] (any points; f and the
  /// coefficients are evaluated there). u and r get n entries each.
  void evaluate(const Vec<const T>& params, const Mat<const double>& x, std::vector<double>* u,
                std::vector<double>* r) const;

  /// Least-squares solve for the output layer (linear operators only): with the hidden
  /// layers fixed, u = sum_j W_j h_j + b is linear in (W, b), so is every term of L;
  /// minimises L + ridge * mean(diag A'A) |(W, b)|^2 exactly (Householder QR of the
  /// weighted rows) and writes W, b into params. Throws kpde::Error when the solve
  /// is not finite.
  void solve_output_layer(const Vec<T>& params, double ridge);
  /// Offset and length of the output layer's weights and bias in the parameter buffer.
  std::pair<std::size_t, std::size_t> output_layer() const;

  /// Weight w of the residual modes from now on (TrainingSettings::modes_weight at
  /// construction; a stage may set its own). 0 turns the modes off; a positive weight
  /// needs TrainingSettings::residual_modes > 0 (kpde::InputError).
  void set_modes_weight(double w);
  double modes_weight() const { return modes_weight_; }

  /// Channels of the interior pass.
  const nn::ChannelSpec& interior_channels() const { return ch_int_; }
  /// GEMM flops of one loss_and_grad.
  double flops() const;

 private:
  struct Interior {
    Mat<T> x;                     // [N][d] network inputs
    data::Residual::Points pts;   // f, coefficients, hard-Dirichlet jets
    std::vector<double> modes;    // [N][n_modes_]: phi_m(x_p) (residual modes)
  };

  Interior make_interior(const Mat<const double>& x) const;

  const data::Problem& problem_;
  const nn::Network<T>& net_;
  TrainingSettings settings_;
  int dim_;
  data::Residual residual_;
  nn::ChannelSpec ch_int_, ch_d_, ch_n_;
  Mat<double> x_int_;
  mesh::BoundarySamples bnd_;
  Interior int_;
  data::BoundaryTargets targets_;
  Mat<T> x_d_, x_n_;                             // network inputs of the Dirichlet and flux points
  nn::Workspace<T> ws_int_, ws_d_, ws_n_;
  std::shared_ptr<const nn::Network<T>> fnet_;  // hidden features as outputs (least squares)
  bool hard_ = false;                            // TrainingSettings::hard_dirichlet
  int n_modes_ = 0;                              // n^d residual modes (0: off)
  double modes_weight_ = 0;                      // w (0: off)
  bool modes_on() const { return n_modes_ > 0 && modes_weight_ > 0; }
  std::vector<double> mode_w_;                   // [n_modes_]: w_m = 1 / (1 + |k|^2)^2
  /// The residual term with modes and its gradient (into grad [1][n_params]): one
  /// forward pass keeping its blocks, then c_m = (1/N) sum_p r_p phi_m(x_p), the
  /// adjoints, one backward pass.
  double residual_with_modes(const Mat<const T>& params, const Mat<T>& grad);
};

extern template class PinnLoss<float>;
extern template class PinnLoss<double>;

}  // namespace kpde::pinn
