#pragma once
/// The one runtime guard of a kpde process.
///
/// Constructs in this order: MPI and PETSc (PetscInitialize starts MPI unless the
/// host code already did), then Kokkos; destroys in reverse. Works without mpirun
/// (MPI singleton). Create exactly one per process, before any Kokkos View, and let
/// every View die before it does (kpde has no static Views).
///
/// Threads: the Kokkos host backend (OpenMP when built so) uses `threads` threads.
/// 0 means: OMP_NUM_THREADS when it is set, otherwise the cores that are free when the
/// process starts (cores of its affinity mask that were not busy over 0.1 s; see
/// sample_core_load), shared out among the MPI ranks on the same node. On a shared
/// machine one busy core would otherwise make every parallel region wait for the thread
/// that shares it (docs/performance.md, "Threads on a shared machine").
#include <string>

namespace kpde {

/// The load of the cores this process may run on, measured over a short window.
struct CoreLoad {
  int available = 0;  ///< cores in the process's affinity mask
  int online = 0;     ///< cores of the machine (available < online: a launcher bound the process)
  int busy = 0;       ///< of the available cores, those more than half busy during the window
  bool measured = false;  ///< false when /proc/stat could not be read (busy = 0 then)
};

/// Reads /proc/stat twice, `window_s` seconds apart: a core is busy when less than half
/// of its time in the window was idle (idle + iowait). Only cores in the affinity mask
/// count.
CoreLoad sample_core_load(double window_s = 0.1);

/// The default thread count: max(1, (available - busy) / local_ranks), where the ranks on
/// the node share the cores only when the process may run on all of them (a launcher
/// that binds each rank to its own cores, as mpirun does, has divided them already).
int default_threads(const CoreLoad& load, int local_ranks);

struct RuntimeOptions {
  int threads = 0;        ///< host threads for Kokkos; 0 = automatic (see above)
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
  /// How the thread count was chosen ("--threads", "OMP_NUM_THREADS", or "1 of 2 cores
  /// busy"); empty before a Runtime is constructed.
  static const std::string& threads_origin();

 private:
  bool petsc_started_ = false;
  bool mpi_started_ = false;
  bool kokkos_started_ = false;
  int rank_ = 0;
  int n_ranks_ = 1;
};

}  // namespace kpde
