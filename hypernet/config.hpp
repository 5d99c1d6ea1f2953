#pragma once
/// The config of `kpde train` for the hypernetwork (docs/config.md, "kpde train"):
///   model:    {type: hypernet, input_pool, stem, widths, blocks, groups, cond,
///              attention_heads, head_hidden, small_hidden, head_groups,
///              correction_scale, seed}
///   data:     {seed, pool, refresh, stored_interior, validation,
///              points: {interior, boundary}, mms: {... as kpde generate's mms section}}
///   loss:     {huber_delta, least_squares: {residual, dirichlet, neumann, ridge}}
///   training: {batch, precision: float32|float64, weights.<term>, stages, checkpoint_every,
///              monitor_every, max_wall_s}
///   output:   {dir}
/// Every error names the file, line and key.
#include <string>

#include "config/config.hpp"
#include "hypernet/objective.hpp"
#include "train/settings.hpp"

namespace kpde::hypernet {

struct TrainConfig {
  ObjectiveSettings objective;
  train::TrainerSettings training;
  bool float64 = false;
  std::string output_dir = "kpde_out/hypernet";
  std::string model_text;   ///< the resolved `model:` section (the model file's architecture)
  std::string fingerprint;  ///< what a resumed run must match (no max_wall_s)
  std::string resolved;     ///< the whole resolved config
};

/// Reads the `model:` section (type must be hypernet).
ModelSpec load_model_spec(config::Node model, std::uint64_t* seed = nullptr);
/// Reads a whole `kpde train` config for the hypernetwork and checks for unused keys.
TrainConfig load_train_config(config::Document& doc);

}  // namespace kpde::hypernet
