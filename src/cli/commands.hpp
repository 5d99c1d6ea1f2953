#pragma once
/// The kpde subcommands. Each returns the process exit code.
namespace kpde::cli {
/// `kpde bench pinn-step [options]`: Adam steps of the Poisson PINN, timed.
int bench_pinn_step(int argc, char** argv, int first);
/// `kpde demo [options]`: trains the Poisson PINN (Adam then L-BFGS), prints its error.
int demo(int argc, char** argv, int first);
/// Threads asked for by `--threads N` anywhere on the command line (0 if absent).
int threads_from_command_line(int argc, char** argv);
}  // namespace kpde::cli
