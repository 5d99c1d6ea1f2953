#pragma once
/// Newton (PETSc SNES, newtonls with a backtracking line search) for FdProblems with a
/// residual expression (internal to data/reference; called by solve_reference). The
/// system is FdNonlinearSystem's: one solve over all unknowns for an elliptic problem
/// (rows split over the ranks of comm); for a time problem one solve per time level,
/// in order, each level's rows given the levels below (every rank solves every level on
/// PETSC_COMM_SELF: a level is one line of the grid).
#include <mpi.h>

#include "data/reference/fd_problem.hpp"
#include "data/reference/reference_solver.hpp"

namespace kpde::data::fd {

/// solve_reference for problem.residual != null (see reference_solver.hpp).
FdSolution solve_newton(const FdProblem& problem, const FdOptions& options, MPI_Comm comm);

}  // namespace kpde::data::fd
