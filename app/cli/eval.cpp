// `kpde eval MODEL (--points FILE | --grid N | --random N [--seed S]) [--derivatives LIST]
// --out FILE`: values and exact input derivatives of a trained model at points
// (pinn/model.hpp, data/table.hpp). A DeepONet model (operators/deeponet_model.hpp)
// also takes `--inputs FILE`: the input functions at its sensors, and evaluates at its
// training points unless --points or --grid names others. An MgNO model
// (operators/mgno_train.hpp) takes `--inputs DATASET.h5`: gridded inputs of any size (its
// own grid or another), and writes u at every node; with the dataset's solutions it also
// prints the relative L2 and H1 errors.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "core/rng.hpp"
#include "core/strings.hpp"
#include "data/problem.hpp"
#include "data/table.hpp"
#include "io/model_file.hpp"
#include "io/hdf5.hpp"
#include "operators/deeponet_model.hpp"
#include "operators/mgno_train.hpp"
#include "operators/operator_data.hpp"
#include "pinn/model.hpp"

namespace kpde::cli {

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t a = 0;
  while (a <= s.size()) {
    const std::size_t b = s.find(',', a);
    const std::string item = s.substr(a, b == std::string::npos ? std::string::npos : b - a);
    if (!item.empty()) out.push_back(item);
    if (b == std::string::npos) break;
    a = b + 1;
  }
  return out;
}

/// The points of --points: columns x, y, z of the model's axes (the time axis may be
/// called t); the names used go to `names`.
Mat<double> points_from_table(const data::Table& t, const std::string& path, const io::ModelFile& m,
                              std::vector<std::string>* names) {
  const int d = m.input_dim();
  Mat<double> x("kpde::cli::eval_points", t.n_rows(), d);
  std::string wanted;
  for (int a = 0; a < d; ++a) wanted += (a ? "," : "") + m.coordinates[a] + (a == m.time_axis ? " (or t)" : "");
  for (int a = 0; a < d; ++a) {
    std::string name;
    const std::vector<double>* c = data::coordinate_column(t, m.coordinates[a], a == m.time_axis, &name);
    if (!c)
      throw InputError(path + ": no column '" + m.coordinates[a] + "'; this " + std::to_string(d) +
                       "-D model needs the columns " + wanted);
    names->push_back(name);
    for (std::size_t p = 0; p < t.n_rows(); ++p) x(p, a) = (*c)[p];
  }
  return x;
}

/// n^d nodes of the domain box, x fastest.
Mat<double> grid_points(const io::ModelFile& m, long n) {
  const int d = m.input_dim();
  std::size_t total = 1;
  for (int a = 0; a < d; ++a) total *= static_cast<std::size_t>(n);
  Mat<double> x("kpde::cli::eval_grid", total, d);
  for (std::size_t p = 0; p < total; ++p) {
    std::size_t r = p;
    for (int a = 0; a < d; ++a, r /= n) {
      const long j = static_cast<long>(r % n);
      x(p, a) = j == n - 1 ? m.domain_hi[a] : m.domain_lo[a] + (m.domain_hi[a] - m.domain_lo[a]) * j / (n - 1);
    }
  }
  return x;
}

/// n uniform random points of the domain box.
Mat<double> random_points(const io::ModelFile& m, long n, std::uint64_t seed) {
  const int d = m.input_dim();
  Rng rng(seed);
  Mat<double> x("kpde::cli::eval_random", n, d);
  for (long p = 0; p < n; ++p)
    for (int a = 0; a < d; ++a) x(p, a) = m.domain_lo[a] + (m.domain_hi[a] - m.domain_lo[a]) * rng.uniform();
  return x;
}

/// The branch inputs of --inputs: a `kpde generate` dataset, read as the model read its
/// training data (operators/operator_data.hpp), or a table whose m columns are the
/// branch's inputs (the sensor values), one function per row: [N][m].
Mat<double> input_functions(const std::string& path, const operators::TrainedDeepOnet& model) {
  const int m = model.spec.sensors;
  const bool h5 = path.size() > 3 && path.compare(path.size() - 3, 3, ".h5") == 0;
  Mat<double> u;
  if (h5 && io::H5File::open(path).has_attribute("/", "kind")) {
    const operators::OperatorData d = operators::read_operator_data(path, model.type == "mt_deeponet");
    if (d.kind != model.data_kind)
      throw InputError("eval: --inputs " + path + ": " + d.kind + " data; the model was trained on " + model.data_kind + " data");
    u = d.u;
  } else {
    const data::Table t = data::read_table(path);
    u = Mat<double>("kpde::cli::inputs", t.n_rows(), t.columns.size());
    for (std::size_t k = 0; k < t.columns.size(); ++k)
      for (std::size_t b = 0; b < t.n_rows(); ++b) u(b, k) = t.columns[k][b];
  }
  if (u.extent(0) == 0) throw InputError("eval: --inputs " + path + ": no input functions");
  if (u.extent(1) != static_cast<std::size_t>(m))
    throw InputError("eval: --inputs " + path + ": functions at " + std::to_string(u.extent(1)) +
                     " sensors; the model reads " + std::to_string(m) + " sensors");
  return u;
}

/// `kpde eval` of a DeepONet: a table of sample, the coordinates, u (u0.. for several
/// outputs) and the derivatives asked for, rows sample by sample.
int eval_deeponet(const Args& a, const std::string& model_path, const io::ModelFile& file) {
  if (!a.has("--inputs")) throw InputError("eval: a DeepONet model needs --inputs FILE (the input functions at its sensors)");
  if (a.has("--random")) throw InputError("eval: --random is not for DeepONet models (--points FILE or --grid N)");
  const auto t0 = std::chrono::steady_clock::now();
  const operators::TrainedDeepOnet model = operators::read_deeponet_model(model_path);
  const int d = model.spec.coord_dim, n_out = model.spec.outputs;
  const Mat<double> u = input_functions(a.str("--inputs", ""), model);
  Mat<double> y = model.points;
  std::vector<std::string> coords = pinn::axis_names(d);
  if (a.has("--points")) {
    const std::string path = a.str("--points", "");
    coords.clear();
    y = points_from_table(data::read_table(path), path, file, &coords);
  } else if (a.has("--grid")) {
    const long n = a.integer("--grid", 0, 2);
    if (std::pow(double(n), d) > 1e7) throw InputError("eval: --grid " + std::to_string(n) + " gives more than 10^7 points");
    y = grid_points(file, n);
  }
  // the derivatives: names of data::all_derivatives (u_x, u_xx, u_xy, ...) -> Hessian channels
  const nn::ChannelSpec cs = nn::ChannelSpec::hessian(d);
  std::vector<std::pair<std::string, int>> q;
  for (int o = 0; o < n_out; ++o) q.emplace_back(n_out == 1 ? "u" : "u" + std::to_string(o), 0);
  for (const auto& name : split(a.str("--derivatives", ""))) {
    if (n_out != 1) throw InputError("eval: --derivatives: only for a DeepONet of one output");
    int channel = -1;
    for (const data::Derivative& D : data::all_derivatives(d))
      if (D.order > 0 && D.name() == name) channel = D.order == 1 ? cs.grad_channel(D.i) : cs.hessian_channel(D.i, D.j);
    if (channel < 0) throw InputError("eval: --derivatives: '" + name + "' is not a derivative of u in " + std::to_string(d) + "-D");
    for (const auto& e : q)
      if (e.first == name) throw InputError("eval: --derivatives: '" + name + "' is asked for twice");
    q.emplace_back(name, channel);
  }
  const Arr4<double> G = operators::evaluate(model, u, y, cs);
  const std::size_t N = u.extent(0), P = y.extent(0);
  data::Table t;
  t.names.push_back("sample");
  for (int k = 0; k < d; ++k) t.names.push_back(coords[static_cast<std::size_t>(k)]);
  for (const auto& e : q) t.names.push_back(e.first);
  t.columns.assign(t.names.size(), std::vector<double>(N * P));
  for (std::size_t b = 0; b < N; ++b)
    for (std::size_t j = 0; j < P; ++j) {
      const std::size_t r = b * P + j;
      t.columns[0][r] = double(b);
      for (int k = 0; k < d; ++k) t.columns[1 + static_cast<std::size_t>(k)][r] = y(j, k);
      for (std::size_t e = 0; e < q.size(); ++e)
        t.columns[1 + static_cast<std::size_t>(d) + e][r] =
            G(b, j, static_cast<std::size_t>(q[e].second), e < static_cast<std::size_t>(n_out) ? e : 0);
    }
  const std::string out = a.str("--out", "");
  data::write_table(out, t);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.has("--quiet"))
    std::printf("eval %s: %zu input functions x %zu points, columns %s, wrote %s in %.2f s\n", model_path.c_str(), N, P,
                join(t.names).c_str(), out.c_str(), s);
  return 0;
}

/// `kpde eval` of an MgNO: a table of sample, x, y, u (and u_ref, the dataset's solution)
/// at every node of every input; the relative errors against the dataset's solutions.
int eval_mgno(const Args& a, const std::string& model_path) {
  if (!a.has("--inputs")) throw InputError("eval: an MgNO model needs --inputs DATASET.h5 (gridded inputs, e.g. darcy data)");
  for (const char* flag : {"--points", "--grid", "--random", "--derivatives"})
    if (a.has(flag)) throw InputError(std::string("eval: ") + flag + " is not for MgNO models (they map whole grids)");
  const auto t0 = std::chrono::steady_clock::now();
  const operators::TrainedMgno model = operators::read_mgno_model(model_path);
  const std::string path = a.str("--inputs", "");
  const operators::OperatorData d = operators::read_operator_data(path, false);
  if (d.kind != model.data_kind)
    throw InputError("eval: --inputs " + path + ": " + d.kind + " data; the model was trained on " + model.data_kind + " data");
  if (d.image[0] != model.spec.in_channels || d.image[1] != d.image[2])
    throw InputError("eval: --inputs " + path + ": images of " + std::to_string(d.image[0]) + " channels; the model reads " +
                     std::to_string(model.spec.in_channels));
  const operators::Mgno<double> net(model.spec);
  Mat<double> pred;
  const operators::MgnoErrors e = operators::mgno_errors(net, model.params.data(), d, &pred);
  const std::size_t N = pred.extent(0), P = pred.extent(1), n = static_cast<std::size_t>(d.image[1]);
  data::Table t;
  t.names = {"sample", "x", "y", "u", "u_ref"};
  t.columns.assign(t.names.size(), std::vector<double>(N * P));
  for (std::size_t b = 0; b < N; ++b)
    for (std::size_t j = 0; j < P; ++j) {
      const std::size_t r = b * P + j;
      t.columns[0][r] = double(b);
      t.columns[1][r] = d.y(j, 0), t.columns[2][r] = d.y(j, 1);
      t.columns[3][r] = pred(b, j), t.columns[4][r] = d.s(b, j);
    }
  const std::string out = a.str("--out", "");
  data::write_table(out, t);
  const auto mean = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m += x;
    return m / double(v.size());
  };
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.has("--quiet")) return 0;
  std::printf("eval %s: %zu inputs on a %zu x %zu grid (trained on %d x %d %s data), rel_l2 mean %.3e, rel_h1 mean %.3e; "
              "wrote %s in %.2f s\n", model_path.c_str(), N, n, n, model.grid, model.grid, model.data_kind.c_str(),
              mean(e.l2), mean(e.h1), out.c_str(), s);
  const int m = static_cast<int>(n);
  if (model.grid > 1 && m != model.grid && (m - 1) % (model.grid - 1) == 0) {  // also through the training grid
    const operators::MgnoErrors r = operators::mgno_resampled_errors(net, model.params.data(), d, model.grid);
    std::printf("eval %s: resampled (the %d x %d nodes in, bilinear out): rel_l2 mean %.3e, rel_h1 mean %.3e\n",
                model_path.c_str(), model.grid, model.grid, mean(r.l2), mean(r.h1));
  }
  return 0;
}

}  // namespace

int eval(int argc, char** argv, int first) {
  const Args a(argc, argv, first, "eval");
  if (a.positional().empty()) throw InputError("eval: name a model file: kpde eval MODEL.h5 --points FILE --out FILE");
  const std::string model_path = a.positional()[0];
  const int sources = int(a.has("--points")) + int(a.has("--grid")) + int(a.has("--random"));
  if (!a.has("--out")) throw InputError("eval: --out FILE.csv|FILE.h5 is required");
  const std::string out = a.str("--out", "");
  data::table_format(out);  // a bad extension fails before any work
  const auto t0 = std::chrono::steady_clock::now();
  const io::ModelFile file = io::read_model_file(model_path);
  if (file.kind == "mgno") return eval_mgno(a, model_path);
  if (file.kind == "deeponet") {
    if (sources > 1) throw InputError("eval: give at most one of --points FILE or --grid N");
    return eval_deeponet(a, model_path, file);
  }
  if (a.has("--inputs")) throw InputError("eval: --inputs is for DeepONet models; " + model_path + " is a " + file.kind + " model");
  if (sources != 1) throw InputError("eval: give exactly one of --points FILE, --grid N or --random N");
  if (file.kind != "pinn")
    throw InputError("eval: " + model_path + ": '" + file.kind + "' models cannot be evaluated (pinn, deeponet and mgno models can)");
  const pinn::TrainedPinn model(file, model_path);
  const int d = model.dim();
  // the quantities: u, then each derivative by the name asked for
  std::vector<pinn::Quantity> q = {pinn::parse_quantity("u", d, file.time_axis)};
  for (const auto& name : split(a.str("--derivatives", ""))) {
    try {
      q.push_back(pinn::parse_quantity(name, d, file.time_axis));
    } catch (const InputError& e) {
      throw InputError(std::string("eval: --derivatives: ") + e.what());
    }
    for (std::size_t k = 0; k + 1 < q.size(); ++k)
      if (q[k].name == name) throw InputError("eval: --derivatives: '" + name + "' is asked for twice");
  }
  std::vector<std::string> coords;
  Mat<double> x;
  if (a.has("--points")) {
    const std::string path = a.str("--points", "");
    x = points_from_table(data::read_table(path), path, file, &coords);
  } else if (a.has("--grid")) {
    const long n = a.integer("--grid", 0, 2);
    if (std::pow(double(n), d) > 1e8) throw InputError("eval: --grid " + std::to_string(n) + " gives more than 10^8 points");
    x = grid_points(file, n);
    coords = pinn::axis_names(d);
  } else {
    const long n = a.integer("--random", 0, 1);
    if (n > 100000000) throw InputError("eval: --random " + std::to_string(n) + " is above 10^8 points");
    x = random_points(file, n, static_cast<std::uint64_t>(a.integer("--seed", 0, 0)));
    coords = pinn::axis_names(d);
  }
  const std::vector<double> values = model.evaluate(x, q);
  data::Table t;
  const std::size_t n = x.extent(0), Q = q.size();
  for (int k = 0; k < d; ++k) {
    t.names.push_back(coords[k]);
    t.columns.emplace_back(n);
    for (std::size_t p = 0; p < n; ++p) t.columns.back()[p] = x(p, k);
  }
  for (std::size_t k = 0; k < Q; ++k) {
    t.names.push_back(q[k].name);
    t.columns.emplace_back(n);
    for (std::size_t p = 0; p < n; ++p) t.columns.back()[p] = values[p * Q + k];
  }
  data::write_table(out, t);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.has("--quiet")) {
    const std::string cols = join(t.names);
    std::printf("eval %s: %zu points, columns %s, wrote %s in %.2f s\n", model_path.c_str(), n, cols.c_str(),
                out.c_str(), s);
  }
  return 0;
}

}  // namespace kpde::cli
