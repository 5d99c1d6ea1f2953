#pragma once
/// Adapter from the config-level data::Problem to the reference solver's FdProblem, and
/// the `petsc:` config section (solver settings shared by `kpde reference` and
/// `kpde solve` with `reference: petsc`).
#include "config/config.hpp"
#include "data/problem.hpp"
#include "data/reference/fd_problem.hpp"
#include "data/reference/reference_solver.hpp"

namespace kpde::data {

/// The FdProblem of a 2-D scalar Problem, linear or with a residual expression (fields
/// become callables, the residual is shared; the Problem must outlive the result).
/// Throws InputError (naming `where`) for problems outside what the reference solver
/// handles: not 2-D, a system, a time axis other than y.
FdProblem to_fd_problem(const Problem& problem, const std::string& where);

/// Reads the optional `petsc:` section: solver (auto | hypre | gamg | mumps | ilu),
/// refine (>= 1), rtol (> 0), newton_rtol (in (0, 1)), newton_max_iterations (>= 1),
/// newton_guess (auto | zero). options.n is left to the caller.
FdOptions load_fd_options(config::Node section);

}  // namespace kpde::data
