// `kpde solve CONFIG [--out DIR] [--n N] [--set key.path=value ...] [--resume DIR] [--quiet]`:
// trains a PINN for the config's problem and writes the output folder (docs/outputs.md).
// `kpde reference CONFIG [--out DIR] [--n N] [--set ...]`: the PETSc finite-difference
// solution of the same config's problem, with the same outputs.
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/interrupt.hpp"
#include "cli/commands.hpp"
#include "cli/solve_config.hpp"
#include "config/config.hpp"
#include "data/solution_output.hpp"
#include "hypernet/emit.hpp"
#include "io/model_file.hpp"
#include "data/report.hpp"
#include "pinn/solve.hpp"
#include "runtime/runtime.hpp"
#include "train/comm.hpp"
#include "train/stop.hpp"

namespace kpde::cli {

namespace {

/// --init-from-hypernet: the network becomes the hypernetwork's target PINN (HyPINO's
/// modified MLP, width 32, fixed Fourier features) and starts from the weights the
/// hypernetwork emits for the problem (least-squares output layer), written to
/// OUT/hypernet_init.h5 and read through model.init_from.
void init_from_hypernet(pinn::SolveConfig& cfg, const std::string& model_path, const std::string& out, bool quiet) {
  const auto t0 = std::chrono::steady_clock::now();
  const hypernet::Spec spec = hypernet::spec_from_problem(cfg.problem);
  const hypernet::BoxMap map = hypernet::box_map(cfg.problem);
  for (int k = 0; k < 2; ++k)
    if (std::abs(map.lo[static_cast<std::size_t>(k)] + 1) > 1e-12 || std::abs(map.hi[static_cast<std::size_t>(k)] - 1) > 1e-12)
      throw InputError("solve: --init-from-hypernet needs the domain's bounding box to be [-1,1]^2 (kpde solve's "
                       "PINN takes x unscaled, the emitted one takes canonical coordinates); problem '" +
                       cfg.problem.name + "' spans another box");
  if (cfg.model.network.features.kind == nn::FeatureKind::gaussian)
    throw InputError("solve: --init-from-hypernet replaces the network by the hypernetwork's target PINN; "
                     "model.type gaussian_features cannot be kept");
  const hypernet::TrainedHypernet hn = hypernet::read_hypernet_file(model_path);
  const hypernet::Emitted em = hypernet::emit(hn, spec, hypernet::EmitOptions{});
  nn::NetworkSpec net = em.merged_spec();
  net.block_points = cfg.model.network.block_points;
  cfg.model.network = net;
  cfg.model.init_from = out + "/hypernet_init.h5";
  cfg.model_text = em.merged_architecture() + "precision: " +
                   (cfg.model.precision == pinn::Precision::float64 ? "float64" : "float32") + "\n";
  const io::ModelFile mf = em.model_file(map, cfg.problem.time_axis, "initial weights from the hypernetwork " + model_path);
  data::make_output_directory(out);
  io::write_model_file(cfg.model.init_from, mf);
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!quiet)
    std::fprintf(stderr, "kpde solve %s: initial weights from the hypernetwork %s in %.3f s (reading, rasterising, "
                 "forward %.3f s, least squares, writing; emitted PINN residual mse %.3e); network: modified MLP, "
                 "width 32, 4 layers, fixed Fourier features\n",
                 cfg.problem.name.c_str(), model_path.c_str(), total_s, em.model_seconds, em.rounds.back().mse_f);
}

}  // namespace

int solve(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "solve");
  if (a.positional().empty())
    throw InputError("solve: give a config file: kpde solve CONFIG [--out DIR] [--n N] [--set key=value] "
                     "[--resume DIR] [--quiet]");
  config::Document doc = config::Document::load_file(a.positional()[0]);
  pinn::SolveConfig cfg = load_config(doc, a);
  pinn::SolveOptions o;
  o.resume = a.str("--resume", "");
  o.out = a.str("--out", o.resume.empty() ? cfg.output_dir : o.resume);
  if (a.has("--init-from-hypernet") || a.has("--hypernet-model")) {
    if (!o.resume.empty()) throw InputError("solve: --init-from-hypernet starts a run; it cannot be combined with --resume");
    init_from_hypernet(cfg, a.str("--hypernet-model", hypernet::default_hypernet_model()), o.out, a.has("--quiet"));
  }
  o.stop_after = a.integer("--stop-after-steps", 0, 1);
  o.quiet = a.has("--quiet");
  if (a.has("--max-wall")) {
    o.max_wall_s = a.real("--max-wall", 0);
    if (!(o.max_wall_s > 0) || !std::isfinite(o.max_wall_s))
      throw InputError("solve: --max-wall expects a number of seconds > 0, got '" + a.str("--max-wall", "") + "'");
  }
  o.threads_note = Runtime::threads_origin();
  pinn::SolveResult r;
  {
    const InterruptScope scope;
    r = pinn::solve(cfg, o);
  }
  if (!train::Comm::world().root()) return r.interrupted ? 130 : 0;  // rank 0 reports for all
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
  if (!r.field_errors.empty()) std::printf(" (rel_l2 per field: %s)", r.field_errors.c_str());
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
  if (a.has("--named")) {
    if (!cfg.problem.named_reference)
      throw InputError(doc.file() + ": reference --named: the problem has no named reference (problem.reference: "
                       "{burgers: NU})");
    const data::ReferenceRun run = data::run_named_reference(cfg.problem, cfg.output_n, out, cfg.resolved);
    std::printf("reference %s: %s", cfg.problem.name.c_str(), cfg.problem.named_reference->description.c_str());
    if (run.summary.n > 0) std::printf(", against the config's other truth: rel_l2=%.3e", run.summary.rel_l2);
    std::printf(" wall_s=%.2f out=%s\n", run.solution.wall_s, out.c_str());
    return 0;
  }
  data::ReferenceRun run;
  try {
    run = data::run_reference(cfg.problem, cfg.fd, cfg.output_n, out, cfg.resolved, doc.file() + ": problem");
  } catch (const InputError& e) {
    // the solver's own refusals name no file: say which config they are about
    const std::string what = e.what();
    if (what.rfind(doc.file(), 0) == 0) throw;
    throw InputError(doc.file() + ": problem: " + what);
  }
  const data::FdSolution& sol = run.solution;
  print_summary("reference", cfg.problem.name, run.summary);
  if (sol.newton_solves > 0)
    std::printf(" newton=%d (%d solve%s, at most %d per solve)", sol.newton_iterations, sol.newton_solves,
                sol.newton_solves == 1 ? "" : "s", sol.newton_max);
  std::printf(" solver=%s iterations=%d unknowns=%ld wall_s=%.2f out=%s\n", sol.solver.c_str(), sol.iterations,
              sol.n_unknowns, sol.wall_s, out.c_str());
  return 0;
}

}  // namespace kpde::cli
