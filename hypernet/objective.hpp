#pragma once
/// The training objective of the hypernetwork (train::Objective over the model's flat
/// parameters): every step a batch of pool samples goes through the model, the emitted
/// PINNs are judged by EmittedLoss (pinn_loss.hpp) and the gradient goes back through
/// the heads into the encoder. The objective weighs its terms itself (one reverse pass).
/// Monitors: the same terms on a fixed validation set (val_*), without the weights.
#include <memory>
#include <string>
#include <vector>

#include "hypernet/model.hpp"
#include "hypernet/pinn_loss.hpp"
#include "hypernet/pool.hpp"
#include "train/comm.hpp"
#include "train/objective.hpp"

namespace kpde::hypernet {

struct ObjectiveSettings {
  ModelSpec model;
  PoolSettings data;
  LossSettings loss;
  int batch = 16;
  int validation = 32;          ///< validation samples (another stream of the generator)
  std::uint64_t model_seed = 1;
};

template <class T>
class HypernetObjective : public train::Objective<T> {
 public:
  explicit HypernetObjective(const ObjectiveSettings& settings);
  const Model<T>& model() const { return model_; }
  std::size_t n_params() const override { return model_.n_params(); }
  std::vector<std::string> term_names() const override { return loss_term_names(); }
  bool weighs_terms() const override { return true; }
  double evaluate_weighted(const Vec<const T>& params, const std::vector<double>& weights, std::vector<double>& terms,
                           const Vec<T>& grad) override;
  void evaluate(const Vec<const T>&, std::vector<double>&, std::vector<Vec<T>>&) override {
    throw Error("the hypernetwork objective weighs its terms itself (evaluate_weighted)");
  }
  /// Several ranks: each takes its contiguous share of every batch (the same batch on
  /// every rank: the pool is drawn alike everywhere); the validation monitor runs on all.
  bool distribute(const train::Comm& comm) override {
    comm_ = &comm;
    return true;
  }
  void before_step(long step_in_stage, const Vec<const T>& params) override;
  void begin_stage(int index) override { stage_ = index; }
  std::vector<std::string> monitor_names() const override;
  std::vector<double> monitor(const Vec<const T>& params) override;
  void save_state(io::H5File& file, const std::string& group) const override;
  void load_state(const io::H5File& file, const std::string& group) override;
  std::string divergence_hint() const override {
    return "The hypernetwork's losses grow when the learning rate is too high for the batch; clip_norm helps.";
  }
  /// Samples drawn so far (generated, the initial pool included).
  std::uint64_t samples_generated() const { return pool_.generated(); }
  /// Samples that went through the model in training steps.
  long samples_seen() const { return seen_; }

  /// The validation terms at params (unweighted, mean over the validation set).
  std::vector<double> validation_terms(const Vec<const T>& params);

 private:
  ObjectiveSettings settings_;
  Model<T> model_;
  EmittedLoss<T> loss_;
  SamplePool pool_;
  std::vector<PoolEntry> validation_;
  std::vector<SamplePoints> validation_points_;
  std::unique_ptr<typename Model<T>::Cache> cache_;
  std::vector<const PoolEntry*> batch_;
  std::vector<SamplePoints> points_;
  long step_ = -1;
  long counter_ = 0;  ///< steps taken (drives the pool), saved in checkpoints
  long seen_ = 0;
  int stage_ = 0;
  const train::Comm* comm_ = nullptr;  ///< distribute(): the batch is sharded over its ranks
};

extern template class HypernetObjective<float>;
extern template class HypernetObjective<double>;

}  // namespace kpde::hypernet
