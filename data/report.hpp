#pragma once
/// What `kpde solve` and `kpde reference` write besides training results: the fields on
/// the output grid and the error metrics against the best truth available (an exact
/// solution, a PETSc reference solve, a gridded reference such as the HyPINO arrays).
#include <array>
#include <functional>
#include <vector>

#include "data/problem.hpp"
#include "data/reference/reference_solver.hpp"
#include "data/solution_output.hpp"
#include "io/json.hpp"

namespace kpde::data {

/// Evaluates a solution at points x [n][dim]: u (n values) and, when r is not null and
/// the method has one, the PDE residual R[u] - f.
using PointEval = std::function<void(const Mat<const double>& x, std::vector<double>* u, std::vector<double>* r)>;

/// A truth on the output grid (e.g. a PETSc reference solve on the same n x n nodes).
struct GridTruth {
  std::string name;            ///< dataset name, e.g. "reference"
  std::string description;     ///< e.g. "PETSc finite differences (hypre), 201 x 201"
  std::vector<double> values;  ///< [ny][nx] on the output grid
};

struct Report {
  GridFields fields;
  io::JsonValue metrics = io::JsonValue::object();
  ErrorMetrics summary{NAN, NAN, NAN, 0};  ///< the headline rel_l2 / mse / max_abs_err
};

/// Output grid nodes per axis (x, y, z); axes beyond the problem's dimension are ignored.
using GridCounts = std::array<int, 3>;
/// n nodes on every axis.
inline GridCounts same_counts(int n) { return {n, n, n}; }

/// Output grid (output_points: n[a] nodes on axis a of the bounding box), u (0 outside
/// Omega), the truth (exact solution, else `truth`, else the problem's gridded reference
/// interpolated), error = u - truth, residual when with_residual, domain_mask; metrics
/// rel_l2, mse, max_abs_err (against that truth over the nodes in Omega), residual_rms;
/// and on a gridded reference's own grid the HyPINO paper's metric
/// reference_mse_all_pixels = mean over all pixels of (u * mask - reference)^2.
Report build_report(const Problem& problem, const GridCounts& n, const PointEval& eval, bool with_residual,
                    const GridTruth* truth = nullptr);

/// Evaluates a system's solution at points x [n][dim]: the fields into (*fields)[f] and,
/// when r is not null, the residual of every equation into (*r)[e] (n values each).
using SystemEval = std::function<void(const Mat<const double>& x, std::vector<std::vector<double>>* fields,
                                      std::vector<std::vector<double>>* r)>;

/// build_report for a system (Problem::is_system()): on the output grid every field f (0
/// outside Omega) and, where it has an exact solution, <f>_exact and <f>_error = f -
/// exact; residual_<e> for every equation e; domain_mask. Metrics: unknowns ("u,v,p"); per field
/// fields.<f>.{rel_l2, mse, max_abs_err, error_nodes}, residual_rms.<e>, and as the
/// headline (rel_l2, mse, max_abs_err) those of the field with the largest rel_l2
/// (rel_l2_field names it). At the points of each reference table (field_points):
/// points.<file>.<f>.{rel_l2, mse, max_abs_err, points} and points_max_abs_err, the
/// largest; without an exact solution the table and field with the largest rel_l2 is
/// the headline. The summary is the headline.
Report build_system_report(const Problem& problem, const GridCounts& n, const SystemEval& eval);

/// The PETSc reference (data/reference) of a 2-D linear problem on the output grid of
/// build_report (n x n nodes: InputError when n[0] != n[1]), as a GridTruth; `where`
/// names the config key in errors.
GridTruth petsc_grid_truth(const Problem& problem, const FdOptions& options, const GridCounts& n,
                           const std::string& where);

/// `kpde reference`: the PETSc finite-difference solution of a 2-D linear problem on
/// n x n nodes, its report (errors against the exact solution or the gridded
/// reference; u between nodes by bilinear interpolation) and, on rank 0 of
/// MPI_COMM_WORLD, the output folder `out` (solution.h5, .xdmf, PNGs, metrics.json,
/// resolved_config). `where` names the config for errors.
struct ReferenceRun {
  FdSolution solution;
  ErrorMetrics summary{NAN, NAN, NAN, 0};
};
ReferenceRun run_reference(const Problem& problem, const FdOptions& options, const GridCounts& n, const std::string& out,
                           const std::string& resolved_config, const std::string& where);

/// `kpde reference` of a problem with a named reference (reference: {burgers: nu}): that
/// solution on the output grid, its report against the problem's other truths (exact,
/// reference points) and, on rank 0, the output folder. solution.solver is "named".
ReferenceRun run_named_reference(const Problem& problem, const GridCounts& n, const std::string& out,
                                 const std::string& resolved_config);

/// The nodes of the problem's gridded reference [ny * nx][2] (row-major, row 0 at y_hi
/// when top_row_first) and its mask (the reference's own, else the domain's on its grid).
/// Needs problem.reference.
Mat<double> reference_nodes(const Problem& problem, std::vector<double>* mask);

/// True when the problem has a truth to measure errors against: an exact solution, a
/// named reference, a gridded reference or reference points.
bool has_truth(const Problem& problem);

/// The best ground truth at up to n_max points, for monitoring training: the exact
/// solution or a named reference at n_max fixed (unscrambled Sobol) points of the domain;
/// else a gridded reference at its in-mask nodes, or reference points, every stride-th
/// (stride = ceil(count / n_max)). Empty (no points) when the problem has no truth.
struct TruthSample {
  Mat<double> points;      ///< [n][dim]
  std::vector<double> u;   ///< [n]
  std::string against;     ///< what the truth is, for messages
};
TruthSample truth_sample(const Problem& problem, std::size_t n_max);

/// Time to accuracy: for each decade 1e-1 .. 1e-8, the first wall time at which the
/// monitored error (errors[k] at wall_s[k]) was at or below it, as {"1e-3": seconds}
/// (decades never reached are absent).
io::JsonValue time_to_accuracy(const std::vector<double>& wall_s, const std::vector<double>& errors);

/// The output grid of build_report: n[a] nodes on axis a of the bounding box; node
/// coordinates into grid->x, y, z (1-D: y = {0}; z empty below 3-D), the domain mask
/// (1 on nodes in the closure of Omega) and the points [nodes][dim], x fastest, then y,
/// then z (fields are [nz][ny][nx]).
Mat<double> output_points(const Problem& problem, const GridCounts& n, GridFields* grid, std::vector<double>* mask);

}  // namespace kpde::data
