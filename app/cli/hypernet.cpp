// `kpde hypernet CONFIG [--model FILE] [--refine K] [--spec FILE.h5:GROUP] [--out DIR]
// [--n N] [--set ...]`: the PINN a trained hypernetwork emits for the config's problem
// (hypernet/emit.hpp), no training, with the outputs of `kpde solve`.
#include <cmath>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/solve_config.hpp"
#include "data/report.hpp"
#include "data/solution_output.hpp"
#include "hypernet/emit.hpp"
#include "hypernet/spec.hpp"
#include "io/model_file.hpp"
#include "pinn/model.hpp"

namespace kpde::cli {

int hypernet(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "hypernet");
  if (a.positional().empty())
    throw InputError("hypernet: give a config file: kpde hypernet CONFIG [--model FILE] [--refine K] [--out DIR]");
  config::Document doc = config::Document::load_file(a.positional()[0]);
  const pinn::SolveConfig cfg = load_config(doc, a, false);
  const data::Problem& p = cfg.problem;
  hypernet::EmitOptions eo;
  eo.refine = static_cast<int>(a.integer("--refine", 0, 0));
  eo.least_squares = !a.has("--no-least-squares");
  if (eo.refine > 64) throw InputError("hypernet: --refine must be in 0..64, got " + std::to_string(eo.refine));
  hypernet::Spec spec;
  const std::string spec_arg = a.str("--spec", "");
  if (!spec_arg.empty()) {
    const std::size_t colon = spec_arg.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec_arg.size())
      throw InputError("hypernet: --spec expects FILE.h5:GROUP (a benchmark file's group), got '" + spec_arg + "'");
    spec = hypernet::spec_from_benchmark(spec_arg.substr(0, colon), spec_arg.substr(colon + 1));
  } else {
    spec = hypernet::spec_from_problem(p);
  }
  spec.validate();
  // the input is good; now the model
  const std::string model_path = a.str("--model", hypernet::default_hypernet_model());
  const hypernet::TrainedHypernet hn = hypernet::read_hypernet_file(model_path);
  const std::string out = a.str("--out", cfg.output_dir + "_hypernet");
  const bool quiet = a.has("--quiet");
  const hypernet::Emitted em = hypernet::emit(hn, spec, eo);

  // the emitted PINN (the sum of the rounds' PINNs as one network) as a model file
  const hypernet::BoxMap map = hypernet::box_map(p);
  io::ModelFile mf = em.model_file(map, p.time_axis,
                                    "kpde hypernetwork PINN for '" + p.name + "' (" + std::to_string(eo.refine) +
                                        " refinement rounds) from " + model_path);
  mf.problem = cfg.problem_text;
  mf.source_directory = cfg.source_directory;
  const pinn::TrainedPinn pinn(mf, out + "/model.h5");
  std::vector<pinn::Quantity> q;
  for (const char* name : {"u", "u_x", "u_y", "u_xx", "u_yy"}) q.push_back(pinn::parse_quantity(name, 2, p.time_axis));
  const data::PointEval eval = [&](const Mat<const double>& x, std::vector<double>* u, std::vector<double>* r) {
    const std::size_t n = x.extent(0);
    const std::vector<double> v = pinn.evaluate(x, q);
    if (u) {
      u->resize(n);
      for (std::size_t k = 0; k < n; ++k) (*u)[k] = v[5 * k];
    }
    if (r) {
      std::vector<double> f(n);
      p.source.values(x, f.data());
      r->assign(n, 0.0);
      for (const data::LinearTerm& t : p.linear_terms()) {
        const std::string d = t.derivative.name();
        const int c = d == "u" ? 0 : d == "u_x" ? 1 : d == "u_y" ? 2 : d == "u_xx" ? 3 : 4;
        const double coef = t.coefficient.constant_value();
        for (std::size_t k = 0; k < n; ++k) (*r)[k] += coef * v[5 * k + static_cast<std::size_t>(c)];
      }
      for (std::size_t k = 0; k < n; ++k) (*r)[k] -= f[k];
    }
  };
  data::Report rep = data::build_report(p, cfg.output_n, eval, true, nullptr);
  io::JsonValue& m = rep.metrics;
  m.set("method", "hypernet");
  m.set("hypernet_model", model_path);
  m.set("refine", eo.refine);
  m.set("output_layer", eo.least_squares ? "least squares" : "the heads'");
  m.set("spec", spec_arg.empty() ? std::string("rasterised from the config's problem") : spec_arg);
  m.set("forward_s", em.model_seconds);
  m.set("emit_s", em.total_seconds);
  m.set("n_params", static_cast<double>(mf.params.size()));
  std::vector<double> step, mf_, md, mn, mr;
  for (std::size_t k = 0; k < em.rounds.size(); ++k) {
    step.push_back(static_cast<double>(k));
    mf_.push_back(em.rounds[k].mse_f), md.push_back(em.rounds[k].mse_d), mn.push_back(em.rounds[k].mse_n);
    mr.push_back(em.rounds[k].mse_reference);
  }
  m.set("rounds_residual_mse", mf_);
  m.set("rounds_dirichlet_mse", md);
  m.set("rounds_neumann_mse", mn);
  if (!spec.reference.empty()) m.set("rounds_spec_reference_mse", mr);
  std::vector<std::pair<std::string, std::vector<double>>> history{
      {"step", step}, {"residual_mse", mf_}, {"dirichlet_mse", md}, {"neumann_mse", mn}};
  data::make_output_directory(out);
  io::write_model_file(out + "/model.h5", mf);
  data::write_solution_outputs(out, rep.fields, history, m, cfg.resolved,
                               "kpde hypernet: the hypernetwork's PINN for '" + p.name + "'");
  (void)quiet;
  print_summary("hypernet", p.name, rep.summary);
  const io::JsonValue* paper = m.find("reference_mse_all_pixels");
  if (paper) std::printf(" paper_mse=%.3e", paper->number());
  std::printf(" forward_s=%.3f emit_s=%.3f refine=%d out=%s\n", em.model_seconds, em.total_seconds, eo.refine, out.c_str());
  return 0;
}

}  // namespace kpde::cli
