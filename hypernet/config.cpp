#include "hypernet/config.hpp"

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "data/generate.hpp"

namespace kpde::hypernet {

ModelSpec load_model_spec(config::Node m, std::uint64_t* seed) {
  const std::string type = m.get_choice("type", {"hypernet"});
  (void)type;
  ModelSpec s;
  s.input_pool = static_cast<int>(m.get_long_min("input_pool", s.input_pool, 1, kGrid));
  s.stem = static_cast<int>(m.get_long_min("stem", s.stem, 1, 4096));
  if (auto w = m.find("widths")) {
    s.widths.clear();
    for (double v : w->as_doubles()) {
      if (!(v >= 1 && v <= 4096 && v == static_cast<int>(v))) w->fail("expected whole numbers in 1..4096");
      s.widths.push_back(static_cast<int>(v));
    }
  }
  s.blocks = static_cast<int>(m.get_long_min("blocks", s.blocks, 0, 8));
  s.groups = static_cast<int>(m.get_long_min("groups", s.groups, 1, 4096));
  s.cond = static_cast<int>(m.get_long_min("cond", s.cond, 1, 4096));
  s.attention_heads = static_cast<int>(m.get_long_min("attention_heads", s.attention_heads, 1, 256));
  s.head_hidden = static_cast<int>(m.get_long_min("head_hidden", s.head_hidden, 1, 8192));
  s.small_hidden = static_cast<int>(m.get_long_min("small_hidden", s.small_hidden, 1, 8192));
  s.head_groups = static_cast<int>(m.get_long_min("head_groups", s.head_groups, 1, 1024));
  s.correction_scale = m.get_double_above("correction_scale", s.correction_scale, 0);
  const long sd = m.get_long_min("seed", 1, 0, 1L << 52);
  if (seed) *seed = static_cast<std::uint64_t>(sd);
  m.check([&] { s.validate(); });
  return s;
}

TrainConfig load_train_config(config::Document& doc) {
  config::Node root = doc.root();
  TrainConfig c;
  c.objective.model = load_model_spec(root.at("model"), &c.objective.model_seed);
  config::Node d = root.section("data");
  PoolSettings& p = c.objective.data;
  p.mms.band_half_width = kBandHalfWidth;
  p.mms.physics_only_fraction = 0.3;
  p.seed = static_cast<std::uint64_t>(d.get_long_min("seed", 1, 0, 1L << 52));
  p.size = static_cast<int>(d.get_long_min("pool", p.size, 1, 1000000));
  p.refresh = static_cast<int>(d.get_long_min("refresh", p.refresh, 0, 1000000));
  p.stored_interior = static_cast<int>(d.get_long_min("stored_interior", p.stored_interior, 1, kGrid * kGrid));
  c.objective.validation = static_cast<int>(d.get_long_min("validation", c.objective.validation, 0, 100000));
  config::Node pts = d.section("points");
  p.n_interior = static_cast<int>(pts.get_long_min("interior", p.n_interior, 1, 100000));
  p.n_boundary = static_cast<int>(pts.get_long_min("boundary", p.n_boundary, 1, 100000));
  data::load_mms_settings(d.section("mms"), p.mms);
  p.mms.n_interior = 0;  // the pool draws its own points from the grids
  p.mms.n_boundary = 0;
  d.check([&] { p.validate(); });
  config::Node l = root.section("loss");
  LossSettings& ls = c.objective.loss;
  ls.huber_delta = l.get_double_above("huber_delta", ls.huber_delta, 0);
  config::Node lsq = l.section("least_squares");
  ls.ls_residual = lsq.get_double("residual", ls.ls_residual);
  ls.ls_dirichlet = lsq.get_double("dirichlet", ls.ls_dirichlet);
  ls.ls_neumann = lsq.get_double("neumann", ls.ls_neumann);
  ls.ridge = lsq.get_double_above("ridge", ls.ridge, 0);
  for (const auto& [key, v] : {std::pair<const char*, double>{"residual", ls.ls_residual},
                               {"dirichlet", ls.ls_dirichlet}, {"neumann", ls.ls_neumann}})
    if (!(v >= 0)) lsq.at(key).fail("expected a weight >= 0");
  config::Node t = root.section("training");
  c.objective.batch = static_cast<int>(t.get_long_min("batch", c.objective.batch, 1, 4096));
  c.float64 = t.get_choice("precision", "float32", {"float32", "float64"}) == "float64";
  train::StageParseContext ctx;
  ctx.not_projectable = "the hypernetwork has no least-squares projection of its parameters";
  c.training = train::load_trainer_settings(t, loss_term_names(), ctx);
  c.output_dir = root.section("output").get_string("dir", c.output_dir);
  doc.check_unused();
  c.model_text = config::emit_yaml(root.at("model").yaml());
  c.fingerprint = config::training_fingerprint(root.yaml());
  c.resolved = doc.resolved_text();
  return c;
}

}  // namespace kpde::hypernet
