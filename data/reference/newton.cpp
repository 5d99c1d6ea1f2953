// Newton for the reference solver's nonlinear systems: PETSc SNES over FdNonlinearSystem
// (residual and exact Jacobian), elliptic in one solve, time problems level by level.
// See newton.hpp and docs/reference.md.
#include "data/reference/newton.hpp"

#include <petscsnes.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "data/reference/fd_assembly.hpp"
#include "data/reference/nonlinear_system.hpp"
#include "data/reference/petsc_util.hpp"

namespace kpde::data::fd {

namespace {

using Clock = std::chrono::steady_clock;
using PetscVec = ::Vec;

/// What the SNES callbacks need: the system and how to read u at its columns.
struct Context {
  FdNonlinearSystem* sys = nullptr;
  // elliptic: the columns from the distributed unknowns
  VecScatter scatter = nullptr;
  PetscVec xcols = nullptr;
  // time levels: the SNES unknowns are [first, first + m); columns below `first` are
  // earlier levels, read from fixed[M]
  long first = 0;
  const std::vector<double>* fixed = nullptr;
  std::vector<double> ucols;
  // Jacobian rows: global row index, and per row the pattern entries that are SNES
  // unknowns (index into the pattern, global column of the SNES matrix)
  std::vector<PetscInt> grow, kptr, kq, kcol;
  std::vector<double> vals;
  std::vector<PetscScalar> buffer;
  std::exception_ptr error;

  /// ucols from the SNES vector X.
  void gather(PetscVec X) {
    const std::vector<long>& cols = sys->columns();
    ucols.resize(cols.size());
    if (scatter) {
      KPDE_PETSC(VecScatterBegin(scatter, X, xcols, INSERT_VALUES, SCATTER_FORWARD));
      KPDE_PETSC(VecScatterEnd(scatter, X, xcols, INSERT_VALUES, SCATTER_FORWARD));
      const PetscScalar* xa = nullptr;
      KPDE_PETSC(VecGetArrayRead(xcols, &xa));
      std::copy(xa, xa + cols.size(), ucols.begin());
      KPDE_PETSC(VecRestoreArrayRead(xcols, &xa));
      return;
    }
    const PetscScalar* xa = nullptr;
    KPDE_PETSC(VecGetArrayRead(X, &xa));
    for (std::size_t c = 0; c < cols.size(); ++c) ucols[c] = cols[c] >= first ? xa[cols[c] - first] : (*fixed)[cols[c]];
    KPDE_PETSC(VecRestoreArrayRead(X, &xa));
  }
};

PetscErrorCode form_function(SNES, PetscVec X, PetscVec F, void* ptr) {
  auto* ctx = static_cast<Context*>(ptr);
  try {
    ctx->gather(X);
    PetscScalar* f = nullptr;
    KPDE_PETSC(VecGetArray(F, &f));
    ctx->sys->residual(ctx->ucols.data(), f);
    KPDE_PETSC(VecRestoreArray(F, &f));
  } catch (...) {
    ctx->error = std::current_exception();
    return PETSC_ERR_USER;
  }
  return 0;
}

PetscErrorCode form_jacobian(SNES, PetscVec X, ::Mat J, ::Mat P, void* ptr) {
  auto* ctx = static_cast<Context*>(ptr);
  try {
    ctx->gather(X);
    ctx->vals.resize(ctx->sys->pattern_cols().size());
    ctx->sys->jacobian(ctx->ucols.data(), ctx->vals.data());
    const long n = ctx->sys->n_rows();
    for (long r = 0; r < n; ++r) {
      const PetscInt k0 = ctx->kptr[r], k1 = ctx->kptr[r + 1];
      ctx->buffer.resize(k1 - k0);
      for (PetscInt k = k0; k < k1; ++k) ctx->buffer[k - k0] = ctx->vals[ctx->kq[k]];
      KPDE_PETSC(MatSetValues(P, 1, &ctx->grow[r], k1 - k0, ctx->kcol.data() + k0, ctx->buffer.data(), INSERT_VALUES));
    }
    KPDE_PETSC(MatAssemblyBegin(P, MAT_FINAL_ASSEMBLY));
    KPDE_PETSC(MatAssemblyEnd(P, MAT_FINAL_ASSEMBLY));
    if (J != P) {
      KPDE_PETSC(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
      KPDE_PETSC(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
    }
  } catch (...) {
    ctx->error = std::current_exception();
    return PETSC_ERR_USER;
  }
  return 0;
}

/// PETSc objects of one Newton solve, destroyed in any case.
struct SnesObjects {
  SNES snes = nullptr;
  ::Mat J = nullptr;
  PetscVec r = nullptr, zero = nullptr;
  ~SnesObjects() {
    if (zero) VecDestroy(&zero);
    if (r) VecDestroy(&r);
    if (J) MatDestroy(&J);
    if (snes) SNESDestroy(&snes);
  }
};

struct Outcome {
  int iterations = 0, linear_iterations = 0;
  double relative = 0;  // ||F(u)|| / ||F(0)||
};

/// The ellipticity (elliptic problems) or forward-in-time (time problems) condition of the
/// residual's linearisation at u_cols, on every PDE row held; InputError where it fails.
void check_linearisation(const FdNonlinearSystem& sys, const double* u) {
  const auto guess = std::string(" at the Newton initial guess (petsc.newton_guess)");
  double dR[6], x = 0, y = 0;
  for (long r = 0; r < sys.n_rows(); ++r) {
    if (!sys.pde_derivatives(u, r, &x, &y, dR)) continue;
    if (!sys.time_problem()) {
      const double A = dR[c_uxx], C = dR[c_uyy], B = dR[c_uxy];
      const double det = A * C - 0.25 * B * B, size = A * A + C * C + B * B;
      if (!(det > 1e-12 * size) || size == 0)
        throw InputError("reference: the residual's linearisation is not elliptic at " + at(x, y) + guess +
                         ": dR/du_xx = " + format_number(A) + ", dR/du_yy = " + format_number(C) +
                         ", dR/du_xy = " + format_number(B) +
                         " (an elliptic problem needs dR/du_xx dR/du_yy > (dR/du_xy)^2 / 4; set time_axis = 1 for "
                         "a time problem)");
    } else if (sys.hyperbolic()) {
      if (!(dR[c_uyy] * dR[c_uxx] < 0))
        throw InputError("reference: the residual is not a wave equation at " + at(x, y) + guess + ": dR/du_yy = " +
                         format_number(dR[c_uyy]) + ", dR/du_xx = " + format_number(dR[c_uxx]) +
                         " (need dR/du_yy dR/du_xx < 0)");
    } else if (!(dR[c_uy] * dR[c_uxx] < 0)) {
      throw InputError("reference: the residual is not forward in time at " + at(x, y) + guess + ": dR/du_y = " +
                       format_number(dR[c_uy]) + ", dR/du_xx = " + format_number(dR[c_uxx]) +
                       " (need dR/du_y dR/du_xx < 0, e.g. u_t - nu u_xx)");
    }
  }
}

/// Newton on the rows held by ctx.sys over comm: x (the SNES unknowns [first, first + m)
/// of the M_snes of comm, this rank's [own_begin, own_begin + m)) holds the guess and gets
/// the solution. `where` names the solve in errors ("" or " at time step k (t = ..)");
/// view: print PETSc's SNES view.
Outcome newton(Context& ctx, MPI_Comm comm, long own_begin, long M_snes, PetscVec x, const std::string& solver,
               const FdOptions& o, const std::string& where, bool view) {
  FdNonlinearSystem& sys = *ctx.sys;
  const long n = sys.n_rows();
  const std::vector<long>& cols = sys.columns();
  const std::vector<int>& prow = sys.pattern_rows();
  const std::vector<int>& pcol = sys.pattern_cols();
  // the Jacobian's entries in the SNES unknowns, and their preallocation
  ctx.grow.resize(n);
  ctx.kptr.assign(1, 0);
  ctx.kq.clear(), ctx.kcol.clear();
  std::vector<PetscInt> d_nnz(n, 0), o_nnz(n, 0);
  for (long r = 0; r < n; ++r) {
    ctx.grow[r] = static_cast<PetscInt>(sys.row_begin() + r - ctx.first);
    for (int q = prow[r]; q < prow[r + 1]; ++q) {
      const long c = cols[pcol[q]] - ctx.first;
      if (c < 0) continue;  // an earlier time level: fixed
      ctx.kq.push_back(q);
      ctx.kcol.push_back(static_cast<PetscInt>(c));
      if (c >= own_begin && c < own_begin + n) ++d_nnz[r];
      else ++o_nnz[r];
    }
    ctx.kptr.push_back(static_cast<PetscInt>(ctx.kq.size()));
  }
  SnesObjects so;
  KPDE_PETSC(MatCreateAIJ(comm, static_cast<PetscInt>(n), static_cast<PetscInt>(n), static_cast<PetscInt>(M_snes),
                          static_cast<PetscInt>(M_snes), 0, d_nnz.data(), 0, o_nnz.data(), &so.J));
  KPDE_PETSC(MatSetOption(so.J, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  KPDE_PETSC(VecDuplicate(x, &so.r));
  KPDE_PETSC(VecDuplicate(x, &so.zero));
  KPDE_PETSC(VecZeroEntries(so.zero));

  // checks and row scales at the guess; ||F(0)|| and ||F(guess)|| with those scales
  std::exception_ptr failure;
  try {
    ctx.gather(x);
    check_linearisation(sys, ctx.ucols.data());
    sys.set_scales(ctx.ucols.data());
  } catch (...) {
    failure = std::current_exception();
  }
  collective_rethrow(comm, failure);
  PetscReal f_zero = 0, f_guess = 0;
  form_function(nullptr, so.zero, so.r, &ctx);
  if (ctx.error) std::rethrow_exception(ctx.error);
  KPDE_PETSC(VecNorm(so.r, NORM_2, &f_zero));
  form_function(nullptr, x, so.r, &ctx);
  if (ctx.error) std::rethrow_exception(ctx.error);
  KPDE_PETSC(VecNorm(so.r, NORM_2, &f_guess));

  KPDE_PETSC(SNESCreate(comm, &so.snes));
  KPDE_PETSC(SNESSetOptionsPrefix(so.snes, "kpde_ref_"));
  KPDE_PETSC(SNESSetType(so.snes, SNESNEWTONLS));
  SNESLineSearch ls = nullptr;
  KPDE_PETSC(SNESGetLineSearch(so.snes, &ls));
  KPDE_PETSC(SNESLineSearchSetType(ls, SNESLINESEARCHBT));
  KPDE_PETSC(SNESSetFunction(so.snes, so.r, form_function, &ctx));
  KPDE_PETSC(SNESSetJacobian(so.snes, so.J, so.J, form_jacobian, &ctx));
  KPDE_PETSC(SNESSetTolerances(so.snes, o.newton_rtol * f_zero, o.newton_rtol, PETSC_DEFAULT, o.newton_max_iterations,
                               PETSC_DEFAULT));
  KSP ksp = nullptr;
  KPDE_PETSC(SNESGetKSP(so.snes, &ksp));
  configure_ksp(ksp, solver, o.rtol);
  KPDE_PETSC(SNESSetFromOptions(so.snes));
  const PetscErrorCode ierr = SNESSolve(so.snes, nullptr, x);
  if (ctx.error) std::rethrow_exception(ctx.error);
  KPDE_PETSC(ierr);
  SNESConvergedReason reason;
  KPDE_PETSC(SNESGetConvergedReason(so.snes, &reason));
  PetscInt its = 0, lits = 0;
  KPDE_PETSC(SNESGetIterationNumber(so.snes, &its));
  KPDE_PETSC(SNESGetLinearSolveIterations(so.snes, &lits));
  PetscReal fnorm = 0;
  KPDE_PETSC(SNESGetFunctionNorm(so.snes, &fnorm));
  if (view) KPDE_PETSC(SNESView(so.snes, PETSC_VIEWER_STDOUT_(comm)));
  if (reason < 0) {
    std::string hint = reason == SNES_DIVERGED_MAX_IT ? "raise newton_max_iterations (petsc: section) or refine the grid"
                                                      : "refine the grid";
    hint += " (n, or refine in the petsc: section)";
    if (!where.empty())
      hint += "; a step whose grid does not resolve a steep front (cell Peclet number |u| h / (2 nu) well above 1) "
              "may have no discrete solution";
    hint += "; PETSc's -kpde_ref_snes_monitor shows the iterations";
    throw Error("reference: Newton did not converge" + where + ": " + SNESConvergedReasons[reason] + " after " +
                std::to_string(its) + " iterations, ||F|| = " + format_number(fnorm) + " (||F(initial guess)|| = " +
                format_number(f_guess) + ", newton_rtol " + format_number(o.newton_rtol) + "); " + hint);
  }
  Outcome out;
  out.iterations = static_cast<int>(its);
  out.linear_iterations = static_cast<int>(lits);
  out.relative = f_zero > 0 ? fnorm / f_zero : fnorm;
  return out;
}

void check_options(const FdOptions& o) {
  if (!(o.newton_rtol > 0) || !(o.newton_rtol < 1))
    throw InputError("reference: newton_rtol must be in (0, 1), got " + format_number(o.newton_rtol));
  if (o.newton_max_iterations < 1)
    throw InputError("reference: newton_max_iterations must be >= 1, got " + std::to_string(o.newton_max_iterations));
  if (o.newton_guess != "auto" && o.newton_guess != "zero")
    throw InputError("reference: unknown newton_guess '" + o.newton_guess + "' (expected auto or zero)");
}

}  // namespace

FdSolution solve_newton(const FdProblem& problem, const FdOptions& options, MPI_Comm comm) {
  const auto t_start = Clock::now();
  check_options(options);
  FdNonlinearSystem sys(problem, options, comm);
  const long M = sys.n_unknowns();
  const bool time_problem = sys.time_problem();
  // one space line per time level: a direct solve by default
  const std::string solver = time_problem && options.solver == "auto"
                                 ? std::string("lu")
                                 : resolve_solver(options.solver, time_problem, problem.residual->depends_on(c_uxy));
  FdSolution out;
  std::vector<double> u_all(M, 0.0);
  Context ctx;
  ctx.sys = &sys;
  double setup_s = 0;
  if (!time_problem) {
    std::exception_ptr failure;
    try {
      sys.build(sys.rank_begin(), sys.rank_end());
    } catch (...) {
      failure = std::current_exception();
    }
    collective_rethrow(comm, failure);
    setup_s = std::chrono::duration<double>(Clock::now() - t_start).count();
    const long m = sys.n_rows();
    PetscVec x = nullptr, all = nullptr;
    IS is = nullptr;
    VecScatter to_all = nullptr;
    struct Cleanup {
      PetscVec* x; PetscVec* all; IS* is; VecScatter* to_all; Context* ctx;
      ~Cleanup() {
        if (ctx->scatter) VecScatterDestroy(&ctx->scatter);
        if (ctx->xcols) VecDestroy(&ctx->xcols);
        if (*to_all) VecScatterDestroy(to_all);
        if (*is) ISDestroy(is);
        if (*all) VecDestroy(all);
        if (*x) VecDestroy(x);
      }
    } cleanup{&x, &all, &is, &to_all, &ctx};
    KPDE_PETSC(VecCreateMPI(comm, static_cast<PetscInt>(m), static_cast<PetscInt>(M), &x));
    KPDE_PETSC(VecZeroEntries(x));  // the guess: 0 ("auto" and "zero")
    const std::vector<long>& cols = sys.columns();
    std::vector<PetscInt> idx(cols.begin(), cols.end());
    KPDE_PETSC(ISCreateGeneral(PETSC_COMM_SELF, static_cast<PetscInt>(idx.size()), idx.data(), PETSC_COPY_VALUES, &is));
    KPDE_PETSC(VecCreateSeq(PETSC_COMM_SELF, static_cast<PetscInt>(idx.size()), &ctx.xcols));
    KPDE_PETSC(VecScatterCreate(x, is, ctx.xcols, nullptr, &ctx.scatter));
    const Outcome o = newton(ctx, comm, sys.rank_begin(), M, x, solver, options, "", options.verbose);
    out.newton_iterations = out.newton_max = o.iterations;
    out.newton_solves = 1;
    out.iterations = o.linear_iterations;
    out.residual_norm = o.relative;
    KPDE_PETSC(VecScatterCreateToAll(x, &to_all, &all));
    KPDE_PETSC(VecScatterBegin(to_all, x, all, INSERT_VALUES, SCATTER_FORWARD));
    KPDE_PETSC(VecScatterEnd(to_all, x, all, INSERT_VALUES, SCATTER_FORWARD));
    const PetscScalar* xa = nullptr;
    KPDE_PETSC(VecGetArrayRead(all, &xa));
    std::copy(xa, xa + M, u_all.begin());
    KPDE_PETSC(VecRestoreArrayRead(all, &xa));
  } else {
    // level after level on every rank (identical work, so identical answers and errors)
    const std::vector<long> starts = sys.level_starts();
    ctx.fixed = &u_all;
    const bool zero_guess = options.newton_guess == "zero";
    for (std::size_t k = 0; k + 1 < starts.size(); ++k) {
      const long a = starts[k], b = starts[k + 1], m = b - a;
      const auto t_build = Clock::now();
      sys.build(a, b);
      setup_s += std::chrono::duration<double>(Clock::now() - t_build).count();
      ctx.first = a;
      PetscVec x = nullptr;
      KPDE_PETSC(VecCreateSeq(PETSC_COMM_SELF, static_cast<PetscInt>(m), &x));
      struct VecGuard {
        PetscVec* v;
        ~VecGuard() { VecDestroy(v); }
      } guard{&x};
      PetscScalar* xa = nullptr;
      KPDE_PETSC(VecGetArray(x, &xa));
      for (long r = a; r < b; ++r) xa[r - a] = zero_guess ? 0.0 : sys.below(u_all.data(), r);
      KPDE_PETSC(VecRestoreArray(x, &xa));
      double px = 0, t = 0;
      sys.row_point(0, &px, &t);  // the level's time
      const std::string where = " at time step " + std::to_string(k + 1) + " of " + std::to_string(starts.size() - 1) +
                                " (t = " + format_number(t) + ")";
      const bool last = k + 2 == starts.size();
      const Outcome o = newton(ctx, PETSC_COMM_SELF, 0, m, x, solver, options, where, options.verbose && last);
      out.newton_iterations += o.iterations;
      out.newton_max = std::max(out.newton_max, o.iterations);
      out.iterations += o.linear_iterations;
      out.residual_norm = std::max(out.residual_norm, o.relative);
      const PetscScalar* xr = nullptr;
      KPDE_PETSC(VecGetArrayRead(x, &xr));
      std::copy(xr, xr + m, u_all.begin() + a);
      KPDE_PETSC(VecRestoreArrayRead(x, &xr));
    }
    out.newton_solves = static_cast<int>(starts.size()) - 1;
  }
  sys.fill_solution(u_all.data(), out);
  out.solver = solver;
  out.setup_s = setup_s;
  out.wall_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  out.solve_s = out.wall_s - setup_s;
  return out;
}

}  // namespace kpde::data::fd
