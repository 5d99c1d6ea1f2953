#pragma once
/// The dataset pipeline of `kpde generate` (docs/datasets.md): a generate config, then
/// samples 0..n-1 made in rounds by every MPI rank of `comm` (rank r makes indices
/// [base + r batch, base + (r + 1) batch) of round base), gathered on rank 0 in index
/// order and written there by a second thread while the ranks make the next round.
/// Sample i is a pure function of (config, seed, i): the file is the same for any
/// number of ranks. Errors are collective: a failure on any rank (bad input, a failed
/// write) stops every rank at the next round with the same InputError/Error, and no
/// file is left.
#include <mpi.h>

#include <cstdint>
#include <string>

#include "config/config.hpp"
#include "data/darcy.hpp"
#include "data/dataset.hpp"
#include "data/mms.hpp"

namespace kpde::data {

/// A loaded generate config.
struct GenerateConfig {
  std::string kind;  ///< "mms" or "darcy"
  MmsSettings mms;
  DarcySettings darcy;
  bool float64 = false;  ///< grids and points in float64 (else float32)
  int compression = 1;   ///< gzip level 0-9
  int batch = 8;         ///< samples per rank and round
  /// The schema of the file this config makes.
  DatasetSchema schema() const;
};

/// Reads the keys of an `mms:` section into s (defaults: s's values), then validates;
/// errors name the file, line and key.
void load_mms_settings(config::Node mms, MmsSettings& s);

/// Reads a generate config (`kind: mms|darcy`, `grid`, `precision`, `compression`,
/// `batch`, `mms:` or `darcy:`); every error names the file, line and key. Call
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
