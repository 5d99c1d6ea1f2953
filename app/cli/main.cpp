// kpde: command-line entry. Exit codes: 0 success, 1 runtime failure, 2 bad input.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "runtime/runtime.hpp"

namespace {

const char* kUsage =
    "usage: kpde <command> [options]\n"
    "commands:\n"
    "  solve CONFIG             solve the config's PDE with a PINN and write the output folder\n"
    "       [--out DIR] [--n N] [--set key.path=value ...] [--resume DIR] [--quiet] [--threads N]\n"
    "       [--stop-after-steps K]   (stop with a checkpoint after K steps; continue with --resume DIR)\n"
    "  reference CONFIG         solve the config's (linear, 2-D) PDE with PETSc finite differences\n"
    "       [--out DIR] [--n N] [--set key.path=value ...]\n"
    "  eval MODEL               values and exact input derivatives of a trained model (model.h5) at points\n"
    "       (--points FILE.csv|FILE.h5 | --grid N | --random N [--seed S])\n"
    "       [--derivatives u_x,u_y,u_xx,u_yy,u_xy,lap] --out FILE.csv|FILE.h5   (docs/outputs.md)\n"
    "  generate CONFIG          random training samples (manufactured solutions, Darcy) into one HDF5 file\n"
    "       --out FILE.h5 -n N [--seed S] [--grid G] [--set key.path=value ...] [--quiet]   (docs/datasets.md)\n"
    "  demo                     train the Poisson PINN (-lap u = f on [-1,1]^2) and print its error\n"
    "       [--steps N] [--lbfgs N] [--width W] [--depth D] [--interior N] [--boundary N]\n"
    "       [--precision float64|float32] [--threads N] [--seed S]\n"
    "  bench pinn-step          time Adam steps of that PINN\n"
    "       [--precision float64|float32] [--threads N] [--width 64] [--depth 4]\n"
    "       [--interior 4096] [--boundary 512] [--steps K] [--block P]\n"
    "  bench gaussians          time a step of a Gaussian-feature PINN against the number of Gaussians\n"
    "       [--n 800,1600,...,16000] [--points 4096] [--steps 20] [--channels 4] [--width 16]\n"
    "       [--cutoff 4] [--sigma S (default: 2/sqrt(N))] [--threads N]\n"
    "  bench eval               points per second of model evaluation (u; u and its Laplacian)\n"
    "       [--model FILE] [--points 100000] [--repeat 5] [--width 64] [--depth 4] [--precision float64|float32]\n"
    "  bench reference          time the PETSc finite-difference solver on 2-D Poisson\n"
    "       [--n N[,N...]] [--solver auto|hypre|gamg|mumps|ilu] [--rtol 1e-8] [--refine K] [--repeat R]\n"
    "  bench burgers-reference  write the Cole-Hopf solution of the Burgers benchmark to HDF5\n"
    "       --out FILE [--n 201] [--nu 0.0031831] [--nodes 4001]\n"
    "  version                  print the version and the Kokkos/MPI runtime\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  try {
    kpde::RuntimeOptions options;
    options.threads = kpde::cli::threads_from_command_line(argc, argv);
    kpde::Runtime runtime(argc, argv, options);
    const std::string cmd = argv[1];
    if (cmd == "demo") return kpde::cli::demo(argc, argv, 2);
    if (cmd == "solve") return kpde::cli::solve(argc, argv, 2);
    if (cmd == "reference") return kpde::cli::reference(argc, argv, 2);
    if (cmd == "generate") return kpde::cli::generate(argc, argv, 2);
    if (cmd == "eval") return kpde::cli::eval(argc, argv, 2);
    if (cmd == "bench") {
      if (argc < 3)
        throw kpde::InputError("bench: name a benchmark (pinn-step, gaussians, eval, reference, burgers-reference)");
      const std::string which = argv[2];
      if (which == "pinn-step") return kpde::cli::bench_pinn_step(argc, argv, 3);
      if (which == "gaussians") return kpde::cli::bench_gaussians(argc, argv, 3);
      if (which == "reference") return kpde::cli::bench_reference(argc, argv, 3);
      if (which == "eval") return kpde::cli::bench_eval(argc, argv, 3);
      if (which == "burgers-reference") return kpde::cli::bench_burgers_reference(argc, argv, 3);
      throw kpde::InputError("bench: unknown benchmark '" + which +
                             "' (expected pinn-step, gaussians, eval, reference or burgers-reference)");
    }
    if (cmd == "version" || cmd == "--version") {
      std::printf("kpde 0.1.0\n%s\n", runtime.describe().c_str());
      return 0;
    }
    throw kpde::InputError("unknown command '" + cmd + "' (run kpde help)");
  } catch (const kpde::Error& e) {
    std::fprintf(stderr, "kpde: error: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kpde: error: %s\n", e.what());
    return 1;
  }
}
