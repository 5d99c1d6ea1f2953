#pragma once
/// What train::Trainer minimises (docs/design.md, "One trainer"): a loss over one flat
/// parameter buffer theta [n_params] made of named terms,
///   L(theta) = sum_k lambda_k L_k(theta),
/// whose weights lambda_k belong to the trainer (configured, or balanced by gradient
/// norms). A method (PINN, DeepONet, MgNO, the hypernetwork) implements evaluate() and
/// whichever hooks it needs; the trainer brings the stages (Adam, L-BFGS, least
/// squares, ...), checkpoints, stop criteria, history and progress.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/types.hpp"

namespace kpde::io {
class H5File;
}

namespace kpde::train {

class Comm;

template <class T>
class Objective {
 public:
  virtual ~Objective() = default;

  /// Length of the parameter buffer.
  virtual std::size_t n_params() const = 0;
  /// Names of the terms ("residual", "dirichlet", ...), fixed for the objective's life;
  /// they name the weights in configs (training.weights.<name>), checkpoints and history.
  virtual std::vector<std::string> term_names() const = 0;
  /// Whether term k measures anything now (points, samples). Inactive terms are 0;
  /// balancing skips them and progress lines leave them out.
  virtual bool term_active(int k) const { return true; }

  /// L_k(theta) into terms[k] and dL_k/dtheta into term_grads[k] for every term k
  /// (terms and term_grads have one entry per term; each gradient n_params long,
  /// allocated by the caller and overwritten).
  virtual void evaluate(const Vec<const T>& params, std::vector<double>& terms, std::vector<Vec<T>>& term_grads) = 0;

  /// Whether the objective weighs its terms itself (evaluate_weighted): one reverse pass
  /// for the weighted sum instead of one per term, for methods whose reverse pass is
  /// expensive (the hypernetwork's encoder). Balancing by gradient norms needs the
  /// per-term gradients and is refused for such an objective.
  virtual bool weighs_terms() const { return false; }
  /// terms[k] = L_k(theta) and grad = sum_k weights[k] dL_k/dtheta (overwritten);
  /// returns sum_k weights[k] L_k. Only when weighs_terms().
  virtual double evaluate_weighted(const Vec<const T>& params, const std::vector<double>& weights,
                                   std::vector<double>& terms, const Vec<T>& grad) {
    throw Error("this objective does not weigh its terms itself");
  }

  /// Data parallelism (train/comm.hpp): from now on evaluate() and evaluate_weighted()
  /// give this rank's share of every term and gradient (its shard of the global points or
  /// samples, scaled by the global counts) and the trainer sums the shares over the ranks;
  /// project() and monitor() must give the same result on every rank (they may call comm's
  /// collectives). The comm outlives the objective's use. Returns false when the objective
  /// cannot run on several ranks (the trainer then refuses a parallel run).
  virtual bool distribute(const Comm& comm) { return false; }

  // ---- hooks (the defaults do nothing) ---------------------------------------------------

  /// Called when stage `index` (0-based) starts or resumes.
  virtual void begin_stage(int index) {}
  /// Called before first-order step k (0-based within the stage) at params: fresh
  /// collocation points, the next mini-batch, adaptive sampling.
  virtual void before_step(long step_in_stage, const Vec<const T>& params) {}
  /// Fresh points now (an L-BFGS stage with resample_every).
  virtual void resample() { throw InputError("this objective cannot draw fresh points (resample_every)"); }

  /// Whether project() exists: a block of theta (projected_range) in which every term is
  /// a linear least-squares problem, so it can be solved exactly.
  virtual bool can_project() const { return false; }
  /// Writes the minimiser of sum_k weights_k L_k + ridge-regularisation over the block
  /// into params (the rest of params fixed).
  virtual void project(const Vec<T>& params, const std::vector<double>& weights, double ridge) {
    throw InputError("this objective has no least-squares projection");
  }
  /// Offset and length of that block in theta.
  virtual std::pair<std::size_t, std::size_t> projected_range() const { return {0, 0}; }

  /// Names of the quantities monitor() measures (empty: nothing to monitor).
  virtual std::vector<std::string> monitor_names() const { return {}; }
  /// Measurements at params, one per monitor name (e.g. the error against an exact
  /// solution), recorded every training.monitor_every steps.
  virtual std::vector<double> monitor(const Vec<const T>& params) { return {}; }

  /// Extra state a resumed run needs (collocation points, counters), in `group` of a
  /// checkpoint file.
  virtual void save_state(io::H5File& file, const std::string& group) const {}
  virtual void load_state(const io::H5File& file, const std::string& group) {}

  /// A sentence appended to the message of a diverged run (what else causes it).
  virtual std::string divergence_hint() const { return ""; }
};

}  // namespace kpde::train
