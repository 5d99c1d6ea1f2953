// kpde bench burgers-reference --out FILE [--n 201] [--nu 0.01/pi] [--nodes 4001]: writes the
// Cole-Hopf reference of the Burgers benchmark (data/burgers.hpp) on an n x n grid of
// [-1, 1] x [0, 1], the truth that examples/configs/burgers_1d.yaml is compared with.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "data/burgers.hpp"

namespace kpde::cli {

int bench_burgers_reference(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "bench burgers-reference", {"--out", "--n", "--nu", "--nodes", "--threads"}, {});
  if (!a.has("--out")) throw InputError("bench burgers-reference: --out FILE.h5 is required");
  const int n = static_cast<int>(a.integer("--n", 201, 2));
  const double nu = a.real("--nu", 0.01 / M_PI);
  if (!(nu > 0)) throw InputError("bench burgers-reference: --nu must be > 0");
  const int nodes = static_cast<int>(a.integer("--nodes", 4001, 3));
  const auto t0 = std::chrono::steady_clock::now();
  data::write_burgers_reference(a.str("--out", ""), n, nu, nodes);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("burgers reference: %d x %d grid, nu=%.17g, %d quadrature nodes, wall_s=%.2f, out=%s\n", n, n, nu,
              nodes, s, a.str("--out", "").c_str());
  return 0;
}

}  // namespace kpde::cli
