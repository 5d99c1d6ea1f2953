// kpde: command-line entry. Exit codes: 0 success, 1 runtime failure, 2 bad input.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/usage.hpp"
#include "core/error.hpp"
#include "runtime/runtime.hpp"

#include <mpi.h>

// OpenMP threads wait passively by default (they sleep in the kernel between parallel
// regions instead of spinning). On a machine shared with other jobs a spinning thread takes
// the core from the job it shares it with, and a busy core stalls every region: measured
// on 2 cores with one busy, a short solve with --threads 2 took 1.7x the --threads 1 time
// with libgomp's default spin count and 0.8-1.06x with passive waiting; on a quiet machine
// both run at the same speed (docs/performance.md). libgomp reads its settings once, when
// it is loaded, before main(), and GCC 12's libgomp does not see a variable set from the
// executable's .preinit_array (tried: OMP_DISPLAY_ENV=verbose showed the default spin
// count). So kpde sets OMP_WAIT_POLICY=passive and runs itself again (same process id,
// before MPI starts). A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
static void prefer_passive_openmp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only when it fails: go on as before
}

namespace {

/// `kpde help [COMMAND]`, `kpde COMMAND --help`, `kpde bench NAME -h`: the usage of that
/// command (or the overview) on stdout, exit 0; `kpde help NOSUCH`: exit 2. Returns -1 when
/// the command line does not ask for help.
int print_help(int argc, char** argv) {
  const auto is_help = [](const char* a) { return !std::strcmp(a, "--help") || !std::strcmp(a, "-h"); };
  std::vector<std::string> words;  // the command's words before the first option
  bool asked = !std::strcmp(argv[1], "help") || is_help(argv[1]);
  for (int i = asked ? 2 : 1; i < argc; ++i) {
    if (is_help(argv[i])) asked = true;
    else if (argv[i][0] != '-' && words.size() < 2 && (words.empty() || words[0] == "bench")) words.push_back(argv[i]);
  }
  if (!asked) return -1;
  std::string name = words.empty() ? "" : words[0];
  if (name == "bench" && words.size() > 1) name += " " + words[1];
  if (const kpde::cli::Command* c = kpde::cli::find_command(name)) {
    std::fputs(kpde::cli::usage(*c).c_str(), stdout);
    return 0;
  }
  if (name.empty() || name == "bench") {
    std::fputs(kpde::cli::overview().c_str(), stdout);
    return 0;
  }
  std::fprintf(stderr, "kpde: error: unknown command '%s'\n%s", name.c_str(), kpde::cli::overview().c_str());
  return 2;
}

}  // namespace

namespace {
/// Runs the command of argv[1] (kpde's exit code).
int run_command(kpde::Runtime& runtime, int argc, char** argv);
}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp_wait(argv);
  if (argc < 2) {
    std::fputs(kpde::cli::overview().c_str(), stderr);
    return 2;
  }
  if (const int code = print_help(argc, argv); code >= 0) return code;
  try {
    kpde::RuntimeOptions options;
    options.threads = kpde::cli::threads_from_command_line(argc, argv);
    kpde::Runtime runtime(argc, argv, options);
    if (runtime.n_ranks() == 1) return run_command(runtime, argc, argv);
    // Several MPI ranks: a rank that fails alone would leave the others waiting in a
    // collective for ever, so a failing rank reports and ends every rank with its exit
    // code (mpirun returns it).
    try {
      return run_command(runtime, argc, argv);
    } catch (const std::exception& e) {
      const auto* ke = dynamic_cast<const kpde::Error*>(&e);
      const int code = ke ? static_cast<int>(ke->code()) : 1;
      std::fprintf(stderr, "kpde: error (MPI rank %d of %d): %s\n", runtime.rank(), runtime.n_ranks(), e.what());
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, code);
      return code;
    }
  } catch (const kpde::Error& e) {
    std::fprintf(stderr, "kpde: error: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kpde: error: %s\n", e.what());
    return 1;
  }
}

namespace {

int run_command(kpde::Runtime& runtime, int argc, char** argv) {
  {
    const std::string cmd = argv[1];
    if (cmd == "demo") return kpde::cli::demo(argc, argv, 2);
    if (cmd == "solve") return kpde::cli::solve(argc, argv, 2);
    if (cmd == "reference") return kpde::cli::reference(argc, argv, 2);
    if (cmd == "generate") return kpde::cli::generate(argc, argv, 2);
    if (cmd == "eval") return kpde::cli::eval(argc, argv, 2);
    if (cmd == "train") return kpde::cli::train(argc, argv, 2);
    if (cmd == "hypernet") return kpde::cli::hypernet(argc, argv, 2);
    if (cmd == "bench") {
      if (argc < 3)
        throw kpde::InputError("bench: name a benchmark (pinn-step, gaussians, eval, reference, hypernet, mgno)");
      const std::string which = argv[2];
      if (which == "pinn-step") return kpde::cli::bench_pinn_step(argc, argv, 3);
      if (which == "gaussians") return kpde::cli::bench_gaussians(argc, argv, 3);
      if (which == "reference") return kpde::cli::bench_reference(argc, argv, 3);
      if (which == "eval") return kpde::cli::bench_eval(argc, argv, 3);
      if (which == "hypernet") return kpde::cli::bench_hypernet(argc, argv, 3);
      if (which == "mgno") return kpde::cli::bench_mgno(argc, argv, 3);
      throw kpde::InputError("bench: unknown benchmark '" + which +
                             "' (expected pinn-step, gaussians, eval, reference, hypernet or mgno; the Burgers reference is "
                             "`kpde reference examples/configs/burgers_1d.yaml`)");
    }
    if (cmd == "version" || cmd == "--version") {
      std::printf("kpde 0.1.0\n%s\n", runtime.describe().c_str());
      return 0;
    }
    throw kpde::InputError("unknown command '" + cmd + "' (run kpde help)");
  }
}

}  // namespace
