#include "operators/mgno_train.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <tuple>

#include "core/error.hpp"
#include "data/dataset.hpp"
#include "data/solution_output.hpp"
#include "io/atomic_file.hpp"
#include "io/hdf5.hpp"
#include "io/json.hpp"
#include "io/model_file.hpp"
#include "io/plot.hpp"
#include "operators/operator_report.hpp"
#include "train/comm.hpp"
#include "train/objective.hpp"
#include "train/trainer.hpp"

namespace kpde::operators {

namespace {

/// ||v||^2 on an n x n grid: sum v^2, plus w times the sum of squared forward differences / h^2
/// (w = 0: l2; w = 1: the discrete H1 norm).
double norm2(const double* v, int n, double w) {
  double s = 0;
  const std::size_t N = static_cast<std::size_t>(n) * n;
  for (std::size_t i = 0; i < N; ++i) s += v[i] * v[i];
  if (w == 0) return s;
  const double ih2 = w * double(n - 1) * double(n - 1);
  double d = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double c = v[i * n + j];
      if (j + 1 < n) d += (v[i * n + j + 1] - c) * (v[i * n + j + 1] - c);
      if (i + 1 < n) d += (v[(i + 1) * n + j] - c) * (v[(i + 1) * n + j] - c);
    }
  return s + ih2 * d;
}

/// g = (1/2) d||e||^2/de: e, plus w D^T D e / h^2 (D the forward differences).
void norm2_half_gradient(const double* e, int n, double w, double* g) {
  const std::size_t N = static_cast<std::size_t>(n) * n;
  std::copy(e, e + N, g);
  if (w == 0) return;
  const double ih2 = w * double(n - 1) * double(n - 1);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const int c = i * n + j;
      if (j + 1 < n) {
        const double d = ih2 * (e[c + 1] - e[c]);
        g[c] -= d, g[c + 1] += d;
      }
      if (i + 1 < n) {
        const double d = ih2 * (e[c + n] - e[c]);
        g[c] -= d, g[c + n] += d;
      }
    }
}

/// Side n of square gridded data (image [C][n][n], outputs n^2); InputError otherwise.
int grid_side(const OperatorData& d, const std::string& where) {
  if (d.image[0] == 0 || d.image[1] != d.image[2] || d.s.extent(1) != static_cast<std::size_t>(d.image[1]) * d.image[2])
    throw InputError(where + ": MgNO reads gridded data (an image per sample and the solution on the same grid; darcy "
                     "data); " + d.kind + " data are not");
  return d.image[1];
}

/// Images b0..b1 of d as T [b1-b0][C][n][n].
template <class T>
std::vector<T> images(const OperatorData& d, const std::vector<long>& idx) {
  const std::size_t m = d.u.extent(1);
  std::vector<T> out(idx.size() * m);
  for (std::size_t r = 0; r < idx.size(); ++r)
    for (std::size_t k = 0; k < m; ++k) out[r * m + k] = T(d.u(static_cast<std::size_t>(idx[r]), k));
  return out;
}

/// The relative loss of one sample and d(loss)/d(prediction) into du (scaled by `scale`).
double relative_loss(const double* pred, const double* target, double target_norm2, int n, double w, double scale,
                     double* du, std::vector<double>& scratch) {
  const std::size_t N = static_cast<std::size_t>(n) * n;
  scratch.resize(2 * N);
  double* e = scratch.data();
  for (std::size_t i = 0; i < N; ++i) e[i] = pred[i] - target[i];
  const double e2 = norm2(e, n, w), rel = std::sqrt(e2 / std::max(target_norm2, 1e-300));
  if (du) {
    double* g = scratch.data() + N;
    norm2_half_gradient(e, n, w, g);
    const double f = rel > 0 ? scale / (rel * std::max(target_norm2, 1e-300)) : 0.0;  // d rel / d e = g / (rel S^2)
    for (std::size_t i = 0; i < N; ++i) du[i] = f * g[i];
  }
  return rel;
}

}  // namespace

double mgno_relative_error(const double* p, const double* u, int n, double w, double* dp) {
  std::vector<double> scratch;
  return relative_loss(p, u, norm2(u, n, w), n, w, 1.0, dp, scratch);
}

template <class T>
MgnoErrors mgno_errors(const Mgno<T>& net, const T* params, const OperatorData& data, Mat<double>* predictions) {
  const int n = grid_side(data, "mgno");
  const long N = data.n_samples();
  const int C = data.image[0];
  const std::size_t n2 = static_cast<std::size_t>(n) * n;
  MgnoErrors e;
  e.l2.resize(static_cast<std::size_t>(N)), e.h1.resize(static_cast<std::size_t>(N));
  if (predictions) *predictions = Mat<double>("kpde::mgno::predictions", N, n2);
  std::vector<double> pred(n2), scratch;
  const long chunk = 8;
  for (long a = 0; a < N; a += chunk) {
    std::vector<long> idx;
    for (long b = a; b < std::min(N, a + chunk); ++b) idx.push_back(b);
    const std::vector<T> x = images<T>(data, idx);
    std::vector<T> u(idx.size() * n2);
    net.forward(params, Arr4<const T>(x.data(), idx.size(), C, n, n), Arr4<T>(u.data(), idx.size(), 1, n, n));
    for (std::size_t r = 0; r < idx.size(); ++r) {
      const std::size_t b = static_cast<std::size_t>(idx[r]);
      for (std::size_t i = 0; i < n2; ++i) pred[i] = double(u[r * n2 + i]);
      const double* s = &data.s(b, 0);
      e.l2[b] = relative_loss(pred.data(), s, norm2(s, n, 0), n, 0, 1, nullptr, scratch);
      e.h1[b] = relative_loss(pred.data(), s, norm2(s, n, 1), n, 1, 1, nullptr, scratch);
      if (predictions)
        for (std::size_t i = 0; i < n2; ++i) (*predictions)(b, i) = pred[i];
    }
  }
  return e;
}

MgnoErrors mgno_resampled_errors(const Mgno<double>& net, const double* params, const OperatorData& data, int grid) {
  const int n = grid_side(data, "mgno");
  if (grid < 2 || (n - 1) % (grid - 1) != 0)
    throw InputError("mgno: a " + std::to_string(n) + "-node grid is not a refinement of the " + std::to_string(grid) +
                     "-node training grid ((n - 1) must be a multiple of " + std::to_string(grid - 1) + ")");
  const int r = (n - 1) / (grid - 1), C = data.image[0];
  const long N = data.n_samples();
  const std::size_t n2 = static_cast<std::size_t>(n) * n, g2 = static_cast<std::size_t>(grid) * grid;
  MgnoErrors e;
  std::vector<double> x(static_cast<std::size_t>(C) * g2), u(g2), fine(n2), scratch;
  for (long b = 0; b < N; ++b) {
    for (int c = 0; c < C; ++c)  // injection: every r-th node of every r-th row
      for (int i = 0; i < grid; ++i)
        for (int j = 0; j < grid; ++j)
          x[(static_cast<std::size_t>(c) * grid + i) * grid + j] =
              data.u(static_cast<std::size_t>(b), static_cast<std::size_t>(c) * n2 + static_cast<std::size_t>(i * r) * n + j * r);
    net.forward(params, Arr4<const double>(x.data(), 1, C, grid, grid), Arr4<double>(u.data(), 1, 1, grid, grid));
    for (int i = 0; i < n; ++i)  // bilinear interpolation back onto the fine nodes
      for (int j = 0; j < n; ++j) {
        const int I = std::min(i / r, grid - 2), J = std::min(j / r, grid - 2);
        const double s = double(i - I * r) / r, t = double(j - J * r) / r;
        fine[static_cast<std::size_t>(i) * n + j] = (1 - s) * ((1 - t) * u[I * grid + J] + t * u[I * grid + J + 1]) +
                                                    s * ((1 - t) * u[(I + 1) * grid + J] + t * u[(I + 1) * grid + J + 1]);
      }
    const double* sb = &data.s(static_cast<std::size_t>(b), 0);
    e.l2.push_back(relative_loss(fine.data(), sb, norm2(sb, n, 0), n, 0, 1, nullptr, scratch));
    e.h1.push_back(relative_loss(fine.data(), sb, norm2(sb, n, 1), n, 1, 1, nullptr, scratch));
  }
  return e;
}

namespace {

/// The relative loss of an MgNO over mini-batches (see mgno_train.hpp); monitor: the
/// test set's mean relative L2 error.
template <class T>
class MgnoObjective : public train::Objective<T> {
 public:
  MgnoObjective(const Mgno<T>& net, const OperatorData& train, const OperatorData& test, long batch,
                std::uint64_t seed, double h1_weight)
      : net_(net), train_(train), test_(test), batch_size_(std::min(batch, train.n_samples())), w_(h1_weight),
        n_(grid_side(train, "data.train")) {
    sampler_ = std::make_unique<data::BatchSampler>(train.n_samples(), batch_size_, seed);
    for (long b = 0; b < train.n_samples(); ++b) target_norm2_.push_back(norm2(&train.s(b, 0), n_, w_));
  }
  std::size_t n_params() const override { return net_.n_params(); }
  std::vector<std::string> term_names() const override { return {"data"}; }
  void begin_stage(int) override { batch_.clear(); }
  void before_step(long, const Vec<const T>&) override {
    batch_ = sampler_->next();
  }
  bool distribute(const train::Comm& comm) override {
    comm_ = &comm;
    return true;
  }
  void evaluate(const Vec<const T>& params, std::vector<double>& terms, std::vector<Vec<T>>& tg) override {
    std::vector<long> all = batch_;
    if (all.empty())
      for (long b = 0; b < train_.n_samples(); ++b) all.push_back(b);
    const long B = static_cast<long>(all.size());
    long b0 = 0, b1 = B;
    if (comm_ && comm_->parallel()) std::tie(b0, b1) = comm_->shard(B);
    Kokkos::deep_copy(tg[0], T(0));
    terms[0] = 0;
    const int C = train_.image[0], n = n_;
    const std::size_t n2 = static_cast<std::size_t>(n) * n;
    // this rank's samples, in pieces of at most batch_size_ (a full-batch stage stays in memory bounds)
    for (long p0 = b0; p0 < b1; p0 += batch_size_) {
      const std::vector<long> mine(all.begin() + p0, all.begin() + std::min(b1, p0 + batch_size_));
      const std::size_t nb = mine.size();
      const std::vector<T> x = images<T>(train_, mine);
      std::vector<T> u(nb * n2), du(nb * n2);
      net_.forward(params.data(), Arr4<const T>(x.data(), nb, C, n, n), Arr4<T>(u.data(), nb, 1, n, n), &cache_);
      std::vector<double> pred(n2), g(n2), scratch;
      for (std::size_t r = 0; r < nb; ++r) {
        const std::size_t b = static_cast<std::size_t>(mine[r]);
        for (std::size_t i = 0; i < n2; ++i) pred[i] = double(u[r * n2 + i]);
        terms[0] += relative_loss(pred.data(), &train_.s(b, 0), target_norm2_[b], n, w_, 1.0 / double(B), g.data(),
                                  scratch) / double(B);
        for (std::size_t i = 0; i < n2; ++i) du[r * n2 + i] = T(g[i]);
      }
      net_.backward(params.data(), cache_, Arr4<const T>(du.data(), nb, 1, n, n), tg[0].data());
    }
  }
  std::vector<std::string> monitor_names() const override {
    if (test_.n_samples() == 0) return {};
    return {"test_rel_l2"};
  }
  std::vector<double> monitor(const Vec<const T>& params) override {
    if (test_.n_samples() == 0) return {};
    return {mean_of(mgno_errors(net_, params.data(), test_).l2)};
  }
  void save_state(io::H5File& f, const std::string& group) const override {
    f.set_attribute(group, "batches_drawn", static_cast<double>(sampler_->drawn()));
  }
  void load_state(const io::H5File& f, const std::string& group) override {
    batch_ = sampler_->replay(static_cast<long>(f.number_attribute(group, "batches_drawn")));  // the same batches again
  }

 private:
  const Mgno<T>& net_;
  const OperatorData& train_;
  const OperatorData& test_;
  long batch_size_;
  double w_;  ///< the loss's gradient weight (0: l2)
  int n_;
  std::unique_ptr<data::BatchSampler> sampler_;
  std::vector<long> batch_;
  const train::Comm* comm_ = nullptr;
  std::vector<double> target_norm2_;
  typename Mgno<T>::Cache cache_;
};

/// model.h5's architecture text: the spec's fields, the seed, the data kind and the grid.
std::string architecture(const MgnoSpec& s, std::uint64_t seed, const std::string& data_kind, int grid) {
  char buf[512];
  std::string smoothing;
  for (int v : s.smoothing) smoothing += (smoothing.empty() ? "" : ", ") + std::to_string(v);
  std::snprintf(buf, sizeof buf,
                "type: mgno\nchannels: %d\nlayers: %d\nsmoothing: [%s]\npadding: %s\nrestriction: %s\nseed: %llu\n"
                "in_channels: %d\ninput_mean: %.17g\ninput_std: %.17g\noutput_scale: %.17g\ndata: %s\ngrid: %d\n",
                s.channels, s.layers, smoothing.c_str(), to_string(s.pad).c_str(),
                s.residual_restriction ? "residual" : "data", static_cast<unsigned long long>(seed), s.in_channels,
                s.input_mean, s.input_std, s.output_scale, data_kind.c_str(), grid);
  return buf;
}

/// The model section's keys (type already read) into s; returns the seed.
std::uint64_t read_model_keys(const config::Node& m, MgnoSpec& s) {
  s.channels = static_cast<int>(m.get_long_min("channels", s.channels, 1, 4096));
  s.layers = static_cast<int>(m.get_long_min("layers", s.layers, 1, 64));
  if (m.has("smoothing")) {
    s.smoothing.clear();
    for (double v : m.at("smoothing").as_doubles()) {
      if (!(v >= 1 && v <= 64 && v == static_cast<int>(v)))
        m.at("smoothing").fail("smoothing: pre-smoothing steps per level, integers in [1, 64], finest level first");
      s.smoothing.push_back(static_cast<int>(v));
    }
    if (s.smoothing.empty() || s.smoothing.size() > 16) m.at("smoothing").fail("smoothing: 1 to 16 levels");
  }
  const std::string pad = m.get_string("padding", "zeros");
  s.pad = m.has("padding") ? m.at("padding").check([&] { return parse_pad_mode(pad); }) : nn::PadMode::zeros;
  s.residual_restriction = m.get_choice("restriction", "data", {"data", "residual"}) == "residual";
  return static_cast<std::uint64_t>(m.get_long_min("seed", 1, 0, 1L << 52));
}

/// Heat maps of the median and the worst test sample (operator_report.hpp).
void write_maps(const std::string& dir, const OperatorData& test, const Mat<double>& pred, const std::vector<double>& err) {
  const int n = test.image[1];
  const std::vector<long> order = order_by_error(err);
  const long picks[2] = {order[order.size() / 2], order.back()};
  const char* names[2] = {"median", "worst"};
  const std::size_t n2 = static_cast<std::size_t>(n) * n;
  for (int r = 0; r < 2; ++r) {
    const std::size_t b = static_cast<std::size_t>(picks[r]);
    std::vector<double> target(n2), p(n2);
    for (int i = 0; i < n; ++i)  // data row i is y = 1 - i/(n-1); the map's row 0 is y = 0
      for (int j = 0; j < n; ++j) {
        const std::size_t from = static_cast<std::size_t>(i) * n + j, to = static_cast<std::size_t>(n - 1 - i) * n + j;
        target[to] = test.s(b, from), p[to] = pred(b, from);
      }
    io::HeatMapOptions o;
    o.x_range = {0, 1}, o.y_range = {0, 1};
    write_sample_maps(dir, names[r], b, err[b], target, p, static_cast<std::size_t>(n), static_cast<std::size_t>(n), o);
  }
}

io::JsonValue error_summary(const MgnoErrors& e, int grid) {
  io::JsonValue v = io::JsonValue::object();
  v.set("grid", grid);
  v.set("n", static_cast<double>(e.l2.size()));
  v.set("rel_l2_mean", mean_of(e.l2));
  v.set("rel_l2_median", percentile(e.l2, 0.5));
  v.set("rel_l2_p95", percentile(e.l2, 0.95));
  v.set("rel_h1_mean", mean_of(e.h1));
  return v;
}

template <class T>
MgnoRun run(const MgnoTrainConfig& cfg, const MgnoRunOptions& o) {
  MgnoRun out;
  out.out = o.out.empty() ? (o.resume.empty() ? cfg.output_dir : o.resume) : o.out;
  const Mgno<T> net(cfg.spec);
  MgnoObjective<T> objective(net, cfg.train, cfg.test, cfg.batch, cfg.model_seed ^ 0xba7c4ull,
                              cfg.h1_loss ? cfg.h1_weight : 0.0);
  const train::TrainerOptions to = train::TrainerOptions::in_folder(out.out, cfg.fingerprint, "mgno", o.quiet);
  const bool root = to.comm.root();
  train::TrainerSettings settings = cfg.training;
  if (o.max_wall_s >= 0) settings.max_wall_s = o.max_wall_s;
  train::Trainer<T> trainer(objective, settings, to);
  if (o.stop_after > 0) trainer.add_stop(std::make_unique<train::StopAfterSteps>(o.stop_after));
  if (!o.resume.empty())
    trainer.resume(o.resume + "/checkpoint.h5");
  else
    net.init_params(trainer.params().data(), cfg.model_seed);
  const int n = cfg.train.image[1];
  if (!o.quiet && root)
    std::fprintf(stderr, "kpde train mgno: %zu parameters, %ld training and %ld test samples of %s data on a %d x %d "
                 "grid, batch %ld, %.2f GFLOP per sample forward; output in %s\n", net.n_params(), cfg.train.n_samples(),
                 cfg.test.n_samples(), cfg.data_kind.c_str(), n, n, cfg.batch, net.forward_flops(1, n, n) * 1e-9,
                 out.out.c_str());
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
  const T* params = trainer.params().data();
  MgnoErrors e;
  Mat<double> pred;
  if (cfg.test.n_samples() > 0) {
    e = mgno_errors(net, params, cfg.test, &pred);
    out.test_mean = mean_of(e.l2);
    out.test_median = percentile(e.l2, 0.5);
    out.test_p95 = percentile(e.l2, 0.95);
    out.test_h1_mean = mean_of(e.h1);
  }
  // the resolution tests: the same stencils on the test's grid (native) and, on a refinement
  // of the training grid, the training grid's nodes in and bilinear interpolation out
  std::vector<std::pair<std::string, io::JsonValue>> others;
  for (const OperatorData& d : cfg.resolution_tests) {
    io::JsonValue v = error_summary(mgno_errors(net, params, d), d.image[1]);
    const int m = d.image[1];
    if (m != n && (m - 1) % (n - 1) == 0) {
      const Mgno<double> net64(cfg.spec);
      std::vector<double> p64(net.n_params());
      for (std::size_t k = 0; k < p64.size(); ++k) p64[k] = double(params[k]);
      v.set("resampled", error_summary(mgno_resampled_errors(net64, p64.data(), d, n), m));
    }
    others.emplace_back(d.group_names.empty() ? "grid" + std::to_string(m) : d.group_names[0], v);
  }
  if (!root) return out;
  if (cfg.test.n_samples() > 0) write_maps(out.out, cfg.test, pred, e.l2);
  {
    io::ModelFile m;
    m.kind = "mgno";
    m.precision = std::is_same<T, double>::value ? "float64" : "float32";
    m.architecture = architecture(cfg.spec, cfg.model_seed, cfg.data_kind, n);
    m.params.resize(net.n_params());
    for (std::size_t k = 0; k < m.params.size(); ++k) m.params[k] = static_cast<double>(trainer.params()(k));
    m.coordinates = {"x", "y"};
    m.domain_lo = {0, 0}, m.domain_hi = {1, 1};
    m.input_offset = {0, 0}, m.input_scale = {1, 1};
    io::write_model_file(out.out + "/model.h5", m);
  }
  io::JsonValue m = io::JsonValue::object();
  m.set("method", "mgno");
  m.set("data", cfg.data_kind);
  m.set("grid", n);
  m.set("steps", out.steps);
  m.set("epochs", static_cast<double>(out.steps) * static_cast<double>(std::min(cfg.batch, cfg.train.n_samples())) /
                      static_cast<double>(cfg.train.n_samples()));
  m.set("wall_s", out.wall_s);
  m.set("n_params", static_cast<double>(net.n_params()));
  m.set("forward_gflop_per_sample", net.forward_flops(1, n, n) * 1e-9);
  m.set("n_train", static_cast<double>(cfg.train.n_samples()));
  m.set("n_test", static_cast<double>(cfg.test.n_samples()));
  m.set("precision", std::is_same<T, double>::value ? "float64" : "float32");
  m.set("loss", cfg.h1_loss ? "h1" : "l2");
  if (cfg.h1_loss) m.set("h1_weight", cfg.h1_weight);
  m.set("mpi_ranks", to.comm.size());
  m.set("final_loss", out.loss);
  m.set("test_rel_l2_mean", out.test_mean);
  m.set("test_rel_l2_median", out.test_median);
  m.set("test_rel_l2_p95", out.test_p95);
  m.set("test_rel_h1_mean", out.test_h1_mean);
  if (!others.empty()) {
    io::JsonValue g = io::JsonValue::object();
    for (const auto& [name, v] : others) g.set(name, v);
    m.set("resolution_tests", g);
  }
  if (!out.finished || r.out_of_time) m.set("stopped_early", out.stop_reason);
  data::write_training_reports(out.out, m, trainer.history());
  return out;
}

}  // namespace

MgnoTrainConfig load_mgno_config(config::Document& doc) {
  config::Node root = doc.root();
  MgnoTrainConfig c;
  const config::Node model = root.at("model");
  model.get_choice("type", {"mgno"});
  c.model_seed = read_model_keys(model, c.spec);
  if (root.has("physics")) root.at("physics").fail("physics: MgNO trains on data only");
  const config::Node d = root.at("data");
  const std::string gen = d.has("generate") ? doc.resolve_path(d.get_string("generate")) : "";
  const std::string cache = d.get_string("cache", "kpde_out/cache");
  c.train = load_operator_split(d.at("train"), gen, cache, false, doc);
  const int n = d.at("train").check([&] { return grid_side(c.train, "data.train"); });
  c.data_kind = c.train.kind;
  if (d.has("test")) {
    c.test = load_operator_split(d.at("test"), gen, cache, false, doc);
    d.at("test").check([&] { return grid_side(c.test, "data.test"); });
    if (c.test.kind != c.train.kind || c.test.image != c.train.image)
      d.at("test").fail("the test data (" + c.test.kind + ", " + std::to_string(c.test.image[1]) +
                        " nodes per axis) differ from the training data (" + c.train.kind + ", " + std::to_string(n) +
                        "); other grids go in data.resolution_tests");
  }
  if (d.has("resolution_tests")) {
    const config::Node rt = d.at("resolution_tests");
    if (!rt.is_list()) rt.fail("resolution_tests: a list of splits (each evaluated apart)");
    for (std::size_t i = 0; i < rt.size(); ++i) {
      OperatorData od = load_operator_split(rt[i], gen, cache, false, doc);
      rt[i].check([&] { return grid_side(od, "data.resolution_tests"); });
      if (od.kind != c.train.kind || od.image[0] != c.train.image[0])
        rt[i].fail("a resolution test must hold " + c.train.kind + " data with " + std::to_string(c.train.image[0]) +
                   " input channels");
      c.resolution_tests.push_back(std::move(od));
    }
  }
  MgnoSpec& s = c.spec;
  s.in_channels = c.train.image[0];
  {  // the input normalisation and the output scale from the training data
    double m1 = 0, m2 = 0, s2 = 0;
    const std::size_t nu = c.train.u.size(), ns = c.train.s.size();
    for (std::size_t i = 0; i < nu; ++i) m1 += c.train.u.data()[i];
    m1 /= static_cast<double>(nu);
    for (std::size_t i = 0; i < nu; ++i) m2 += (c.train.u.data()[i] - m1) * (c.train.u.data()[i] - m1);
    for (std::size_t i = 0; i < ns; ++i) s2 += c.train.s.data()[i] * c.train.s.data()[i];
    s.input_mean = m1;
    s.input_std = std::sqrt(m2 / static_cast<double>(nu));
    if (!(s.input_std > 0)) s.input_std = 1;
    const double rms = std::sqrt(s2 / static_cast<double>(ns));
    s.output_scale = model.get_double_above("output_scale", rms > 0 ? rms : 1.0, 0.0);
  }
  model.check([&] { s.validate(); });
  if (n < s.min_extent())
    model.at("smoothing").fail("a " + std::to_string(n) + " x " + std::to_string(n) + " grid is too small for " +
                               std::to_string(s.levels()) + " levels (at least " + std::to_string(s.min_extent()) +
                               " nodes per axis); use fewer levels");
  const config::Node t = root.section("training");
  c.batch = t.get_long_min("batch", c.batch, 1, 1000000);
  c.float64 = t.get_choice("precision", "float32", {"float32", "float64"}) == "float64";
  c.h1_loss = t.get_choice("loss", "h1", {"h1", "l2"}) == "h1";
  c.h1_weight = t.get_double_above("h1_weight", 1.0, 0.0);
  train::StageParseContext ctx;
  ctx.not_projectable = "MgNO has no least-squares projection of its parameters";
  c.training = train::load_trainer_settings(t, {"data"}, ctx);
  c.output_dir = root.section("output").get_string("dir", c.output_dir);
  doc.check_unused();
  c.model_text = config::emit_yaml(model.yaml());
  c.fingerprint = config::training_fingerprint(root.yaml());
  c.resolved = doc.resolved_text();
  return c;
}

MgnoRun run_mgno_training(const MgnoTrainConfig& cfg, const MgnoRunOptions& options) {
  return cfg.float64 ? run<double>(cfg, options) : run<float>(cfg, options);
}

TrainedMgno read_mgno_model(const std::string& path) {
  const io::ModelFile f = io::read_model_file(path, "mgno");
  TrainedMgno t;
  config::Document doc = config::Document::load_string(f.architecture, path + " (architecture)");
  const config::Node root = doc.root();
  root.get_choice("type", {"mgno"});
  read_model_keys(root, t.spec);
  t.spec.in_channels = static_cast<int>(root.get_long_min("in_channels", 1, 1, 4096));
  t.spec.input_mean = root.get_double("input_mean", 0.0);
  t.spec.input_std = root.get_double_above("input_std", 1.0, 0.0);
  t.spec.output_scale = root.get_double_above("output_scale", 1.0, 0.0);
  t.data_kind = root.get_string("data");
  t.grid = static_cast<int>(root.get_long_min("grid", 0, 0));
  doc.check_unused();
  root.check([&] { t.spec.validate(); });
  t.precision = f.precision;
  const Mgno<double> net(t.spec);
  if (f.params.size() != net.n_params())
    throw InputError("model file " + path + ": " + std::to_string(f.params.size()) + " parameters, its architecture has " +
                     std::to_string(net.n_params()));
  t.params = f.params;
  return t;
}

template MgnoErrors mgno_errors<float>(const Mgno<float>&, const float*, const OperatorData&, Mat<double>*);
template MgnoErrors mgno_errors<double>(const Mgno<double>&, const double*, const OperatorData&, Mat<double>*);

}  // namespace kpde::operators
