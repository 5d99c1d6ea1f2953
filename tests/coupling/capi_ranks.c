/* coupling_capi_ranks: training over a communicator means the same as one process with
 * every rank's points. Under mpirun -n 2: each rank takes every other point of one point
 * set and trains a model on MPI_COMM_WORLD (supervised and physics-informed steps); rank 0
 * also trains a second model on MPI_COMM_SELF with all the points. Their parameters must
 * agree to round-off (the sums run in another order), and every rank must hold the same
 * parameters. Usage: mpirun -n 2 capi_ranks CONFIG.yaml */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kpde.h"

#define CHECK(call)                                                                  \
  do {                                                                               \
    if ((call) != KPDE_OK) {                                                         \
      fprintf(stderr, "capi_ranks: %s: %s\n", #call, kpde_last_error());              \
      MPI_Abort(MPI_COMM_WORLD, 1);                                                  \
    }                                                                                \
  } while (0)

enum { N = 200, NB = 40, STEPS = 5 };

/* Supervised and physics steps on points p = first, first + stride, ... of the set. */
static void train(kpde_model m, int first, int stride, double* loss) {
  double x[N][2], t[N], xb[NB][2];
  int n = 0, nb = 0, p, k;
  for (p = first; p < N; p += stride, ++n) {
    x[n][0] = -0.95 + 1.9 * fmod(0.3 + p * 0.6180339887, 1.0);
    x[n][1] = -0.95 + 1.9 * fmod(0.7 + p * 0.7548776662, 1.0);
    t[n] = x[n][0] * x[n][1];
  }
  for (p = first; p < NB; p += stride, ++nb) xb[nb][0] = p % 2 ? 1.0 : -1.0, xb[nb][1] = -1 + 2.0 * p / NB;
  for (k = 0; k < STEPS; ++k) CHECK(kpde_model_train_supervised(m, n, &x[0][0], t, NULL, &loss[0]));
  for (k = 0; k < STEPS; ++k) CHECK(kpde_model_train_physics(m, n, &x[0][0], nb, &xb[0][0], &loss[1]));
}

int main(int argc, char** argv) {
  int rank, size, i, bad = 0;
  int64_t np;
  kpde_model all = NULL, one = NULL;
  double loss_all[2], loss_one[2], *p_all, *p_one, *p_root, worst = 0, spread = 0;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  CHECK(kpde_init(1));
  CHECK(kpde_model_from_config(argv[1], MPI_COMM_WORLD, &all));
  train(all, rank, size, loss_all);
  CHECK(kpde_model_n_params(all, &np));
  p_all = malloc(np * sizeof(double)), p_one = malloc(np * sizeof(double)), p_root = malloc(np * sizeof(double));
  CHECK(kpde_model_get_params(all, np, p_all));
  for (i = 0; i < np; ++i) p_root[i] = p_all[i];
  MPI_Bcast(p_root, (int)np, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  for (i = 0; i < np; ++i) spread = fmax(spread, fabs(p_root[i] - p_all[i]));
  if (rank == 0) {
    CHECK(kpde_model_from_config(argv[1], MPI_COMM_SELF, &one));
    train(one, 0, 1, loss_one);
    CHECK(kpde_model_get_params(one, np, p_one));
    for (i = 0; i < np; ++i) worst = fmax(worst, fabs(p_one[i] - p_all[i]));
    printf("capi_ranks: %d ranks: losses %.15e %.15e; one process: %.15e %.15e\n", size, loss_all[0], loss_all[1],
           loss_one[0], loss_one[1]);
    printf("capi_ranks: max |params(%d ranks) - params(1 process)| = %.3e\n", size, worst);
    bad = !(worst < 1e-10) || fabs(loss_all[0] - loss_one[0]) > 1e-12 * loss_one[0] ||
          fabs(loss_all[1] - loss_one[1]) > 1e-10 * loss_one[1];
    CHECK(kpde_model_free(&one));
  }
  MPI_Allreduce(MPI_IN_PLACE, &spread, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) printf("capi_ranks: max difference of the parameters between ranks %.3e\n", spread);
  bad = bad || spread != 0;
  MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
  CHECK(kpde_model_free(&all));
  CHECK(kpde_finalize());
  free(p_all), free(p_one), free(p_root);
  MPI_Finalize();
  if (rank == 0 && !bad) printf("capi_ranks: the same training on %d ranks and on one process\n", size);
  return bad;
}
