#include "cli/usage.hpp"

#include <algorithm>

namespace kpde::cli {

namespace {

const Option kThreads{"--threads", "N",
                      "host threads (default: the cores that are free at start, or OMP_NUM_THREADS; "
                      "docs/performance.md)"};
const Option kSet{"--set", "key.path=value",
                  "override one config value before the config is read (\"training.stages[1].steps=500\")", true};
const Option kQuiet{"--quiet", "", "no progress lines"};
const Option kNodes{"--n", "N|NX,NY[,NZ]",
                    "output grid nodes per axis, one count for all axes or one per axis "
                    "(default: output.n of the config)"};

std::vector<Command> make_commands() {
  std::vector<Command> c;
  c.push_back({"solve",
               {"CONFIG"},
               "solve the config's PDE with a PINN and write the output folder (docs/config.md, docs/outputs.md)",
               {{"--out", "DIR", "output folder (default: output.dir of the config)"},
                kNodes,
                kSet,
                {"--resume", "DIR", "continue the run whose checkpoint is in DIR (output goes there too)"},
                {"--max-wall", "SECONDS",
                 "stop training after this wall time at a clean point and write every output "
                 "(default: training.max_wall_s, else none)"},
                {"--stop-after-steps", "K", "stop with a checkpoint after K steps; continue with --resume DIR"},
                {"--init-from-hypernet", "", "start from the weights the shipped hypernetwork emits for the problem "
                 "(the network becomes its target PINN: modified MLP, width 32, fixed Fourier features)"},
                {"--hypernet-model", "FILE", "as --init-from-hypernet, with this hypernetwork model.h5"},
                kQuiet,
                kThreads},
               "Exit codes: 0 done, 1 training failed (diverged; the last good checkpoint is kept), 2 bad input."});
  c.push_back({"train",
               {"CONFIG"},
               "train a model on generated data: model.type hypernet, the HyPINO-style hypernetwork "
               "(docs/hypernet.md); checkpoints resume exactly",
               {{"--out", "DIR", "output folder (default: output.dir of the config)"},
                kSet,
                {"--resume", "DIR", "continue the run whose checkpoint is in DIR (output goes there too)"},
                {"--init-from", "MODEL", "start from the parameters of a model.h5 of the same architecture "
                 "(fresh optimiser state)"},
                {"--max-wall", "SECONDS", "stop after this wall time with a checkpoint and model.h5 (default: training.max_wall_s)"},
                {"--stop-after-steps", "K", "stop with a checkpoint after K steps; continue with --resume DIR"},
                kQuiet,
                kThreads},
               "Exit codes: 0 done, 1 training failed (diverged; the last good checkpoint is kept), 2 bad input, "
               "130 interrupted (checkpoint written)."});
  c.push_back({"hypernet",
               {"CONFIG"},
               "the PINN a trained hypernetwork emits for the config's problem (2-D linear, constant "
               "coefficients), no training; with the outputs of solve",
               {{"--model", "FILE", "hypernetwork model.h5 (default: the shipped hypernet/models/hypino_kpde.h5)"},
                {"--refine", "K", "refinement rounds: K delta PINNs fitted to the current residual (default 0)"},
                {"--no-least-squares", "", "keep the output layer the heads emit (default: the least-squares fit "
                 "of the specification)"},
                {"--spec", "FILE.h5:GROUP", "read the specification from a benchmark file's group instead of "
                 "rasterising the config's problem (hypino_benchmarks.h5 layout)"},
                {"--out", "DIR", "output folder (default: output.dir of the config + _hypernet)"},
                kNodes,
                kSet,
                kQuiet,
                kThreads},
               "The emitted PINN is written as model.h5 (kind pinn), usable by kpde eval and by "
               "kpde solve --init-from-hypernet."});
  c.push_back({"reference",
               {"CONFIG"},
               "the reference solution of the config's problem, with the outputs of solve: PETSc finite "
               "differences on 2-D problems (linear, or a nonlinear residual by Newton) with errors against the "
               "exact solution or named reference, or (--named) the problem's named exact reference itself",
               {{"--out", "DIR", "output folder (default: output.dir of the config + _reference)"},
                {"--named", "", "write the problem's named reference (reference: {burgers: ...}) instead of solving"},
                kNodes,
                kSet,
                kQuiet,
                kThreads},
               "Solvers, curved boundaries and MPI: docs/reference.md."});
  c.push_back({"eval",
               {"MODEL"},
               "values and exact input derivatives of a trained model (model.h5) at points",
               {{"--points", "FILE", "points to evaluate at: CSV with a header row (x,y[,z|t]) or HDF5 columns"},
                {"--inputs", "FILE", "DeepONet: the input functions, a kpde generate dataset (field u) or a table of one "
                                     "function per row (its sensor values); default points: the training points"},
                {"--grid", "N", "an N^dim grid over the model's domain box instead of --points"},
                {"--random", "N", "N uniform random points in the domain box instead of --points"},
                {"--seed", "S", "seed of --random (default 0)"},
                {"--derivatives", "LIST", "also these: u_x,u_y,u_z,u_xx,u_yy,u_zz,u_xy,lap (t for a time axis)"},
                {"--out", "FILE", "results: .csv or .h5 (required)"},
                kQuiet,
                kThreads},
               "Formats: docs/outputs.md."});
  c.push_back({"generate",
               {"CONFIG"},
               "random training samples (manufactured solutions, Darcy on five geometries, antiderivatives, Fisher-KPP) into one HDF5 file (docs/datasets.md)",
               {{"--out", "FILE", "the dataset file (.h5, required)"},
                {"-n", "N", "number of samples (required; --n is the same)"},
                {"--n", "N", "same as -n"},
                {"--seed", "S", "seed (default 0); the same seed gives the same file on any number of ranks"},
                {"--grid", "G", "grid nodes per side (default: the config's grid; mms and darcy only)"},
                kSet,
                kQuiet,
                kThreads},
               "Under mpirun the ranks generate in parallel."});
  c.push_back({"demo",
               {},
               "train the Poisson PINN (-lap u = f on [-1,1]^2, Adam then L-BFGS) and print its error",
               {{"--steps", "N", "Adam steps (default 2000)"},
                {"--lbfgs", "N", "L-BFGS steps (default 3000)"},
                {"--width", "W", "hidden width (default 32)"},
                {"--depth", "D", "hidden layers (default 3)"},
                {"--interior", "N", "interior points (default 2048)"},
                {"--boundary", "N", "boundary points (default 256)"},
                {"--precision", "P", "float64 (default) or float32"},
                {"--seed", "S", "seed (default 0)"},
                kThreads},
               ""});
  c.push_back({"bench pinn-step",
               {},
               "time Adam steps of the Poisson PINN (the work of the PyTorch anchor)",
               {{"--precision", "P", "float64 (default) or float32"},
                {"--width", "W", "hidden width (default 64)"},
                {"--depth", "D", "hidden layers (default 4)"},
                {"--interior", "N", "interior points (default 4096)"},
                {"--boundary", "N", "boundary points (default 512)"},
                {"--steps", "K", "timed steps (default 200)"},
                {"--warmup", "K", "untimed steps first (default 5)"},
                {"--block", "P", "points per block of the forward/backward pass (default 64)"},
                {"--lr", "LR", "Adam learning rate (default 1e-3)"},
                kThreads},
               "bench/compare_torch.sh races it against the anchor."});
  c.push_back({"bench mgno",
               {},
               "time an MgNO training step, and its 3x3 convolution through both engines (im2col + GEMM, direct)",
               {{"--grid", "N", "nodes per axis (default 85)"},
                {"--batch", "B", "inputs per step (default 8)"},
                {"--channels", "C", "channels (default 24)"},
                {"--layers", "L", "layers (default 5)"},
                {"--smoothing", "N,N,...", "pre-smoothing steps per level (default 1,1,1,1,1,2)"},
                {"--precision", "P", "float32 (default) or float64"},
                {"--reps", "K", "timed repetitions; the median is printed (default 5)"},
                {"--engine", "E", "3x3 stride-1 convolutions of the timed step: gemm (default, what MgNO runs) or direct"},
                kThreads},
               "docs/performance.md records its figures."});
  c.push_back({"bench gaussians",
               {},
               "time a step of a Gaussian-feature PINN against the number of Gaussians",
               {{"--n", "N,N,...", "numbers of Gaussians (default 800,1600,3200,6400,12800,16000)"},
                {"--points", "P", "collocation points (default 4096)"},
                {"--steps", "K", "timed steps (default 20)"},
                {"--warmup", "K", "untimed steps first (default 3)"},
                {"--channels", "C", "feature channels per Gaussian (default 4)"},
                {"--width", "W", "hidden width (default 16)"},
                {"--cutoff", "C", "Gaussians are cut off at C sigma (default 4)"},
                {"--sigma", "S", "width of the Gaussians (default 2/sqrt(N))"},
                {"--taper", "", "taper the Gaussians smoothly to 0 at the cutoff"},
                kThreads},
               ""});
  c.push_back({"bench eval",
               {},
               "points per second of model evaluation (u; u and its Laplacian)",
               {{"--model", "FILE", "a model.h5 (default: a random MLP of --width, --depth)"},
                {"--points", "N", "points (default 100000)"},
                {"--repeat", "R", "repetitions, the best is reported (default 5)"},
                {"--width", "W", "hidden width of the random model (default 64)"},
                {"--depth", "D", "hidden layers of the random model (default 4)"},
                {"--precision", "P", "float64 (default) or float32"},
                kThreads},
               ""});
  c.push_back({"bench hypernet",
               {},
               "the hypernetwork's forward time and how much its emitted tensors depend on the input",
               {{"--model", "FILE", "a hypernetwork model.h5 (default: the shipped one)"},
                {"--samples", "N", "generated problems to compare (default 16)"},
                {"--seed", "S", "their stream (default 7)"},
                kThreads},
               ""});
  c.push_back({"bench reference",
               {},
               "time the PETSc finite-difference solver on 2-D Poisson",
               {{"--n", "N[,N...]", "grid nodes per side (default 258)"},
                {"--solver", "S", "auto (default), hypre, gamg, mumps or ilu"},
                {"--rtol", "R", "relative tolerance (default 1e-8)"},
                {"--refine", "K", "also K-1 refinements of each grid (default 1)"},
                {"--repeat", "R", "repetitions (default 1)"},
                {"--verbose", "", "PETSc's solver monitor"},
                kThreads},
               ""});
  c.push_back({"version", {}, "print the version and the Kokkos/MPI runtime", {kThreads}, ""});
  return c;
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> c = make_commands();
  return c;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

std::string usage(const Command& c) {
  std::string s = "usage: kpde " + c.name;
  for (const auto& p : c.positional) s += " " + p;
  if (!c.options.empty()) s += " [options]";
  s += "\n" + c.summary + "\n";
  if (!c.options.empty()) {
    s += "options:\n";
    std::size_t w = 0;
    for (const auto& o : c.options) w = std::max(w, o.name.size() + (o.value.empty() ? 0 : o.value.size() + 1));
    for (const auto& o : c.options) {
      std::string head = o.name + (o.value.empty() ? "" : " " + o.value);
      head.resize(w, ' ');
      s += "  " + head + "  " + o.help + (o.repeatable ? " (repeatable)" : "") + "\n";
    }
  }
  if (!c.notes.empty()) s += c.notes + "\n";
  return s;
}

std::string overview() {
  std::string s = "usage: kpde <command> [options]     (kpde <command> --help: its options)\ncommands:\n";
  for (const auto& c : commands()) {
    std::string head = c.name;
    for (const auto& p : c.positional) head += " " + p;
    head.resize(std::max<std::size_t>(head.size(), 24), ' ');
    s += "  " + head + "  " + c.summary + "\n";
  }
  return s;
}

}  // namespace kpde::cli
