#include "train/settings.hpp"

#include <cmath>

namespace kpde::train {

long TrainerSettings::total_steps() const {
  long n = 0;
  for (const auto& s : stages) n += s->steps;
  return n;
}

TrainerSettings load_trainer_settings(config::Node t, const std::vector<std::string>& term_names,
                                      const StageParseContext& context) {
  TrainerSettings s;
  const config::Node w = t.section("weights");
  for (const auto& name : term_names) s.weights.push_back(w.get_double_above(name, 1.0, 0.0));
  s.balance = w.get_choice("balance", "none", {"none", "grad_norm"}) == "grad_norm" ? Balance::grad_norm : Balance::none;
  s.balance_every = w.get_long_min("balance_every", 100, 1);
  s.balance_alpha = w.get_double("balance_alpha", 0.9);
  if (!(s.balance_alpha >= 0 && s.balance_alpha < 1)) w.at("balance_alpha").fail("must be in [0, 1)");
  s.checkpoint_every = t.get_long_min("checkpoint_every", 1000, 0);
  s.monitor_every = t.get_long_min("monitor_every", 0, 0);
  s.max_wall_s = t.get_double("max_wall_s", 0.0);
  if (!(s.max_wall_s >= 0) || !std::isfinite(s.max_wall_s))
    t.at("max_wall_s").fail("expected a number of seconds >= 0 (0: no limit), got " + t.at("max_wall_s").as_string());
  const config::Node stages = t.at("stages");
  if (stages.size() == 0) stages.fail("at least one stage is needed");
  for (std::size_t i = 0; i < stages.size(); ++i) s.stages.push_back(parse_stage(stages[i], context));
  return s;
}

}  // namespace kpde::train
