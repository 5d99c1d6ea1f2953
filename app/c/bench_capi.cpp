// bench_capi CONFIG [N_EVAL] [REPEATS]: the cost of calling kpde through the C API against
// the same work done straight from C++ (issue 15: at most 5% more), side by side in one
// process, on the config's network (docs/coupling.md, "Cost of the C API"):
//   eval      N_EVAL points (default 100,000): u, u_x, u_y, lap u (collapsed channel), and
//             u .. u_yy (Hessian channels); C++: nn::Network::forward into its own [n][C]
//             array (the C API also copies the columns out)
//   supervised one Adam step on (1/n) sum (u - t)^2 over 4096 points; C++: a fused
//             forward_backward with the same loss, then optim::Adam::step
//   physics   one Adam step on the PINN loss, 4096 interior + 512 boundary points; C++:
//             pinn::PinnObjective::evaluate on points set once, weights, Adam::step
// Each case runs REPEATS times (default 15), C API and C++ alternating; min and median.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "kpde.h"
#include "mesh/sampling.hpp"
#include "nn/network.hpp"
#include "optim/adam.hpp"
#include "pinn/objective.hpp"
#include "pinn/solve.hpp"
#include "train/adam_stage.hpp"

namespace {

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Stats {
  double min, median;
};
Stats stats(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

void report(const char* what, int repeats, const std::function<void()>& c_api, const std::function<void()>& cxx) {
  std::vector<double> tc, tx;
  c_api(), cxx();  // warm-up: buffers, first-touch
  for (int r = 0; r < repeats; ++r) {
    tc.push_back(seconds(c_api));
    tx.push_back(seconds(cxx));
  }
  const Stats c = stats(tc), x = stats(tx);
  std::printf("%-34s C API min %9.3f ms  median %9.3f ms | C++ min %9.3f ms  median %9.3f ms | ratio min %.3f  median %.3f\n",
              what, 1e3 * c.min, 1e3 * c.median, 1e3 * x.min, 1e3 * x.median, c.min / x.min, c.median / x.median);
}

void check(int status, const char* call) {
  if (status != KPDE_OK) {
    std::fprintf(stderr, "bench_capi: %s: %s\n", call, kpde_last_error());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kpde;
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_capi CONFIG [N_EVAL] [REPEATS]\n");
    return 2;
  }
  const long n_eval = argc > 2 ? std::atol(argv[2]) : 100000;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 15;
  check(kpde_init(0), "kpde_init");
  {
    kpde_model m = nullptr;
    check(kpde_model_from_config(argv[1], MPI_COMM_SELF, &m), "kpde_model_from_config");
    config::Document doc = config::Document::load_file(argv[1]);
    const pinn::SolveConfig cfg = pinn::load_solve_config(doc, false);
    const nn::Network<double> net(cfg.model.network);
    const std::size_t np = net.n_params();
    Vec<double> params("params", np);
    check(kpde_model_get_params(m, np, params.data()), "kpde_model_get_params");
    std::printf("bench_capi: %s, %zu parameters, %d threads (%s)\n", argv[1], np,
                static_cast<int>(Kokkos::DefaultHostExecutionSpace::concurrency()), Kokkos::DefaultHostExecutionSpace::name());

    // ---- eval -------------------------------------------------------------------------
    Mat<double> x("x", n_eval, 2);
    for (long p = 0; p < n_eval; ++p)
      x(p, 0) = -1 + 2 * std::fmod(0.5 + p * 0.6180339887498949, 1.0), x(p, 1) = -1 + 2 * std::fmod(0.5 + p * 0.7548776662466927, 1.0);
    const auto eval_case = [&](const char* what, unsigned mask, const nn::ChannelSpec& ch) {
      int q = 0;
      check(kpde_quantity_count(mask, &q), "kpde_quantity_count");
      std::vector<double> out(static_cast<std::size_t>(n_eval) * q);
      Arr3<double> y("y", n_eval, ch.n_channels(), 1);
      report(what, repeats, [&] { check(kpde_model_eval(m, n_eval, x.data(), mask, out.data()), "kpde_model_eval"); },
             [&] { net.forward(nn::as_batch(Vec<const double>(params)), nn::as_batch(Mat<const double>(x)), ch, nn::as_batch(y)); });
    };
    const std::string n_text = std::to_string(n_eval);
    eval_case(("eval " + n_text + " u,u_x,u_y,lap").c_str(), KPDE_U | KPDE_U_X | KPDE_U_Y | KPDE_LAP,
              nn::ChannelSpec::laplacian(2));
    eval_case(("eval " + n_text + " u..u_yy (Hessian)").c_str(),
              KPDE_U | KPDE_U_X | KPDE_U_Y | KPDE_U_XX | KPDE_U_XY | KPDE_U_YY, nn::ChannelSpec::hessian(2));

    // ---- supervised step ---------------------------------------------------------------
    const int nt = 4096;
    Mat<double> xt("xt", nt, 2);
    std::vector<double> t(nt);
    for (int p = 0; p < nt; ++p) {
      xt(p, 0) = x(p, 0), xt(p, 1) = x(p, 1);
      t[p] = std::sin(3.0 * xt(p, 0)) * xt(p, 1);
    }
    optim::AdamOptions ao;
    for (const auto& st : cfg.training.stages)
      if (const auto* a = dynamic_cast<const train::AdamStageConfig*>(st.get())) {
        ao = a->adam;
        break;
      }
    optim::Adam<double> adam(np, ao);
    Vec<double> grad("grad", np);
    nn::Workspace<double> ws;
    const nn::BlockLoss<double> mse = [&](int, int p0, int npb, const double* y, double* dy) {
      double s = 0;
      for (int p = 0; p < npb; ++p) {
        const double e = y[p] - t[p0 + p];
        s += e * e;
        dy[p] = 2.0 * e / nt;
      }
      return s / nt;
    };
    report("supervised step, 4096 points", repeats,
           [&] { check(kpde_model_train_supervised(m, nt, xt.data(), t.data(), nullptr, nullptr), "train_supervised"); },
           [&] {
             net.forward_backward(nn::as_batch(Vec<const double>(params)), nn::as_batch(Mat<const double>(xt)),
                                  nn::ChannelSpec::value(2), mse, ws, nn::as_batch(grad));
             adam.step(params, grad);
           });

    // ---- physics step --------------------------------------------------------------------
    const int ni = 4096, nb = 512;
    const mesh::BoundarySamples b = mesh::sample_boundary(*cfg.problem.geometry, nb, 7, cfg.problem.constrained_parts());
    pinn::PinnObjective<double> objective(cfg.problem, net, cfg.pinn);
    objective.set_interior(Mat<const double>(xt));
    objective.set_boundary(b);
    std::vector<double> terms(3), w = cfg.training.weights.size() == 3 ? cfg.training.weights : std::vector<double>{1, 1, 1};
    std::vector<Vec<double>> tg;
    for (int k = 0; k < 3; ++k) tg.emplace_back("tg", np);
    report("physics step, 4096 + 512 points", repeats,
           [&] { check(kpde_model_train_physics(m, ni, xt.data(), nb, b.x.data(), nullptr), "train_physics"); },
           [&] {
             objective.evaluate(params, terms, tg);
             Kokkos::parallel_for(Kokkos::RangePolicy<HostExec>(0, np), [&](const std::size_t i) {
               grad(i) = w[0] * tg[0](i) + w[1] * tg[1](i) + w[2] * tg[2](i);
             });
             adam.step(params, grad);
           });
    check(kpde_model_free(&m), "kpde_model_free");
  }
  check(kpde_finalize(), "kpde_finalize");
  return 0;
}
