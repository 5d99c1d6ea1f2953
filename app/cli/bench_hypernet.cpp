// kpde bench hypernet: the hypernetwork's forward time on one spec, and how much its
// emitted tensors depend on the input: for each target tensor, the RMS over its entries
// of the standard deviation across N generated problems, over the RMS of the entries
// (0: the same weights for every problem). A model whose hidden tensors do not vary has
// learned one shared basis, and its refinement rounds add nothing.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "data/mms.hpp"
#include "hypernet/input.hpp"
#include "hypernet/model.hpp"
#include "hypernet/model_io.hpp"
#include "hypernet/spec.hpp"

namespace kpde::cli {

int bench_hypernet(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "bench hypernet");
  const std::string path = a.str("--model", hypernet::default_hypernet_model());
  const int n = static_cast<int>(a.integer("--samples", 16, 2));
  const auto seed = static_cast<std::uint64_t>(a.integer("--seed", 7, 0));
  const hypernet::TrainedHypernet hn = hypernet::read_hypernet_file(path);
  const hypernet::Model<float> model(hn.spec);
  const std::vector<float> params(hn.params.begin(), hn.params.end());
  data::MmsSettings mms;
  mms.band_half_width = hypernet::kBandHalfWidth;
  mms.physics_only_fraction = 0.3;
  mms.n_interior = mms.n_boundary = 0;
  const int m = model.input_size();
  std::vector<std::vector<double>> emitted;
  double best = 1e30;
  for (int k = 0; k < n; ++k) {
    const data::MmsSample s = data::generate_mms_sample(mms, seed, static_cast<std::uint64_t>(k));
    const hypernet::PreparedInput in = hypernet::prepare_input(hypernet::spec_from_sample(s, "sample"), hn.spec.input_pool);
    Arr4<float> grids("grids", 1, hypernet::kInputChannels, static_cast<std::size_t>(m), static_cast<std::size_t>(m));
    Mat<float> cond("cond", 1, hypernet::kCondInputs);
    hypernet::stack_inputs<float>({&in}, grids, cond);
    Mat<float> t("t", 1, hypernet::target_size());
    const auto t0 = std::chrono::steady_clock::now();
    model.forward(params.data(), grids, cond, t);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    emitted.emplace_back(t.data(), t.data() + t.size());
  }
  std::printf("bench hypernet: %s (%s, %zu parameters): forward %.1f ms per spec (best of %d); %.2f GFLOP\n",
              path.c_str(), hn.spec.describe().c_str(), hn.params.size(), 1e3 * best, n, model.forward_flops() * 1e-9);
  std::printf("input sensitivity over %d generated problems (std across problems / rms, per tensor):\n", n);
  for (const hypernet::TargetTensor& T : hypernet::target_tensors()) {
    double var = 0, ms = 0;
    for (std::size_t q = 0; q < T.size(); ++q) {
      double mean = 0;
      for (const auto& e : emitted) mean += e[T.offset + q] / n;
      for (const auto& e : emitted) {
        const double v = e[T.offset + q];
        var += (v - mean) * (v - mean) / n, ms += v * v / n;
      }
    }
    std::printf("  %-3s %.3e\n", T.name.c_str(), ms > 0 ? std::sqrt(var / ms) : 0.0);
  }
  return 0;
}

}  // namespace kpde::cli
