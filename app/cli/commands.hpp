#pragma once
/// The kpde subcommands. Each returns the process exit code.
namespace kpde::cli {
/// `kpde bench pinn-step [options]`: Adam steps of the Poisson PINN, timed.
int bench_pinn_step(int argc, char** argv, int first);
/// `kpde bench gaussians [--n N,N,...] [--points P] ...`: time per step of a Gaussian-
/// feature PINN against the number of Gaussians.
int bench_gaussians(int argc, char** argv, int first);
/// `kpde bench mgno [--grid N] [--batch B] [--channels C] ...`: an MgNO training step
/// timed, and the convolution engine (im2col + GEMM) against a direct loop nest.
int bench_mgno(int argc, char** argv, int first);
/// `kpde bench reference [--n N[,N...]] [--solver S] [--rtol R] [--refine K]`: the PETSc
/// finite-difference reference solver on 2-D Poisson, timed (wall, iterations, memory).
int bench_reference(int argc, char** argv, int first);
/// `kpde demo [options]`: trains the Poisson PINN (Adam then L-BFGS), prints its error.
int demo(int argc, char** argv, int first);
/// `kpde solve CONFIG [options]`: trains a PINN for a config's problem (docs/config.md).
int solve(int argc, char** argv, int first);
/// `kpde reference CONFIG [options]`: the PETSc finite-difference reference solution of
/// a config's problem (data/reference), with the outputs of `kpde solve`.
int reference(int argc, char** argv, int first);
/// `kpde generate CONFIG --out FILE.h5 -n N [--seed S] [--grid G] [--set ...]`: random
/// training samples into an HDF5 dataset (docs/datasets.md), rank-parallel under MPI.
int generate(int argc, char** argv, int first);
/// `kpde eval MODEL (--points FILE | --grid N | --random N) [--derivatives ...] --out FILE`:
/// values and input derivatives of a trained model at points.
int eval(int argc, char** argv, int first);
/// `kpde bench eval [--model FILE] [--points N]`: evaluation throughput (points per second).
int bench_eval(int argc, char** argv, int first);
/// `kpde train CONFIG [--out DIR] [--resume DIR] ...`: trains a model of model.type
/// (hypernet) on generated data, with checkpoints that resume exactly.
int train(int argc, char** argv, int first);
/// `kpde hypernet CONFIG [--model FILE] [--refine K] [--out DIR] [--n N]`: the
/// hypernetwork's PINN for a config's problem, with the outputs of solve.
int hypernet(int argc, char** argv, int first);
/// `kpde bench hypernet [--model FILE] [--samples N]`: forward time and the input
/// sensitivity of the emitted tensors.
int bench_hypernet(int argc, char** argv, int first);
/// Threads asked for by `--threads N` anywhere on the command line (0 if absent).
int threads_from_command_line(int argc, char** argv);
}  // namespace kpde::cli
