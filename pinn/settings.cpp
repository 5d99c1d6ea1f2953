#include "pinn/settings.hpp"

#include "core/strings.hpp"

namespace kpde::pinn {

std::string StageSettings::name() const {
  switch (kind) {
    case Kind::adam: return "adam";
    case Kind::lbfgs: return "lbfgs";
    case Kind::least_squares: return "least_squares";
  }
  return "?";
}

long TrainingSettings::total_steps() const {
  long n = 0;
  for (const auto& s : stages) n += s.steps;
  return n;
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
  try {
    net.activation = nn::parse_activation(m.get_string("activation", "tanh"));
  } catch (const InputError& e) {
    act.fail(e.what());
  }
  const std::string prec = m.get_choice("precision", "float64", {"float64", "float32"});
  s.precision = prec == "float64" ? Precision::float64 : Precision::float32;
  s.seed = static_cast<std::uint64_t>(m.get_long_min("seed", 1, 0));
  try {
    s.init = nn::parse_init(m.get_string("init", "xavier_normal"));
  } catch (const InputError& e) {
    m.at("init").fail(e.what());
  }
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
    s.init_from = m.get_string("init_from", "");
  } else if (auto f = m.find("features")) {
    const std::string ft = f->get_choice("type", {"none", "fourier_fixed", "fourier_random"});
    nn::FeatureSpec& fs = net.features;
    if (ft == "fourier_fixed") {
      fs.kind = nn::FeatureKind::fourier_fixed;
      fs.n_frequencies = static_cast<int>(f->get_long_min("n_frequencies", 5, 1));
      fs.base = f->get_double_above("base", 0.1, 0.0);
    } else if (ft == "fourier_random") {
      fs.kind = nn::FeatureKind::fourier_random;
      fs.n_random = static_cast<int>(f->get_long_min("n_random", 64, 1));
      fs.sigma = f->get_double_above("sigma", 1.0, 0.0);
      fs.seed = static_cast<std::uint64_t>(f->get_long_min("seed", 1234, 0));
    }
    if (ft != "none") fs.include_input = f->get_bool("include_input", true);
  }
  net.block_points = static_cast<int>(m.get_long_min("block_points", 64, 1));
  try {
    net.validate();
  } catch (const InputError& e) {
    m.fail(e.what());
  }
  return s;
}

namespace {

optim::Schedule load_schedule(const config::Node& st, double lr, long steps) {
  optim::Schedule sc;
  sc.lr = lr;
  if (auto n = st.find("schedule")) {
    const config::Node s = *n;
    const std::string kind = s.get_choice("type", {"constant", "exponential", "cosine"});
    if (kind == "exponential") {
      sc.kind = optim::ScheduleKind::exponential;
      sc.decay_rate = s.get_double("decay_rate", 0.9);
      sc.decay_steps = static_cast<int>(s.get_long_min("decay_steps", 1000, 1));
    } else if (kind == "cosine") {
      sc.kind = optim::ScheduleKind::cosine;
      sc.warmup_steps = static_cast<int>(s.get_long_min("warmup_steps", 0, 0));
      sc.total_steps = static_cast<int>(s.get_long_min("total_steps", steps, 1));
      sc.min_lr = s.get_double("min_lr", 0.0);
    }
    try {
      sc.validate();
    } catch (const InputError& e) {
      s.fail(e.what());
    }
  }
  return sc;
}

}  // namespace

TrainingSettings load_training(config::Node t, bool linear_operator) {
  TrainingSettings s;
  const config::Node in = t.section("interior");
  s.n_interior = in.get_long_min("n", 4096, 1);
  try {
    s.method = mesh::parse_interior_method(in.get_string("method", "sobol"));
  } catch (const InputError& e) {
    in.at("method").fail(e.what());
  }
  s.resample_every = in.get_long_min("resample_every", 0, 0);
  const config::Node bd = t.section("boundary");
  s.n_boundary = bd.get_long_min("n", 512, 1);

  const config::Node w = t.section("weights");
  s.w_residual = w.get_double_above("residual", 1.0, 0.0);
  s.w_dirichlet = w.get_double_above("dirichlet", 1.0, 0.0);
  s.w_neumann = w.get_double_above("neumann", 1.0, 0.0);
  s.balance = w.get_choice("balance", "none", {"none", "grad_norm"});
  s.balance_every = w.get_long_min("balance_every", 100, 1);
  s.balance_alpha = w.get_double("balance_alpha", 0.9);
  if (!(s.balance_alpha >= 0 && s.balance_alpha < 1)) w.at("balance_alpha").fail("must be in [0, 1)");
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
  s.checkpoint_every = t.get_long_min("checkpoint_every", 1000, 0);
  s.monitor_every = t.get_long_min("monitor_every", 0, 0);
  s.hard_dirichlet = t.get_bool("hard_dirichlet", false);
  s.seed = static_cast<std::uint64_t>(t.get_long_min("seed", 0, 0));

  const config::Node stages = t.at("stages");
  if (stages.size() == 0) stages.fail("at least one stage is needed");
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const config::Node st = stages[i];
    if (!st.is_map()) st.fail("expected a stage {type: adam|lbfgs|least_squares, ...}");
    StageSettings g;
    const std::string type = st.get_choice("type", {"adam", "lbfgs", "least_squares"});
    if (type == "adam") {
      g.kind = StageSettings::Kind::adam;
      g.steps = st.require_long("steps", 1);
      const double lr = st.get_double_above("lr", 1e-3, 0.0);
      g.adam.schedule = load_schedule(st, lr, g.steps);
      g.adam.clip_norm = st.get_double("clip_norm", 0.0);
      g.adam.weight_decay = st.get_double("weight_decay", 0.0);
      try {
        g.adam.validate();
      } catch (const InputError& e) {
        st.fail(e.what());
      }
    } else if (type == "lbfgs") {
      g.kind = StageSettings::Kind::lbfgs;
      g.steps = st.require_long("steps", 1);
      g.lbfgs.max_iterations = static_cast<int>(g.steps);
      g.lbfgs.history = static_cast<int>(st.get_long_min("history", 50, 1));
      g.lbfgs.grad_tol = st.get_double("grad_tol", 1e-12);
      g.lbfgs.f_rel_tol = st.get_double("f_rel_tol", 0.0);
      g.lbfgs.patience = static_cast<int>(st.get_long_min("patience", 50, 1));
      const std::string ol = st.get_choice("output_layer", "optimize", {"optimize", "least_squares"});
      g.varpro = ol == "least_squares";
      if (g.varpro && !linear_operator)
        st.at("output_layer").fail("output_layer: least_squares needs a linear operator; this problem's operator is a "
                                   "nonlinear residual");
      if (g.varpro) g.ridge = st.get_double("ridge", 1e-12);
      g.resample_every = st.get_long_min("resample_every", 0, 0);
      try {
        g.lbfgs.validate();
      } catch (const InputError& e) {
        st.fail(e.what());
      }
    } else {
      if (!linear_operator)
        st.at("type").fail("the least_squares stage needs a linear operator (the residual must be linear in "
                           "the output layer); this problem's operator is a nonlinear residual");
      g.kind = StageSettings::Kind::least_squares;
      g.steps = 1;
      g.ridge = st.get_double("ridge", 1e-12);
      if (!(g.ridge >= 0)) st.at("ridge").fail("must be >= 0");
    }
    if (st.has("modes_weight")) {
      g.modes_weight = st.get_double("modes_weight", 0.0);
      if (!(g.modes_weight >= 0)) st.at("modes_weight").fail("modes_weight: must be >= 0");
      if (g.modes_weight > 0 && s.residual_modes == 0)
        st.at("modes_weight").fail("modes_weight: needs training.weights.modes (cosine modes per axis, 1..16)");
    }
    s.stages.push_back(g);
  }
  return s;
}

}  // namespace kpde::pinn
