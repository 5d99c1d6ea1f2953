#include "pinn/model.hpp"

#include <optional>

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "data/residual.hpp"
#include "io/hdf5.hpp"
#include "nn/gaussian_features.hpp"
#include "pinn/settings.hpp"

namespace kpde::pinn {

std::vector<std::string> axis_names(int dim) {
  const std::vector<std::string> all = {"x", "y", "z"};
  return std::vector<std::string>(all.begin(), all.begin() + dim);
}

Quantity parse_quantity(const std::string& name, int dim, int time_axis) {
  Quantity q;
  q.name = name;
  const auto axis = [&](char c) {
    for (int a = 0; a < dim; ++a)
      if (c == "xyz"[a] || (c == 't' && a == time_axis)) return a;
    return -1;
  };
  bool ok = false;
  if (name == "u") {
    ok = true;
  } else if (name == "lap") {
    q.order = 2, q.laplacian = true, ok = true;
  } else if (name.size() == 3 && name.compare(0, 2, "u_") == 0 && axis(name[2]) >= 0) {
    q.order = 1, q.i = axis(name[2]), ok = true;
  } else if (name.size() == 4 && name.compare(0, 2, "u_") == 0 && axis(name[2]) >= 0 && axis(name[3]) >= 0) {
    q.order = 2, q.i = std::min(axis(name[2]), axis(name[3])), q.j = std::max(axis(name[2]), axis(name[3])), ok = true;
  }
  if (!ok) {
    std::string valid = "u";
    const std::vector<std::string> names = axis_names(dim);
    for (const auto& a : names) valid += ", u_" + a;
    for (int a = 0; a < dim; ++a)
      for (int b = a; b < dim; ++b) valid += ", u_" + names[a] + names[b];
    if (time_axis >= 0) valid += " (the time axis " + names[time_axis] + " may be called t)";
    valid += ", lap";
    throw InputError("unknown quantity '" + name + "' (expected one of: " + valid + ")");
  }
  return q;
}

template <class T>
io::ModelFile make_model_file(const nn::Network<T>& net, const Vec<const T>& params, const std::string& architecture,
                              const data::Problem& problem, const std::string& problem_text,
                              const std::string& source_directory, bool hard_dirichlet) {
  io::ModelFile m;
  m.kind = "pinn";
  m.precision = std::is_same<T, double>::value ? "float64" : "float32";
  m.architecture = architecture;
  m.problem = problem_text;
  m.source_directory = source_directory;
  m.coordinates = axis_names(problem.dim);
  if (problem.is_system()) m.outputs = problem.fields;
  m.time_axis = problem.time_axis;
  m.output_transform = hard_dirichlet ? "hard_dirichlet" : "none";
  m.description = "kpde PINN for '" + problem.name + "': " + problem.describe();
  m.params.resize(params.extent(0));
  for (std::size_t i = 0; i < m.params.size(); ++i) m.params[i] = double(params(i));
  m.input_offset.assign(problem.dim, 0.0);  // the network takes x as it is
  m.input_scale.assign(problem.dim, 1.0);
  for (int a = 0; a < problem.dim; ++a) {
    m.domain_lo.push_back(problem.geometry->lo()[a]);
    m.domain_hi.push_back(problem.geometry->hi()[a]);
  }
  (void)net;
  return m;
}

template <class T>
void load_init_params(const std::string& path, const nn::Network<T>& net, const Vec<T>& params) {
  const io::H5File f = io::H5File::open(path);
  const auto bad = [&](const std::string& why) { throw InputError("model.init_from: " + path + ": " + why); };
  const std::string format = f.has_attribute("/", "format") ? f.string_attribute("/", "format") : "";
  if (format != "kpde-checkpoint" && format != "kpde-model")
    bad("not a kpde checkpoint or model file (a checkpoint.h5 or model.h5 written by kpde solve)");
  const std::size_t n = params.extent(0);
  const io::Shape shape = f.shape("params");
  if (shape.size() != 1) bad("its params are not a vector");
  if (shape[0] == n) {
    const auto p = f.read_checked("params", {n});
    for (std::size_t i = 0; i < n; ++i) params(i) = T(p[i]);
    return;
  }
  // A diagonal-covariance file for this full-covariance model: the same dense part,
  // per Gaussian mu, log sigma, w; the off-diagonal entries of U start at 0.
  const auto& fs = net.spec().features;
  const int d = net.spec().input_dim;
  const nn::GaussLayout diag(d, fs.gauss_channels, false), full(d, fs.gauss_channels, true);
  const std::size_t dense = net.n_dense_params(), Ng = fs.n_gaussians;
  if (!(fs.kind == nn::FeatureKind::gaussian && fs.full_covariance && shape[0] == dense + Ng * diag.stride))
    bad("it holds " + std::to_string(shape[0]) + " parameters; this model has " + std::to_string(n) +
        " (the same model, or its diagonal-covariance version for covariance: full, is needed)");
  const auto p = f.read_checked("params", {shape[0]});
  for (std::size_t i = 0; i < dense; ++i) params(i) = T(p[i]);
  for (std::size_t g = 0; g < Ng; ++g) {
    const double* q = &p[dense + g * diag.stride];
    const std::size_t o = dense + g * full.stride;
    for (int j = 0; j < d; ++j) params(o + full.mu() + j) = T(q[diag.mu() + j]), params(o + full.s() + j) = T(q[diag.s() + j]);
    for (int j = 0; j < full.nu; ++j) params(o + full.u() + j) = T(0);
    for (int c = 0; c < full.k; ++c) params(o + full.w() + c) = T(q[diag.w() + c]);
  }
}

// ---- TrainedPinn ---------------------------------------------------------------------------

struct TrainedPinn::Impl {
  io::ModelFile file;
  std::string name;
  ModelSettings settings;
  std::unique_ptr<data::Problem> problem;  // for the output transform
  std::unique_ptr<nn::Network<double>> net64;
  std::unique_ptr<nn::Network<float>> net32;
  Vec<double> p64;
  Vec<float> p32;

  int n_params() const { return net64 ? net64->n_params() : net32->n_params(); }

  /// The network's channels at z [n][d]: out [n][C].
  template <class T>
  static void forward(const nn::Network<T>& net, const Vec<T>& params, const Mat<const double>& z,
                      const nn::ChannelSpec& ch, std::vector<double>& out) {
    const std::size_t n = z.extent(0), d = z.extent(1);
    const int C = ch.n_channels();
    Mat<T> zt(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::eval_z"), n, d);
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t a = 0; a < d; ++a) zt(p, a) = T(z(p, a));
    Arr3<T> y(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::eval_y"), n, C, 1);
    net.forward(nn::as_batch(Vec<const T>(params)), nn::as_batch(Mat<const T>(zt)), ch, nn::as_batch(y));
    out.resize(n * C);
    for (std::size_t p = 0; p < n; ++p)
      for (int c = 0; c < C; ++c) out[p * C + c] = double(y(p, c, 0));
  }
  void channels(const Mat<const double>& z, const nn::ChannelSpec& ch, std::vector<double>& out) const {
    if (net64) forward(*net64, p64, z, ch, out);
    else forward(*net32, p32, z, ch, out);
  }
};

TrainedPinn::TrainedPinn(const std::string& path) : TrainedPinn(io::read_model_file(path, "pinn"), path) {}

TrainedPinn::TrainedPinn(io::ModelFile file, const std::string& name) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.file = std::move(file);
  m.name = name;
  const auto bad = [&](const std::string& why) { throw InputError("model file " + name + ": " + why); };
  if (m.file.kind != "pinn") bad("a '" + m.file.kind + "' model; expected a 'pinn' model");
  const int d = m.file.input_dim();
  if (m.file.outputs.size() > 1)
    bad("a system's model (fields " + join(m.file.outputs, ", ") + "); evaluating systems from a model file is not "
        "implemented yet (solution.h5 holds every field)");
  {
    config::Document doc = config::Document::load_string(m.file.architecture, name + " (architecture)");
    m.settings = load_model(doc.root(), d);
    doc.check_unused();
  }
  if ((m.settings.precision == Precision::float64) != (m.file.precision == "float64"))
    bad("its precision attribute (" + m.file.precision + ") contradicts its architecture");
  const std::size_t n = m.file.params.size();
  if (m.settings.precision == Precision::float64) {
    m.net64 = std::make_unique<nn::Network<double>>(m.settings.network);
    m.p64 = Vec<double>("kpde::pinn::model_params", n);
    for (std::size_t i = 0; i < n; ++i) m.p64(i) = m.file.params[i];
  } else {
    m.net32 = std::make_unique<nn::Network<float>>(m.settings.network);
    m.p32 = Vec<float>("kpde::pinn::model_params", n);
    for (std::size_t i = 0; i < n; ++i) m.p32(i) = float(m.file.params[i]);
  }
  if (static_cast<std::size_t>(m.n_params()) != n)
    bad("'params' holds " + std::to_string(n) + " values; its architecture has " + std::to_string(m.n_params()) +
        " parameters (a truncated or altered file)");
  if (m.file.output_transform == "hard_dirichlet") {
    config::Document doc = config::Document::load_string(m.file.problem, name + " (problem)", m.file.source_directory);
    m.problem = std::make_unique<data::Problem>(data::load_problem(doc.root(), doc));
    if (m.problem->dim != d) bad("its problem is " + std::to_string(m.problem->dim) + "-D, its coordinates " +
                                 std::to_string(d) + "-D");
  }
}

TrainedPinn::~TrainedPinn() = default;
TrainedPinn::TrainedPinn(TrainedPinn&&) noexcept = default;

const io::ModelFile& TrainedPinn::file() const { return impl_->file; }
int TrainedPinn::dim() const { return impl_->file.input_dim(); }
int TrainedPinn::n_params() const { return impl_->n_params(); }

std::vector<double> TrainedPinn::evaluate(const Mat<const double>& x, const std::vector<Quantity>& quantities) const {
  const Impl& m = *impl_;
  const int d = dim(), ta = m.file.time_axis;
  KPDE_REQUIRE(x.extent(1) == static_cast<std::size_t>(d), InputError,
               "evaluate: points with " + std::to_string(x.extent(1)) + " coordinates for a " + std::to_string(d) +
                   "-D model");
  const std::vector<double>& off = m.file.input_offset;
  const std::vector<double>& sc = m.file.input_scale;
  // channels: the collapsed Laplacian when lap is the only second-order quantity
  bool first = false, second = false, other_second = false;
  for (const auto& q : quantities) {
    first = first || q.order >= 1;
    second = second || q.order == 2;
    other_second = other_second || (q.order == 2 && !q.laplacian);
  }
  // ch: the channels in x (what the quantities read, what the output transform takes);
  // ch_z: the same layout as the network computes them in z
  nn::ChannelSpec ch = nn::ChannelSpec::value(d), ch_z;
  if (second && !other_second) {
    std::array<double, 3> a{0, 0, 0}, az{0, 0, 0};
    for (int i = 0; i < d; ++i) a[i] = i == ta ? 0.0 : 1.0, az[i] = a[i] * sc[i] * sc[i];
    ch = nn::ChannelSpec::laplacian(d, a);
    ch_z = nn::ChannelSpec::laplacian(d, az);
  } else if (second) {
    ch = nn::ChannelSpec::hessian(d);
  } else if (first) {
    ch = nn::ChannelSpec::with_gradient(d);
  }
  if (ch.second != nn::SecondOrder::laplacian) ch_z = ch;
  const std::size_t n = x.extent(0);
  const int C = ch.n_channels();
  Mat<double> z(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::pinn::eval_points"), n, d);
  for (std::size_t p = 0; p < n; ++p)
    for (int a = 0; a < d; ++a) z(p, a) = (x(p, a) - off[a]) * sc[a];
  std::vector<double> y;
  m.channels(z, ch_z, y);
  // derivatives with respect to x: dN/dx_a = s_a dN/dz_a, second channels s_a s_b (the
  // collapsed Laplacian has the factors in its weights)
  std::vector<double> factor(C, 1.0);
  for (int a = 0; a < ch.n_grad(); ++a) factor[ch.grad_channel(a)] = sc[a];
  if (ch.second == nn::SecondOrder::hessian)
    for (int a = 0; a < d; ++a)
      for (int b = a; b < d; ++b) factor[ch.hessian_channel(a, b)] = sc[a] * sc[b];
  std::optional<data::HardDirichlet> hard;
  std::vector<double> jets;
  if (m.problem) {
    hard.emplace(*m.problem, ch);
    jets = hard->jets(x);
  }
  const std::size_t Q = quantities.size();
  std::vector<double> out(n * Q);
  Kokkos::parallel_for("kpde::pinn::eval_quantities", Kokkos::RangePolicy<HostExec>(0, n), [&](const std::size_t p) {
    double u[16], v[16];
    for (int c = 0; c < C; ++c) v[c] = y[p * C + c] * factor[c];
    if (hard) hard->forward(jets.data() + p * hard->stride(), v, 1, true, u);
    else std::copy(v, v + C, u);
    for (std::size_t k = 0; k < Q; ++k) {
      const Quantity& q = quantities[k];
      double value = u[0];
      if (q.laplacian) {
        value = 0;
        if (ch.second == nn::SecondOrder::laplacian) value = u[ch.second_channel(0)];
        else
          for (int a = 0; a < d; ++a)
            if (a != ta) value += u[ch.hessian_channel(a, a)];
      } else if (q.order == 1) {
        value = u[ch.grad_channel(q.i)];
      } else if (q.order == 2) {
        value = u[ch.hessian_channel(q.i, q.j)];
      }
      out[p * Q + k] = value;
    }
  });
  return out;
}

template io::ModelFile make_model_file<float>(const nn::Network<float>&, const Vec<const float>&, const std::string&,
                                              const data::Problem&, const std::string&, const std::string&, bool);
template io::ModelFile make_model_file<double>(const nn::Network<double>&, const Vec<const double>&,
                                               const std::string&, const data::Problem&, const std::string&,
                                               const std::string&, bool);
template void load_init_params<float>(const std::string&, const nn::Network<float>&, const Vec<float>&);
template void load_init_params<double>(const std::string&, const nn::Network<double>&, const Vec<double>&);

}  // namespace kpde::pinn
