// check_config (fuzz_checks.hpp): the config loader of `kpde solve` on arbitrary text.
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/problem.hpp"
#include "fuzz_checks.hpp"
#include "pinn/solve.hpp"
#include "train/adam_stage.hpp"
#include "train/lbfgs_stage.hpp"
#include "train/least_squares_stage.hpp"

namespace kpde::fuzz {

namespace {

[[noreturn]] void broken(const std::string& what, const std::string& text) { report_finding("fuzz_config", what, text); }

/// What solve loads from a config.
using Loaded = pinn::SolveConfig;

Loaded load_all(config::Document& doc) { return pinn::load_solve_config(doc); }

/// "#set key=value" lines of the text, in order.
std::vector<std::string> overrides(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("#set ", 0) == 0) out.push_back(line.substr(5));
  return out;
}

/// Integers that the loaders accept as long and that are later narrowed to int (by the
/// loaders or the trainer) must fit: a larger value would silently wrap.
void check_int_ranges(config::Document& doc, const std::string& text) {
  const auto fits = [&](const config::Node& n, const std::string& key) {
    if (!n.is_map() || !n.has(key)) return;
    const long v = n.get_long(key);
    if (v > INT_MAX || v < INT_MIN)
      broken("accepted " + (n.path().empty() ? key : n.path() + "." + key) + " = " + std::to_string(v) +
                 ", which wraps around when narrowed to int",
             text);
  };
  config::Node root = doc.root();
  const config::Node model = root.at("model");
  for (const char* k : {"width", "depth", "block_points"}) fits(model, k);
  if (auto f = model.find("features"))
    for (const char* k : {"n_frequencies", "n_random"}) fits(*f, k);
  const config::Node training = root.at("training");
  fits(training.at("interior"), "n");
  fits(training.at("boundary"), "n");
  fits(training.at("interior"), "resample_every");
  const config::Node stages = training.at("stages");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    for (const char* k : {"steps", "history", "patience"}) fits(stages[i], k);
    if (auto s = stages[i].find("schedule"))
      for (const char* k : {"decay_steps", "warmup_steps", "total_steps"}) fits(*s, k);
  }
  fits(root.at("output"), "n");
}

void check_loaded(const Loaded& l, const std::string& text) {
  const nn::NetworkSpec& net = l.model.network;
  if (net.width < 1 || net.depth < 1 || net.block_points < 1)
    broken("accepted a network of width " + std::to_string(net.width) + ", depth " + std::to_string(net.depth), text);
  if (l.problem.dim < 1 || l.problem.dim > 3 || !l.problem.geometry) broken("accepted a problem without a domain", text);
  for (const auto& c : l.problem.conditions)
    if (c.part < 0 || c.part >= l.problem.geometry->n_parts()) broken("a condition on a part id that does not exist", text);
  if (l.training.stages.empty()) broken("accepted a training without stages", text);
  for (const auto& s : l.training.stages) {
    if (s->steps < 1) broken("accepted a stage with " + std::to_string(s->steps) + " steps", text);
    if (const auto* lb = dynamic_cast<const train::LbfgsStageConfig*>(s.get()))
      if (lb->lbfgs.max_iterations != s->steps)
        broken("an lbfgs stage of " + std::to_string(s->steps) + " steps runs " +
                   std::to_string(lb->lbfgs.max_iterations) + " iterations",
               text);
  }
  // the fields evaluate somewhere without crashing (values may be NaN: the trainer checks)
  mesh::Point centre{};
  for (int k = 0; k < l.problem.dim; ++k) centre[k] = 0.5 * (l.problem.geometry->lo()[k] + l.problem.geometry->hi()[k]);
  (void)l.problem.source(centre);
  if (l.problem.exact) (void)l.problem.exact->jet(centre, l.problem.dim);
  for (const auto& t : l.problem.terms) (void)t.coefficient(centre);
  for (const auto& c : l.problem.conditions) (void)c.value(centre);
}

/// The settings that a rerun from the resolved config must reproduce.
std::string summary(const Loaded& l) {
  std::ostringstream s;
  s.precision(17);
  const auto& p = l.problem;
  s << p.name << "|" << p.dim << "|" << p.time_axis << "|" << p.nonlinear << "|" << p.terms.size() << "|"
    << p.conditions.size() << "|" << p.geometry->n_parts() << "|" << bool(p.exact) << "|" << bool(p.reference) << "|"
    << p.source.describe() << "|";
  for (const auto& c : p.conditions) s << c.part << "," << int(c.kind) << "," << c.weight << "," << c.value.describe() << ";";
  const auto& n = l.model.network;
  s << "|" << int(n.arch) << "," << n.width << "," << n.depth << "," << int(n.activation) << "," << int(l.model.precision)
    << "," << l.model.seed << "|";
  const auto& t = l.pinn;
  s << t.n_interior << "," << t.n_boundary << "," << t.seed << "|";
  for (double w : l.training.weights) s << w << ",";
  s << int(l.training.balance) << "|";
  for (const auto& st : l.training.stages) {
    s << st->kind << "," << st->steps;
    if (const auto* a = dynamic_cast<const train::AdamStageConfig*>(st.get())) s << "," << a->adam.schedule.lr;
    if (const auto* b = dynamic_cast<const train::LbfgsStageConfig*>(st.get())) s << "," << b->lbfgs.history << "," << b->ridge;
    if (const auto* c = dynamic_cast<const train::LeastSquaresStageConfig*>(st.get())) s << "," << c->ridge;
    s << ";";
  }
  s << "|" << l.output_n[0] << "," << l.output_n[1] << "," << l.output_n[2] << "," << l.output_dir;
  return s.str();
}

}  // namespace

ConfigOutcome check_config(const std::string& text, const std::string& name, std::string* message) {
  const auto rejected = [&](const std::string& msg) {
    if (message) *message = msg;
    return ConfigOutcome::rejected;
  };
  std::string first_summary, resolved;
  try {
    config::Document doc = config::Document::load_string(text, name);
    for (const auto& o : overrides(text)) doc.apply_override(o);
    const Loaded first = load_all(doc);
    check_loaded(first, text);
    check_int_ranges(doc, text);
    first_summary = summary(first);
    resolved = doc.resolved_text();
  } catch (const InputError& e) {
    const std::string msg = e.what();
    if (msg.rfind(name + ":", 0) != 0 && msg.rfind("--set ", 0) != 0)
      broken("an input error that names neither the file nor the override: " + msg, text);
    return rejected(msg);
  } catch (const Error& e) {
    return rejected(e.what());
  }
  // the resolved config reruns the same job
  try {
    config::Document again = config::Document::load_string(resolved, name);
    const Loaded second = load_all(again);
    const std::string second_summary = summary(second);
    if (second_summary != first_summary)
      broken("the resolved config loads to other settings:\n  first:  " + first_summary + "\n  second: " + second_summary +
                 "\n--- resolved ---\n" + resolved,
             text);
  } catch (const Error& e) {
    broken(std::string("the resolved config does not load again: ") + e.what() + "\n--- resolved ---\n" + resolved, text);
  }
  return ConfigOutcome::accepted;
}

}  // namespace kpde::fuzz
