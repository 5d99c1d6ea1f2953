// kpde bench pinn-step: Adam steps of the Poisson PINN (see poisson_pinn.hpp), the
// same work as ../shared/anchors/torch_pinn_poisson.py. Prints ms_per_step, the GEMM
// rate achieved within a step, and the peak resident memory.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/poisson_pinn.hpp"
#include "runtime/runtime.hpp"
#include "nn/gemm.hpp"
#include "optim/adam.hpp"

namespace kpde::cli {

int threads_from_command_line(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--threads")) {
      const std::string v = argv[i + 1];
      std::size_t pos = 0;
      int n = 0;
      try {
        n = std::stoi(v, &pos);
      } catch (...) {
        pos = 0;
      }
      if (pos != v.size() || n < 1) throw InputError("--threads expects a positive integer, got '" + v + "'");
      return n;
    }
  return 0;
}

namespace {

using Clock = std::chrono::steady_clock;

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

template <class T>
int run(const Args& a) {
  nn::NetworkSpec spec;
  spec.width = static_cast<int>(a.integer("--width", 64, 1));
  spec.depth = static_cast<int>(a.integer("--depth", 4, 1));
  spec.block_points = static_cast<int>(a.integer("--block", 64, 1));
  const int nc = static_cast<int>(a.integer("--interior", 4096, 1));
  const int nb = static_cast<int>(a.integer("--boundary", 512, 1));
  const int steps = static_cast<int>(a.integer("--steps", 200, 1));
  const int warmup = static_cast<int>(a.integer("--warmup", 5, 0));
  PoissonPinn<T> pinn(spec, nc, nb, 0);
  Vec<T> params("params", pinn.net().n_params()), grad("grad", pinn.net().n_params());
  pinn.net().init_params(params, 0, nn::Init::xavier_uniform);
  optim::AdamOptions opt;
  opt.schedule.lr = a.real("--lr", 1e-3);
  optim::Adam<T> adam(params.extent(0), opt);
  double loss = 0;
  auto step = [&] {
    loss = pinn.loss_and_grad(params, grad);
    adam.step(params, grad);
  };
  for (int i = 0; i < warmup; ++i) step();
  const auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i) step();
  const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
  const double ms = 1e3 * sec / steps;
  const double gflops = pinn.flops() / (ms * 1e-3) / 1e9;
  // A second, instrumented run: thread-seconds inside kpde::gemm give the GEMM rate
  // on exactly these shapes and the share of the step spent outside GEMM.
  const int prof_steps = std::max(1, steps / 4);
  GemmStats::reset();
  GemmStats::enabled() = true;
  const auto t1 = Clock::now();
  for (int i = 0; i < prof_steps; ++i) step();
  const double prof_sec = std::chrono::duration<double>(Clock::now() - t1).count();
  GemmStats::enabled() = false;
  const int threads = Runtime::n_threads();
  const double gemm_thread_sec = GemmStats::seconds() / prof_steps;
  const double gemm_rate = pinn.flops() / gemm_thread_sec / 1e9 * threads;  // all threads
  const double outside = 1.0 - gemm_thread_sec / (threads * prof_sec / prof_steps);
  std::printf("kpde bench pinn-step precision=%s threads=%d width=%d depth=%d interior=%d boundary=%d steps=%d\n",
              sizeof(T) == 8 ? "float64" : "float32", Runtime::n_threads(), spec.width, spec.depth, nc, nb, steps);
  std::printf("ms_per_step=%.3f\n", ms);
  std::printf("gemm_gflop_per_step=%.4f achieved_gflops=%.1f peak_rss_mb=%.1f n_params=%d\n", pinn.flops() / 1e9,
              gflops, peak_rss_mb(), pinn.net().n_params());
  std::printf("eigen_gemm_gflops_same_shapes=%.1f achieved_vs_gemm=%.0f%% time_outside_gemm=%.0f%%\n", gemm_rate,
              100.0 * gflops / gemm_rate, 100.0 * outside);
  std::printf("final_loss=%.4e rel_l2=%.4e\n", loss, pinn.rel_l2(params));
  return 0;
}

}  // namespace

int bench_pinn_step(int argc, char** argv, int first) {
  Args a(argc, argv, first, "bench pinn-step");
  const std::string prec = a.str("--precision", "float64");
  if (prec == "float64" || prec == "double") return run<double>(a);
  if (prec == "float32" || prec == "float") return run<float>(a);
  throw InputError("bench pinn-step: --precision must be float64 or float32, got '" + prec + "'");
}

}  // namespace kpde::cli
