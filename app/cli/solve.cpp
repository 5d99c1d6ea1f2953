// `kpde solve CONFIG [--out DIR] [--n N] [--set key.path=value ...] [--resume DIR] [--quiet]`:
// trains a PINN for the config's problem and writes the output folder (docs/outputs.md).
// `kpde reference CONFIG [--out DIR] [--n N] [--set ...]`: the PETSc finite-difference
// solution of the same config's problem, with the same outputs.
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "cli/args.hpp"
#include "cli/gaussian_plot.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "runtime/runtime.hpp"
#include "data/problem.hpp"
#include "data/reference/from_problem.hpp"
#include "data/report.hpp"
#include "data/solution_output.hpp"
#include "io/atomic_file.hpp"
#include "pinn/settings.hpp"
#include "pinn/trainer.hpp"

namespace kpde::cli {

namespace {

struct SolveJob {
  explicit SolveJob(config::Document d) : doc(std::move(d)) {}
  config::Document doc;
  data::Problem problem;
  pinn::ModelSettings model;
  pinn::TrainingSettings training;
  int n = 201;
  std::string out;
  std::string resume;
  bool quiet = false;
  long stop_after = 0;
  data::FdOptions fd_options;
  std::string fingerprint;
};

std::string emit(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return e.c_str();
}

std::vector<std::pair<std::string, std::vector<double>>> history_series(const pinn::History& h) {
  return {{"step", h.step},         {"loss", h.loss},
          {"residual", h.residual}, {"dirichlet", h.dirichlet},
          {"neumann", h.neumann},   {"lr", h.lr},
          {"wall_s", h.wall_s},     {"stage", h.stage},
          {"monitor_step", h.monitor_step}, {"monitor_wall_s", h.monitor_wall_s},
          {"monitor_rel_l2", h.monitor_rel_l2}};
}

/// The PETSc reference on the output grid, when the problem asks for one.
std::unique_ptr<data::GridTruth> petsc_truth(const SolveJob& job) {
  if (job.problem.reference_solver != "petsc") return nullptr;
  return std::make_unique<data::GridTruth>(
      data::petsc_grid_truth(job.problem, job.fd_options, job.n, job.doc.file() + ": problem.reference"));
}

template <class T>
int run(SolveJob& job) {
  const data::Problem& p = job.problem;
  const std::unique_ptr<data::GridTruth> truth = petsc_truth(job);
  pinn::TrainerOptions to;
  to.checkpoint_path = job.out + "/checkpoint.h5";
  to.quiet = job.quiet;
  to.fingerprint = job.fingerprint;
  to.stop_after = job.stop_after;
  pinn::Trainer<T> trainer(p, job.model, job.training, to);
  if (!job.resume.empty()) {
    trainer.resume(job.resume + "/checkpoint.h5");
  } else {
    trainer.initialise();
  }
  if (!job.quiet)
    std::fprintf(stderr, "kpde solve %s: %s; %d parameters, %d interior + %d Dirichlet + %d Neumann/Robin points, %d threads\n",
                 p.name.c_str(), p.describe().c_str(), trainer.net().n_params(), trainer.loss().n_interior(),
                 trainer.loss().n_dirichlet(), trainer.loss().n_neumann(), Runtime::n_threads());
  const pinn::TrainResult res = trainer.run();
  if (res.stopped) {
    std::printf("solve %s: stopped after %ld steps (--stop-after-steps); continue with --resume %s\n",
                p.name.c_str(), res.steps, job.out.c_str());
    return 0;
  }
  const Vec<const T> params(trainer.params());
  const data::PointEval eval = [&](const Mat<const double>& x, std::vector<double>* u, std::vector<double>* r) {
    trainer.loss().evaluate(params, x, u, r);
  };
  data::Report rep = data::build_report(p, job.n, eval, true, truth.get());
  io::JsonValue& metrics = rep.metrics;
  metrics.set("method", "pinn");
  metrics.set("wall_s", res.wall_s);
  metrics.set("steps", res.steps);
  metrics.set("n_params", trainer.net().n_params());
  metrics.set("final_loss", res.loss);
  metrics.set("loss_residual", res.terms.residual);
  metrics.set("loss_dirichlet", res.terms.dirichlet);
  metrics.set("loss_neumann", res.terms.neumann);
  metrics.set("precision", std::is_same<T, double>::value ? "float64" : "float32");
  metrics.set("threads", Runtime::n_threads());
  metrics.set("n_interior", trainer.loss().n_interior());
  std::string stages;
  for (const auto& s : res.messages) stages += (stages.empty() ? "" : " | ") + s;
  metrics.set("stages", stages);
  const pinn::History& h = trainer.history();
  if (!h.monitor_rel_l2.empty()) metrics["time_to_rel_l2"] = data::time_to_accuracy(h.monitor_wall_s, h.monitor_rel_l2);
  const auto hist = history_series(trainer.history());
  if (p.dim <= 2) {
    data::write_solution_outputs(job.out, rep.fields, hist, metrics, job.doc.resolved_text(),
                                 "kpde solve: PINN solution of '" + p.name + "'");
    // Gaussian-feature models: the trained Gaussians (2-D)
    if (trainer.net().gaussian_features() && p.dim == 2)
      write_gaussians_png(job.out + "/gaussians.png", trainer.net(), params, p.geometry->lo().data(),
                          p.geometry->hi().data());
  } else {
    data::make_output_directory(job.out);
    io::write_json(job.out + "/metrics.json", metrics);
    io::write_file_atomically(job.out + "/config.resolved.yaml", job.doc.resolved_text());
  }
  std::printf("solve %s: rel_l2=%.3e mse=%.3e max_abs_err=%.3e final_loss=%.3e steps=%ld wall_s=%.1f out=%s\n",
              p.name.c_str(), rep.summary.rel_l2, rep.summary.mse, rep.summary.max_abs_err, res.loss, res.steps,
              res.wall_s, job.out.c_str());
  return 0;
}

/// Loads the config of `kpde solve` / `kpde reference` (the same format).
void load_job(SolveJob& job, const Args& a) {
  for (const auto& s : a.all("--set")) job.doc.apply_override(s);
  config::Node root = job.doc.root();
  job.problem = data::load_problem(root.at("problem"), job.doc);
  job.model = pinn::load_model(root.section("model"), job.problem.dim);
  job.training = pinn::load_training(root.at("training"), !job.problem.nonlinear);
  job.fd_options = data::load_fd_options(root.section("petsc"));
  const config::Node out = root.section("output");
  job.n = static_cast<int>(out.get_long_min("n", 201, 2, 100000));
  job.out = out.get_string("dir", "kpde_out/" + job.problem.name);
  job.doc.check_unused();
  const long n_arg = a.integer("--n", job.n, 2);
  if (n_arg > 100000) throw InputError("--n must be <= 100000, got " + std::to_string(n_arg));
  job.n = static_cast<int>(n_arg);
  job.quiet = a.has("--quiet");
  job.fingerprint = emit(root.at("problem").yaml()) + "\n" + emit(root.at("model").yaml()) + "\n" +
                    emit(root.at("training").yaml());
}

}  // namespace

int solve(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "solve", {"--out", "--n", "--set", "--resume", "--threads", "--stop-after-steps"},
               {"--quiet"}, 1);
  if (a.positional().empty())
    throw InputError("solve: give a config file: kpde solve CONFIG [--out DIR] [--n N] [--set key=value] "
                     "[--resume DIR] [--quiet]");
  SolveJob job(config::Document::load_file(a.positional()[0]));
  load_job(job, a);
  job.resume = a.str("--resume", "");
  job.out = a.str("--out", job.resume.empty() ? job.out : job.resume);
  job.stop_after = a.integer("--stop-after-steps", 0, 1);
  data::make_output_directory(job.out);
  if (job.model.precision == pinn::Precision::float32) return run<float>(job);
  return run<double>(job);
}

int reference(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "reference", {"--out", "--n", "--set", "--threads"}, {"--quiet"}, 1);
  if (a.positional().empty())
    throw InputError("reference: give a config file: kpde reference CONFIG [--out DIR] [--n N] [--set key=value]");
  SolveJob job(config::Document::load_file(a.positional()[0]));
  load_job(job, a);
  job.out = a.str("--out", job.out + "_reference");
  const data::Problem& p = job.problem;
  const data::FdProblem fd = data::to_fd_problem(p, job.doc.file() + ": problem");
  data::FdOptions fo = job.fd_options;
  fo.n = job.n;
  const data::FdSolution sol = data::solve_reference(fd, fo);
  data::make_output_directory(job.out);
  data::GridData grid;
  grid.values.assign(sol.u.data(), sol.u.data() + sol.u.size());
  grid.nx = grid.ny = sol.grid.n;
  grid.x_lo = sol.grid.x_lo, grid.x_hi = sol.grid.x_hi, grid.y_lo = sol.grid.y_lo, grid.y_hi = sol.grid.y_hi;
  grid.top_row_first = false;
  // u at any point: bilinear interpolation of the grid solution (exact at its nodes)
  const data::PointEval eval = [&](const Mat<const double>& x, std::vector<double>* u, std::vector<double>*) {
    u->resize(x.extent(0));
    for (std::size_t k = 0; k < x.extent(0); ++k) (*u)[k] = grid(x(k, 0), x(k, 1));
  };
  data::Report rep = data::build_report(p, job.n, eval, false);
  io::JsonValue& metrics = rep.metrics;
  metrics.set("method", "petsc_fd");
  metrics.set("solver", sol.solver);
  metrics.set("wall_s", sol.wall_s);
  metrics.set("setup_s", sol.setup_s);
  metrics.set("solve_s", sol.solve_s);
  metrics.set("iterations", sol.iterations);
  metrics.set("n_unknowns", sol.n_unknowns);
  metrics.set("n_internal", sol.n_internal);
  metrics.set("relative_residual", sol.residual_norm);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    data::write_solution_outputs(job.out, rep.fields, {}, metrics, job.doc.resolved_text(),
                                 "kpde reference: PETSc finite-difference solution of '" + p.name + "'");
  std::printf("reference %s: rel_l2=%.3e mse=%.3e max_abs_err=%.3e solver=%s iterations=%d unknowns=%ld wall_s=%.2f out=%s\n",
              p.name.c_str(), rep.summary.rel_l2, rep.summary.mse, rep.summary.max_abs_err, sol.solver.c_str(),
              sol.iterations, sol.n_unknowns, sol.wall_s, job.out.c_str());
  return 0;
}

}  // namespace kpde::cli
