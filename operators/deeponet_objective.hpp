#pragma once
/// The losses of a DeepONet (deeponet.hpp) on aligned data, as a train::Objective:
///
///   data     = 1/(|batch| P n_out) sum_{b in batch} sum_{j<P} sum_o (G(u_b)(y_j)_o M_bj - s_b(y_j)_o)^2
///              (M the output mask of the data, MT-DeepONet's geometry; 1 without one);
///              with the relative loss (set_relative_loss) each sample's squared error
///              is divided by its target's: 1/|batch| sum_b ||G M - s_b||^2 / ||s_b||^2,
///              the square of the relative L2 error the test reports
///   residual = 1/(|batch| m) sum_b sum_{j<m} r_bj^2,  r_bj = R[G(u_b)](x_j) - f(x_j) - u_b(x_j)
///   boundary = 1/(|batch| n_b) sum_b sum_q w_q e_bq^2, e = G(u_b) - g (Dirichlet) or
///              alpha G + beta n.grad G - g (Neumann, Robin)
///
/// data alone is `deeponet`; residual and boundary (operator_physics.hpp, no solution
/// data at all) are `pi_deeponet`; all three are possible.
///
/// over a mini-batch of the training samples (a fresh batch before every first-order
/// step, shuffled epochs: data::BatchSampler), or over every sample when no batch was
/// drawn in the running stage (L-BFGS). The monitor is the test
/// set's mean relative L2 error, test_rel_l2 = mean_b ||G(u_b) - s_b|| / ||s_b||.
/// Several ranks (distribute): each takes its contiguous share of the batch.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "data/dataset.hpp"
#include "operators/deeponet.hpp"
#include "operators/operator_data.hpp"
#include "operators/operator_physics.hpp"
#include "train/comm.hpp"
#include "train/objective.hpp"

namespace kpde::operators {

/// Relative L2 errors ||G(u_b) - s_b|| / ||s_b|| of every sample of `data` (batches of 256).
template <class T>
std::vector<double> relative_errors(const DeepOnet<T>& net, const T* params, const OperatorData& data);

template <class T>
class DeepOnetObjective : public train::Objective<T> {
 public:
  /// net, train, test and physics must outlive the objective. Without physics: the data
  /// term alone; with physics: residual and boundary, and data too when with_data.
  DeepOnetObjective(const DeepOnet<T>& net, const OperatorData& train, const OperatorData& test, long batch,
                    std::uint64_t seed, const OperatorPhysics* physics = nullptr, bool with_data = true);
  std::size_t n_params() const override { return net_.n_params(); }
  /// The data term as the mean squared relative error of the samples (training.loss: relative).
  void set_relative_loss(bool on) { relative_ = on; }
  std::vector<std::string> term_names() const override;
  void evaluate(const Vec<const T>& params, std::vector<double>& terms, std::vector<Vec<T>>& term_grads) override;
  /// A stage starts on every sample (L-BFGS: full batch); first-order stages draw their
  /// batches in before_step.
  void begin_stage(int) override { batch_.clear(); }
  void before_step(long step_in_stage, const Vec<const T>& params) override;
  bool distribute(const train::Comm& comm) override {
    comm_ = &comm;
    return true;
  }
  std::vector<std::string> monitor_names() const override;
  std::vector<double> monitor(const Vec<const T>& params) override;
  /// The batches drawn so far (the sampler replays them on load).
  void save_state(io::H5File& file, const std::string& group) const override;
  void load_state(const io::H5File& file, const std::string& group) override;
  long batches_drawn() const { return sampler_->drawn(); }

 private:
  const DeepOnet<T>& net_;
  const OperatorData& train_;
  const OperatorData& test_;
  long batch_size_;
  std::unique_ptr<data::BatchSampler> sampler_;
  std::vector<long> batch_;  ///< empty: every sample
  const train::Comm* comm_ = nullptr;
  const OperatorPhysics* physics_;
  bool with_data_;
  bool relative_ = false;
  std::vector<double> target_norm2_;  ///< [N] ||s_b||^2 of the training samples
  typename DeepOnet<T>::Cache cache_;
  /// this rank's samples `mine` of a batch of B: the physics terms into terms[k], grad[k]
  void physics_terms(const Vec<const T>& params, const std::vector<long>& mine, long B, const Mat<const T>& u,
                     std::vector<double>& terms, std::vector<Vec<T>>& tg, int k);
};

extern template class DeepOnetObjective<float>;
extern template class DeepOnetObjective<double>;

}  // namespace kpde::operators
