#pragma once
/// The one runtime guard of a kpde process.
///
/// Constructs in this order: MPI and PETSc (PetscInitialize starts MPI unless the
/// host code already did), then Kokkos; destroys in reverse. Works without mpirun
/// (MPI singleton). Create exactly one per process, before any Kokkos View, and let
/// every View die before it does (kpde has no static Views).
///
/// Threads: the Kokkos host backend (OpenMP when built so) uses `threads` threads;
/// 0 means Kokkos' default (OMP_NUM_THREADS or all cores).
#include <string>

namespace kpde {

struct RuntimeOptions {
  int threads = 0;        ///< host threads for Kokkos; 0 = Kokkos' default
  bool init_petsc = true; ///< initialise PETSc (and MPI through it)
};

class Runtime {
 public:
  Runtime(int& argc, char**& argv, const RuntimeOptions& options = {});
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  ~Runtime();

  int rank() const { return rank_; }
  int n_ranks() const { return n_ranks_; }
  /// Number of threads of Kokkos' default host execution space.
  static int n_threads();
  /// A one-line description: Kokkos version and backend, threads, MPI ranks.
  std::string describe() const;

 private:
  bool petsc_started_ = false;
  bool mpi_started_ = false;
  bool kokkos_started_ = false;
  int rank_ = 0;
  int n_ranks_ = 1;
};

}  // namespace kpde
