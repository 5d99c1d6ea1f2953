#pragma once
/// The PINN objective of a system of PDEs (data::Problem with fields; train::Objective):
/// one network with one output per field f_1..f_F, and the terms
///
///   <equation e>  1/N_r sum_p r_e(x_p)^2                              for each equation
///   dirichlet     1/N_D sum_q w_q (f_q(x_q) - g(x_q))^2                Dirichlet points
///   neumann       1/N_N sum_q w_q (alpha f_q + beta n.grad f_q - g)^2  Neumann/Robin points
///
/// r_e from data::SystemResidual (an expression over the fields' derivatives, exact
/// d r_e / d channel from its jet), f_q the field point q's condition constrains. The
/// term names are the equations' names, then dirichlet and neumann
/// (training.weights.<name>).
///
/// The weighted loss takes one fused forward-backward pass over the interior points for
/// all equations (evaluate_weighted: the objective weighs its terms); with
/// per_term_gradients (balancing by gradient norms) evaluate() gives each equation's
/// gradient by a pass of its own.
///
/// Points, fresh points (resample_every, L-BFGS), residual-based adaptive sampling (by
/// sum_e r_e^2) and the points in checkpoints are those of the scalar objective
/// (pinn/points.hpp).
///
/// Exact Dirichlet data (settings.hard_dirichlet, on a box whose conditions are all
/// Dirichlet): every field is f_k = g_k + phi_k N_k with N_k the network's output k and
/// g_k, phi_k those of data::HardDirichlet for the conditions of field k (its own
/// constrained sides); the Dirichlet term is then empty.
///
/// Not yet: several MPI ranks, residual modes, the least-squares output layer.
#include <cstdint>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "data/residual.hpp"
#include "data/system_residual.hpp"
#include "mesh/sampling.hpp"
#include "nn/network.hpp"
#include "pinn/settings.hpp"
#include "train/objective.hpp"

namespace kpde::pinn {

template <class T>
class SystemObjective : public train::Objective<T> {
 public:
  /// Keeps references to problem and net (they must outlive this object); net has one
  /// output per field. InputError for settings that systems do not take yet.
  SystemObjective(const data::Problem& problem, const nn::Network<T>& net, const PinnSettings& settings,
                  bool per_term_gradients);

  // ---- train::Objective ---------------------------------------------------------------
  std::size_t n_params() const override { return static_cast<std::size_t>(net_.n_params()); }
  std::vector<std::string> term_names() const override;
  bool term_active(int k) const override;
  void evaluate(const Vec<const T>& params, std::vector<double>& terms, std::vector<Vec<T>>& term_grads) override;
  bool weighs_terms() const override { return !per_term_; }
  double evaluate_weighted(const Vec<const T>& params, const std::vector<double>& weights, std::vector<double>& terms,
                           const Vec<T>& grad) override;
  void before_step(long step_in_stage, const Vec<const T>& params) override;
  void resample() override { sample(++round_); }
  std::vector<std::string> monitor_names() const override;
  /// rel_l2 of each field with an exact solution (rel_l2_<f>; the rms error where that
  /// solution vanishes) at 4096 fixed (unscrambled Sobol) points of Omega, and rel_l2, the
  /// largest of them.
  std::vector<double> monitor(const Vec<const T>& params) override;
  void save_state(io::H5File& file, const std::string& group) const override;
  void load_state(const io::H5File& file, const std::string& group) override;
  std::string divergence_hint() const override {
    return "an equation or boundary value that is not finite at some point also does this";
  }

  // ---- points -------------------------------------------------------------------------
  /// Draws fresh collocation points (pinn/points.hpp, seeded by settings.seed and round).
  void sample(std::uint64_t round);
  /// Replaces the interior points ([n][dim], inside Omega).
  void set_interior(const Mat<const double>& x);
  /// Replaces the boundary points (x, normals, part ids) and recomputes the targets.
  void set_boundary(const mesh::BoundarySamples& b);
  /// The points given to set_interior()/set_boundary().
  const Mat<double>& interior() const { return x_int_; }
  const mesh::BoundarySamples& boundary() const { return bnd_; }
  int n_interior() const { return static_cast<int>(x_int_.extent(0)); }
  int n_dirichlet() const { return targets_.dirichlet.size(); }
  bool hard_dirichlet() const { return !hard_.empty(); }
  int n_neumann() const { return targets_.flux.size(); }

  /// The fields [F][n] and (when r is not null) the residuals [E][n] at points x [n][dim].
  void evaluate_points(const Vec<const T>& params, const Mat<const double>& x, std::vector<std::vector<double>>* fields,
                       std::vector<std::vector<double>>* r) const;
  const data::SystemResidual& residual() const { return residual_; }
  /// GEMM flops of one evaluate_weighted().
  double flops() const;

 private:
  /// The interior term(s): equation `only` (>= 0) or all of them weighted by w (only <
  /// 0); each equation's mean square into terms[e]; the gradient into grad.
  void interior_terms(const Mat<const T>& params, int only, const std::vector<double>& w, std::vector<double>& terms,
                const Mat<T>& grad);
  double dirichlet(const Mat<const T>& params, const Mat<T>& grad, bool accumulate, double weight);
  double neumann(const Mat<const T>& params, const Mat<T>& grad, bool accumulate, double weight);

  const data::Problem& problem_;
  const nn::Network<T>& net_;
  PinnSettings settings_;
  data::SystemResidual residual_;
  bool per_term_ = false;
  int dim_ = 2, F_ = 1, E_ = 1;
  nn::ChannelSpec ch_int_, ch_d_, ch_n_;
  std::uint64_t round_ = 0;
  Mat<double> x_int_;             // [N][d]
  Mat<T> xt_int_;                 // the same in T
  mesh::BoundarySamples bnd_;
  data::BoundaryTargets targets_;
  Mat<T> x_d_, x_n_;
  std::vector<double> sq_;        // [E][N] squared residuals of the last interior pass
  std::vector<data::HardDirichlet> hard_;     // per field (exact Dirichlet data), or empty
  std::vector<std::vector<double>> hard_int_;  // per field: its jets at the interior points
  // exact data beside Neumann/Robin parts: per field, the transform on value and
  // gradient channels and its jets at the flux points
  std::vector<data::HardDirichlet> hard_flux_;
  std::vector<std::vector<double>> flux_jets_;
  std::vector<std::vector<double>> pin_jets_;  // per field: the jets at the Dirichlet points (pins)
  std::vector<double> w_int_;                  // training.residual_weight at the interior points (empty: 1)
  /// The fields' channels at point p of a block (N's channels y; with hard_ through
  /// f = g + phi N, jets[k] the points' jets of field k) into u [C][F] (np = 1 layout).
  template <class Y>
  void field_channels(const double* const* jets, const Y* y, int np, int p, double* u) const;
  /// The jets of every field's transform at points x (empty without hard_).
  std::vector<std::vector<double>> hard_jets(const Mat<const double>& x) const;
  nn::Workspace<T> ws_int_, ws_d_, ws_n_;
  // monitor: the exact fields at up to 4096 fixed points
  Mat<double> monitor_x_;
  std::vector<std::vector<double>> monitor_u_;  // [F][n] (empty for a field without exact)
};

extern template class SystemObjective<float>;
extern template class SystemObjective<double>;

}  // namespace kpde::pinn
