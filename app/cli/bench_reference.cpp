// kpde bench reference: the PETSc finite-difference reference solver on 2-D Poisson,
// -lap u = f on [0,1]^2 with u = sin(pi x) sin(2 pi y) + x y (Dirichlet on all sides),
// for one or more grid sizes. Prints unknowns, Krylov iterations, setup (classification
// and assembly) and solve (preconditioner setup + KSP) wall times, the relative
// residual, the max-norm error against the exact solution and the peak resident memory.
#include <petscsys.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "data/reference/reference_solver.hpp"
#include "mesh/geometry.hpp"
#include "mesh/shape.hpp"

namespace kpde::cli {

namespace {

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // KiB on Linux
}

}  // namespace

int bench_reference(int argc, char** argv, int first) {
  Args a(argc, argv, first, "bench reference");
  const std::vector<long> sizes = a.integer_list("--n", "258", 3);
  for (const long n : sizes)
    if (n > std::numeric_limits<int>::max()) throw InputError("bench reference: --n " + std::to_string(n) + " is too large");
  const double rtol = a.real("--rtol", 1e-8);
  if (!(rtol > 0 && rtol < 1)) throw InputError("bench reference: --rtol must be in (0, 1)");
  const int refine = static_cast<int>(a.integer("--refine", 1, 1));
  const int repeat = static_cast<int>(a.integer("--repeat", 1, 1));
  const mesh::Geometry square(mesh::box({0, 0}, {1, 1}));
  const double pi = 3.14159265358979323846;
  auto exact = [pi](double x, double y) { return std::sin(pi * x) * std::sin(2 * pi * y) + x * y; };
  data::FdProblem p;
  p.geometry = &square;
  p.coefficient[data::c_uxx] = [](double, double) { return -1.0; };
  p.coefficient[data::c_uyy] = [](double, double) { return -1.0; };
  p.source = [pi](double x, double y) { return 5 * pi * pi * std::sin(pi * x) * std::sin(2 * pi * y); };
  for (int k = 0; k < square.n_parts(); ++k)
    p.conditions.push_back({k, data::FdConditionKind::dirichlet, exact});
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  if (rank == 0)
    std::printf("kpde bench reference: -lap u = f on [0,1]^2, Dirichlet, rtol=%.1e ranks=%d\n", rtol, size);
  for (const long nl : sizes) {
    const int n = static_cast<int>(nl);
    data::FdOptions o;
    o.n = n;
    o.refine = refine;
    o.rtol = rtol;
    o.solver = a.str("--solver", "auto");
    o.verbose = a.has("--verbose");
    data::FdSolution best;
    for (int r = 0; r < repeat; ++r) {
      data::FdSolution s = data::solve_reference(p, o);
      if (r == 0 || s.wall_s < best.wall_s) best = s;
    }
    double err = 0;
    for (int i = 0; i < best.grid.n; ++i)
      for (int j = 0; j < best.grid.n; ++j)
        err = std::max(err, std::abs(best.u(i, j) - exact(best.grid.x(j), best.grid.y(i))));
    if (rank == 0)
      std::printf("n=%d unknowns=%ld solver=%s iterations=%d setup_s=%.3f solve_s=%.3f wall_s=%.3f "
                  "rel_residual=%.2e max_err=%.3e peak_rss_mb=%.1f\n",
                  best.n_internal, best.n_unknowns, best.solver.c_str(), best.iterations, best.setup_s,
                  best.solve_s, best.wall_s, best.residual_norm, err, peak_rss_mb());
  }
  return 0;
}

}  // namespace kpde::cli
