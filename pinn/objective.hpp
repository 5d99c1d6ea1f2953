#pragma once
/// The PINN objective of a data::Problem (train::Objective), three named terms:
///
///   residual   1/N_r sum_p r(x_p)^2                               interior points
///   dirichlet  1/N_D sum_q w_q (u(x_q) - g(x_q))^2                Dirichlet points
///   neumann    1/N_N sum_q w_q (alpha u + beta n.grad u - g)^2    Neumann/Robin points
///
/// r = R[u] - f (data::Residual), w_q the weight of the point's condition. The trainer
/// weighs the terms (training.weights, balancing).
///
/// Low modes of the residual (PinnSettings::residual_modes = n > 0): the residual term
/// becomes
///   (1/N_r) sum_p r_p^2 + w sum_m w_m c_m^2,   c_m = (1/N_r) sum_p r_p phi_m(x_p),
///   phi_m(x) = prod_a psi_{k_a}((x_a - lo_a) / (hi_a - lo_a)), k in {0..n-1}^d,
///   psi_0 = 1, psi_k(t) = sqrt(2) cos(k pi t)   ([lo, hi] the bounding box of Omega),
///   w_m = 1 / (1 + |k|^2)^2,
/// so a residual that is one smooth mode counts (1 + w w_m) times (docs/design.md, "Two
/// training rules and why"). Its adjoint is
///   dL/dr_p = (2/N_r) (r_p + w sum_m w_m c_m phi_m(x_p)),
/// so that pass is a forward keeping its blocks, then a backward (not fused).
///
/// The interior pass carries only the channels the operator needs
/// (data::Residual::channels()); boundary passes carry u (Dirichlet) or u and grad u
/// (Neumann, Robin). Each pass is one fused nn::Network::forward_backward: nothing of
/// size N is stored between forward and backward.
///
/// Hooks: fresh points every resample_every first-order steps, residual-based adaptive
/// sampling, fresh points for L-BFGS, the output layer by least squares (linear
/// operators), the relative L2 error against the best truth as the monitor
/// (data::truth_sample: exact solution, named, gridded or point reference), the
/// points and the sampling round in checkpoints.
///
/// Data parallelism (distribute(), train/comm.hpp): every rank holds the global point
/// set (the same for any number of ranks: the same seed draws it) and evaluates its
/// contiguous shard of the interior points and of the boundary points; the means divide
/// by the global counts, so the trainer's sum of the ranks' shares is the loss of one
/// process. With set_local_points(true) the points given to set_interior()/set_boundary()
/// are this rank's own (an HPC code's local points) and the counts are summed over the
/// ranks. Setting points is then collective: every rank calls it at the same time.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <Eigen/Dense>

#include "core/types.hpp"
#include "data/problem.hpp"
#include "data/report.hpp"
#include "data/residual.hpp"
#include "mesh/sampling.hpp"
#include "nn/network.hpp"
#include "pinn/settings.hpp"
#include "train/comm.hpp"
#include "train/objective.hpp"

namespace kpde::pinn {

/// Indices of the terms.
enum Term : int { kResidual = 0, kDirichlet = 1, kNeumann = 2 };

template <class T>
class PinnObjective : public train::Objective<T> {
 public:
  /// Keeps references to problem and net (they must outlive this object). No points
  /// yet: sample() or set_interior()/set_boundary() first.
  PinnObjective(const data::Problem& problem, const nn::Network<T>& net, const PinnSettings& settings);

  // ---- train::Objective ---------------------------------------------------------------
  std::size_t n_params() const override { return static_cast<std::size_t>(net_.n_params()); }
  std::vector<std::string> term_names() const override { return {"residual", "dirichlet", "neumann"}; }
  bool term_active(int k) const override;
  void evaluate(const Vec<const T>& params, std::vector<double>& terms, std::vector<Vec<T>>& term_grads) override;
  void begin_stage(int index) override;
  void before_step(long step_in_stage, const Vec<const T>& params) override;
  void resample() override { sample(++round_); }
  bool can_project() const override { return !problem_.nonlinear && !settings_.residual_weight; }
  /// Least-squares solve for the output layer (linear operators only): with the hidden
  /// layers fixed, u = sum_j W_j h_j + b is linear in (W, b), so is every term; minimises
  /// sum_k weights_k L_k + ridge * mean(diag A'A) |(W, b)|^2 exactly (Householder QR of
  /// the weighted rows) and writes W, b into params. Throws kpde::Error when the solve
  /// is not finite, InputError for a nonlinear operator.
  void project(const Vec<T>& params, const std::vector<double>& weights, double ridge) override;
  /// Offset and length of the output layer's weights and bias in the parameter buffer.
  std::pair<std::size_t, std::size_t> projected_range() const override;
  std::vector<std::string> monitor_names() const override;
  /// rel_l2 against the exact solution at 4096 fixed (unscrambled Sobol) points of Omega.
  std::vector<double> monitor(const Vec<const T>& params) override;
  /// The sampling round (attribute) and the points: interior [n][d], boundary [m][d],
  /// normal [m][d], part [m].
  void save_state(io::H5File& file, const std::string& group) const override;
  void load_state(const io::H5File& file, const std::string& group) override;
  /// The ranks of a data-parallel run (see above); always accepted.
  bool distribute(const train::Comm& comm) override;
  std::string divergence_hint() const override {
    return "a source, coefficient or boundary value that is not finite at some point also does this";
  }

  // ---- points -------------------------------------------------------------------------
  /// Draws fresh collocation points: interior by settings.method and boundary points on
  /// the parts that carry conditions, seeded by (settings.seed, round).
  void sample(std::uint64_t round);
  /// Replaces the interior points ([n][dim], inside Omega) and recomputes f and the
  /// coefficients there.
  void set_interior(const Mat<const double>& x);
  /// Replaces the boundary points (x, normals, part ids) and recomputes the targets.
  void set_boundary(const mesh::BoundarySamples& b);
  /// Whether set_interior()/set_boundary() take this rank's own points (true) or the
  /// global set of which this rank takes its shard (false, the default). Only with a
  /// parallel comm (distribute()); call it before setting points.
  void set_local_points(bool local) { local_points_ = local; }
  /// The points given to set_interior()/set_boundary() (global, or this rank's own).
  const Mat<double>& interior() const { return x_int_; }
  const mesh::BoundarySamples& boundary() const { return bnd_; }
  /// Point counts over every rank (the denominators of the means).
  int n_interior() const { return n_global_[0]; }
  int n_dirichlet() const { return n_global_[1]; }
  int n_neumann() const { return n_global_[2]; }
  /// The points this rank evaluates.
  int n_interior_here() const { return static_cast<int>(int_.x.extent(0)); }

  /// u and the residual r = R[u] - f at points x [n][dim] (any points; f and the
  /// coefficients are evaluated there). u and r get n entries each.
  void evaluate_points(const Vec<const T>& params, const Mat<const double>& x, std::vector<double>* u,
                       std::vector<double>* r) const;

  /// Weight w of the residual modes from now on (PinnSettings::modes_weight at
  /// construction; begin_stage() sets a stage's own). 0 turns the modes off; a positive
  /// weight needs PinnSettings::residual_modes > 0 (kpde::InputError).
  void set_modes_weight(double w);
  double modes_weight() const { return modes_weight_; }

  /// Channels of the interior pass.
  const nn::ChannelSpec& interior_channels() const { return ch_int_; }
  const data::Residual& residual() const { return residual_; }
  /// GEMM flops of one evaluate().
  double flops() const;

 private:
  struct Interior {
    Mat<T> x;                     // [N][d] network inputs
    data::Residual::Points pts;   // f, coefficients, hard-Dirichlet jets
    std::vector<double> modes;    // [N][n_modes_]: phi_m(x_p) (residual modes)
    std::vector<double> w;        // [N] training.residual_weight (empty: 1)
  };

  Interior make_interior(const Mat<const double>& x) const;
  /// One adaptive round: a share of the interior points are the candidates with the
  /// largest |r|, the rest fresh points of the sampler.
  void adaptive_round(const Vec<const T>& params, std::uint64_t round);
  /// The residual term with modes and its gradient (into grad [1][n_params]): one
  /// forward pass keeping its blocks, then c_m, the adjoints, one backward pass.
  double residual_with_modes(const Mat<const T>& params, const Mat<T>& grad);
  bool modes_on() const { return n_modes_ > 0 && modes_weight_ > 0; }
  bool sharded() const { return comm_ && comm_->parallel(); }
  /// n_global_ from this rank's counts (summed over the ranks when sharded).
  void count_points();
  /// The parallel least-squares solve (least_squares.cpp): [A | b] of this rank's point
  /// rows reduced to its triangular factor, the factors of every rank stacked with the
  /// mode rows (summed) and solved on every rank alike.
  /// A: the rows (rows filled), the mode rows at [modes_row0, + n_mode_rows).
  Eigen::VectorXd solve_rows_parallel(Eigen::MatrixXd& A, Eigen::VectorXd& rhs, int rows, int modes_row0,
                                      int n_mode_rows, double ridge) const;

  const data::Problem& problem_;
  const nn::Network<T>& net_;
  PinnSettings settings_;
  int dim_;
  data::Residual residual_;
  nn::ChannelSpec ch_int_, ch_d_, ch_n_;
  bool hard_ = false;                             // PinnSettings::hard_dirichlet
  // exact Dirichlet data beside Neumann/Robin parts: the transform on value and gradient
  // channels, and its jets at the flux points
  std::optional<data::HardDirichlet> hard_flux_;
  std::vector<double> flux_jets_;                 // [flux points][hard_flux_->stride()]
  // ranks
  const train::Comm* comm_ = nullptr;             // distribute(); null or one rank: no sharding
  bool local_points_ = false;
  std::array<int, 3> n_global_{0, 0, 0};          // interior, Dirichlet, flux points on all ranks
  // points
  std::uint64_t round_ = 0;                       // sampling round (resampling, adaptive)
  Mat<double> x_int_;
  mesh::BoundarySamples bnd_;
  Interior int_;
  data::BoundaryTargets targets_;
  Mat<T> x_d_, x_n_;                              // network inputs of the Dirichlet and flux points
  nn::Workspace<T> ws_int_, ws_d_, ws_n_;
  std::shared_ptr<const nn::Network<T>> fnet_;   // hidden features as outputs (least squares)
  // residual modes
  int n_modes_ = 0;                               // n^d residual modes (0: off)
  double modes_weight_ = 0;                       // w (0: off)
  std::vector<double> mode_w_;                    // [n_modes_]: w_m = 1 / (1 + |k|^2)^2
  // monitor: the truth (exact, named, gridded or point reference) at up to 4096 fixed points
  data::TruthSample monitor_truth_;
};

extern template class PinnObjective<float>;
extern template class PinnObjective<double>;

}  // namespace kpde::pinn
