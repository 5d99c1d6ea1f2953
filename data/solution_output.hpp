#pragma once
/// The output folder of `kpde solve` and `kpde reference` (docs/outputs.md):
/// solution.h5 (+ loss history), solution.xdmf, u.png, error.png, loss.png, metrics.json
/// and config.resolved.yaml. Every file is written under a temporary name and renamed.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/json.hpp"
#include "train/history.hpp"

namespace kpde::data {

/// Fields on an nx x ny (x nz) grid of nodes, each stored [ny][nx] ([nz][ny][nx]), row 0
/// at the smallest y.
struct GridFields {
  std::vector<double> x, y;  ///< node coordinates, [nx] and [ny]
  std::vector<double> z;     ///< [nz] for 3-D grids, else empty
  /// Named fields in output order (u first; then exact or reference, error, residual,
  /// domain_mask).
  std::vector<std::pair<std::string, std::vector<double>>> fields;
  /// A system's unknowns (their fields are named so, their errors <name>_error); empty
  /// for a scalar problem (u, error).
  std::vector<std::string> unknowns;
  std::size_t nx() const { return x.size(); }
  std::size_t ny() const { return y.size(); }
  std::size_t nz() const { return z.size(); }
  /// The field called `name`, or null.
  const std::vector<double>* find(const std::string& name) const;
};

/// Errors of u against a truth over the nodes where mask != 0 (all when mask is empty):
///   mse = mean (u - truth)^2, rel_l2 = ||u - truth||_2 / ||truth||_2 (or the absolute
///   L2 norm when ||truth|| = 0), max_abs_err = max |u - truth|.
/// Errors of u against a truth over the nodes of a mask: rel_l2 = |u - t|_2 / |t|_2,
/// mse = mean (u - t)^2, max_abs_err. When the truth vanishes at every node (max |t| <=
/// 1e-13, rounding of an O(1) expression, or <= 1e-12 max |u|) rel_l2 is NaN (undefined)
/// and truth_vanishes is set: report sqrt(mse) instead.
struct ErrorMetrics {
  double rel_l2 = 0, mse = 0, max_abs_err = 0;
  long n = 0;
  bool truth_vanishes = false;
};
ErrorMetrics error_metrics(const std::vector<double>& u, const std::vector<double>& truth,
                           const std::vector<double>& mask);

/// Writes the output folder `dir` (created when missing; InputError when it cannot be).
///  - solution.h5: x [nx], y [ny] (z [nz]), every field [ny][nx] ([nz][ny][nx]);
///    `history/<name>` [steps] for each history series; attributes: description, layout.
///  - solution.xdmf for ParaView; u.png and error.png (when an `error` field exists; in
///    3-D the middle z slice), heat maps with x and y axes; for a system <f>.png and
///    <f>_error.png for every unknown f;
///  - loss.png, the history's loss, loss terms and monitored errors against the step on a
///    log scale (when the history has steps);
///  - metrics.json (the given object) and config.resolved.yaml (when text is not empty).
/// 1-D problems pass ny = 1 (y = {0}); XDMF and the heat maps are then skipped.
void write_solution_outputs(const std::string& dir, const GridFields& grid,
                            const std::vector<std::pair<std::string, std::vector<double>>>& history,
                            const io::JsonValue& metrics, const std::string& resolved_config,
                            const std::string& description);

/// The training history as a figure: against "step", the loss and each loss term (not
/// lr, wall_s, stage); against "monitor_step", each monitored quantity monitor_<name>;
/// log scale, series without a positive value left out. Nothing without steps.
void write_loss_png(const std::string& path, const std::vector<std::pair<std::string, std::vector<double>>>& history);

/// The reports of a `kpde train` run in `dir`: metrics.json, history.h5 (the history
/// under history/) and loss.png (write_loss_png).
void write_training_reports(const std::string& dir, const io::JsonValue& metrics, const train::History& history);

/// Creates `dir` and its parents when missing; InputError naming it when that fails or
/// it is not a writable directory.
void make_output_directory(const std::string& dir);

}  // namespace kpde::data
