#include "runtime/runtime.hpp"

#include <mpi.h>
#include <petscsys.h>

#include <sched.h>

#include <Kokkos_Core.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace kpde {

namespace {

std::string& origin_text() {
  static std::string s;
  return s;
}

/// Per-core (idle, total) jiffies from /proc/stat, indexed by core number; empty when
/// the file cannot be read.
std::vector<std::pair<unsigned long long, unsigned long long>> read_cpu_times() {
  std::vector<std::pair<unsigned long long, unsigned long long>> t;
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, 3, "cpu") != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream s(line.substr(3));
    std::size_t core = 0;
    s >> core;
    unsigned long long v[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // user nice system idle iowait irq softirq steal
    for (auto& x : v) s >> x;
    unsigned long long total = 0;
    for (auto x : v) total += x;
    if (t.size() <= core) t.resize(core + 1, {0, 0});
    t[core] = {v[3] + v[4], total};
  }
  return t;
}

}  // namespace

CoreLoad sample_core_load(double window_s) {
  CoreLoad load;
  cpu_set_t mask;
  CPU_ZERO(&mask);
  const bool have_mask = sched_getaffinity(0, sizeof(mask), &mask) == 0;
  const int n_hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto allowed = [&](std::size_t c) { return have_mask ? CPU_ISSET(c, &mask) != 0 : true; };
  load.available = have_mask ? CPU_COUNT(&mask) : n_hw;
  load.online = n_hw;
  const auto t0 = read_cpu_times();
  if (t0.empty()) return load;
  std::this_thread::sleep_for(std::chrono::duration<double>(window_s));
  const auto t1 = read_cpu_times();
  if (t1.size() != t0.size()) return load;
  load.measured = true;
  for (std::size_t c = 0; c < t0.size() && c < CPU_SETSIZE; ++c) {
    if (!allowed(c)) continue;
    const double total = static_cast<double>(t1[c].second - t0[c].second);
    const double idle = static_cast<double>(t1[c].first - t0[c].first);
    if (total > 0 && idle < 0.5 * total) ++load.busy;
  }
  load.busy = std::min(load.busy, load.available);
  return load;
}

int default_threads(const CoreLoad& load, int local_ranks) {
  const int share = load.available < load.online ? 1 : std::max(1, local_ranks);
  return std::max(1, (load.available - load.busy) / share);
}

const std::string& Runtime::threads_origin() { return origin_text(); }

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
    int threads = options.threads;
    if (threads > 0) {
      origin_text() = "--threads";
    } else if (const char* omp = std::getenv("OMP_NUM_THREADS"); omp && *omp) {
      origin_text() = "OMP_NUM_THREADS";
    } else {
      // the free cores, shared out among the ranks on this node
      MPI_Comm node;
      int local = 1;
      if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
      }
      const CoreLoad load = sample_core_load();
      threads = default_threads(load, local);
      std::ostringstream s;
      s << load.busy << " of " << load.available << " cores busy";
      if (local > 1) s << ", " << local << " ranks on this node";
      if (!load.measured) s << " (/proc/stat unreadable)";
      origin_text() = s.str();
    }
#if KOKKOS_VERSION >= 30700
    Kokkos::InitializationSettings settings;
    if (threads > 0) settings.set_num_threads(threads);
    Kokkos::initialize(settings);
#else
    Kokkos::InitArguments args;
    args.num_threads = threads > 0 ? threads : -1;
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
    << " threads " << n_threads() << " (" << threads_origin() << "), MPI ranks " << n_ranks_;
  return s.str();
}

}  // namespace kpde
