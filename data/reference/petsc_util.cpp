#include "data/reference/petsc_util.hpp"

#include "core/error.hpp"
#include "data/reference/reference_solver.hpp"

namespace kpde::data::fd {

void petsc_check(PetscErrorCode ierr, const char* what) {
  if (!ierr) return;
  const char* text = nullptr;
  PetscErrorMessage(ierr, &text, nullptr);
  throw Error(std::string("reference: PETSc call failed: ") + what + ": " + (text ? text : "unknown error"));
}

std::string resolve_solver(const std::string& name, bool time_problem, bool mixed) {
  if (name == "auto") {
    // u_xy rows next to boundaries are not M-matrix rows: BoomerAMG's iterations grow
    // with n there (18, 60, 173 for n = 33, 65, 129), so such problems go direct
    if ((time_problem || mixed) && reference_has_mumps()) return "mumps";
    return reference_has_hypre() ? "hypre" : "gamg";
  }
  if (name == "hypre" && !reference_has_hypre())
    throw InputError("reference: this PETSc has no HYPRE; use solver gamg or mumps");
  if (name == "mumps" && !reference_has_mumps())
    throw InputError("reference: this PETSc has no MUMPS; use solver hypre or gamg");
  if (name == "hypre" || name == "gamg" || name == "mumps" || name == "ilu") return name;
  throw InputError("reference: unknown solver '" + name + "' (expected auto, hypre, gamg, mumps or ilu)");
}

void set_default_option(const char* name, const char* value) {
  PetscBool set = PETSC_FALSE;
  KPDE_PETSC(PetscOptionsHasName(nullptr, nullptr, name, &set));
  if (!set) KPDE_PETSC(PetscOptionsSetValue(nullptr, name, value));
}

void configure_ksp(KSP ksp, const std::string& solver, double rtol) {
  PC pc = nullptr;
  KPDE_PETSC(KSPGetPC(ksp, &pc));
  if (solver == "mumps" || solver == "lu") {
    KPDE_PETSC(KSPSetType(ksp, KSPPREONLY));
    KPDE_PETSC(PCSetType(pc, PCLU));
    KPDE_PETSC(PCFactorSetMatSolverType(pc, solver == "mumps" ? MATSOLVERMUMPS : MATSOLVERPETSC));
    return;
  }
  KPDE_PETSC(KSPSetType(ksp, KSPGMRES));
  KPDE_PETSC(KSPGMRESSetRestart(ksp, 50));
  KPDE_PETSC(KSPSetPCSide(ksp, PC_RIGHT));  // stop on the true residual
  if (solver == "hypre") {
    KPDE_PETSC(PCSetType(pc, PCHYPRE));
    KPDE_PETSC(PCHYPRESetType(pc, "boomeramg"));
    set_default_option("-kpde_ref_pc_hypre_boomeramg_coarsen_type", "HMIS");
    set_default_option("-kpde_ref_pc_hypre_boomeramg_interp_type", "ext+i");
    set_default_option("-kpde_ref_pc_hypre_boomeramg_P_max", "4");
    set_default_option("-kpde_ref_pc_hypre_boomeramg_strong_threshold", "0.25");
  } else if (solver == "gamg") {
    KPDE_PETSC(PCSetType(pc, PCGAMG));
  } else {
    KPDE_PETSC(PCSetType(pc, PCBJACOBI));
  }
  KPDE_PETSC(KSPSetTolerances(ksp, rtol, 1e-300, PETSC_DEFAULT, 5000));
}

}  // namespace kpde::data::fd
