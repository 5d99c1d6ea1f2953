#include <gtest/gtest.h>
#include <mpi.h>

#include "core/error.hpp"
#include "runtime/runtime.hpp"
#include "core/types.hpp"

TEST(Runtime, KokkosAndMpiAreUp) {
  EXPECT_TRUE(Kokkos::is_initialized());
  int mpi_ready = 0;
  MPI_Initialized(&mpi_ready);
  EXPECT_TRUE(mpi_ready);
  // The test main asks for 2 host threads; a Serial-only Kokkos has 1.
  const int threads = kpde::Runtime::n_threads();
  EXPECT_TRUE(threads == 2 || threads == 1) << threads;
}

TEST(Runtime, ParallelReduceSumsCorrectly) {
  const int n = 100000;
  kpde::Vec<double> v("v", n);
  Kokkos::parallel_for("fill", Kokkos::RangePolicy<kpde::HostExec>(0, n),
                       [=](int i) { v(i) = 1.0 + i; });
  double sum = 0;
  Kokkos::parallel_reduce("sum", Kokkos::RangePolicy<kpde::HostExec>(0, n),
                          [=](int i, double& s) { s += v(i); }, sum);
  EXPECT_DOUBLE_EQ(sum, 0.5 * n * (n + 1.0));
}

TEST(Error, CarriesExitCode) {
  try {
    throw kpde::InputError("bad key");
  } catch (const kpde::Error& e) {
    EXPECT_EQ(e.code(), kpde::ExitCode::bad_input);
    EXPECT_STREQ(e.what(), "bad key");
  }
}

TEST(Runtime, DefaultThreadsAreTheFreeCoresSharedAmongRanks) {
  using kpde::CoreLoad;
  // {available, online, busy, measured}
  EXPECT_EQ(kpde::default_threads(CoreLoad{2, 2, 0, true}, 1), 2);
  EXPECT_EQ(kpde::default_threads(CoreLoad{2, 2, 1, true}, 1), 1);  // one core busy: one thread
  EXPECT_EQ(kpde::default_threads(CoreLoad{2, 2, 2, true}, 1), 1);  // never below one
  EXPECT_EQ(kpde::default_threads(CoreLoad{16, 16, 2, true}, 4), 3);  // 14 free cores, 4 ranks
  EXPECT_EQ(kpde::default_threads(CoreLoad{4, 4, 0, false}, 8), 1);
  // a launcher bound this rank to 4 of 16 cores: those are its own
  EXPECT_EQ(kpde::default_threads(CoreLoad{4, 16, 1, true}, 4), 3);
  // a real sample: this test's own threads are idle while it sleeps
  const CoreLoad load = kpde::sample_core_load(0.05);
  EXPECT_GE(load.available, 1);
  EXPECT_LE(load.available, load.online);
  EXPECT_GE(load.busy, 0);
  EXPECT_LE(load.busy, load.available);
}
