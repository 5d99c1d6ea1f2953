#include "pinn/solve.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/strings.hpp"
#include "data/report.hpp"
#include "data/reference/from_problem.hpp"
#include "io/atomic_file.hpp"
#include "io/json.hpp"
#include "io/model_file.hpp"
#include "nn/network.hpp"
#include "pinn/gaussians_png.hpp"
#include "pinn/model.hpp"
#include "pinn/objective.hpp"
#include "pinn/system_objective.hpp"
#include "train/trainer.hpp"

namespace kpde::pinn {

namespace {

std::string absolute(const std::string& dir) {
  char buf[PATH_MAX];
  return ::realpath(dir.c_str(), buf) ? std::string(buf) : dir;
}

/// The network spec with the problem's bounding box as the box of the initial Gaussian
/// means (Gaussian features).
nn::NetworkSpec with_domain(nn::NetworkSpec s, const data::Problem& p) {
  if (s.features.kind == nn::FeatureKind::gaussian && p.geometry)
    for (int a = 0; a < s.input_dim; ++a) s.features.lo[a] = p.geometry->lo()[a], s.features.hi[a] = p.geometry->hi()[a];
  return s;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <class T>
SolveResult run(const SolveConfig& cfg, const SolveOptions& o, double started) {
  const data::Problem& p = cfg.problem;
  // the PETSc reference first: a problem it cannot take fails before training
  std::unique_ptr<data::GridTruth> truth;
  if (p.reference_solver == "petsc")
    truth = std::make_unique<data::GridTruth>(data::petsc_grid_truth(p, cfg.fd, cfg.output_n, "problem.reference"));
  nn::Network<T> net(with_domain(cfg.model.network, p));
  // a scalar problem or a system (one network output per field)
  std::unique_ptr<PinnObjective<T>> scalar;
  std::unique_ptr<SystemObjective<T>> system;
  if (p.is_system())
    system = std::make_unique<SystemObjective<T>>(p, net, cfg.pinn, cfg.training.balance == train::Balance::grad_norm);
  else
    scalar = std::make_unique<PinnObjective<T>>(p, net, cfg.pinn);
  train::Objective<T>& objective = scalar ? static_cast<train::Objective<T>&>(*scalar) : *system;
  // under mpirun: data-parallel over the ranks of MPI_COMM_WORLD (the same points for any
  // number of ranks), rank 0 writes every output
  const train::TrainerOptions to = train::TrainerOptions::in_folder(o.out, cfg.fingerprint, "pinn", o.quiet);
  const bool root = to.comm.root();
  // the wall-time budget counts from the start of the solve: what set-up took is spent
  train::TrainerSettings settings = cfg.training;
  const double budget = o.max_wall_s >= 0 ? o.max_wall_s : settings.max_wall_s;
  settings.max_wall_s = budget > 0 ? std::max(1e-3, budget - (now_s() - started)) : 0;
  train::Trainer<T> trainer(objective, settings, to);
  if (o.stop_after > 0) trainer.add_stop(std::make_unique<train::StopAfterSteps>(o.stop_after));
  if (!o.resume.empty()) {
    trainer.resume(o.resume + "/checkpoint.h5");
  } else {
    net.init_params(trainer.params(), cfg.model.seed, cfg.model.init);
    if (!cfg.model.init_from.empty()) {
      load_init_params(cfg.model.init_from, net, trainer.params());
      // with automatic balancing the term weights continue from the checkpoint's
      if (cfg.training.balance == train::Balance::grad_norm) {
        std::vector<double> w = train::checkpoint_weights(cfg.model.init_from, objective.term_names());
        if (!w.empty()) trainer.set_weights(std::move(w));
      }
    }
    if (scalar) scalar->sample(0);
    else system->sample(0);
  }
  const std::string ranks = to.comm.parallel() ? " x " + std::to_string(to.comm.size()) + " MPI ranks" : "";
  if (!o.quiet && root)
    std::fprintf(stderr, "kpde solve %s: %s; %d parameters, %d interior + %d Dirichlet + %d Neumann/Robin points, %d threads%s%s; output in %s\n",
                 p.name.c_str(), p.describe().c_str(), net.n_params(), scalar ? scalar->n_interior() : system->n_interior(),
                 scalar ? scalar->n_dirichlet() : system->n_dirichlet(), scalar ? scalar->n_neumann() : system->n_neumann(), static_cast<int>(Kokkos::DefaultHostExecutionSpace::concurrency()),
                 o.threads_note.empty() ? "" : (" (" + o.threads_note + ")").c_str(), ranks.c_str(), o.out.c_str());
  // the input is good: the resolved config first, so that the folder of a run that is
  // killed says what ran in it
  if (root) {
    data::make_output_directory(o.out);
    if (!cfg.resolved.empty()) io::write_file_atomically(o.out + "/config.resolved.yaml", cfg.resolved);
  }
  const train::TrainResult res = trainer.run();
  SolveResult result;
  result.stopped = res.stopped();
  result.steps = res.steps;
  result.wall_s = res.wall_s;
  result.final_loss = res.loss;
  result.interrupted = res.interrupted;
  result.out_of_time = res.out_of_time;
  result.stop_reason = res.out_of_time ? "the wall-time budget of " + format_number(budget) + " s was spent"
                                       : res.reason;
  if (res.out_of_time) result.stopped = false;  // stopped at the budget: the outputs are written
  if (result.stopped || !root) return result;

  const Vec<const T> params(trainer.params());
  data::Report rep;
  if (scalar) {
    const data::PointEval eval = [&](const Mat<const double>& x, std::vector<double>* u, std::vector<double>* r) {
      scalar->evaluate_points(params, x, u, r);
    };
    rep = data::build_report(p, cfg.output_n, eval, true, truth.get());
  } else {
    const data::SystemEval eval = [&](const Mat<const double>& x, std::vector<std::vector<double>>* u,
                                      std::vector<std::vector<double>>* r) { system->evaluate_points(params, x, u, r); };
    rep = data::build_system_report(p, cfg.output_n, eval);
  }
  io::JsonValue& metrics = rep.metrics;
  metrics.set("method", "pinn");
  metrics.set("wall_s", res.wall_s);
  metrics.set("steps", res.steps);
  metrics.set("n_params", net.n_params());
  metrics.set("final_loss", res.loss);
  const std::vector<std::string> names = objective.term_names();
  for (std::size_t k = 0; k < names.size() && k < res.terms.size(); ++k) metrics.set("loss_" + names[k], res.terms[k]);
  metrics.set("precision", std::is_same<T, double>::value ? "float64" : "float32");
  metrics.set("threads", static_cast<int>(Kokkos::DefaultHostExecutionSpace::concurrency()));
  metrics.set("mpi_ranks", to.comm.size());
  metrics.set("n_interior", scalar ? scalar->n_interior() : system->n_interior());
  std::string stages;
  for (const auto& s : res.messages) stages += (stages.empty() ? "" : " | ") + s;
  metrics.set("stages", stages);
  if (res.end == train::Verdict::finish || res.out_of_time) metrics.set("stopped_early", result.stop_reason);
  if (budget > 0) metrics.set("max_wall_s", budget);
  const train::History& h = trainer.history();
  const auto* mw = h.find("monitor_wall_s");
  const auto* me = h.find("monitor_rel_l2");
  if (mw && me && !me->empty()) metrics["time_to_rel_l2"] = data::time_to_accuracy(*mw, *me);

  io::write_model_file(o.out + "/model.h5",
                       make_model_file(net, params, cfg.model_text, p, cfg.problem_text, cfg.source_directory,
                                       cfg.pinn.hard_dirichlet));
  data::write_solution_outputs(o.out, rep.fields, h.series(), metrics, cfg.resolved,
                               "kpde solve: PINN solution of '" + p.name + "'");
  // Gaussian-feature models: the trained Gaussians (2-D)
  if (net.gaussian_features() && p.dim == 2)
    write_gaussians_png(o.out + "/gaussians.png", net, params, p.geometry->lo().data(), p.geometry->hi().data());
  result.summary = rep.summary;
  if (const io::JsonValue* fields = metrics.find("fields"))
    for (const std::string& f : p.fields)
      if (const io::JsonValue* m = fields->find(f)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s %.3e", f.c_str(), m->find("rel_l2") ? m->find("rel_l2")->number() : NAN);
        result.field_errors += (result.field_errors.empty() ? "" : ", ") + std::string(buf);
      }
  return result;
}

}  // namespace

SolveConfig load_solve_config(config::Document& doc, bool needs_training) {
  SolveConfig cfg;
  config::Node root = doc.root();
  cfg.problem = data::load_problem(root.at("problem"), doc);
  cfg.model = load_model(root.section("model"), cfg.problem.dim);
  cfg.model.network.output_dim = cfg.problem.n_fields();  // one output per field
  const bool trains = needs_training || root.has("training");
  const config::Node training = trains ? root.at("training") : root.section("training");
  if (trains) {
    train::StageParseContext ctx;
    ctx.projectable = !cfg.problem.nonlinear;
    ctx.not_projectable = cfg.problem.is_system() ? "this problem is a system" : "this problem's operator is a nonlinear residual";
    std::vector<std::string> terms{"residual", "dirichlet", "neumann"};
    if (cfg.problem.is_system()) {  // a term per equation
      terms.clear();
      for (const auto& e : cfg.problem.equations) terms.push_back(e.name);
      terms.push_back("dirichlet"), terms.push_back("neumann");
    }
    cfg.training = train::load_trainer_settings(training, terms, ctx);
    cfg.pinn = load_pinn_settings(training);
    if (cfg.problem.is_system()) {
      if (cfg.pinn.residual_modes > 0)
        training.at("weights").fail("residual modes (modes:) are not implemented for systems yet");
    }
  }
  cfg.fd = data::load_fd_options(root.section("petsc"));
  const config::Node out = root.section("output");
  // output.n: one count for every axis, or a list of one per axis
  const int dim = cfg.problem.dim;
  if (auto n = out.find("n"); n && n->is_list()) {
    if (n->size() != static_cast<std::size_t>(dim))
      n->fail("expected one node count or a list of " + std::to_string(dim) + " (one per axis), got " +
              std::to_string(n->size()));
    for (int a = 0; a < dim; ++a) {
      const long v = (*n)[a].as_long();
      if (v < 2 || v > 100000) (*n)[a].fail("a node count must be in [2, 100000], got " + std::to_string(v));
      cfg.output_n[a] = static_cast<int>(v);
    }
  } else {
    cfg.output_n = data::same_counts(static_cast<int>(out.get_long_min("n", dim == 3 ? 65 : 201, 2, 100000)));
  }
  cfg.output_dir = out.get_string("dir", "kpde_out/" + cfg.problem.name);
  doc.check_unused();
  cfg.problem_text = config::emit_yaml(root.at("problem").yaml());
  cfg.model_text = root.has("model") ? config::emit_yaml(root.at("model").yaml()) : std::string();
  // the fingerprint leaves out the wall-time budget: a resumed run may have another
  if (trains) {
    YAML::Node fingerprinted = YAML::Clone(training.yaml());
    fingerprinted.remove("max_wall_s");
    cfg.fingerprint = cfg.problem_text + "\n" + cfg.model_text + "\n" + config::emit_yaml(fingerprinted);
  }
  cfg.source_directory = absolute(doc.directory());
  cfg.resolved = doc.resolved_text();
  return cfg;
}

SolveResult solve(const SolveConfig& cfg, const SolveOptions& options) {
  const double started = now_s();
  if (cfg.model.precision == Precision::float32) return run<float>(cfg, options, started);
  return run<double>(cfg, options, started);
}

}  // namespace kpde::pinn
