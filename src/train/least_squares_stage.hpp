#pragma once
/// The `least_squares` stage: one exact solve of the objective's projected block (for a
/// PINN with a linear operator: the output layer), minimising
///   sum_k lambda_k L_k + ridge * mean(diag A'A) |block|^2.
/// Keys: ridge (default 1e-12). Needs an objective with a projection.
#include "train/stage.hpp"

namespace kpde::train {

struct LeastSquaresStageConfig : StageConfig {
  double ridge = 1e-12;
};

template <class T>
class LeastSquaresStage : public Stage<T> {
 public:
  using Config = LeastSquaresStageConfig;
  static std::shared_ptr<const StageConfig> parse(const config::Node& node, const StageParseContext& context);
  explicit LeastSquaresStage(const Config& config) : config_(config) {}
  StageEnd run(Trainer<T>& trainer, long first) override;

 private:
  Config config_;
};

extern template class LeastSquaresStage<float>;
extern template class LeastSquaresStage<double>;

}  // namespace kpde::train
