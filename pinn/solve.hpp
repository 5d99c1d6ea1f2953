#pragma once
/// The `kpde solve` pipeline (docs/design.md section 2) as a library call: a config
/// (problem, model, training, petsc, output), a PINN trained by train::Trainer, the
/// report against the best truth available, and the output folder.
#include <string>

#include "config/config.hpp"
#include "data/problem.hpp"
#include "data/reference/reference_solver.hpp"
#include "data/report.hpp"
#include "data/solution_output.hpp"
#include "pinn/settings.hpp"
#include "train/settings.hpp"

namespace kpde::pinn {

/// A `kpde solve` config with every section loaded and checked (`kpde reference` reads
/// the same format).
struct SolveConfig {
  data::Problem problem;
  ModelSettings model;
  PinnSettings pinn;
  train::TrainerSettings training;
  data::FdOptions fd;           ///< `petsc:` (reference: petsc, kpde reference)
  data::GridCounts output_n{201, 201, 201};  ///< output grid nodes per axis (3-D default 65)
  std::string output_dir;
  std::string problem_text;     ///< the resolved `problem:` section (YAML)
  std::string model_text;       ///< the resolved `model:` section
  std::string fingerprint;      ///< problem, model and training (a resume must match)
  std::string source_directory; ///< absolute directory of the config (its relative paths)
  std::string resolved;         ///< the whole resolved config (config.resolved.yaml)
};

/// Reads every section of doc (overrides applied before), then checks for unknown
/// keys. InputError naming the file, line, column and key. Without needs_training a
/// config may leave out `training:` (kpde hypernet, which trains nothing).
SolveConfig load_solve_config(config::Document& doc, bool needs_training = true);

struct SolveOptions {
  std::string out;        ///< the output folder (created)
  std::string resume;     ///< "" or a folder whose checkpoint.h5 the run continues
  bool quiet = false;     ///< no banner and progress line
  long stop_after = 0;    ///< > 0: stop with a checkpoint after this many steps
  /// >= 0: the wall-time budget in seconds, counted from the call of solve() (replaces
  /// training.max_wall_s; 0: none). When it is spent, training stops with a checkpoint
  /// and every output is written from the parameters of that step.
  double max_wall_s = -1;
  std::string threads_note;  ///< how the thread count was chosen, for the banner
};

struct SolveResult {
  bool stopped = false;       ///< stopped by stop_after or a signal (continue with resume); no outputs
  bool interrupted = false;   ///< stopped by a signal (train::interrupt_requested)
  bool out_of_time = false;   ///< training stopped at the wall-time budget; outputs written
  std::string stop_reason;    ///< why training stopped early ("" when every stage ran)
  long steps = 0;
  double wall_s = 0;
  double final_loss = 0;
  data::ErrorMetrics summary{NAN, NAN, NAN, 0};  ///< headline errors (n = 0: no truth)
  std::string field_errors;   ///< a system: "u 1.2e-04, v 3.4e-04, p 5.6e-03" (rel_l2 per field with a truth)
};

/// Trains the PINN of cfg and writes the output folder (docs/outputs.md):
/// solution.h5 (+ .xdmf), u.png, error.png, metrics.json, config.resolved.yaml,
/// model.h5, checkpoint.h5 (and gaussians.png for 2-D Gaussian-feature models). A
/// Under mpirun the ranks of MPI_COMM_WORLD train data-parallel (each evaluates its
/// shard of the same global points, train/comm.hpp) and rank 0 alone writes outputs and
/// checkpoints (the others return after training, without a report). A
/// stopped run writes only its checkpoint (and config.resolved.yaml, written first so that
/// the folder of a killed run says what ran). Throws InputError on bad input (before
/// anything is written), kpde::Error when training diverges.
SolveResult solve(const SolveConfig& cfg, const SolveOptions& options);

}  // namespace kpde::pinn
