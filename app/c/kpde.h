/* kpde.h: the C API of kpde (C99), for C, C++ and (through the `kpde` module) Fortran
 * codes that evaluate or train a neural PDE model in situ, over MPI. docs/coupling.md
 * is the guide.
 *
 * Conventions
 *  - Every call returns a status: KPDE_OK (0), KPDE_ERR_RUNTIME (1: a failure while
 *    working, e.g. a write error or a diverged step), KPDE_ERR_INPUT (2: a bad argument,
 *    file or config), KPDE_ERR_HANDLE (3: a NULL, freed or unknown handle). Nothing is
 *    thrown across this interface. After a failure, kpde_last_error() says which call,
 *    which argument and what was expected; outputs are then left unspecified and the
 *    model is unchanged.
 *  - kpde_init() comes first, kpde_finalize() last; any other call before or after
 *    fails with KPDE_ERR_RUNTIME.
 *  - Arrays are row-major (C order): points x[n][dim] (point p, axis a at x[p*dim + a]);
 *    results out[n][q]. From Fortran the same memory is x(dim, n) and out(q, n).
 *  - Threads: calls are serialised by one process-wide lock, so any thread may call,
 *    one call at a time; each call runs on kpde's own (Kokkos) threads. Make the calls
 *    from the thread that called kpde_init() when the host code uses OpenMP itself.
 *    kpde_last_error() is per thread.
 *  - MPI: a model lives on a communicator (MPI_COMM_NULL or MPI_COMM_SELF: one
 *    process). Calls on such a model are collective over it: every rank calls with its
 *    own points, and training minimises the mean over all ranks' points.
 */
#ifndef KPDE_H
#define KPDE_H

#include <mpi.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------------------ */
#define KPDE_OK 0
#define KPDE_ERR_RUNTIME 1
#define KPDE_ERR_INPUT 2
#define KPDE_ERR_HANDLE 3

/* ---- quantities of kpde_model_eval: a bitmask; the columns of out follow bit order - */
#define KPDE_U (1u << 0)    /* u */
#define KPDE_U_X (1u << 1)  /* du/dx_0 */
#define KPDE_U_Y (1u << 2)  /* du/dx_1 (2-D and 3-D models) */
#define KPDE_U_Z (1u << 3)  /* du/dx_2 (3-D models) */
#define KPDE_U_XX (1u << 4)
#define KPDE_U_XY (1u << 5)
#define KPDE_U_YY (1u << 6)
#define KPDE_U_XZ (1u << 7)
#define KPDE_U_YZ (1u << 8)
#define KPDE_U_ZZ (1u << 9)
#define KPDE_LAP (1u << 10) /* sum of u_aa over the axes that are not the time axis */
#define KPDE_ALL_QUANTITIES ((1u << 11) - 1u)

/* ---- the process --------------------------------------------------------------------- */

/* Starts kpde: MPI and PETSc unless the host code started them already, then Kokkos with
 * `threads` host threads (0: OMP_NUM_THREADS, else the free cores shared out among the
 * ranks of the node). Once per process. */
int kpde_init(int threads);
/* Frees every live model, then stops Kokkos (and PETSc and MPI if kpde_init started
 * them). kpde cannot be started again in the same process. */
int kpde_finalize(void);
/* 1 between kpde_init and kpde_finalize, else 0. */
int kpde_initialized(void);
/* The message of the last failed call on this thread ("" before any failure). Valid
 * until the next failing call on this thread. */
const char* kpde_last_error(void);
/* kpde's version, "major.minor.patch". */
const char* kpde_version(void);
/* For language bindings (the Fortran module): records "<function>: <message>" as this
 * thread's last error and returns status. */
int kpde_set_error(int status, const char* function, const char* message);

/* ---- models -------------------------------------------------------------------------- */

typedef struct kpde_model_s* kpde_model; /* opaque; never dereference */

/* A fresh PINN from a `kpde solve` YAML config: its problem (the PDE, domain and
 * conditions used by kpde_model_train_physics), its network (model:, initialised by
 * model.seed) and its optimiser (the first Adam stage of training:, else Adam with
 * lr 1e-3). Collective over comm. */
int kpde_model_from_config(const char* config_path, MPI_Comm comm, kpde_model* model);
/* A trained model from a model.h5 written by `kpde solve` or kpde_model_save (kind
 * "pinn"). Collective over comm. */
int kpde_model_from_file(const char* model_path, MPI_Comm comm, kpde_model* model);
/* The same with a Fortran communicator (MPI_Comm_f2c). */
int kpde_model_from_config_f(const char* config_path, MPI_Fint comm, kpde_model* model);
int kpde_model_from_file_f(const char* model_path, MPI_Fint comm, kpde_model* model);
/* Frees *model and sets it to NULL. Any later use of a copy of the handle fails with
 * KPDE_ERR_HANDLE (handles are never reused). */
int kpde_model_free(kpde_model* model);

/* Input dimension d (1-3), parameter count, and the time axis (-1: none). */
int kpde_model_dim(kpde_model model, int* dim);
int kpde_model_n_params(kpde_model model, int64_t* n_params);
int kpde_model_time_axis(kpde_model model, int* axis);
/* Number of columns q of kpde_model_eval for a quantity mask (its set bits). */
int kpde_quantity_count(unsigned quantities, int* count);

/* u and its exact input derivatives (derivative channels, not finite differences) at n
 * points: x[n][dim] -> out[n][q], q = set bits of `quantities`, columns in bit order
 * (KPDE_U first, KPDE_LAP last). Not collective. */
int kpde_model_eval(kpde_model model, int64_t n, const double* x, unsigned quantities, double* out);

/* ---- training (collective over the model's communicator) ----------------------------- */

/* Adam with a constant learning rate lr > 0 from now on (moments kept). */
int kpde_model_set_learning_rate(kpde_model model, double lr);
/* One Adam step on the supervised loss
 *   L = (1/N) sum_p w_p (u(x_p) - target_p)^2,  N = total number of points over the ranks,
 * x[n][dim], target[n], weight[n] (NULL: all 1, else >= 0). n may be 0 on some ranks,
 * not on all. *loss (may be NULL) gets L before the step. */
int kpde_model_train_supervised(kpde_model model, int64_t n, const double* x, const double* target,
                                const double* weight, double* loss);
/* One Adam step on the config's physics-informed loss
 *   sum_k lambda_k L_k:  residual (1/N_r) sum r^2 at the interior points, and the
 *   boundary conditions of the config (Dirichlet, Neumann, Robin) at the boundary points
 * (lambda_k: the config's training.weights, default 1; means over all ranks' points).
 * x_interior[n_interior][dim]: points of the closed domain. x_boundary[n_boundary][dim]:
 * points on its boundary (their part and normal are found by kpde); x_boundary NULL with
 * n_boundary > 0: kpde draws n_boundary fresh points on the parts that carry conditions
 * at every step. *loss (may be NULL) gets the weighted loss before the step. */
int kpde_model_train_physics(kpde_model model, int64_t n_interior, const double* x_interior, int64_t n_boundary,
                             const double* x_boundary, double* loss);
/* Adam steps taken so far. */
int kpde_model_steps(kpde_model model, int64_t* steps);

/* ---- parameters and files ------------------------------------------------------------ */

/* The flat parameter buffer (docs/design.md 3.2); n must equal kpde_model_n_params. */
int kpde_model_get_params(kpde_model model, int64_t n, double* params);
/* Replaces the parameters (finite values; the optimiser state is kept). */
int kpde_model_set_params(kpde_model model, int64_t n, const double* params);
/* Writes the model as a model.h5 (readable by kpde_model_from_file and `kpde eval`).
 * Collective: rank 0 writes. */
int kpde_model_save(kpde_model model, const char* path);
/* Training state (parameters, Adam moments and step count) to / from an HDF5 file, so
 * that training continues exactly. Collective: rank 0 writes, every rank reads. */
int kpde_model_save_state(kpde_model model, const char* path);
int kpde_model_load_state(kpde_model model, const char* path);

#ifdef __cplusplus
}
#endif

#endif /* KPDE_H */
