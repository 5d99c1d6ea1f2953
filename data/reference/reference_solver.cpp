// The PETSc finite-difference reference solver: the linear system from the shared
// assembly (fd_assembly.hpp), row-scaled, and the KSP solve; problems with a residual
// expression go to the Newton solver (newton.hpp). See reference_solver.hpp and
// docs/reference.md.
#include "data/reference/reference_solver.hpp"

#include <petscksp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "data/reference/fd_assembly.hpp"
#include "data/reference/newton.hpp"
#include "data/reference/petsc_util.hpp"

namespace kpde::data {

namespace {

using Clock = std::chrono::steady_clock;
using PetscMat = ::Mat;
using PetscVec = ::Vec;

/// PETSc objects of one solve, destroyed in any case.
struct PetscObjects {
  PetscMat A = nullptr;
  PetscVec b = nullptr, x = nullptr, r = nullptr, all = nullptr;
  KSP ksp = nullptr;
  VecScatter scatter = nullptr;
  ~PetscObjects() {
    if (scatter) VecScatterDestroy(&scatter);
    if (all) VecDestroy(&all);
    if (ksp) KSPDestroy(&ksp);
    if (r) VecDestroy(&r);
    if (x) VecDestroy(&x);
    if (b) VecDestroy(&b);
    if (A) MatDestroy(&A);
  }
};

/// This rank's rows of the linear system: CSR with global columns, and the right-hand side.
struct Csr {
  std::vector<PetscInt> ia{0}, ja;
  std::vector<PetscScalar> va, rhs;

  /// Merges duplicate columns, scales the row to max |entry| = 1 with a positive
  /// diagonal, appends it.
  void commit(fd::Row& row, long diag_col) {
    fd::merge_entries(row);
    double maxabs = 0, diag = 0;
    for (const auto& e : row.entries) {
      maxabs = std::max(maxabs, std::abs(e.second));
      if (e.first == diag_col) diag = e.second;
    }
    if (!(maxabs > 0) || !std::isfinite(maxabs))
      throw Error("reference: internal error: an empty or non-finite row at unknown " + std::to_string(diag_col));
    const double s = (diag < 0 ? -1.0 : 1.0) / maxabs;
    bool has_diag = false;
    for (const auto& e : row.entries) {
      if (e.second == 0 && e.first != diag_col) continue;
      has_diag |= e.first == diag_col;
      ja.push_back(static_cast<PetscInt>(e.first));
      va.push_back(s * e.second);
    }
    if (!has_diag) {  // keep the diagonal in the pattern (zero entry), sorted
      auto pos = std::lower_bound(ja.begin() + ia.back(), ja.end(), static_cast<PetscInt>(diag_col));
      const auto k = pos - ja.begin();
      ja.insert(pos, static_cast<PetscInt>(diag_col));
      va.insert(va.begin() + k, 0.0);
    }
    ia.push_back(static_cast<PetscInt>(ja.size()));
    rhs.push_back(s * row.rhs);
  }
};

}  // namespace

bool reference_has_hypre() {
#ifdef PETSC_HAVE_HYPRE
  return true;
#else
  return false;
#endif
}

bool reference_has_mumps() {
#ifdef PETSC_HAVE_MUMPS
  return true;
#else
  return false;
#endif
}

FdSolution solve_reference(const FdProblem& problem, const FdOptions& options) {
  return solve_reference(problem, options, PETSC_COMM_WORLD);
}

FdSolution solve_reference(const FdProblem& problem, const FdOptions& options, MPI_Comm comm) {
  if (problem.residual) return fd::solve_newton(problem, options, comm);
  const auto t_start = Clock::now();
  fd::Discretisation d(problem, options, comm);
  fd::System& s = d.s;
  const bool time_problem = problem.time_axis == 1;
  const std::string solver = fd::resolve_solver(options.solver, time_problem, d.terms.has[c_uxy]);

  // ---- this rank's rows
  Csr csr;
  std::exception_ptr failure;
  try {
    fd::Row row;
    for (long r = s.row_begin; r < s.row_end; ++r) {
      d.assembler->row(r, fd::RowSpec{}, row);
      csr.commit(row, r);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  fd::collective_rethrow(comm, failure);
  const auto t_assembled = Clock::now();

  // ---- PETSc system and solve
  PetscObjects po;
  const PetscInt m = static_cast<PetscInt>(s.row_end - s.row_begin);
  const PetscInt M = static_cast<PetscInt>(s.M);
  KPDE_PETSC(MatCreateMPIAIJWithArrays(comm, m, m, M, M, csr.ia.data(), csr.ja.data(), csr.va.data(), &po.A));
  KPDE_PETSC(MatCreateVecs(po.A, &po.x, &po.b));
  {
    PetscScalar* bp = nullptr;
    KPDE_PETSC(VecGetArray(po.b, &bp));
    std::copy(csr.rhs.begin(), csr.rhs.end(), bp);
    KPDE_PETSC(VecRestoreArray(po.b, &bp));
  }
  std::vector<PetscInt>().swap(csr.ia);
  std::vector<PetscInt>().swap(csr.ja);
  std::vector<PetscScalar>().swap(csr.va);
  KPDE_PETSC(KSPCreate(comm, &po.ksp));
  KPDE_PETSC(KSPSetOperators(po.ksp, po.A, po.A));
  KPDE_PETSC(KSPSetOptionsPrefix(po.ksp, "kpde_ref_"));
  fd::configure_ksp(po.ksp, solver, options.rtol);
  KPDE_PETSC(KSPSetFromOptions(po.ksp));
  KPDE_PETSC(KSPSetUp(po.ksp));
  KPDE_PETSC(KSPSolve(po.ksp, po.b, po.x));
  const auto t_solved = Clock::now();
  KSPConvergedReason reason;
  KPDE_PETSC(KSPGetConvergedReason(po.ksp, &reason));
  PetscInt its = 0;
  KPDE_PETSC(KSPGetIterationNumber(po.ksp, &its));
  if (options.verbose) KPDE_PETSC(KSPView(po.ksp, PETSC_VIEWER_STDOUT_(comm)));
  if (reason < 0)
    throw Error(std::string("reference: the linear solver (") + solver + ") did not converge: " +
                KSPConvergedReasons[reason] + " after " + std::to_string(its) + " iterations");
  // ---- residual and gather
  KPDE_PETSC(VecDuplicate(po.b, &po.r));
  KPDE_PETSC(MatMult(po.A, po.x, po.r));
  KPDE_PETSC(VecAYPX(po.r, -1.0, po.b));
  PetscReal rn = 0, bn = 0;
  KPDE_PETSC(VecNorm(po.r, NORM_2, &rn));
  KPDE_PETSC(VecNorm(po.b, NORM_2, &bn));
  KPDE_PETSC(VecScatterCreateToAll(po.x, &po.scatter, &po.all));
  KPDE_PETSC(VecScatterBegin(po.scatter, po.x, po.all, INSERT_VALUES, SCATTER_FORWARD));
  KPDE_PETSC(VecScatterEnd(po.scatter, po.x, po.all, INSERT_VALUES, SCATTER_FORWARD));
  const PetscScalar* xa = nullptr;
  KPDE_PETSC(VecGetArrayRead(po.all, &xa));
  FdSolution out;
  fd::fill_solution(s, options, xa, out);
  KPDE_PETSC(VecRestoreArrayRead(po.all, &xa));
  out.iterations = solver == "mumps" ? 1 : static_cast<int>(its);
  out.residual_norm = bn > 0 ? rn / bn : rn;
  out.solver = solver;
  out.setup_s = std::chrono::duration<double>(t_assembled - t_start).count();
  out.solve_s = std::chrono::duration<double>(t_solved - t_assembled).count();
  out.wall_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  return out;
}

}  // namespace kpde::data
