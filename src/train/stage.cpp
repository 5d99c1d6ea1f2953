#include "train/stage.hpp"

#include "train/adam_stage.hpp"
#include "train/lbfgs_stage.hpp"
#include "train/least_squares_stage.hpp"

namespace kpde::train {

const std::vector<StageKind>& stage_kinds() {
  static const std::vector<StageKind> kinds = {
      stage_kind<AdamStage>("adam"),
      stage_kind<AdamStage>("adamw"),
      stage_kind<LbfgsStage>("lbfgs"),
      stage_kind<LeastSquaresStage>("least_squares"),
  };
  return kinds;
}

std::shared_ptr<const StageConfig> parse_stage(const config::Node& node, const StageParseContext& context) {
  std::vector<std::string> names;
  for (const auto& k : stage_kinds()) names.push_back(k.name);
  if (!node.is_map()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : "|") + n;
    node.fail("expected a stage {type: " + list + ", ...}");
  }
  const std::string type = node.get_choice("type", names);
  for (const auto& k : stage_kinds())
    if (k.name == type) return k.parse(node, context);
  node.fail("unknown stage type '" + type + "'");
}

template <>
std::unique_ptr<Stage<float>> make_stage<float>(const StageConfig& config) {
  for (const auto& k : stage_kinds())
    if (k.name == config.kind) return k.make_float(config);
  throw Error("make_stage: no stage kind '" + config.kind + "'");
}

template <>
std::unique_ptr<Stage<double>> make_stage<double>(const StageConfig& config) {
  for (const auto& k : stage_kinds())
    if (k.name == config.kind) return k.make_double(config);
  throw Error("make_stage: no stage kind '" + config.kind + "'");
}

}  // namespace kpde::train
