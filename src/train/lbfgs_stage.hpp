#pragma once
/// The `lbfgs` stage: optim::lbfgs_minimize (double precision, strong-Wolfe line
/// search) for `steps` iterations. Keys: steps, history, grad_tol, f_rel_tol, patience,
/// stop_at_floor, output_layer (optimize | least_squares: variable projection, the
/// objective's projected block solved exactly at every evaluation, with ridge),
/// resample_every (fresh points every K iterations; L-BFGS restarts with an empty
/// history from the current iterate).
///
/// The stage runs as calls of lbfgs_minimize that end at checkpoint and resampling
/// boundaries (multiples of checkpoint_every and resample_every iterations) with one
/// LbfgsState carried over, so a resumed run follows the same iterates.
#include "optim/lbfgs.hpp"
#include "train/stage.hpp"

namespace kpde::train {

struct LbfgsStageConfig : StageConfig {
  optim::LbfgsOptions lbfgs;
  bool varpro = false;      ///< output_layer: least_squares
  double ridge = 0;         ///< of the projection
  long resample_every = 0;  ///< iterations per set of points (0: one set)
};

template <class T>
class LbfgsStage : public Stage<T> {
 public:
  using Config = LbfgsStageConfig;
  static std::shared_ptr<const StageConfig> parse(const config::Node& node, const StageParseContext& context);
  explicit LbfgsStage(const Config& config) : config_(config) {}

  StageEnd run(Trainer<T>& trainer, long first) override;
  /// The LbfgsState: group/x, g [n], s, y [pairs][n], rho [pairs], f_history; f, gamma,
  /// iterations, evaluations, pairs, qn_failure as attributes.
  void save_state(io::H5File& file, const std::string& group) const override;
  void load_state(const io::H5File& file, const std::string& group) override;

 private:
  Config config_;
  optim::LbfgsState state_;
};

extern template class LbfgsStage<float>;
extern template class LbfgsStage<double>;

}  // namespace kpde::train
