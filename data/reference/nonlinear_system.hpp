#pragma once
/// The discrete nonlinear system that the Newton reference solver solves (docs/reference.md),
/// for an FdProblem with a residual expression R:
///
///   PDE rows:        F_r(u) = s_r (R(S_0 u, .., S_5 u, x_r, y_r) - f(x_r, y_r))
///   condition rows:  F_r(u) = s_r (a_r . u - b_r)
///   Jacobian:        J_r = s_r sum_k dR/dD_k(S u, x_r, y_r) w_k      (condition rows: s_r a_r)
///
/// with S_k u = w_k . u + o_k the linear solver's stencil of D_k u at row r (fd_assembly.hpp:
/// the row of the operator with c_k = 1 and no other term; known values and boundary data
/// in o_k), only for the k that R depends on; a condition row is the linear solver's row
/// of a boundary condition (Neumann/Robin nodes off flat sides); s_r a row scale (1 until
/// set_scales). For a linear R = sum_k c_k D_k, F is the linear solver's unscaled system.
/// Rows are built for a range of unknowns at a time (this rank's rows of an elliptic
/// problem, one time level of a time problem) and read u at the columns they reference.
#include <mpi.h>

#include <memory>
#include <vector>

#include "data/reference/fd_problem.hpp"
#include "data/reference/reference_solver.hpp"

namespace kpde::data {

class FdNonlinearSystem {
 public:
  /// Discretises `problem` (with a residual) on the internal grid of `options` as
  /// solve_reference does: input checks (InputError), classification and numbering of the
  /// unknowns on every rank of comm (collective). No rows are built yet.
  FdNonlinearSystem(const FdProblem& problem, const FdOptions& options, MPI_Comm comm);
  ~FdNonlinearSystem();
  FdNonlinearSystem(const FdNonlinearSystem&) = delete;
  FdNonlinearSystem& operator=(const FdNonlinearSystem&) = delete;

  /// Unknowns M of the whole grid (space-time for a time problem).
  long n_unknowns() const;
  /// This rank's share [begin, end) of the unknowns of comm (PETSc's default split).
  long rank_begin() const;
  long rank_end() const;
  /// Time problems: the first unknown of every time level 1..N-1 and M at the end (the
  /// unknowns of level k are [starts[k-1], starts[k])); elliptic: {0, M}.
  std::vector<long> level_starts() const;
  bool time_problem() const;
  /// True when the residual depends on u_yy (a time problem is then hyperbolic).
  bool hyperbolic() const;

  /// Builds the rows of the unknowns [begin, end) (replacing the rows held). Throws
  /// InputError for non-finite data, Error where no stencil fits (raise n).
  void build(long begin, long end);
  long row_begin() const;
  long row_end() const;
  long n_rows() const { return row_end() - row_begin(); }
  /// The unknowns the held rows reference, sorted (every row's own unknown included).
  const std::vector<long>& columns() const;
  /// Jacobian pattern of the held rows: row r (0-based in the held rows) has the columns
  /// columns()[pattern_cols()[q]] for q in [pattern_rows()[r], pattern_rows()[r + 1]).
  const std::vector<int>& pattern_rows() const;
  const std::vector<int>& pattern_cols() const;

  /// F of the held rows into F[n_rows()], from u_cols[c] = u at columns()[c].
  void residual(const double* u_cols, double* F) const;
  /// J of the held rows in pattern order into values[pattern_cols().size()].
  void jacobian(const double* u_cols, double* values) const;
  /// Sets s_r = sign(J_rr) / max_q |J_rq| from J at u_cols (1 for a zero row), so that
  /// every row of J has entries of size <= 1 and a non-negative diagonal there.
  void set_scales(const double* u_cols);
  /// Row r (0-based in the held rows): false for a condition row; for a PDE row its point
  /// and dR/dD_k at u_cols (6 values, FdCoefficient order; 0 where R does not depend on D_k).
  bool pde_derivatives(const double* u_cols, long r, double* x, double* y, double* dR) const;

  /// The point of held row r (0-based): where a PDE row evaluates R (0, 0 for a condition row).
  void row_point(long r, double* x, double* y) const;
  /// Time problems: u at the node one time level below unknown r's node (an unknown's
  /// value from u_all[M], else the known initial or boundary value).
  double below(const double* u_all, long r) const;

  /// The output grid, u and mask from the values of all unknowns u_all[M]; n_unknowns
  /// and n_internal set.
  void fill_solution(const double* u_all, FdSolution& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kpde::data
