#pragma once
/// The checkpoint file of train::Trainer (HDF5; schema in docs/outputs.md): attributes
/// format = "kpde-checkpoint", schema_version, kpde_version, objective, precision,
/// fingerprint, stage, step_in_stage, global_step, wall_s; datasets params [n] and
/// weights [K] (attribute terms: the term names); groups optimizer/ (the running
/// stage's state), objective/ (the objective's state) and history/ written by their
/// owners.
#include <string>
#include <vector>

#include "io/hdf5.hpp"

namespace kpde::train {

/// What a checkpoint must match to be resumed.
struct CheckpointIdentity {
  std::string objective;    ///< the objective's kind, e.g. "pinn"
  std::string precision;    ///< "float64" or "float32" (recorded; the fingerprint covers it)
  std::string fingerprint;  ///< the configuration's text
};

/// Where a run stands.
struct CheckpointPosition {
  int stage = 0;            ///< the running (or next) stage; = the number of stages when done
  long step_in_stage = 0;   ///< where that stage continues
  long global_step = 0;     ///< steps done, all stages counted
  double wall_s = 0;        ///< training seconds so far
};

/// Starts a checkpoint at `path`: the attributes, params and weights. The caller adds
/// its groups and closes the file, which appears under `path` only then.
io::H5File begin_checkpoint(const std::string& path, const CheckpointIdentity& id, const CheckpointPosition& at,
                            const std::vector<double>& params, const std::vector<double>& weights,
                            const std::vector<std::string>& term_names);

/// Opens a checkpoint to resume: InputError "PATH: cannot resume: ..." when it is
/// missing, not a kpde checkpoint (or one of an older format), of a newer schema, of
/// another objective, or of another configuration (fingerprint).
io::H5File open_checkpoint(const std::string& path, const CheckpointIdentity& id);
/// The position; InputError when its stage is outside 0..n_stages.
CheckpointPosition read_position(const io::H5File& file, int n_stages);
/// params [n] (InputError on another length) and the weights of term_names (InputError
/// when the file's terms differ).
std::vector<double> read_params(const io::H5File& file, std::size_t n);
std::vector<double> read_weights(const io::H5File& file, const std::vector<std::string>& term_names);

/// Throws InputError "PATH: cannot resume: why".
[[noreturn]] void refuse_resume(const io::H5File& file, const std::string& why);

/// The term weights of a checkpoint written for `term_names` (empty when the file is no
/// checkpoint or has other terms); for model.init_from with balancing.
std::vector<double> checkpoint_weights(const std::string& path, const std::vector<std::string>& term_names);

}  // namespace kpde::train
