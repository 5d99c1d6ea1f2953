#include "data/network_config.hpp"

#include <cstdint>
#include <string>

namespace kpde::data {

nn::FeatureSpec load_fourier_features(const config::Node& f) {
  nn::FeatureSpec fs;
  const std::string ft = f.get_choice("type", {"none", "fourier_fixed", "fourier_random"});
  if (ft == "fourier_fixed") {
    fs.kind = nn::FeatureKind::fourier_fixed;
    fs.n_frequencies = static_cast<int>(f.get_long_min("n_frequencies", 5, 1));
    fs.base = f.get_double_above("base", 0.1, 0.0);
    if (auto ax = f.find("axes")) {
      fs.axes = {false, false, false};
      for (const std::string& a : ax->as_strings()) {
        if (a != "x" && a != "y" && a != "z") ax->fail("axes: expected names among x, y, z, got '" + a + "'");
        fs.axes[a[0] - 'x'] = true;
      }
    }
  } else if (ft == "fourier_random") {
    fs.kind = nn::FeatureKind::fourier_random;
    fs.n_random = static_cast<int>(f.get_long_min("n_random", 64, 1));
    fs.sigma = f.get_double_above("sigma", 1.0, 0.0);
    fs.seed = static_cast<std::uint64_t>(f.get_long_min("seed", 1234, 0));
  }
  if (ft != "none") fs.include_input = f.get_bool("include_input", true);
  return fs;
}

}  // namespace kpde::data
