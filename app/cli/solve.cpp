// `kpde solve CONFIG [--out DIR] [--n N] [--set key.path=value ...] [--resume DIR] [--quiet]`:
// trains a PINN for the config's problem and writes the output folder (docs/outputs.md).
// `kpde reference CONFIG [--out DIR] [--n N] [--set ...]`: the PETSc finite-difference
// solution of the same config's problem, with the same outputs.
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "data/report.hpp"
#include "pinn/solve.hpp"

namespace kpde::cli {

namespace {

/// The config of `kpde solve` / `kpde reference` (the same format) with the --set
/// overrides and --n.
pinn::SolveConfig load_config(config::Document& doc, const Args& a) {
  for (const auto& s : a.all("--set")) doc.apply_override(s);
  pinn::SolveConfig cfg = pinn::load_solve_config(doc);
  const long n_arg = a.integer("--n", cfg.output_n, 2);
  if (n_arg > 100000) throw InputError("--n must be <= 100000, got " + std::to_string(n_arg));
  cfg.output_n = static_cast<int>(n_arg);
  return cfg;
}

void print_summary(const char* what, const std::string& name, const data::ErrorMetrics& e) {
  std::printf("%s %s: rel_l2=%.3e mse=%.3e max_abs_err=%.3e", what, name.c_str(), e.rel_l2, e.mse, e.max_abs_err);
}

}  // namespace

int solve(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "solve", {"--out", "--n", "--set", "--resume", "--threads", "--stop-after-steps"},
               {"--quiet"}, 1);
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
  const pinn::SolveResult r = pinn::solve(cfg, o);
  if (r.stopped) {
    std::printf("solve %s: stopped after %ld steps (--stop-after-steps); continue with --resume %s\n",
                cfg.problem.name.c_str(), r.steps, o.out.c_str());
    return 0;
  }
  print_summary("solve", cfg.problem.name, r.summary);
  std::printf(" final_loss=%.3e steps=%ld wall_s=%.1f out=%s\n", r.final_loss, r.steps, r.wall_s, o.out.c_str());
  return 0;
}

int reference(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "reference", {"--out", "--n", "--set", "--threads"}, {"--quiet"}, 1);
  if (a.positional().empty())
    throw InputError("reference: give a config file: kpde reference CONFIG [--out DIR] [--n N] [--set key=value]");
  config::Document doc = config::Document::load_file(a.positional()[0]);
  const pinn::SolveConfig cfg = load_config(doc, a);
  const std::string out = a.str("--out", cfg.output_dir + "_reference");
  const data::ReferenceRun run =
      data::run_reference(cfg.problem, cfg.fd, cfg.output_n, out, cfg.resolved, doc.file() + ": problem");
  const data::FdSolution& sol = run.solution;
  print_summary("reference", cfg.problem.name, run.summary);
  std::printf(" solver=%s iterations=%d unknowns=%ld wall_s=%.2f out=%s\n", sol.solver.c_str(), sol.iterations,
              sol.n_unknowns, sol.wall_s, out.c_str());
  return 0;
}

}  // namespace kpde::cli
