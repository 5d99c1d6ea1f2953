/* C consumer of the installed kpde: a model from a config, eval with derivatives,
 * physics-informed steps, the error against the exact solution, a bad call's message.
 * Usage: consumer_c MODEL.yaml OUT.h5 */
#include <math.h>
#include <stdio.h>

#include "kpde.h"

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != KPDE_OK) {                                               \
      fprintf(stderr, "consumer_c: %s failed: %s\n", #call, kpde_last_error()); \
      return 1;                                                            \
    }                                                                      \
  } while (0)

int main(int argc, char** argv) {
  enum { N = 400 };
  static double x[N][2], out[N][3];
  kpde_model m = NULL;
  const double pi = 3.14159265358979323846;
  double loss0 = 0, loss = 0, err = 0, ref = 0;
  int64_t steps = 0;
  int k, p;
  if (argc != 3) return 2;
  CHECK(kpde_init(0));
  CHECK(kpde_model_from_config(argv[1], MPI_COMM_WORLD, &m));
  for (p = 0; p < N; ++p) x[p][0] = -1 + 2 * ((p % 20) + 0.5) / 20, x[p][1] = -1 + 2 * ((p / 20) + 0.5) / 20;
  CHECK(kpde_model_set_learning_rate(m, 1e-2));
  CHECK(kpde_model_train_physics(m, N, &x[0][0], 80, NULL, &loss0));
  for (k = 0; k < 300; ++k) CHECK(kpde_model_train_physics(m, N, &x[0][0], 80, NULL, &loss));
  CHECK(kpde_model_steps(m, &steps));
  CHECK(kpde_model_eval(m, N, &x[0][0], KPDE_U | KPDE_U_X | KPDE_LAP, &out[0][0]));
  for (p = 0; p < N; ++p) {
    const double u = sin(pi * x[p][0]) * sin(pi * x[p][1]);
    err += (out[p][0] - u) * (out[p][0] - u), ref += u * u;
  }
  CHECK(kpde_model_save(m, argv[2]));
  /* a bad call: a status and a message, nothing thrown */
  if (kpde_model_eval(m, N, &x[0][0], KPDE_U_Z, &out[0][0]) != KPDE_ERR_INPUT) return 1;
  printf("consumer_c: kpde %s, %lld steps, loss %.3e -> %.3e, rel. L2 error %.3e\n", kpde_version(),
         (long long)steps, loss0, loss, sqrt(err / ref));
  printf("consumer_c: bad call said: %s\n", kpde_last_error());
  CHECK(kpde_model_free(&m));
  CHECK(kpde_finalize());
  return loss < loss0 ? 0 : 1;
}
