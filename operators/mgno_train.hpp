#pragma once
/// `kpde train` with `model: {type: mgno}` (docs/config.md, "kpde train: mgno"):
///   model:    {type: mgno, channels, layers, smoothing: [nu_0, ..], padding: zeros |
///              reflect | circular, restriction: data | residual, output_scale, seed}
///   data:     {generate: a kpde generate config (kind darcy), cache, train: split,
///              test: split, resolution_tests: [split, ..]} (operators/operator_data.hpp;
///              each resolution test is evaluated apart at the end, e.g. a finer grid)
///   training: {batch, precision, loss: h1 | l2, stages, checkpoint_every, monitor_every,
///              max_wall_s}
///   output:   {dir}
/// The losses are relative, per sample, averaged over the batch:
///   l2: ||G(a) - u|| / ||u||,   h1: ||G(a) - u||_h1 / ||u||_h1,
///   ||v||_h1^2 = sum_ij v_ij^2 + w sum_ij ((v_i,j+1 - v_ij)^2 + (v_i+1,j - v_ij)^2) / h^2,
///   h = 1 / (n - 1), w = training.h1_weight (1: the discrete H1 norm; 1/(2 pi)^2 weighs
///   a mode of frequency k by about 1 + |k|^2, the brief's Fourier weights without their
///   cut-off). The reported test H1 error is always the w = 1 norm.
/// The branch input is the data's image (darcy: log a), normalised by one mean and one
/// standard deviation of the training images (so the model runs on any grid); the output
/// scale sigma defaults to the RMS of the training solutions. The run writes
/// config.resolved.yaml, checkpoint.h5, model.h5 (kind mgno), metrics.json (test relative
/// L2 and H1: mean, median, p95; the resolution tests), history.h5, loss.png and heat maps
/// of the median and worst test samples. Under mpirun the ranks share every batch.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "operators/mgno.hpp"
#include "operators/operator_data.hpp"
#include "train/settings.hpp"

namespace kpde::operators {

struct MgnoTrainConfig {
  MgnoSpec spec;
  std::uint64_t model_seed = 1;
  OperatorData train, test;
  std::vector<OperatorData> resolution_tests;  ///< evaluated apart at the end
  std::string data_kind;
  long batch = 8;
  bool float64 = false;
  bool h1_loss = true;  ///< training.loss: h1 (else l2)
  double h1_weight = 1;  ///< training.h1_weight: w of the h1 loss
  train::TrainerSettings training;
  std::string output_dir = "kpde_out/mgno";
  std::string fingerprint, resolved, model_text;
};

/// Reads the whole config (and makes or reads the data); errors name file, line and key.
MgnoTrainConfig load_mgno_config(config::Document& doc);

struct MgnoRunOptions {
  std::string out, resume;
  bool quiet = false;
  double max_wall_s = -1;
  long stop_after = 0;
};

struct MgnoRun {
  long steps = 0;
  double wall_s = 0, loss = 0;
  double test_mean = NAN, test_median = NAN, test_p95 = NAN, test_h1_mean = NAN;
  bool finished = false;
  std::string stop_reason, out;
};

MgnoRun run_mgno_training(const MgnoTrainConfig& cfg, const MgnoRunOptions& options);

/// Relative errors of a model on gridded data (a [N][C n^2] images, s [N][n^2]): for every
/// sample ||G(a) - u|| / ||u|| (l2) and the same in the h1 norm.
struct MgnoErrors {
  std::vector<double> l2, h1;
};
template <class T>
MgnoErrors mgno_errors(const Mgno<T>& net, const T* params, const OperatorData& data, Mat<double>* predictions = nullptr);

/// The errors of a model trained on a grid x grid mesh on data of a refinement of it ((n-1)
/// a multiple r of (grid-1)), resampled: the inputs at every r-th node (injection), the
/// output interpolated bilinearly back onto the n x n nodes.
MgnoErrors mgno_resampled_errors(const Mgno<double>& net, const double* params, const OperatorData& data, int grid);

/// The relative error of one prediction p against a target u on an n x n grid in the norm
/// ||v||^2 = sum v^2 + w sum |grad_h v|^2 (w = 0: l2; see the file comment), and with dp
/// (not null) its gradient d/dp [n^2] (0 where the error is 0).
double mgno_relative_error(const double* p, const double* u, int n, double w, double* dp = nullptr);

/// A trained MgNO read back from model.h5 (kind mgno): the spec, the data kind, the flat
/// parameters. InputError naming the file when it is not one.
struct TrainedMgno {
  MgnoSpec spec;
  std::string data_kind, precision;
  int grid = 0;  ///< nodes per axis of the training grid
  std::vector<double> params;
};
TrainedMgno read_mgno_model(const std::string& path);

}  // namespace kpde::operators
