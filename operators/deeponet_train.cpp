#include "operators/deeponet_train.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.hpp"
#include "data/generate.hpp"
#include "data/network_config.hpp"
#include "data/solution_output.hpp"
#include "io/atomic_file.hpp"
#include "io/json.hpp"
#include "io/model_file.hpp"
#include "io/plot.hpp"
#include "operators/deeponet_model.hpp"
#include "operators/operator_report.hpp"
#include "train/trainer.hpp"

namespace kpde::operators {

namespace {

/// 2-D outputs on a tensor grid of points (darcy: (x, y); fisher: (x, t)): heat maps of
/// the target, the prediction (G times the mask for MT-DeepONet) and their difference for
/// the test samples of the median and the largest error, test_{median,worst}_{target,
/// prediction,error}.png in `dir`. Points that do not form a grid: nothing.
template <class T>
void write_prediction_maps(const std::string& dir, const DeepOnet<T>& net, const T* params, const OperatorData& test,
                           const std::vector<double>& err) {
  const std::size_t P = test.y.extent(0);
  std::vector<double> xs, ys;
  for (std::size_t j = 0; j < P; ++j) xs.push_back(test.y(j, 0)), ys.push_back(test.y(j, 1));
  for (auto* v : {&xs, &ys}) std::sort(v->begin(), v->end()), v->erase(std::unique(v->begin(), v->end()), v->end());
  const std::size_t nx = xs.size(), ny = ys.size();
  if (nx < 2 || ny < 2 || nx * ny != P) return;
  std::vector<std::size_t> cell(P);  // point j -> heat map index iy nx + ix (row 0 at the smallest y)
  for (std::size_t j = 0; j < P; ++j)
    cell[j] = static_cast<std::size_t>(std::lower_bound(ys.begin(), ys.end(), test.y(j, 1)) - ys.begin()) * nx +
              static_cast<std::size_t>(std::lower_bound(xs.begin(), xs.end(), test.y(j, 0)) - xs.begin());
  const std::vector<long> order = order_by_error(err);
  const long picks[2] = {order[order.size() / 2], order.back()};
  const char* names[2] = {"median", "worst"};
  const bool masked = test.mask.extent(0) > 0;
  const std::size_t m = test.u.extent(1), n_out = static_cast<std::size_t>(net.spec().outputs);
  Mat<T> u("kpde::deeponet::map_u", 2, m), y("kpde::deeponet::map_y", P, 2);
  for (int r = 0; r < 2; ++r)
    for (std::size_t k = 0; k < m; ++k) u(r, k) = T(test.u(static_cast<std::size_t>(picks[r]), k));
  for (std::size_t j = 0; j < P; ++j) y(j, 0) = T(test.y(j, 0)), y(j, 1) = T(test.y(j, 1));
  Arr3<T> G("kpde::deeponet::map_G", 2, P, n_out);
  net.forward(params, Mat<const T>(u), Mat<const T>(y), G);
  for (int r = 0; r < 2; ++r) {
    const std::size_t b = static_cast<std::size_t>(picks[r]);
    std::vector<double> target(P), pred(P);
    std::vector<std::uint8_t> mk(masked ? P : 0);
    for (std::size_t j = 0; j < P; ++j) {
      const double mj = masked ? test.mask(b, j) : 1.0;
      target[cell[j]] = test.s(b, j * n_out);
      pred[cell[j]] = double(G(r, j, 0)) * mj;
      if (masked) mk[cell[j]] = mj > 0.5 ? 1 : 0;
    }
    io::HeatMapOptions o;
    o.x_range = {xs.front(), xs.back()};
    o.y_range = {ys.front(), ys.back()};
    o.y_label = test.kind == "fisher" ? "t" : "y";
    o.mask = mk;
    write_sample_maps(dir, names[r], b, err[b], target, pred, nx, ny, o);
  }
}

/// test_predictions.png (1-D outputs): the test samples of the smallest, the median, the
/// 95th-percentile and the largest relative error, prediction (line) beside the target
/// (dots) in one colour each, their errors in the legend.
template <class T>
void write_prediction_plot(const std::string& path, const DeepOnet<T>& net, const T* params, const OperatorData& test,
                           const std::vector<double>& err) {
  if (test.y.extent(1) != 1) return;
  const std::vector<long> order = order_by_error(err);
  const std::size_t n = order.size();
  std::vector<long> pick;
  for (double q : {0.0, 0.5, 0.95, 1.0}) {
    const long b = order[std::min(n - 1, static_cast<std::size_t>(q * static_cast<double>(n - 1) + 0.5))];
    if (std::find(pick.begin(), pick.end(), b) == pick.end()) pick.push_back(b);
  }
  const std::size_t P = test.y.extent(0), n_out = static_cast<std::size_t>(net.spec().outputs);
  Arr3<T> G("kpde::deeponet::plot_G", pick.size(), P, n_out);
  Mat<T> y("kpde::deeponet::plot_y", P, 1), u("kpde::deeponet::plot_u", pick.size(), test.u.extent(1));
  for (std::size_t j = 0; j < P; ++j) y(j, 0) = T(test.y(j, 0));
  for (std::size_t r = 0; r < pick.size(); ++r)
    for (std::size_t k = 0; k < test.u.extent(1); ++k) u(r, k) = T(test.u(static_cast<std::size_t>(pick[r]), k));
  net.forward(params, Mat<const T>(u), Mat<const T>(y), G);
  std::vector<io::Series> series;
  static const io::Rgb colours[4] = {{31, 119, 180}, {44, 160, 44}, {255, 127, 14}, {214, 39, 40}};
  std::vector<double> x(P);
  for (std::size_t j = 0; j < P; ++j) x[j] = test.y(j, 0);
  for (std::size_t r = 0; r < pick.size(); ++r) {
    const std::size_t b = static_cast<std::size_t>(pick[r]);
    std::vector<double> g(P), s(P);
    for (std::size_t j = 0; j < P; ++j) g[j] = double(G(r, j, 0)), s[j] = test.s(b, j * n_out);
    char name[96];
    std::snprintf(name, sizeof name, "#%zu: %.1e", b, err[b]);
    io::Series pred(name, x, g), target("", x, s);
    pred.colour = target.colour = colours[r % 4];
    target.dots = true;
    series.push_back(pred);
    series.push_back(target);
  }
  io::LinePlotOptions o;
  o.title = "test: G(u) lines, s dots (best, median, p95, worst)";
  o.x_label = "y";
  o.y_label = "G(u)(y)";
  o.width = 900;
  io::write_line_plot_png(path, series, o);
}

template <class T>
DeepOnetRun run(const DeepOnetTrainConfig& cfg, const DeepOnetRunOptions& o) {
  DeepOnetRun out;
  out.out = o.out.empty() ? (o.resume.empty() ? cfg.output_dir : o.resume) : o.out;
  const DeepOnet<T> net(cfg.spec);
  std::unique_ptr<OperatorPhysics> physics;
  if (cfg.problem)
    physics = std::make_unique<OperatorPhysics>(
        OperatorPhysics::make(cfg.problem, cfg.train.x, cfg.boundary_points, cfg.model_seed ^ 0xb0d7ull));
  DeepOnetObjective<T> objective(net, cfg.train, cfg.test, cfg.batch, cfg.model_seed ^ 0xba7c4ull, physics.get(),
                                 cfg.physics_with_data);
  objective.set_relative_loss(cfg.relative_loss);
  const train::TrainerOptions to = train::TrainerOptions::in_folder(out.out, cfg.fingerprint, "deeponet", o.quiet);
  const bool root = to.comm.root();
  train::TrainerSettings settings = cfg.training;
  if (o.max_wall_s >= 0) settings.max_wall_s = o.max_wall_s;
  train::Trainer<T> trainer(objective, settings, to);
  if (o.stop_after > 0) trainer.add_stop(std::make_unique<train::StopAfterSteps>(o.stop_after));
  if (!o.resume.empty()) {
    trainer.resume(o.resume + "/checkpoint.h5");
  } else if (!o.init_from.empty()) {  // transfer: start from a trained model of the same architecture
    const TrainedDeepOnet from = read_deeponet_model(o.init_from);
    if (from.params.size() != net.n_params() || from.data_kind != cfg.data_kind || from.type != cfg.type)
      throw InputError("--init-from " + o.init_from + ": a " + from.type + " of " + std::to_string(from.params.size()) +
                       " parameters on " + from.data_kind + " data; this run trains a " + cfg.type + " of " +
                       std::to_string(net.n_params()) + " parameters on " + cfg.data_kind + " data");
    for (std::size_t k = 0; k < from.params.size(); ++k) trainer.params()(k) = T(from.params[k]);
  } else {
    net.init_params(trainer.params().data(), cfg.model_seed);
  }
  if (!o.quiet && root)
    std::fprintf(stderr, "kpde train %s: %zu parameters, %ld training and %ld test samples of %s data, batch %ld; "
                 "output in %s\n", cfg.type.c_str(), net.n_params(), cfg.train.n_samples(), cfg.test.n_samples(), cfg.data_kind.c_str(),
                 cfg.batch, out.out.c_str());
  if (root) {
    data::make_output_directory(out.out);
    io::write_file_atomically(out.out + "/config.resolved.yaml", cfg.resolved);
  }
  const train::TrainResult r = trainer.run();
  out.steps = r.steps;
  out.wall_s = r.wall_s;
  out.loss = r.loss;
  out.finished = r.end != train::Verdict::suspend || r.out_of_time;
  out.stop_reason = r.out_of_time ? "the wall-time budget was spent" : r.reason;
  std::vector<double> e;
  if (cfg.test.n_samples() > 0) {
    e = relative_errors(net, trainer.params().data(), cfg.test);
    double m = 0;
    for (double v : e) m += v;
    out.test_mean = m / static_cast<double>(e.size());
    out.test_median = percentile(e, 0.5);
    out.test_p95 = percentile(e, 0.95);
  }
  if (!root) return out;
  if (!e.empty() && cfg.test.y.extent(1) == 1)
    write_prediction_plot(out.out + "/test_predictions.png", net, trainer.params().data(), cfg.test, e);
  if (!e.empty() && cfg.test.y.extent(1) == 2)
    write_prediction_maps(out.out, net, trainer.params().data(), cfg.test, e);
  {  // model.h5: the architecture, the flat parameters, the sensors and the points
    std::vector<double> p(net.n_params());
    for (std::size_t k = 0; k < p.size(); ++k) p[k] = static_cast<double>(trainer.params()(k));
    io::write_model_file(out.out + "/model.h5",
                         deeponet_model_file(cfg.model_text, cfg.spec, cfg.data_kind, cfg.problem_text,
                                             std::is_same<T, double>::value ? "float64" : "float32", std::move(p),
                                             cfg.train.x, cfg.train.y));
  }
  io::JsonValue m = io::JsonValue::object();
  m.set("method", cfg.type);
  m.set("data", cfg.data_kind);
  m.set("steps", out.steps);
  m.set("wall_s", out.wall_s);
  m.set("n_params", static_cast<double>(net.n_params()));
  m.set("n_train", static_cast<double>(cfg.train.n_samples()));
  m.set("n_test", static_cast<double>(cfg.test.n_samples()));
  m.set("precision", std::is_same<T, double>::value ? "float64" : "float32");
  m.set("mpi_ranks", to.comm.size());
  m.set("final_loss", out.loss);
  m.set("test_rel_l2_mean", out.test_mean);
  m.set("test_rel_l2_median", out.test_median);
  m.set("test_rel_l2_p95", out.test_p95);
  if (cfg.test.group_names.size() > 1) {  // per group (geometry, task): mean, median, p95, n
    io::JsonValue groups = io::JsonValue::object();
    for (std::size_t g = 0; g < cfg.test.group_names.size(); ++g) {
      std::vector<double> eg;
      for (std::size_t b = 0; b < e.size(); ++b)
        if (cfg.test.group[b] == static_cast<int>(g)) eg.push_back(e[b]);
      io::JsonValue v = io::JsonValue::object();
      double sum = 0;
      for (double x : eg) sum += x;
      v.set("n", static_cast<double>(eg.size()));
      v.set("test_rel_l2_mean", eg.empty() ? NAN : sum / static_cast<double>(eg.size()));
      v.set("test_rel_l2_median", percentile(eg, 0.5));
      v.set("test_rel_l2_p95", percentile(eg, 0.95));
      groups.set(cfg.test.group_names[g], v);
    }
    m.set("groups", groups);
  }
  if (!out.finished || r.out_of_time) m.set("stopped_early", out.stop_reason);
  data::write_training_reports(out.out, m, trainer.history());
  return out;
}

}  // namespace

DeepOnetTrainConfig load_deeponet_config(config::Document& doc) {
  config::Node root = doc.root();
  DeepOnetTrainConfig c;
  const config::Node model = root.at("model");
  c.type = read_model_section(model, c.spec);
  const bool pi = c.type == "pi_deeponet";
  DeepOnetSpec& s = c.spec;
  // physics (pi_deeponet): the problem the input function is the source of
  if (pi) {
    const config::Node ph = root.at("physics");
    c.problem = std::make_shared<const data::Problem>(data::load_problem(ph.at("problem"), doc));
    c.problem_text = config::emit_yaml(ph.at("problem").yaml());
    c.boundary_points = static_cast<int>(ph.get_long_min("boundary_points", 1, 1, 1000000));
    c.physics_with_data = ph.get_bool("data", false);
  } else if (root.has("physics")) {
    root.at("physics").fail("physics: only for model.type pi_deeponet");
  }
  c.model_seed = static_cast<std::uint64_t>(model.get_long_min("seed", 1, 0, 1L << 52));
  // data: the splits (operator_data.hpp), generated into the cache on first use
  const config::Node d = root.at("data");
  const std::string gen = d.has("generate") ? doc.resolve_path(d.get_string("generate")) : "";
  const std::string cache = d.get_string("cache", "kpde_out/cache");
  const bool mt = c.type == "mt_deeponet";
  c.train = load_operator_split(d.at("train"), gen, cache, mt, doc);
  if (d.has("test")) {
    c.test = load_operator_split(d.at("test"), gen, cache, mt, doc);
    const OperatorData& a = c.train;
    const OperatorData& b = c.test;
    const auto shape = [](const OperatorData& o) {
      return o.kind + ": " + std::to_string(o.u.extent(1)) + " sensors, " + std::to_string(o.s.extent(1)) + " outputs";
    };
    if (b.kind != a.kind || b.u.extent(1) != a.u.extent(1) || b.y.extent(0) != a.y.extent(0) ||
        b.s.extent(1) != a.s.extent(1))
      d.at("test").fail("the test data (" + shape(b) + ") differ from the training data (" + shape(a) + ")");
  }
  c.data_kind = c.train.kind;
  if (mt && c.train.mask.extent(0) == 0 && c.data_kind != "fisher")
    d.at("train").fail("mt_deeponet reads a geometry mask (darcy data) or a task (fisher data); " + c.data_kind +
                       " data have neither");
  if (pi && c.data_kind != "antiderivative")
    d.at("train").fail("pi_deeponet trains on antiderivative data for now (its sensors are its residual points)");
  if (pi && !c.physics_with_data) c.train.s = Mat<double>();  // trains with no solution data at all
  s.sensors = static_cast<int>(c.train.u.extent(1));
  if (s.cnn_branch) {
    if (c.train.image[0] == 0)
      model.at("branch").fail("branch.type cnn reads gridded inputs (darcy data); " + c.data_kind + " data are not images");
    s.cnn.channels = c.train.image[0], s.cnn.height = c.train.image[1], s.cnn.width = c.train.image[2];
  }
  s.coord_dim = static_cast<int>(c.train.y.extent(1));
  s.outputs = 1;
  {  // sigma: the RMS of the training targets (1 without solution data), unless given
    double s2 = 0;
    for (std::size_t i = 0; i < c.train.s.size(); ++i) s2 += c.train.s.data()[i] * c.train.s.data()[i];
    const double rms = c.train.s.size() ? std::sqrt(s2 / static_cast<double>(c.train.s.size())) : 1.0;
    s.output_scale = model.get_double_above("output_scale", rms > 0 ? rms : 1.0, 0.0);
  }
  model.at("branch").check([&] { s.validate(); });
  const config::Node t = root.section("training");
  c.batch = t.get_long_min("batch", c.batch, 1, 1000000);
  c.float64 = t.get_choice("precision", "float64", {"float32", "float64"}) == "float64";
  c.relative_loss = t.get_choice("loss", "mse", {"mse", "relative"}) == "relative";
  train::StageParseContext ctx;
  ctx.not_projectable = "DeepONet has no least-squares projection of its parameters yet";
  std::vector<std::string> terms;
  if (!pi || c.physics_with_data) terms.push_back("data");
  if (pi) terms.push_back("residual"), terms.push_back("boundary");
  c.training = train::load_trainer_settings(t, terms, ctx);
  c.output_dir = root.section("output").get_string("dir", c.output_dir);
  doc.check_unused();
  c.model_text = config::emit_yaml(model.yaml());
  c.fingerprint = config::training_fingerprint(root.yaml());
  c.resolved = doc.resolved_text();
  return c;
}

DeepOnetRun run_deeponet_training(const DeepOnetTrainConfig& cfg, const DeepOnetRunOptions& options) {
  return cfg.float64 ? run<double>(cfg, options) : run<float>(cfg, options);
}

}  // namespace kpde::operators
