// kpde bench eval: throughput of model evaluation (the path of `kpde eval`): points per
// second for u alone and for u with its Laplacian, on a trained model (--model) or on
// a randomly initialised tanh MLP on [-1,1]^2.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/rng.hpp"
#include "io/model_file.hpp"
#include "nn/network.hpp"
#include "pinn/model.hpp"

namespace kpde::cli {

namespace {

/// A model file of a random (initialised, untrained) tanh MLP on [-1,1]^2.
io::ModelFile random_model(int width, int depth, bool float32) {
  io::ModelFile m;
  m.kind = "pinn";
  m.precision = float32 ? "float32" : "float64";
  m.architecture = "type: mlp\nwidth: " + std::to_string(width) + "\ndepth: " + std::to_string(depth) +
                   "\nactivation: tanh\nprecision: " + m.precision + "\n";
  m.problem = "{}";
  m.coordinates = {"x", "y"};
  m.input_offset = {0, 0}, m.input_scale = {1, 1}, m.domain_lo = {-1, -1}, m.domain_hi = {1, 1};
  nn::NetworkSpec spec;
  spec.width = width, spec.depth = depth;
  nn::Network<double> net(spec);
  Vec<double> p("params", net.n_params());
  net.init_params(p, 1);
  m.params.assign(p.data(), p.data() + p.extent(0));
  return m;
}

}  // namespace

int bench_eval(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "bench eval");
  const long n = a.integer("--points", 100000, 1);
  const int repeat = static_cast<int>(a.integer("--repeat", 5, 1));
  const std::string prec = a.str("--precision", "float64");
  if (prec != "float64" && prec != "float32")
    throw InputError("bench eval: --precision must be float64 or float32, got '" + prec + "'");
  const std::string path = a.str("--model", "");
  const pinn::TrainedPinn model =
      path.empty() ? pinn::TrainedPinn(random_model(static_cast<int>(a.integer("--width", 64, 1)),
                                                    static_cast<int>(a.integer("--depth", 4, 1)), prec == "float32"),
                                       "bench")
                   : pinn::TrainedPinn(path);
  const io::ModelFile& f = model.file();
  const int d = model.dim();
  Rng rng(7);
  Mat<double> x("kpde::cli::bench_points", n, d);
  for (long p = 0; p < n; ++p)
    for (int k = 0; k < d; ++k) x(p, k) = f.domain_lo[k] + (f.domain_hi[k] - f.domain_lo[k]) * rng.uniform();
  const auto rate = [&](const std::vector<pinn::Quantity>& q) {
    double best = 1e300;
    for (int r = 0; r < repeat + 1; ++r) {  // the first run warms up
      const auto t0 = std::chrono::steady_clock::now();
      const std::vector<double> v = model.evaluate(x, q);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (r > 0) best = std::min(best, s);
    }
    return n / best;
  };
  const double value = rate({pinn::parse_quantity("u", d, f.time_axis)});
  const double lap = rate({pinn::parse_quantity("u", d, f.time_axis), pinn::parse_quantity("lap", d, f.time_axis)});
  std::printf("kpde bench eval model=%s precision=%s params=%d points=%ld threads=%d\n",
              path.empty() ? "random tanh mlp" : path.c_str(), f.precision.c_str(), model.n_params(), n,
              static_cast<int>(Kokkos::DefaultHostExecutionSpace::concurrency()));
  std::printf("points_per_s_value=%.4g points_per_s_value_and_laplacian=%.4g\n", value, lap);
  return 0;
}

}  // namespace kpde::cli
