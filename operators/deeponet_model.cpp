#include "operators/deeponet_model.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "data/network_config.hpp"

namespace kpde::operators {

namespace {

/// A list of integers >= 1 (`key`), or the fallback when absent.
std::vector<int> counts(const config::Node& n, const std::string& key, const std::vector<int>& fallback) {
  if (!n.has(key)) return fallback;
  std::vector<int> out;
  for (double v : n.at(key).as_doubles()) {
    if (!(v >= 1 && v <= 65536 && v == static_cast<int>(v))) n.at(key).fail(key + ": integers in [1, 65536] expected");
    out.push_back(static_cast<int>(v));
  }
  return out;
}

}  // namespace

std::string read_model_section(const config::Node& model, DeepOnetSpec& s) {
  const std::string type = model.get_choice("type", {"deeponet", "pi_deeponet", "mt_deeponet"});
  s.basis = static_cast<int>(model.get_long_min("basis", s.basis, 1, 4096));
  const config::Node br = model.section("branch"), tr = model.section("trunk");
  s.cnn_branch = br.get_choice("type", "mlp", {"mlp", "cnn"}) == "cnn";
  if (s.cnn_branch) {  // MT-DeepONet's CNN (cnn_branch.hpp); the image shape comes from the data
    s.cnn.filters = counts(br, "filters", s.cnn.filters);
    s.cnn.kernel = static_cast<int>(br.get_long_min("kernel", s.cnn.kernel, 1, 31));
    s.cnn.pool = static_cast<int>(br.get_long_min("pool", s.cnn.pool, 1, 16));
    s.cnn.dense = counts(br, "dense", s.cnn.dense);
    const std::string act = br.get_string("activation", "relu");
    s.cnn.conv_activation = br.at("activation").check([&] { return parse_cnn_activation(act); });
  } else {
    s.branch_width = static_cast<int>(br.get_long_min("width", s.branch_width, 1, 65536));
    s.branch_depth = static_cast<int>(br.get_long_min("depth", s.branch_depth, 1, 64));
  }
  s.trunk_width = static_cast<int>(tr.get_long_min("width", s.trunk_width, 1, 65536));
  s.trunk_depth = static_cast<int>(tr.get_long_min("depth", s.trunk_depth, 1, 64));
  if (auto f = tr.find("features")) s.trunk_features = data::load_fourier_features(*f);
  s.bias = model.get_bool("bias", true);
  if (model.has("output_scale")) s.output_scale = model.get_double_above("output_scale", 1.0, 0.0);
  return type;
}

namespace {

io::ModelFile::Array array_of(const Mat<double>& m) {
  io::ModelFile::Array a;
  a.values.assign(m.data(), m.data() + m.size());
  a.shape = {m.extent(0), m.extent(1)};
  return a;
}

}  // namespace

io::ModelFile deeponet_model_file(const std::string& model_text, const DeepOnetSpec& spec, const std::string& data_kind,
                                  const std::string& problem_text, const std::string& precision,
                                  std::vector<double> params, const Mat<double>& sensors, const Mat<double>& points) {
  io::ModelFile m;
  m.kind = "deeponet";
  m.precision = precision;
  m.architecture = model_text + (model_text.empty() || model_text.back() == '\n' ? "" : "\n") +
                   "sensors: " + std::to_string(spec.sensors) + "\ncoord_dim: " + std::to_string(spec.coord_dim) +
                   "\noutputs: " + std::to_string(spec.outputs) + "\ndata: " + data_kind + "\n" +

                   (spec.cnn_branch ? "image: [" + std::to_string(spec.cnn.channels) + ", " + std::to_string(spec.cnn.height) +
                                          ", " + std::to_string(spec.cnn.width) + "]\n"
                                    : "");
  m.problem = problem_text;
  m.params = std::move(params);
  const int d = spec.coord_dim;
  static const char* names[3] = {"x", "y", "z"};
  for (int a = 0; a < d; ++a) {
    m.coordinates.push_back(names[a]);
    double lo = points.extent(0) ? points(0, a) : 0, hi = lo;
    for (std::size_t j = 0; j < points.extent(0); ++j) lo = std::min(lo, points(j, a)), hi = std::max(hi, points(j, a));
    m.domain_lo.push_back(lo), m.domain_hi.push_back(hi);
    m.input_offset.push_back(0), m.input_scale.push_back(1);
  }
  if (sensors.extent(0) > 0) m.arrays.emplace_back("sensors", array_of(sensors));
  m.arrays.emplace_back("points", array_of(points));
  return m;
}

TrainedDeepOnet read_deeponet_model(const std::string& path) {
  const io::ModelFile f = io::read_model_file(path, "deeponet");
  TrainedDeepOnet t;
  config::Document doc = config::Document::load_string(f.architecture, path + " (architecture)");
  const config::Node root = doc.root();
  t.type = read_model_section(root, t.spec);
  root.get_long_min("seed", 1, 0);
  t.spec.sensors = static_cast<int>(root.get_long_min("sensors", 1, 1, 1000000));
  t.spec.coord_dim = static_cast<int>(root.get_long_min("coord_dim", 1, 1, 3));
  t.spec.outputs = static_cast<int>(root.get_long_min("outputs", 1, 1, 64));
  t.data_kind = root.get_string("data");
  if (t.spec.cnn_branch) {
    const std::vector<int> im = counts(root, "image", {});
    if (im.size() != 3) root.fail("image: [channels, height, width] expected for a CNN branch");
    t.spec.cnn.channels = im[0], t.spec.cnn.height = im[1], t.spec.cnn.width = im[2];
  }
  doc.check_unused();
  t.problem = f.problem;
  t.precision = f.precision;
  const DeepOnet<double> net(t.spec);
  if (f.params.size() != net.n_params())
    throw InputError("model file " + path + ": " + std::to_string(f.params.size()) + " parameters, its architecture has " +
                     std::to_string(net.n_params()));
  t.params = f.params;
  const auto matrix = [&](const char* name, std::size_t rows, std::size_t cols) {
    const io::ModelFile::Array& a = f.array(name, path);
    if (a.shape.size() != 2 || (rows && a.shape[0] != rows) || a.shape[1] != cols)
      throw InputError("model file " + path + ": 'arrays/" + name + "' is not [" + (rows ? std::to_string(rows) : "n") +
                       "][" + std::to_string(cols) + "]");
    Mat<double> m(std::string(name), a.shape[0], a.shape[1]);
    std::copy(a.values.begin(), a.values.end(), m.data());
    return m;
  };
  for (const auto& [name, a] : f.arrays)
    if (name == "sensors") t.sensors = matrix("sensors", a.shape.size() == 2 ? a.shape[0] : 1, a.shape.size() == 2 ? a.shape[1] : 0);
  t.points = matrix("points", 0, static_cast<std::size_t>(t.spec.coord_dim));
  return t;
}

Arr4<double> evaluate(const TrainedDeepOnet& model, const Mat<const double>& u, const Mat<const double>& y,
                      const nn::ChannelSpec& channels) {
  const DeepOnet<double> net(model.spec);
  const std::size_t N = u.extent(0), P = y.extent(0), C = static_cast<std::size_t>(channels.n_channels());
  const std::size_t n_out = static_cast<std::size_t>(model.spec.outputs);
  Arr4<double> G("kpde::deeponet::eval", N, P, C, n_out);
  for (std::size_t a = 0; a < N; a += 256) {
    const std::size_t nb = std::min<std::size_t>(256, N - a);
    const Mat<const double> ub = Kokkos::subview(u, std::make_pair(a, a + nb), Kokkos::ALL);
    const Arr4<double> Gb(G.data() + a * P * C * n_out, nb, P, C, n_out);
    net.forward(model.params.data(), ub, y, channels, Gb);
  }
  return G;
}

}  // namespace kpde::operators
