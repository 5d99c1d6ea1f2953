// `kpde generate CONFIG --out FILE.h5 -n N [--seed S] [--grid G] [--set key=value ...]`:
// random training samples (manufactured solutions, physics-only problems, Darcy flow on
// several geometries, antiderivatives of Gaussian random fields, Fisher-KPP)
// into one HDF5 dataset file (docs/datasets.md), rank-parallel under mpirun
// (data/generate.hpp).
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <cstdio>
#include <thread>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "data/generate.hpp"

namespace kpde::cli {

int generate(int argc, char** argv, int first) {
  const Args args(argc, argv, first, "generate");
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  if (!args.has("--out")) throw InputError("generate: --out FILE.h5 is required");
  if (!args.has("-n") && !args.has("--n")) throw InputError("generate: -n N (the number of samples) is required");
  const long n = args.has("-n") ? args.integer("-n", 0, 1) : args.integer("--n", 0, 1);
  if (n > 100000000) throw InputError("generate: -n " + std::to_string(n) + " is above the limit of 10^8 samples");
  const auto seed = static_cast<std::uint64_t>(args.integer("--seed", 0, 0));
  const std::string out = args.str("--out", "");
  const bool quiet = args.has("--quiet");
  if (args.positional().empty()) throw InputError("generate: name a config file (kpde generate CONFIG --out FILE.h5 -n N)");
  config::Document doc = config::Document::load_file(args.positional()[0]);
  for (const auto& a : args.all("--set")) doc.apply_override(a);
  if (args.has("--grid")) doc.apply_override("grid=" + std::to_string(args.integer("--grid", 0, 8)));
  const data::GenerateConfig config = data::load_generate_config(doc.root());
  doc.check_unused();
  if (rank == 0 && !quiet) {
    const long threads = Kokkos::DefaultHostExecutionSpace::concurrency();
    const long cores = static_cast<long>(std::thread::hardware_concurrency());
    if (cores > 0 && threads * size > cores)
      std::fprintf(stderr,
                   "generate: note: %d rank(s) x %ld thread(s) exceed the %ld cores; under mpirun pass --threads 1\n",
                   size, threads, cores);
  }
  const data::GenerateReport r =
      data::generate_dataset(config, doc.resolved_text(), doc.file(), out, n, seed, quiet, comm);
  if (rank != 0) return 0;
  const double rate = n / std::max(r.wall_s, 1e-9);
  const char* size_name = config.kind == "antiderivative" ? "sensors" : config.kind == "fisher" ? "points" : "grid";
  std::printf("generate: wrote %ld %s samples (%s %d) to %s in %.2f s: %.1f samples/s on %d rank(s)\n", n,
              config.kind.c_str(), size_name, config.schema().grid, out.c_str(), r.wall_s, rate, r.ranks);
  const data::MmsStats& s = r.stats;
  if (config.kind == "mms")
    std::printf("generate: %.2f draws per sample; rejected: |u| %ld, std %ld, |f| %ld, derivative %ld, "
                "non-finite %ld, holes %ld\n",
                static_cast<double>(s.attempts) / std::max<long>(s.accepted, 1), s.rejected_value, s.rejected_std,
                s.rejected_source, s.rejected_derivative, s.rejected_nonfinite, s.rejected_geometry);
  else if (config.kind == "darcy")
    std::printf("generate: %.1f Krylov iterations per solve\n", static_cast<double>(r.krylov_iterations) / std::max<long>(n, 1));
  return 0;
}

}  // namespace kpde::cli
