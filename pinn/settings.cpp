#include "pinn/settings.hpp"

#include "core/strings.hpp"
#include "data/network_config.hpp"

namespace kpde::pinn {

double PinnSettings::modes_weight_of_stage(int i) const {
  const double w = i >= 0 && i < static_cast<int>(stage_modes_weight.size()) ? stage_modes_weight[i] : -1.0;
  return w >= 0 ? w : modes_weight;
}

ModelSettings load_model(config::Node m, int input_dim) {
  ModelSettings s;
  const std::string type = m.get_choice("type", "mlp", {"mlp", "modified_mlp", "gaussian_features"});
  const bool gauss = type == "gaussian_features";
  nn::NetworkSpec& net = s.network;
  net.arch = type == "modified_mlp" ? nn::Arch::modified_mlp : nn::Arch::mlp;
  net.input_dim = input_dim;
  net.output_dim = 1;
  net.width = static_cast<int>(m.get_long_min("width", gauss ? 16 : 64, 1));
  net.depth = static_cast<int>(m.get_long_min("depth", gauss ? 1 : 4, 1));
  const config::Node act = m.has("activation") ? m.at("activation") : m;
  net.activation = act.check([&] { return nn::parse_activation(m.get_string("activation", "tanh")); });
  const std::string prec = m.get_choice("precision", "float64", {"float64", "float32"});
  s.precision = prec == "float64" ? Precision::float64 : Precision::float32;
  s.seed = static_cast<std::uint64_t>(m.get_long_min("seed", 1, 0));
  const std::string init = m.get_string("init", "xavier_normal");
  s.init = m.at("init").check([&] { return nn::parse_init(init); });
  if (gauss) {
    if (m.has("features")) m.at("features").fail("features: gaussian_features has its own features (gaussians:)");
    nn::FeatureSpec& fs = net.features;
    fs.kind = nn::FeatureKind::gaussian;
    const config::Node g = m.section("gaussians");
    fs.gauss_include_input = g.get_bool("include_input", false);
    fs.n_gaussians = static_cast<int>(g.get_long_min("n", 1000, 1, 10000000));
    fs.gauss_channels = static_cast<int>(g.get_long_min("channels", 4, 1, 64));
    fs.sigma_init = g.get_double("sigma_init", 0.0);
    if (!(fs.sigma_init >= 0)) g.at("sigma_init").fail("sigma_init: must be >= 0 (0: the mean spacing of the means)");
    fs.weight_scale = g.get_double("weight_scale", 0.1);
    if (!(fs.weight_scale >= 0)) g.at("weight_scale").fail("weight_scale: must be >= 0");
    fs.cutoff = g.get_double_above("cutoff", 4.0, 0.0);
    fs.taper = g.get_bool("taper", false);
    fs.full_covariance = g.get_choice("covariance", "diagonal", {"diagonal", "full"}) == "full";
  } else if (auto f = m.find("features")) {
    net.features = data::load_fourier_features(*f);
  }
  if (m.has("init_from")) s.init_from = m.get_string("init_from");
  net.block_points = static_cast<int>(m.get_long_min("block_points", 64, 1));
  m.check([&] { net.validate(); });
  return s;
}

PinnSettings load_pinn_settings(config::Node t) {
  PinnSettings s;
  const config::Node in = t.section("interior");
  s.n_interior = in.get_long_min("n", 4096, 1);
  const std::string method = in.get_string("method", "sobol");
  s.method = in.at("method").check([&] { return mesh::parse_interior_method(method); });
  s.resample_every = in.get_long_min("resample_every", 0, 0);
  const config::Node bd = t.section("boundary");
  s.n_boundary = bd.get_long_min("n", 512, 1);

  const config::Node w = t.section("weights");
  s.residual_modes = static_cast<int>(w.get_long_min("modes", 0, 0, 16));
  s.modes_weight = w.get_double("modes_weight", s.residual_modes > 0 ? 1e4 : 0.0);
  if (!(s.modes_weight >= 0)) w.at("modes_weight").fail("modes_weight: must be >= 0");
  if (s.modes_weight > 0 && s.residual_modes == 0)
    w.at("modes_weight").fail("modes_weight: needs modes: n (cosine modes per axis, 1..16)");

  if (auto a = t.find("adaptive")) {
    s.adaptive_every = a->require_long("every", 1);
    s.adaptive_candidates = a->get_long_min("candidates", 0, 0);
    s.adaptive_fraction = a->get_double("fraction", 0.5);
    if (!(s.adaptive_fraction > 0 && s.adaptive_fraction <= 1)) a->at("fraction").fail("must be in (0, 1]");
  }
  s.hard_dirichlet = t.get_bool("hard_dirichlet", false);
  if (auto rw = t.find("residual_weight"))
    s.residual_weight = std::make_shared<const pde::Expression>(
        pde::Expression::parse(rw->as_string(), {"x", "y", "z"}, {}, rw->where() + ": residual_weight"));
  s.seed = static_cast<std::uint64_t>(t.get_long_min("seed", 0, 0));

  // the stages' own modes_weight (the rest of each stage is the trainer's)
  const config::Node stages = t.at("stages");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const config::Node st = stages[i];
    double mw = -1;
    if (st.is_map() && st.has("modes_weight")) {
      mw = st.get_double("modes_weight", 0.0);
      if (!(mw >= 0)) st.at("modes_weight").fail("modes_weight: must be >= 0");
      if (mw > 0 && s.residual_modes == 0)
        st.at("modes_weight").fail("modes_weight: needs training.weights.modes (cosine modes per axis, 1..16)");
    }
    s.stage_modes_weight.push_back(mw);
  }
  return s;
}

}  // namespace kpde::pinn
