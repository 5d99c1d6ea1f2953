// `kpde train CONFIG [--out DIR] [--resume DIR] [--set key=value ...] [--max-wall S]
// [--stop-after-steps K] [--quiet]`: trains a model on generated data; model.type selects
// the method (hypernet: hypernet/train.hpp).
#include <cmath>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "config/config.hpp"
#include "hypernet/train.hpp"
#include "operators/deeponet_train.hpp"
#include "operators/mgno_train.hpp"
#include "train/comm.hpp"

namespace kpde::cli {

namespace {

/// --resume, --out (default: the config's folder, or the resumed one), --quiet,
/// --stop-after-steps and --max-wall into any run options with those members.
template <class Options>
void read_run_options(const Args& a, const std::string& output_dir, Options& o) {
  o.resume = a.str("--resume", "");
  o.out = a.str("--out", o.resume.empty() ? output_dir : o.resume);
  o.quiet = a.has("--quiet");
  o.stop_after = a.integer("--stop-after-steps", 0, 1);
  if (a.has("--max-wall")) {
    o.max_wall_s = a.real("--max-wall", 0);
    if (!(o.max_wall_s > 0) || !std::isfinite(o.max_wall_s))
      throw InputError("train: --max-wall expects a number of seconds > 0, got '" + a.str("--max-wall", "") + "'");
  }
}

/// `kpde train` of a DeepONet (operators/deeponet_train.hpp).
int train_deeponet(const Args& a, config::Document& doc) {
  const operators::DeepOnetTrainConfig cfg = operators::load_deeponet_config(doc);
  operators::DeepOnetRunOptions o;
  o.init_from = a.str("--init-from", "");
  read_run_options(a, cfg.output_dir, o);
  if (!o.resume.empty() && !o.init_from.empty()) throw InputError("train: --resume and --init-from exclude each other");
  operators::DeepOnetRun r;
  {
    const InterruptScope scope;
    r = operators::run_deeponet_training(cfg, o);
  }
  if (!train::Comm::world().root()) return train::interrupt_requested().load() ? 130 : 0;
  if (train::interrupt_requested().load()) {
    std::fprintf(stderr, "kpde: train: interrupted after %ld steps; continue with --resume %s\n", r.steps, r.out.c_str());
    return 130;
  }
  std::printf("train %s: %ld steps, loss %.3e, test rel_l2 mean %.3e median %.3e p95 %.3e, wall_s=%.1f%s; out=%s\n",
              cfg.type.c_str(), r.steps, r.loss, r.test_mean, r.test_median, r.test_p95, r.wall_s,
              r.finished ? "" : (" (stopped: " + r.stop_reason + "; continue with --resume " + r.out + ")").c_str(),
              r.out.c_str());
  return 0;
}

/// `kpde train` of an MgNO (operators/mgno_train.hpp).
int train_mgno(const Args& a, config::Document& doc) {
  const operators::MgnoTrainConfig cfg = operators::load_mgno_config(doc);
  operators::MgnoRunOptions o;
  read_run_options(a, cfg.output_dir, o);
  operators::MgnoRun r;
  {
    const InterruptScope scope;
    r = operators::run_mgno_training(cfg, o);
  }
  if (!train::Comm::world().root()) return train::interrupt_requested().load() ? 130 : 0;
  if (train::interrupt_requested().load()) {
    std::fprintf(stderr, "kpde: train: interrupted after %ld steps; continue with --resume %s\n", r.steps, r.out.c_str());
    return 130;
  }
  std::printf("train mgno: %ld steps, loss %.3e, test rel_l2 mean %.3e median %.3e p95 %.3e, rel_h1 mean %.3e, "
              "wall_s=%.1f%s; out=%s\n", r.steps, r.loss, r.test_mean, r.test_median, r.test_p95, r.test_h1_mean, r.wall_s,
              r.finished ? "" : (" (stopped: " + r.stop_reason + "; continue with --resume " + r.out + ")").c_str(),
              r.out.c_str());
  return 0;
}

}  // namespace

int train(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "train");
  if (a.positional().empty())
    throw InputError("train: give a config file: kpde train CONFIG [--out DIR] [--resume DIR] [--set key=value]");
  config::Document doc = config::Document::load_file(a.positional()[0]);
  for (const auto& s : a.all("--set")) doc.apply_override(s);
  const std::string type =
      doc.root().at("model").get_choice("type", {"hypernet", "deeponet", "pi_deeponet", "mt_deeponet", "mgno"});
  if (type == "mgno") return train_mgno(a, doc);
  if (type != "hypernet") return train_deeponet(a, doc);
  const hypernet::TrainConfig cfg = hypernet::load_train_config(doc);
  hypernet::TrainOptions o;
  o.init_from = a.str("--init-from", "");
  read_run_options(a, cfg.output_dir, o);
  if (!o.resume.empty() && !o.init_from.empty()) throw InputError("train: --resume and --init-from exclude each other");
  for (int k = 0; k < argc; ++k) o.command += (k ? " " : "") + std::string(argv[k]);
  hypernet::TrainRun r;
  {
    const InterruptScope scope;
    r = hypernet::run_training(cfg, o);
  }
  if (!train::Comm::world().root()) return train::interrupt_requested().load() ? 130 : 0;  // rank 0 reports
  if (train::interrupt_requested().load()) {
    std::fprintf(stderr, "kpde: train: interrupted after %ld steps; model.h5 holds that state and the checkpoint is "
                 "%s/checkpoint.h5 (continue with --resume %s)\n", r.steps, r.out.c_str(), r.out.c_str());
    return 130;
  }
  std::printf("train hypernet: %ld steps, %ld samples seen, %.2f samples/s, %.2f CPU-hours, loss %.3e%s; out=%s\n",
              r.steps, r.samples_seen, r.samples_per_s, r.cpu_hours, r.loss,
              r.finished ? "" : (" (stopped: " + r.stop_reason + "; continue with --resume " + r.out + ")").c_str(),
              r.out.c_str());
  return 0;
}

}  // namespace kpde::cli
