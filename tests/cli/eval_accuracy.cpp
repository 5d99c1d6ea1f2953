// eval_accuracy TABLE: the output of `kpde eval --derivatives lap` on the poisson_sin
// model (columns x, y, u, lap) against the exact solution u = sin(pi x) sin(pi y) and
// lap u = -f = -2 pi^2 u. Prints both relative L2 errors; exit 0 when u's is <= 1e-4
// and lap's <= 1e-3, 1 otherwise, 2 on a bad table.
#include <cmath>
#include <cstdio>
#include <exception>

#include "data/table.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: eval_accuracy TABLE\n");
    return 2;
  }
  try {
    const kpde::data::Table t = kpde::data::read_table(argv[1]);
    const auto *x = t.find("x"), *y = t.find("y"), *u = t.find("u"), *lap = t.find("lap");
    if (!x || !y || !u || !lap) {
      std::fprintf(stderr, "%s: needs the columns x, y, u, lap\n", argv[1]);
      return 2;
    }
    double eu = 0, nu = 0, el = 0, nl = 0;
    for (std::size_t k = 0; k < t.n_rows(); ++k) {
      const double exact = std::sin(M_PI * (*x)[k]) * std::sin(M_PI * (*y)[k]);
      const double exact_lap = -2 * M_PI * M_PI * exact;
      eu += ((*u)[k] - exact) * ((*u)[k] - exact), nu += exact * exact;
      el += ((*lap)[k] - exact_lap) * ((*lap)[k] - exact_lap), nl += exact_lap * exact_lap;
    }
    const double ru = std::sqrt(eu / nu), rl = std::sqrt(el / nl);
    const bool ok = t.n_rows() == 10000 && ru <= 1e-4 && rl <= 1e-3;
    std::printf("eval accuracy: u rel_l2=%.3e %s 1e-4, lap rel_l2=%.3e %s 1e-3 at %zu points (%s)\n", ru,
                ru <= 1e-4 ? "<=" : ">", rl, rl <= 1e-3 ? "<=" : ">", t.n_rows(), argv[1]);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
