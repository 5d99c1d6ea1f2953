#include "cli/solve_config.hpp"

#include <cmath>
#include <cstdio>

namespace kpde::cli {

/// The config of `kpde solve` / `kpde reference` (the same format) with the --set
/// overrides and --n.
pinn::SolveConfig load_config(config::Document& doc, const Args& a, bool needs_training) {
  for (const auto& s : a.all("--set")) doc.apply_override(s);
  pinn::SolveConfig cfg = pinn::load_solve_config(doc, needs_training);
  if (a.has("--n")) {
    // --n N (every axis) or --n NX,NY[,NZ] (one per axis)
    const std::vector<long> n = a.integer_list("--n", "", 2);
    const int dim = cfg.problem.dim;
    if (n.size() != 1 && n.size() != static_cast<std::size_t>(dim))
      throw InputError("--n expects one node count or " + std::to_string(dim) + " (one per axis), got '" +
                       a.str("--n", "") + "'");
    for (int k = 0; k < dim; ++k) {
      const long v = n[n.size() == 1 ? 0 : k];
      if (v > 100000) throw InputError("--n must be <= 100000, got " + std::to_string(v));
      cfg.output_n[k] = static_cast<int>(v);
    }
  }
  return cfg;
}

void print_summary(const char* what, const std::string& name, const data::ErrorMetrics& e) {
  if (e.n == 0) {
    std::printf("%s %s: no reference (no exact solution or reference in the config: errors not measured)", what,
                name.c_str());
  } else if (e.truth_vanishes) {
    std::printf("%s %s: the reference is 0 at every node (rel_l2 undefined): rms_err=%.3e mse=%.3e max_abs_err=%.3e",
                what, name.c_str(), std::sqrt(e.mse), e.mse, e.max_abs_err);
  } else {
    std::printf("%s %s: rel_l2=%.3e mse=%.3e max_abs_err=%.3e", what, name.c_str(), e.rel_l2, e.mse, e.max_abs_err);
  }
}

}  // namespace kpde::cli
