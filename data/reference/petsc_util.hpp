#pragma once
/// PETSc helpers shared by the linear and the Newton reference solvers (internal to
/// data/reference): error checks, the solver choice and the KSP set-up.
#include <petscksp.h>

#include <string>

namespace kpde::data::fd {

/// Throws kpde::Error("reference: PETSc call failed: <what>: <PETSc's message>") when
/// ierr is non-zero.
void petsc_check(PetscErrorCode ierr, const char* what);
#define KPDE_PETSC(call) ::kpde::data::fd::petsc_check((call), #call)

/// The solver of FdOptions::solver: "auto" -> "mumps" for time problems and problems
/// with u_xy, else "hypre" (or "gamg" without HYPRE); InputError for an unknown name or
/// a package this PETSc lacks.
std::string resolve_solver(const std::string& name, bool time_problem, bool mixed);

/// Sets the PETSc option `name` to `value` unless the user gave it.
void set_default_option(const char* name, const char* value);

/// KSP type, preconditioner and tolerances of `solver` (resolve_solver's names, plus "lu":
/// PETSc's own sparse LU, one process) on a KSP whose options prefix is set; the
/// iterative solvers stop at relative residual rtol.
void configure_ksp(KSP ksp, const std::string& solver, double rtol);

}  // namespace kpde::data::fd
