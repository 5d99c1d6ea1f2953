#pragma once
/// `kpde train` for the hypernetwork: the objective (objective.hpp) under train::Trainer,
/// with checkpoints that resume exactly, and the outputs of a run in its folder:
///   config.resolved.yaml (first), checkpoint.h5, model.h5 (the trained hypernetwork,
///   also when the wall-time budget ends the run or it is interrupted), metrics.json
///   (throughput, samples, CPU-hours, final and validation terms), loss.png, history.h5.
#include <string>

#include "hypernet/config.hpp"

namespace kpde::hypernet {

struct TrainOptions {
  std::string out;             ///< output folder (default: the config's output.dir)
  std::string resume;          ///< folder of a run to continue ("" = fresh)
  /// A hypernetwork model.h5 of the same architecture whose parameters start a fresh run
  /// (a run continued from its model file when its checkpoint is gone: the optimiser's
  /// moments and the schedule start anew).
  std::string init_from;
  bool quiet = false;
  double max_wall_s = -1;      ///< >= 0 overrides training.max_wall_s
  long stop_after = 0;         ///< > 0: stop after this many steps (a resumable run)
  std::string command;         ///< the command line, for the model's description
};

struct TrainRun {
  long steps = 0;
  double wall_s = 0;
  double samples_per_s = 0;
  long samples_seen = 0;
  double cpu_hours = 0;        ///< wall time x threads, resumed runs included
  double loss = 0;
  bool finished = false;       ///< every stage ran (else resumable)
  std::string stop_reason;
  std::string out;
};

TrainRun run_training(const TrainConfig& config, const TrainOptions& options);

}  // namespace kpde::hypernet
