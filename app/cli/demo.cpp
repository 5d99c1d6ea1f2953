// kpde demo: trains the Poisson PINN of poisson_pinn.hpp (Adam, then L-BFGS in double)
// with its own short loop (no config, no outputs) and prints the relative L2 error
// against the exact solution on a 101 x 101 grid.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/poisson_pinn.hpp"
#include "runtime/runtime.hpp"
#include "optim/adam.hpp"
#include "optim/lbfgs.hpp"

namespace kpde::cli {

namespace {

template <class T>
int run_demo(const Args& a) {
  using Clock = std::chrono::steady_clock;
  nn::NetworkSpec spec;
  spec.width = static_cast<int>(a.integer("--width", 32, 1));
  spec.depth = static_cast<int>(a.integer("--depth", 3, 1));
  const int nc = static_cast<int>(a.integer("--interior", 2048, 1));
  const int nb = static_cast<int>(a.integer("--boundary", 256, 1));
  const int adam_steps = static_cast<int>(a.integer("--steps", 2000, 0));
  const int lbfgs_steps = static_cast<int>(a.integer("--lbfgs", 3000, 0));
  const auto seed = static_cast<std::uint64_t>(a.integer("--seed", 0, 0));
  PoissonPinn<T> pinn(spec, nc, nb, seed);
  const int n = pinn.net().n_params();
  Vec<T> params("params", n), grad("grad", n);
  pinn.net().init_params(params, seed, nn::Init::xavier_normal);
  std::fprintf(stderr, "kpde demo: -lap u = 2 pi^2 sin(pi x) sin(pi y) on [-1,1]^2, u = 0 on the boundary\n");
  std::fprintf(stderr, "  tanh MLP %d x %d (%d parameters), %d interior + %d boundary points, %s\n", spec.depth,
               spec.width, n, nc, nb, sizeof(T) == 8 ? "float64" : "float32");
  const auto t0 = Clock::now();
  optim::AdamOptions opt;
  opt.schedule.kind = optim::ScheduleKind::exponential;
  opt.schedule.lr = 3e-3;
  opt.schedule.decay_rate = 0.5;
  opt.schedule.decay_steps = std::max(1, adam_steps / 3);
  optim::Adam<T> adam(n, opt);
  double loss = 0;
  for (int k = 0; k < adam_steps; ++k) {
    loss = pinn.loss_and_grad(params, grad);
    if (!std::isfinite(loss)) throw Error("demo: the loss became non-finite during Adam");
    adam.step(params, grad);
    if ((k + 1) % 500 == 0)
      std::fprintf(stderr, "  adam  %5d  loss %.3e  rel_l2 %.3e\n", k + 1, loss, pinn.rel_l2(params));
  }
  if (lbfgs_steps > 0) {
    Vec<double> x("x", n);
    for (int i = 0; i < n; ++i) x(i) = double(params(i));
    auto objective = [&](const Vec<const double>& xx, const Vec<double>& g) {
      for (int i = 0; i < n; ++i) params(i) = T(xx(i));
      const double l = pinn.loss_and_grad(params, grad);
      for (int i = 0; i < n; ++i) g(i) = double(grad(i));
      return l;
    };
    optim::LbfgsOptions lo;
    lo.max_iterations = lbfgs_steps;
    lo.grad_tol = 0;
    auto res = optim::lbfgs_minimize(objective, x, lo, [&](int it, double f, double) {
      if (it % 250 == 0) std::fprintf(stderr, "  lbfgs %5d  loss %.3e\n", it, f);
      return true;
    });
    for (int i = 0; i < n; ++i) params(i) = T(x(i));
    loss = res.f;
    std::fprintf(stderr, "  lbfgs stopped: %s\n", res.message.c_str());
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double err = pinn.rel_l2(params);
  std::printf("demo poisson_sin: rel_l2=%.3e final_loss=%.3e wall_s=%.1f threads=%d\n", err, loss, wall,
              Runtime::n_threads());
  return 0;
}

}  // namespace

int demo(int argc, char** argv, int first) {
  Args a(argc, argv, first, "demo");
  const std::string prec = a.str("--precision", "float64");
  if (prec == "float64" || prec == "double") return run_demo<double>(a);
  if (prec == "float32" || prec == "float") return run_demo<float>(a);
  throw InputError("demo: --precision must be float64 or float32, got '" + prec + "'");
}

}  // namespace kpde::cli
