#pragma once
/// The PETSc finite-difference reference solver (docs/design.md 3.8): second-order finite
/// differences on a uniform grid of the problem's bounding box, for every FdProblem
/// (data/reference/fd_problem.hpp), linear (KSP) or with a nonlinear residual (Newton,
/// SNES). See docs/reference.md for the discretisation.
///
///  - Interior nodes: central differences (5 points, 9 with u_xy), the divergence term
///    in conservative form with a at half-way points.
///  - Dirichlet boundaries that cut grid lines: Shortley-Weller (the crossing found on
///    the grid line from the signed distance by bracketed root finding, non-uniform
///    three-point formulas).
///  - Neumann/Robin boundaries off the grid, u_xy next to a boundary: a weighted
///    least-squares quadratic fit through the nearby nodes and the boundary
///    conditions at the crossings (rows stay second order, no staircase).
///  - Neumann/Robin nodes on the boundary: the condition itself, with the gradient
///    from a one-sided quadratic fit.
///  - Time problems: Crank-Nicolson (parabolic) or the implicit average-acceleration
///    Newmark scheme with a Taylor start from the initial rate (hyperbolic), assembled
///    as one space-time system and solved directly (linear), or time level after time
///    level (nonlinear).
///  - A nonlinear residual R(u, u_x, .., u_xy, x, y) = f: every derivative D_k u is the
///    stencil of the linear rows above, R is evaluated on them, and Newton (PETSc SNES,
///    line search) solves with the exact Jacobian sum_k dR/dD_k S_k.
#include <mpi.h>

#include <string>

#include "core/types.hpp"
#include "data/reference/fd_problem.hpp"
#include "mesh/raster.hpp"

namespace kpde::data {

/// Grid and solver settings of solve_reference().
struct FdOptions {
  /// Output nodes per axis including both ends of the bounding box (>= 3).
  int n = 257;
  /// The solve uses (n - 1) * refine + 1 nodes per axis; the output takes every
  /// refine-th node (>= 1).
  int refine = 1;
  /// Relative residual ||b - A u||_2 / ||b||_2 of the row-scaled system at which the
  /// Krylov solver stops (ignored by the direct solver).
  double rtol = 1e-10;
  /// "auto": time problems and problems with a u_xy term -> "mumps"; other elliptic
  ///         problems -> "hypre" when PETSc has HYPRE, else "gamg".
  /// "hypre": GMRES + HYPRE BoomerAMG (HMIS coarsening, ext+i interpolation).
  /// "gamg":  GMRES + PETSc's smoothed-aggregation AMG.
  /// "mumps": direct LU with MUMPS (any rank count).
  /// "ilu":   GMRES + block Jacobi/ILU(0) (slow; for comparison).
  /// Every choice can be refined with PETSc options under the prefix "kpde_ref_"
  /// (e.g. -kpde_ref_ksp_type cg, -kpde_ref_ksp_monitor).
  std::string solver = "auto";
  /// Print PETSc's KSP view to stdout after the solve (rank 0).
  bool verbose = false;

  // ---- Newton (problems with a residual expression; docs/reference.md)
  /// Newton stops when ||F(u)||_2 <= newton_rtol * max(||F(0)||_2, ||F(u0)||_2) (F the
  /// row-scaled discrete residual, u0 the initial guess) or when its step is below 1e-8
  /// ||u|| (PETSc's stol); in (0, 1).
  double newton_rtol = 1e-10;
  /// Most Newton iterations per solve (per time step of a time problem), >= 1; more is
  /// a failure (kpde::Error naming the step).
  int newton_max_iterations = 50;
  /// The first Newton iterate: "auto" (elliptic: 0; time problems: the previous time
  /// level, i.e. the initial condition at the first step) or "zero".
  std::string newton_guess = "auto";
};

/// What solve_reference() returns, identical on every rank.
struct FdSolution {
  /// The n x n output grid on the bounding box, top_row_first = false (row 0 at y_lo).
  mesh::Grid grid;
  /// u at the output nodes [n][n] (row i at y_i, column j at x_j); 0 outside Omega.
  Mat<double> u;
  /// 1 at nodes in the closure of Omega, 0 elsewhere [n][n] (mesh::domain_mask's rule).
  Mat<double> mask;
  int iterations = 0;       ///< Krylov iterations (1 for a direct solve)
  long n_unknowns = 0;      ///< unknowns of the internal grid
  double wall_s = 0;        ///< wall time of the whole call
  double setup_s = 0;       ///< classification + assembly (part of wall_s)
  double solve_s = 0;       ///< preconditioner setup + KSP solve (part of wall_s)
  double residual_norm = 0; ///< final ||b - A u||_2 / ||b||_2 of the row-scaled system
  std::string solver;       ///< the linear solver used ("hypre", "gamg", "mumps", "ilu", "lu")
  int n_internal = 0;       ///< internal nodes per axis, (n - 1) * refine + 1
  // Newton (problems with a residual expression; all 0 otherwise)
  int newton_iterations = 0;  ///< Newton iterations in all (summed over the time steps)
  int newton_solves = 0;      ///< Newton solves: 1 (elliptic) or the number of time steps
  int newton_max = 0;         ///< most Newton iterations of one solve
};

/// Solves `problem` to second order on the grid of `options`, collectively over `comm`
/// (PETSc must be initialised, e.g. by kpde::Runtime). Every rank of `comm` gets the
/// full solution.
///
/// Throws kpde::InputError for problems it does not handle, naming the reason: no or
/// non-2-D geometry, n < 3, refine < 1, rtol <= 0, an unknown solver name, a condition
/// on a part id that does not exist or with an empty-but-required field, two
/// conditions on one part (elliptic), a boundary part the grid sees with no
/// condition, a pure Neumann problem without a zero-order term (singular), an
/// operator that is not elliptic at some node (c_uxx c_uyy <= c_uxy^2 / 4 after adding
/// a; this includes a missing second-order term in some direction), and for time
/// problems: a non-box domain, u_xy, the divergence term, a missing or wrong-signed
/// c_uxx, a backward (c_uy c_uxx >= 0) or degenerate parabolic problem, missing
/// initial data, an initial rate on a parabolic problem, a condition on the top side.
/// Residual problems: InputError for a residual with coefficients or a divergence term,
/// and for a linearisation at the initial guess that is not elliptic / forward in time.
/// Throws kpde::Error when the geometry is too thin for a stencil (raise n), the
/// Krylov solver does not converge (with PETSc's reason), or Newton does not converge
/// (PETSc's reason, the time step, the last residual norm).
FdSolution solve_reference(const FdProblem& problem, const FdOptions& options,
                           MPI_Comm comm);

/// solve_reference over PETSC_COMM_WORLD.
FdSolution solve_reference(const FdProblem& problem, const FdOptions& options);

/// Whether this PETSc build has HYPRE (the "hypre" solver) resp. MUMPS ("mumps").
bool reference_has_hypre();
bool reference_has_mumps();

}  // namespace kpde::data
