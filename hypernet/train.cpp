#include "hypernet/train.hpp"

#include <Kokkos_Core.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <type_traits>

#include "data/solution_output.hpp"
#include "hypernet/model_io.hpp"
#include "io/atomic_file.hpp"
#include "io/hdf5.hpp"
#include "io/json.hpp"
#include "train/trainer.hpp"

namespace kpde::hypernet {

namespace {

template <class T>
TrainRun run(const TrainConfig& cfg, const TrainOptions& o) {
  TrainRun out;
  out.out = o.out.empty() ? (o.resume.empty() ? cfg.output_dir : o.resume) : o.out;
  const int threads = static_cast<int>(Kokkos::DefaultHostExecutionSpace::concurrency());
  if (!o.quiet && train::Comm::world().root())
    std::fprintf(stderr, "kpde train hypernet: model %s; generating the pool of %d samples (%d threads)\n",
                 cfg.objective.model.describe().c_str(), cfg.objective.data.size, threads);
  HypernetObjective<T> objective(cfg.objective);
  // under mpirun: data-parallel over MPI_COMM_WORLD (each rank its share of every batch),
  // rank 0 writes every output
  const train::TrainerOptions to = train::TrainerOptions::in_folder(out.out, cfg.fingerprint, "hypernet", o.quiet);
  const bool root = to.comm.root();
  train::TrainerSettings settings = cfg.training;
  if (o.max_wall_s >= 0) settings.max_wall_s = o.max_wall_s;
  train::Trainer<T> trainer(objective, settings, to);
  std::string lineage;  // with --init-from: the description of the model it started from
  if (o.stop_after > 0) trainer.add_stop(std::make_unique<train::StopAfterSteps>(o.stop_after));
  if (!o.resume.empty()) {
    trainer.resume(o.resume + "/checkpoint.h5");
    if (std::ifstream f(o.resume + "/init_from.txt"); f) lineage.assign(std::istreambuf_iterator<char>(f), {});
  } else if (!o.init_from.empty()) {
    const TrainedHypernet from = read_hypernet_file(o.init_from);
    lineage = "; initialised from " + o.init_from + ", whose description reads: " + from.description;
    if (from.params.size() != objective.n_params())
      throw InputError("train: --init-from " + o.init_from + ": its architecture (" + from.spec.describe() +
                       ") differs from the config's (" + cfg.objective.model.describe() + ")");
    for (std::size_t k = 0; k < from.params.size(); ++k) trainer.params()(k) = static_cast<T>(from.params[k]);
  } else {
    objective.model().init(trainer.params().data(), cfg.objective.model_seed);
  }
  if (!o.quiet && root)
    std::fprintf(stderr, "kpde train hypernet: %zu parameters, %.2f GFLOP per sample forward, batch %d%s; output in %s\n",
                 objective.n_params(), objective.model().forward_flops() * 1e-9, cfg.objective.batch,
                 to.comm.parallel() ? (" over " + std::to_string(to.comm.size()) + " MPI ranks").c_str() : "",
                 out.out.c_str());
  if (root) {
    data::make_output_directory(out.out);
    io::write_file_atomically(out.out + "/config.resolved.yaml", cfg.resolved);
    if (!lineage.empty()) io::write_file_atomically(out.out + "/init_from.txt", lineage);  // read back on --resume
  }
  const long seen_before = objective.samples_seen();
  const double wall_before = trainer.history().find("wall_s") && !trainer.history().find("wall_s")->empty()
                                 ? trainer.history().find("wall_s")->back()
                                 : 0.0;
  const train::TrainResult r = trainer.run();
  out.steps = r.steps;
  out.wall_s = r.wall_s;
  out.loss = r.loss;
  out.finished = r.end != train::Verdict::suspend || r.out_of_time;
  out.stop_reason = r.out_of_time ? "the wall-time budget was spent" : r.reason;
  out.samples_seen = objective.samples_seen();
  const double run_wall = r.wall_s - wall_before;
  out.samples_per_s = run_wall > 0 ? static_cast<double>(out.samples_seen - seen_before) / run_wall : 0;
  out.cpu_hours = r.wall_s * threads * to.comm.size() / 3600.0;
  if (!root) return out;  // rank 0 writes the model and the reports

  // the model (also after a budget or an interrupt: it is usable as it is)
  std::vector<double> params(objective.n_params());
  for (std::size_t k = 0; k < params.size(); ++k) params[k] = static_cast<double>(trainer.params()(k));
  char desc[512];
  std::snprintf(desc, sizeof desc,
                "kpde hypernetwork (HyPINO-style): %ld steps of batch %d, %ld samples seen, data seed %llu, "
                "%.2f CPU-hours (%d threads x %d ranks), command: %s",
                out.steps, cfg.objective.batch, out.samples_seen,
                static_cast<unsigned long long>(cfg.objective.data.seed), out.cpu_hours, threads, to.comm.size(),
                o.command.c_str());
  write_hypernet_file(out.out + "/model.h5", cfg.model_text, params, desc + lineage);
  io::JsonValue m = io::JsonValue::object();
  m.set("method", "hypernet");
  m.set("steps", out.steps);
  m.set("wall_s", out.wall_s);
  m.set("samples_seen", out.samples_seen);
  m.set("samples_generated", static_cast<double>(objective.samples_generated()));
  m.set("samples_per_s", out.samples_per_s);
  m.set("cpu_hours", out.cpu_hours);
  m.set("threads", threads);
  m.set("mpi_ranks", to.comm.size());
  m.set("n_params", static_cast<double>(objective.n_params()));
  m.set("precision", std::is_same<T, double>::value ? "float64" : "float32");
  m.set("final_loss", out.loss);
  const auto& names = loss_term_names();
  for (std::size_t k = 0; k < names.size() && k < r.terms.size(); ++k) m.set("loss_" + names[k], r.terms[k]);
  const std::vector<double> val = objective.validation_terms(Vec<const T>(trainer.params()));
  for (std::size_t k = 0; k < names.size() && k < val.size(); ++k) m.set("val_" + names[k], val[k]);
  if (!out.finished || r.out_of_time) m.set("stopped_early", out.stop_reason);
  data::write_training_reports(out.out, m, trainer.history());
  return out;
}

}  // namespace

TrainRun run_training(const TrainConfig& config, const TrainOptions& options) {
  return config.float64 ? run<double>(config, options) : run<float>(config, options);
}

}  // namespace kpde::hypernet
