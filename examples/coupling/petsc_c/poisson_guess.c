/* A PETSc code that asks a PINN for its initial guess (docs/coupling.md).
 *
 * It assembles -lap u = f on [-1,1]^2, u = 0 on the boundary, with the 5-point stencil on
 * n x n interior nodes (h = 2 / (n + 1), row k = j n + i at x_i = -1 + (i + 1) h,
 * y_j = -1 + (j + 1) h), f = (2 + 3x)(1 - y^2) + 2(1 - x^2)(1 + x/2) (exact solution
 * u = (1 - x^2)(1 - y^2)(1 + x/2), which the stencil reproduces), and solves it with KSP (CG and
 * algebraic multigrid, GAMG, unless -ksp_type / -pc_type say otherwise) to ||r|| <= 1e-10 ||b||, twice: from
 * zero, and from the values of a PINN (kpde, the config's problem) at the nodes. The PINN
 * is trained here through the C API: each rank passes the nodes it owns on a 4x coarser
 * sub-grid as collocation points. It reports both iteration counts and the iterations saved.
 *
 * Multigrid reduces every error component at about the same rate, so the iterations
 * saved follow log(||r_guess|| / ||b||). With Jacobi the guess saves nothing: the PINN's
 * residual spreads over the whole spectrum, whose smooth end CG converges slowest
 * (docs/coupling.md has the numbers).
 *
 * Usage: poisson_guess CONFIG.yaml [-n 127] [-steps 3000] [PETSc options]
 * Exit code 0 when the guess saves iterations. */
#include <math.h>
#include <petscksp.h>
#include <stdio.h>

#include "kpde.h"

#define KPDE_CHECK(call)                                                         \
  do {                                                                           \
    if ((call) != KPDE_OK) {                                                     \
      PetscPrintf(PETSC_COMM_WORLD, "poisson_guess: %s\n", kpde_last_error());   \
      return 1;                                                                  \
    }                                                                            \
  } while (0)

/* Solves A u = b from u's current values; the iterations and the final relative error
 * against the exact solution. */
static PetscErrorCode solve(KSP ksp, Vec b, Vec u, Vec exact, PetscBool from_guess, PetscInt* its, double* err) {
  Vec e;
  PetscReal ne, nx;
  PetscFunctionBeginUser;
  PetscCall(KSPSetInitialGuessNonzero(ksp, from_guess));
  PetscCall(KSPSolve(ksp, b, u));
  PetscCall(KSPGetIterationNumber(ksp, its));
  PetscCall(VecDuplicate(u, &e));
  PetscCall(VecWAXPY(e, -1.0, exact, u));
  PetscCall(VecNorm(e, NORM_2, &ne));
  PetscCall(VecNorm(exact, NORM_2, &nx));
  *err = ne / nx;
  PetscCall(VecDestroy(&e));
  PetscFunctionReturn(0);
}

int main(int argc, char** argv) {
  PetscInt n = 127, steps = 3000, lo, hi, k, its0, its1;
  Mat A;
  Vec b, u, exact;
  KSP ksp;
  kpde_model model = NULL;
  double h, err0, err1, loss = 0, t0, t_train, t_eval;
  double *xy, *guess, *xc;
  PetscScalar* a;
  int64_t n_local, n_coll = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  if (argc < 2 || argv[1][0] == '-') {
    PetscPrintf(PETSC_COMM_WORLD, "usage: poisson_guess CONFIG.yaml [-n N] [-steps S] [PETSc options]\n");
    PetscCall(PetscFinalize());
    return 2;
  }
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-n", &n, NULL));
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-steps", &steps, NULL));
  h = 2.0 / (n + 1);
  /* kpde after PETSc: it sees MPI and PETSc started and leaves them to this code */
  KPDE_CHECK(kpde_init(0));

  /* the system, rows distributed by PETSc */
  PetscCall(MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, n * n, n * n, 5, NULL, 2, NULL, &A));
  PetscCall(MatGetOwnershipRange(A, &lo, &hi));
  for (k = lo; k < hi; ++k) {
    const PetscInt i = k % n, j = k / n;
    PetscCall(MatSetValue(A, k, k, 4.0 / (h * h), INSERT_VALUES));
    if (i > 0) PetscCall(MatSetValue(A, k, k - 1, -1.0 / (h * h), INSERT_VALUES));
    if (i < n - 1) PetscCall(MatSetValue(A, k, k + 1, -1.0 / (h * h), INSERT_VALUES));
    if (j > 0) PetscCall(MatSetValue(A, k, k - n, -1.0 / (h * h), INSERT_VALUES));
    if (j < n - 1) PetscCall(MatSetValue(A, k, k + n, -1.0 / (h * h), INSERT_VALUES));
  }
  PetscCall(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatCreateVecs(A, &u, &b));
  PetscCall(VecDuplicate(b, &exact));
  /* this rank's nodes, row-major [n_local][2]: the collocation points and the guess's points */
  n_local = hi - lo;
  PetscCall(PetscMalloc3(2 * n_local, &xy, n_local, &guess, 2 * n_local, &xc));
  for (k = lo; k < hi; ++k) {
    const double x = -1 + (k % n + 1) * h, y = -1 + (k / n + 1) * h;
    xy[2 * (k - lo)] = x, xy[2 * (k - lo) + 1] = y;
    if ((k % n) % 4 == 1 && (k / n) % 4 == 1) xc[2 * n_coll] = x, xc[2 * n_coll + 1] = y, ++n_coll;
    PetscCall(VecSetValue(b, k, (2 + 3 * x) * (1 - y * y) + 2 * (1 - x * x) * (1 + x / 2), INSERT_VALUES));
    PetscCall(VecSetValue(exact, k, (1 - x * x) * (1 - y * y) * (1 + x / 2), INSERT_VALUES));
  }
  PetscCall(VecAssemblyBegin(b));
  PetscCall(VecAssemblyEnd(b));
  PetscCall(VecAssemblyBegin(exact));
  PetscCall(VecAssemblyEnd(exact));

  /* the PINN: physics-informed steps on this rank's sub-grid nodes plus 256 boundary points
   * that kpde draws, the loss being the mean over all ranks' points */
  t0 = MPI_Wtime();
  KPDE_CHECK(kpde_model_from_config(argv[1], PETSC_COMM_WORLD, &model));
  for (k = 0; k < steps; ++k) {
    if (k == 2 * steps / 3) KPDE_CHECK(kpde_model_set_learning_rate(model, 1e-3));
    KPDE_CHECK(kpde_model_train_physics(model, n_coll, xc, 256, NULL, &loss));
  }
  t_train = MPI_Wtime() - t0;
  t0 = MPI_Wtime();
  KPDE_CHECK(kpde_model_eval(model, n_local, xy, KPDE_U, guess));
  t_eval = MPI_Wtime() - t0;

  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ksp));
  PetscCall(KSPSetOperators(ksp, A, A));
  PetscCall(KSPSetType(ksp, KSPCG));
  {
    PC pc;
    PetscCall(KSPGetPC(ksp, &pc));
    PetscCall(PCSetType(pc, PCGAMG));
  }
  PetscCall(KSPSetTolerances(ksp, 1e-10, PETSC_DEFAULT, PETSC_DEFAULT, 100000));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(VecSet(u, 0.0));
  PetscCall(solve(ksp, b, u, exact, PETSC_FALSE, &its0, &err0));
  PetscCall(VecGetArray(u, &a));
  for (k = 0; k < n_local; ++k) a[k] = guess[k];
  PetscCall(VecRestoreArray(u, &a));
  {
    Vec e;
    PetscReal ne, nx;
    PetscCall(VecDuplicate(u, &e));
    PetscCall(VecWAXPY(e, -1.0, exact, u));
    PetscCall(VecNorm(e, NORM_2, &ne));
    PetscCall(VecNorm(exact, NORM_2, &nx));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "poisson_guess: PINN trained in %.2f s (%d steps, loss %.3e), evaluated at %d nodes in %.4f s; "
                          "guess rel. L2 error vs exact %.3e\n",
                          t_train, (int)steps, loss, (int)(n * n), t_eval, (double)(ne / nx)));
    PetscCall(VecDestroy(&e));
  }
  PetscCall(solve(ksp, b, u, exact, PETSC_TRUE, &its1, &err1));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "poisson_guess: %d x %d nodes; KSP iterations from zero %d, from the PINN %d: %d saved (%.0f%%); "
                        "final rel. errors %.3e / %.3e\n",
                        (int)n, (int)n, (int)its0, (int)its1, (int)(its0 - its1), 100.0 * (its0 - its1) / its0, err0, err1));

  KPDE_CHECK(kpde_model_free(&model));
  KPDE_CHECK(kpde_finalize());
  PetscCall(PetscFree3(xy, guess, xc));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(VecDestroy(&u));
  PetscCall(VecDestroy(&b));
  PetscCall(VecDestroy(&exact));
  PetscCall(MatDestroy(&A));
  PetscCall(PetscFinalize());
  return its1 < its0 ? 0 : 1;
}
