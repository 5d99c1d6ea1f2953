#pragma once
/// The config of `kpde solve`, `kpde reference` and `kpde hypernet` (one format,
/// docs/config.md) read with the command line's --set overrides and --n.
#include "cli/args.hpp"
#include "config/config.hpp"
#include "data/solution_output.hpp"
#include "pinn/solve.hpp"

namespace kpde::cli {

/// pinn::load_solve_config(doc, needs_training) after the --set overrides, then --n
/// N|NX,NY[,NZ].
pinn::SolveConfig load_config(config::Document& doc, const Args& a, bool needs_training = true);

/// "WHAT NAME: rel_l2=.. mse=.. max_abs_err=.." (or why there are no errors), no newline.
void print_summary(const char* what, const std::string& name, const data::ErrorMetrics& e);

}  // namespace kpde::cli
