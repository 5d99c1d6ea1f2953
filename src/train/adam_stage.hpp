#pragma once
/// The `adam` and `adamw` stages: optim::Adam (AdamW: decoupled weight decay) for
/// `steps` updates on the trainer's objective, with the learning-rate schedule of
/// optim::Schedule. Keys: steps, lr, schedule {type: constant|exponential|cosine, ...},
/// clip_norm, weight_decay (adamw default 0.01).
#include <optional>

#include "optim/adam.hpp"
#include "train/stage.hpp"

namespace kpde::train {

struct AdamStageConfig : StageConfig {
  optim::AdamOptions adam;
};

template <class T>
class AdamStage : public Stage<T> {
 public:
  using Config = AdamStageConfig;
  static std::shared_ptr<const StageConfig> parse(const config::Node& node, const StageParseContext& context);
  explicit AdamStage(const Config& config) : config_(config) {}

  StageEnd run(Trainer<T>& trainer, long first) override;
  /// group/m, group/v [n_params] and the attribute t (steps taken).
  void save_state(io::H5File& file, const std::string& group) const override;
  void load_state(const io::H5File& file, const std::string& group) override;

 private:
  Config config_;
  std::optional<optim::Adam<T>> adam_;
};

extern template class AdamStage<float>;
extern template class AdamStage<double>;

}  // namespace kpde::train
