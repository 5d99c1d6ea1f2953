// kpde bench gaussians: time per training step of a Gaussian-feature PINN (PIG) against
// the number of Gaussians N at a fixed number of points. One step = the fused
// forward_backward of the Helmholtz residual u + lap u - f on --points Sobol points of
// [-1,1]^2 (value, gradient and Laplacian channels) plus one Adam update. Sigma starts at
// the mean spacing 2 / sqrt(N) (or --sigma), so the Gaussians within the cutoff of a
// point stay about constant as N grows; the printed pairs_per_point (mean number of
// Gaussians within the cutoff of a point) and candidates_per_point (the length of
// the cell lists a point scans) show it.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "runtime/runtime.hpp"
#include "mesh/sobol.hpp"
#include "nn/gaussian_features.hpp"
#include "nn/network.hpp"
#include "optim/adam.hpp"

namespace kpde::cli {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

int bench_gaussians(int argc, char** argv, int first) {
  Args a(argc, argv, first, "bench gaussians");
  const auto ns = a.integer_list("--n", "800,1600,3200,6400,12800,16000", 1);
  const int np = static_cast<int>(a.integer("--points", 4096, 1));
  const int steps = static_cast<int>(a.integer("--steps", 20, 1));
  const int warmup = static_cast<int>(a.integer("--warmup", 3, 0));
  const int k = static_cast<int>(a.integer("--channels", 4, 1));
  const int width = static_cast<int>(a.integer("--width", 16, 1));
  const double cutoff = a.real("--cutoff", 4.0);
  const double sigma = a.real("--sigma", 0.0);
  const bool taper = a.has("--taper");

  // Sobol points of [-1,1]^2 and the source of u = sin(pi x) sin(4 pi y).
  Mat<double> x("kpde::bench::x", np, 2);
  std::vector<double> f(np);
  {
    mesh::SobolSequence sob(2);
    std::vector<double> u(2);
    const double pi = 3.14159265358979323846;
    for (int p = 0; p < np; ++p) {
      sob.next(u.data());
      x(p, 0) = 2 * u[0] - 1, x(p, 1) = 2 * u[1] - 1;
      f[p] = (1 - 17 * pi * pi) * std::sin(pi * x(p, 0)) * std::sin(4 * pi * x(p, 1));
    }
  }
  const nn::ChannelSpec ch = nn::ChannelSpec::laplacian(2);
  std::printf("kpde bench gaussians threads=%d points=%d channels=%d width=%d cutoff=%g%s sigma=%s steps=%d\n",
              Runtime::n_threads(), np, k, width, cutoff, taper ? " (taper)" : "",
              sigma > 0 ? std::to_string(sigma).c_str() : "2/sqrt(N)", steps);
  std::printf("%8s %12s %14s %10s %16s %20s\n", "N", "ms_per_step", "x_vs_first", "N_ratio", "pairs_per_point",
              "candidates_per_point");
  double first_ms = 0;
  long first_n = 0;
  for (long N : ns) {
    nn::NetworkSpec spec;
    spec.input_dim = 2;
    spec.width = width;
    spec.depth = 1;
    spec.features.kind = nn::FeatureKind::gaussian;
    spec.features.n_gaussians = static_cast<int>(N);
    spec.features.gauss_channels = k;
    spec.features.cutoff = cutoff;
    spec.features.taper = taper;
    spec.features.sigma_init = sigma;
    nn::Network<double> net(spec);
    Vec<double> params("params", net.n_params()), grad("grad", net.n_params());
    net.init_params(params, 1);
    optim::AdamOptions opt;
    opt.schedule.lr = 1e-3;
    optim::Adam<double> adam(params.extent(0), opt);
    nn::Workspace<double> ws;
    const nn::BlockLoss<double> loss = [&](int, int p0, int n, const double* y, double* dy) {
      // r = u + lap u - f; channels value, u_x, u_y, lap
      double l = 0;
      for (int p = 0; p < n; ++p) {
        const double r = y[p] + y[3 * n + p] - f[p0 + p];
        l += r * r / np;
        dy[p] = dy[3 * n + p] = 2 * r / np;
        dy[n + p] = dy[2 * n + p] = 0;
      }
      return l;
    };
    auto step = [&] {
      net.forward_backward(nn::as_batch(Vec<const double>(params)), nn::as_batch(Mat<const double>(x)), ch, loss, ws,
                           nn::as_batch(grad));
      adam.step(params, Vec<const double>(grad));
    };
    for (int i = 0; i < warmup; ++i) step();
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) step();
    const double ms = 1e3 * std::chrono::duration<double>(Clock::now() - t0).count() / steps;
    // pairs within the cutoff and cell-list lengths, from the index of the final parameters
    const auto ctx = net.gauss_contexts(nn::as_batch(Vec<const double>(params)), nn::as_batch(Mat<const double>(x)), ch);
    double cand = 0;
    for (int p = 0; p < np; ++p) {
      const int c = ctx[0].grid.cell(&x(p, 0));
      cand += ctx[0].grid.g_start[c + 1] - ctx[0].grid.g_start[c];
    }
    long pairs = 0;
    const double c2 = cutoff * cutoff;
    for (int p = 0; p < np; ++p) {
      const int c = ctx[0].grid.cell(&x(p, 0));
      for (int it = ctx[0].grid.g_start[c]; it < ctx[0].grid.g_start[c + 1]; ++it) {
        const auto& R = ctx[0].prep[ctx[0].grid.g_items[it]];
        double q = 0;
        for (int aa = 0; aa < 2; ++aa) {
          double z = 0;
          for (int b = aa; b < 2; ++b) z += R.U[aa][b] * (x(p, b) - R.mu[b]);
          q += z * z;
        }
        if (q <= c2) ++pairs;
      }
    }
    if (first_n == 0) first_ms = ms, first_n = N;
    std::printf("%8ld %12.3f %14.2f %10.2f %16.1f %20.1f\n", N, ms, ms / first_ms, double(N) / first_n,
                double(pairs) / np, cand / np);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace kpde::cli
