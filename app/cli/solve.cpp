// `kpde solve CONFIG [--out DIR] [--n N] [--set key.path=value ...] [--resume DIR] [--quiet]`:
// trains a PINN for the config's problem and writes the output folder (docs/outputs.md).
// `kpde reference CONFIG [--out DIR] [--n N] [--set ...]`: the PETSc finite-difference
// solution of the same config's problem, with the same outputs.
#include <cmath>
#include <csignal>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "data/report.hpp"
#include "pinn/solve.hpp"
#include "runtime/runtime.hpp"
#include "train/stop.hpp"

namespace kpde::cli {

namespace {

/// The config of `kpde solve` / `kpde reference` (the same format) with the --set
/// overrides and --n.
pinn::SolveConfig load_config(config::Document& doc, const Args& a) {
  for (const auto& s : a.all("--set")) doc.apply_override(s);
  pinn::SolveConfig cfg = pinn::load_solve_config(doc);
  if (a.has("--n")) {
    // --n N (every axis) or --n NX,NY[,NZ] (one per axis)
    const std::vector<long> n = a.integer_list("--n", "", 2);
    const int dim = cfg.problem.dim;
    if (n.size() != 1 && n.size() != static_cast<std::size_t>(dim))
      throw InputError("--n expects one node count or " + std::to_string(dim) + " (one per axis), got '" +
                       a.str("--n", "") + "'");
    for (int k = 0; k < dim; ++k) {
      const long v = n[n.size() == 1 ? 0 : k];
      if (v > 100000) throw InputError("--n must be <= 100000, got " + std::to_string(v));
      cfg.output_n[k] = static_cast<int>(v);
    }
  }
  return cfg;
}

void print_summary(const char* what, const std::string& name, const data::ErrorMetrics& e) {
  if (e.n == 0) {
    std::printf("%s %s: no reference (no exact solution or reference in the config: errors not measured)", what,
                name.c_str());
  } else if (e.truth_vanishes) {
    std::printf("%s %s: the reference is 0 at every node (rel_l2 undefined): rms_err=%.3e mse=%.3e max_abs_err=%.3e",
                what, name.c_str(), std::sqrt(e.mse), e.mse, e.max_abs_err);
  } else {
    std::printf("%s %s: rel_l2=%.3e mse=%.3e max_abs_err=%.3e", what, name.c_str(), e.rel_l2, e.mse, e.max_abs_err);
  }
}

/// SIGINT / SIGTERM during training: the trainer stops after the step in progress and
/// writes its checkpoint (train::interrupt_requested); a second signal ends the process.
extern "C" void on_interrupt(int sig) {
  if (train::interrupt_requested().exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

}  // namespace

int solve(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "solve");
  if (a.positional().empty())
    throw InputError("solve: give a config file: kpde solve CONFIG [--out DIR] [--n N] [--set key=value] "
                     "[--resume DIR] [--quiet]");
  config::Document doc = config::Document::load_file(a.positional()[0]);
  const pinn::SolveConfig cfg = load_config(doc, a);
  pinn::SolveOptions o;
  o.resume = a.str("--resume", "");
  o.out = a.str("--out", o.resume.empty() ? cfg.output_dir : o.resume);
  o.stop_after = a.integer("--stop-after-steps", 0, 1);
  o.quiet = a.has("--quiet");
  if (a.has("--max-wall")) {
    o.max_wall_s = a.real("--max-wall", 0);
    if (!(o.max_wall_s > 0) || !std::isfinite(o.max_wall_s))
      throw InputError("solve: --max-wall expects a number of seconds > 0, got '" + a.str("--max-wall", "") + "'");
  }
  o.threads_note = Runtime::threads_origin();
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  const pinn::SolveResult r = pinn::solve(cfg, o);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (r.interrupted) {
    std::fprintf(stderr, "kpde: solve %s %s: the checkpoint is %s/checkpoint.h5 (continue with --resume %s); "
                 "the solution and figures were not written\n", cfg.problem.name.c_str(), r.stop_reason.c_str(), o.out.c_str(),
                 o.out.c_str());
    return 130;
  }
  if (r.stopped) {
    std::printf("solve %s: stopped after %ld steps (--stop-after-steps); continue with --resume %s\n",
                cfg.problem.name.c_str(), r.steps, o.out.c_str());
    return 0;
  }
  if (r.out_of_time)
    std::fprintf(stderr, "kpde: solve %s: %s, after %ld steps; the outputs are from that step (continue "
                 "training with --resume %s)\n", cfg.problem.name.c_str(), r.stop_reason.c_str(), r.steps,
                 o.out.c_str());
  print_summary("solve", cfg.problem.name, r.summary);
  std::printf(" final_loss=%.3e steps=%ld wall_s=%.1f out=%s\n", r.final_loss, r.steps, r.wall_s, o.out.c_str());
  return 0;
}

int reference(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "reference");
  if (a.positional().empty())
    throw InputError("reference: give a config file: kpde reference CONFIG [--out DIR] [--n N] [--set key=value]");
  config::Document doc = config::Document::load_file(a.positional()[0]);
  const pinn::SolveConfig cfg = load_config(doc, a);
  const std::string out = a.str("--out", cfg.output_dir + "_reference");
  if (cfg.problem.named_reference) {
    const data::ReferenceRun run = data::run_named_reference(cfg.problem, cfg.output_n, out, cfg.resolved);
    std::printf("reference %s: %s", cfg.problem.name.c_str(), cfg.problem.named_reference->description.c_str());
    if (run.summary.n > 0) std::printf(", against the config's other truth: rel_l2=%.3e", run.summary.rel_l2);
    std::printf(" wall_s=%.2f out=%s\n", run.solution.wall_s, out.c_str());
    return 0;
  }
  const data::ReferenceRun run =
      data::run_reference(cfg.problem, cfg.fd, cfg.output_n, out, cfg.resolved, doc.file() + ": problem");
  const data::FdSolution& sol = run.solution;
  print_summary("reference", cfg.problem.name, run.summary);
  std::printf(" solver=%s iterations=%d unknowns=%ld wall_s=%.2f out=%s\n", sol.solver.c_str(), sol.iterations,
              sol.n_unknowns, sol.wall_s, out.c_str());
  return 0;
}

}  // namespace kpde::cli
