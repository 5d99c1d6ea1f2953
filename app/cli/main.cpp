// kpde: command-line entry. Exit codes: 0 success, 1 runtime failure, 2 bad input.
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

// OpenMP threads wait passively by default (they sleep in the kernel between parallel
// regions instead of spinning). On a machine shared with other jobs a spinning thread takes
// the core from the job it shares it with, and a busy core stalls every region: measured
// on 2 cores with one busy, a short solve took 1.8x the --threads 1 time with libgomp's
// default (spin) and 1.06x with passive waiting; on a quiet machine both run at the same
// speed (docs/performance.md). libgomp reads OMP_WAIT_POLICY once, from its own
// initialiser, before main(); a function in the executable's .preinit_array runs before
// any shared library's initialiser, so it can set the default. (glibc hands main() the
// original environment again, so nothing else sees the change.) A user's own
// OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
extern "C" {
static void kpde_passive_openmp_wait(int, char**, char**) {
  if (!std::getenv("GOMP_SPINCOUNT")) setenv("OMP_WAIT_POLICY", "passive", 0);
}
__attribute__((section(".preinit_array"), used)) static void (*const kpde_preinit)(int, char**, char**) =
    kpde_passive_openmp_wait;
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

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kpde::cli::overview().c_str(), stderr);
    return 2;
  }
  if (const int code = print_help(argc, argv); code >= 0) return code;
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
        throw kpde::InputError("bench: name a benchmark (pinn-step, gaussians, eval, reference)");
      const std::string which = argv[2];
      if (which == "pinn-step") return kpde::cli::bench_pinn_step(argc, argv, 3);
      if (which == "gaussians") return kpde::cli::bench_gaussians(argc, argv, 3);
      if (which == "reference") return kpde::cli::bench_reference(argc, argv, 3);
      if (which == "eval") return kpde::cli::bench_eval(argc, argv, 3);
      throw kpde::InputError("bench: unknown benchmark '" + which +
                             "' (expected pinn-step, gaussians, eval or reference; the Burgers reference is "
                             "`kpde reference examples/configs/burgers_1d.yaml`)");
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
