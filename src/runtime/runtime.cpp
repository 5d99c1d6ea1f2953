#include "runtime/runtime.hpp"

#include <mpi.h>
#include <petscsys.h>

#include <Kokkos_Core.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace kpde {

Runtime::Runtime(int& argc, char**& argv, const RuntimeOptions& options) {
  int mpi_ready = 0;
  MPI_Initialized(&mpi_ready);
  if (options.init_petsc) {
    PetscBool petsc_ready = PETSC_FALSE;
    PetscInitialized(&petsc_ready);
    if (!petsc_ready) {
      // PETSc must not read kpde's own command line as its options.
      if (PetscInitializeNoArguments() != 0) throw Error("kpde: PetscInitialize failed");
      petsc_started_ = true;
    }
  } else if (!mpi_ready) {
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) throw Error("kpde: MPI_Init failed");
    mpi_started_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &n_ranks_);

  if (!Kokkos::is_initialized()) {
#if KOKKOS_VERSION >= 30700
    Kokkos::InitializationSettings settings;
    if (options.threads > 0) settings.set_num_threads(options.threads);
    Kokkos::initialize(settings);
#else
    Kokkos::InitArguments args;
    args.num_threads = options.threads > 0 ? options.threads : -1;
    args.disable_warnings = true;
    Kokkos::initialize(args);
#endif
    kokkos_started_ = true;
  }
}

Runtime::~Runtime() {
  if (kokkos_started_) Kokkos::finalize();
  if (petsc_started_) PetscFinalize();
  if (mpi_started_) MPI_Finalize();
}

int Runtime::n_threads() { return Kokkos::DefaultHostExecutionSpace::concurrency(); }

std::string Runtime::describe() const {
  std::ostringstream s;
  s << "Kokkos " << KOKKOS_VERSION / 10000 << "." << (KOKKOS_VERSION / 100) % 100 << "."
    << KOKKOS_VERSION % 100 << " host backend " << Kokkos::DefaultHostExecutionSpace::name()
    << " threads " << n_threads() << ", MPI ranks " << n_ranks_;
  return s.str();
}

}  // namespace kpde
