#pragma once
/// Adapter from the config-level data::Problem to the reference solver's FdProblem, and
/// the `petsc:` config section (solver settings shared by `kpde reference` and
/// `kpde solve` with `reference: petsc`).
#include "config/config.hpp"
#include "data/problem.hpp"
#include "data/reference/fd_problem.hpp"
#include "data/reference/reference_solver.hpp"

namespace kpde::data {

/// The FdProblem of a 2-D linear Problem (fields become callables; the Problem must
/// outlive the result). Throws InputError (naming `where`) for problems outside what
/// the reference solver handles: not 2-D, a nonlinear residual, a time axis other than
/// y, grid data in a boundary value.
FdProblem to_fd_problem(const Problem& problem, const std::string& where);

/// Reads the optional `petsc:` section: solver (auto | hypre | gamg | mumps | ilu),
/// refine (>= 1), rtol (> 0). options.n is left to the caller.
FdOptions load_fd_options(config::Node section);

}  // namespace kpde::data
