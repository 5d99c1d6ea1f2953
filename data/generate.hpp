#pragma once
/// The dataset pipeline of `kpde generate` (docs/datasets.md): a generate config, then
/// samples 0..n-1 made by every MPI rank of `comm`: each rank takes the next free index
/// (a shared counter, so ranks that draw quick samples take more), makes the sample and
/// encodes it (conversion to the file types, shuffle + deflate: the costly part of
/// writing); ranks > 0 send the stored bytes to rank 0, whose second thread places them
/// in index order (direct chunk writes) while the ranks go on. One process encodes on
/// that second thread instead. Sample i is a pure function of (config, seed, i) and the
/// writer's calls depend only on the samples, so the file is byte for byte the same for
/// any number of ranks but for the run attributes (mpi_ranks, wall_s, samples_per_s).
/// Errors are collective: a failure on any rank (bad input, a failed write) stops the
/// counter, every rank ends with the same InputError/Error, and no file is left.
#include <mpi.h>

#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "data/antiderivative.hpp"
#include "data/darcy.hpp"
#include "data/dataset.hpp"
#include "data/fisher.hpp"
#include "data/mms.hpp"

namespace kpde::data {

/// A loaded generate config.
struct GenerateConfig {
  std::string kind;  ///< "mms", "darcy", "antiderivative" or "fisher"
  MmsSettings mms;
  DarcySettings darcy;
  AntiderivativeSettings antiderivative;
  FisherSettings fisher;
  bool float64 = false;  ///< grids and points in float64 (else float32)
  int compression = 1;   ///< gzip level 0-9
  int batch = 8;         ///< samples a rank may have in flight to rank 0 (ranks > 0)
  /// The schema of the file this config makes.
  DatasetSchema schema() const;
};

/// Reads the keys of an `mms:` section into s (defaults: s's values), then validates;
/// errors name the file, line and key.
void load_mms_settings(config::Node mms, MmsSettings& s);

/// Reads a generate config (`kind: mms|darcy|antiderivative|fisher`, `grid` (not for
/// antiderivative and fisher), `precision`, `compression`, `batch`, `mms:`, `darcy:`,
/// `antiderivative:` or `fisher:`); every error names the file, line and key. Call
/// doc.check_unused() afterwards.
GenerateConfig load_generate_config(config::Node root);

/// What generate_dataset made (totals over ranks; on rank 0).
struct GenerateReport {
  long n = 0;
  double wall_s = 0;
  int ranks = 1;
  MmsStats stats;              ///< mms: draws and rejections
  long krylov_iterations = 0;  ///< darcy: summed over the solves
};

/// Writes samples 0..n-1 of `config` with `seed` to `out` (rank 0; every rank of comm
/// takes part). `provenance` (the resolved config text and its file name) goes into
/// the file's attributes. Prints a progress line on rank 0 unless quiet.
GenerateReport generate_dataset(const GenerateConfig& config, const std::string& resolved_config,
                                const std::string& config_file, const std::string& out, long n,
                                std::uint64_t seed, bool quiet, MPI_Comm comm);

}  // namespace kpde::data
