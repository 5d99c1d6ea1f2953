#pragma once
/// Training stages and their registry (docs/design.md, "One trainer"; Ginkgo's config
/// registry and PETSc's KSPRegister as the models): a stage is an optimiser that runs a
/// budget of steps on the trainer's objective and saves its own state. Each kind is one
/// class template S<T> with
///   using Config = ...;   a StageConfig with its options, the same for float and double
///   static std::shared_ptr<const StageConfig> parse(const config::Node&, const StageParseContext&);
///   explicit S(const Config&);
/// and one line in stage_kinds() (stage.cpp). `training.stages[i].type` names the kind.
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "train/stop.hpp"

namespace kpde::io {
class H5File;
}

namespace kpde::train {

template <class T>
class Trainer;

/// What a stage's parser may rely on about the objective it will train.
struct StageParseContext {
  bool projectable = false;  ///< the objective has a least-squares projection
  /// Why it has none, for messages ("this problem's operator is a nonlinear residual").
  std::string not_projectable;
};

/// The settings of one stage, as read from `training.stages[i]`.
struct StageConfig {
  virtual ~StageConfig() = default;
  std::string kind;  ///< the registry name ("adam", "lbfgs", ...)
  long steps = 0;    ///< budget: updates, iterations, or 1 for a one-shot stage
};

/// How a stage run ended.
struct StageEnd {
  bool complete = true;         ///< the budget is spent (or the optimiser converged)
  Verdict verdict = Verdict::go;  ///< the stop criteria's verdict at its last step
  std::string message;          ///< one line: "adam: 500 steps, loss 1.2e-3"
};

template <class T>
class Stage {
 public:
  virtual ~Stage() = default;
  /// Runs from step `first` (> 0: resumed inside this stage, with load_state() done)
  /// on trainer.params(), calling trainer.step_done() after every step. Returns
  /// incomplete only when a stop criterion ended it early (it then wrote a checkpoint).
  virtual StageEnd run(Trainer<T>& trainer, long first) = 0;
  /// The optimiser's state (moments, curvature pairs), for a checkpoint written inside
  /// the stage; load_state reads what save_state wrote.
  virtual void save_state(io::H5File& file, const std::string& group) const {}
  virtual void load_state(const io::H5File& file, const std::string& group) {}
};

/// One registered kind.
struct StageKind {
  std::string name;
  std::shared_ptr<const StageConfig> (*parse)(const config::Node&, const StageParseContext&);
  std::unique_ptr<Stage<float>> (*make_float)(const StageConfig&);
  std::unique_ptr<Stage<double>> (*make_double)(const StageConfig&);
};

/// The registry entry of stage class template S.
template <template <class> class S>
StageKind stage_kind(const char* name) {
  return {name, &S<double>::parse,
          [](const StageConfig& c) -> std::unique_ptr<Stage<float>> {
            return std::make_unique<S<float>>(static_cast<const typename S<float>::Config&>(c));
          },
          [](const StageConfig& c) -> std::unique_ptr<Stage<double>> {
            return std::make_unique<S<double>>(static_cast<const typename S<double>::Config&>(c));
          }};
}

/// Every registered kind, in the order of the list in stage.cpp.
const std::vector<StageKind>& stage_kinds();

/// Reads one element of `training.stages` (a map with `type:`); errors name the key.
std::shared_ptr<const StageConfig> parse_stage(const config::Node& node, const StageParseContext& context);

/// The stage for settings made by parse_stage.
template <class T>
std::unique_ptr<Stage<T>> make_stage(const StageConfig& config);

}  // namespace kpde::train
