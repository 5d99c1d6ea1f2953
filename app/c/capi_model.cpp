// The model behind a kpde_model handle: creation from a config or a model file, input
// scaling, evaluation with derivative channels, parameters, model files.
#include "c/capi_model.hpp"

#include "kpde.h"

#include <cmath>
#include <cstdlib>
#include <optional>

#include "config/config.hpp"
#include "core/error.hpp"
#include "io/hdf5.hpp"
#include "pinn/model.hpp"
#include "pinn/objective.hpp"
#include "pinn/solve.hpp"
#include "train/adam_stage.hpp"

namespace kpde::capi {

namespace {

/// Quantity of bit b: order 1 (axis i), order 2 (axes i <= j), or the Laplacian.
struct Bit {
  int order, i, j;
};
constexpr Bit kBits[11] = {{0, -1, -1}, {1, 0, -1}, {1, 1, -1}, {1, 2, -1}, {2, 0, 0}, {2, 0, 1},
                           {2, 1, 1},   {2, 0, 2},  {2, 1, 2},  {2, 2, 2},  {3, -1, -1}};
const char* const kBitNames[11] = {"KPDE_U",  "KPDE_U_X",  "KPDE_U_Y",  "KPDE_U_Z",  "KPDE_U_XX", "KPDE_U_XY",
                                   "KPDE_U_YY", "KPDE_U_XZ", "KPDE_U_YZ", "KPDE_U_ZZ", "KPDE_LAP"};

}  // namespace

int quantity_count(unsigned mask) {
  int q = 0;
  for (unsigned m = mask; m; m >>= 1) q += int(m & 1u);
  return q;
}

void require_finite(const double* v, std::int64_t n, const char* what, int row_length) {
  long bad = 0;
  Kokkos::parallel_reduce(
      "kpde::capi::finite", Kokkos::RangePolicy<HostExec>(0, n),
      [&](const std::int64_t i, long& b) { b += std::isfinite(v[i]) ? 0 : 1; }, bad);
  if (!bad) return;
  for (std::int64_t i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) {
      const std::string at = row_length > 1 ? "[" + std::to_string(i / row_length) + "][" +
                                                  std::to_string(i % row_length) + "]"
                                            : "[" + std::to_string(i) + "]";
      throw InputError(std::string(what) + at + " is " + std::to_string(v[i]) + "; expected finite numbers");
    }
}

// ---- creation --------------------------------------------------------------------------

std::unique_ptr<Model> make(ModelSource s, MPI_Comm comm) {
  if (s.settings.precision == pinn::Precision::float32) return std::make_unique<CModel<float>>(std::move(s), comm);
  return std::make_unique<CModel<double>>(std::move(s), comm);
}

std::unique_ptr<Model> model_from_config(const std::string& path, MPI_Comm comm) {
  config::Document doc = config::Document::load_file(path);
  pinn::SolveConfig cfg = pinn::load_solve_config(doc, false);
  ModelSource s;
  s.from_config = true;
  s.name = path;
  s.settings = cfg.model;
  s.pinn = cfg.pinn;
  if (cfg.training.weights.size() == 3) s.weights = cfg.training.weights;
  for (const auto& st : cfg.training.stages)
    if (const auto* a = dynamic_cast<const train::AdamStageConfig*>(st.get())) {
      s.adam = a->adam;
      break;
    }
  s.file.architecture = cfg.model_text.empty() ? std::string("{}\n") : cfg.model_text;
  s.file.problem = cfg.problem_text;
  s.file.source_directory = cfg.source_directory;
  s.problem = std::make_unique<data::Problem>(std::move(cfg.problem));
  // Gaussian features: the problem's box holds the initial means (as kpde solve does)
  auto& fs = s.settings.network.features;
  if (fs.kind == nn::FeatureKind::gaussian)
    for (int a = 0; a < s.problem->dim; ++a) fs.lo[a] = s.problem->geometry->lo()[a], fs.hi[a] = s.problem->geometry->hi()[a];
  return make(std::move(s), comm);
}

std::unique_ptr<Model> model_from_file(const std::string& path, MPI_Comm comm) {
  ModelSource s;
  s.name = path;
  s.file = io::read_model_file(path);
  if (s.file.kind != "pinn")
    throw InputError(path + ": a '" + s.file.kind + "' model; the C API takes 'pinn' models (model.h5 of kpde solve)");
  const int d = s.file.input_dim();
  {
    config::Document doc = config::Document::load_string(s.file.architecture, path + " (architecture)");
    s.settings = pinn::load_model(doc.root(), d);
    doc.check_unused();
  }
  if ((s.settings.precision == pinn::Precision::float64) != (s.file.precision == "float64"))
    throw InputError(path + ": its precision attribute (" + s.file.precision + ") contradicts its architecture");
  s.pinn.hard_dirichlet = s.file.output_transform == "hard_dirichlet";
  if (s.pinn.hard_dirichlet) {  // u = g + phi N needs the problem now
    config::Document doc = config::Document::load_string(s.file.problem, path + " (problem)", s.file.source_directory);
    s.problem = std::make_unique<data::Problem>(data::load_problem(doc.root(), doc));
  }
  return make(std::move(s), comm);
}

// ---- CModel ------------------------------------------------------------------------------

template <class T>
CModel<T>::CModel(ModelSource source, MPI_Comm comm)
    : source_(std::move(source)), net_(source_.settings.network) {
  const std::size_t n = net_.n_params();
  params_ = Vec<T>("kpde::capi::params", n);
  grad_ = Vec<T>("kpde::capi::grad", n);
  if (source_.from_config) {
    net_.init_params(params_, source_.settings.seed, source_.settings.init);
    if (!source_.settings.init_from.empty()) pinn::load_init_params(source_.settings.init_from, net_, params_);
    const io::ModelFile& f = source_.file;
    source_.file = pinn::make_model_file(net_, Vec<const T>(params_), f.architecture, *source_.problem, f.problem,
                                         f.source_directory, source_.pinn.hard_dirichlet);
  } else {
    if (source_.file.params.size() != n)
      throw InputError(source_.name + ": 'params' holds " + std::to_string(source_.file.params.size()) +
                       " values; its architecture has " + std::to_string(n) + " parameters");
    for (std::size_t i = 0; i < n; ++i) params_(i) = T(source_.file.params[i]);
  }
  if (comm != MPI_COMM_NULL) {
    if (MPI_Comm_dup(comm, &mpi_) != MPI_SUCCESS) throw InputError("comm: MPI_Comm_dup failed; expected a valid communicator");
    comm_ = train::Comm(mpi_);
  }
}

template <class T>
CModel<T>::~CModel() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (mpi_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&mpi_);
}

template <class T>
const data::Problem& CModel<T>::problem() {
  if (!source_.problem) {
    const io::ModelFile& f = source_.file;
    if (f.problem.empty()) throw InputError(source_.name + ": the model file holds no problem (physics steps need one)");
    config::Document doc = config::Document::load_string(f.problem, source_.name + " (problem)", f.source_directory);
    source_.problem = std::make_unique<data::Problem>(data::load_problem(doc.root(), doc));
  }
  return *source_.problem;
}

template <class T>
bool CModel<T>::identity_scaling() const {
  for (int a = 0; a < dim(); ++a)
    if (source_.file.input_offset[a] != 0.0 || source_.file.input_scale[a] != 1.0) return false;
  return true;
}

template <class T>
Arr3<const T> CModel<T>::network_input(std::int64_t n, const double* x) {
  const int d = dim();
  if constexpr (std::is_same<T, double>::value)
    if (identity_scaling()) return Arr3<const T>(x, 1, n, d);  // the caller's memory, no copy
  if (z_.extent(0) < static_cast<std::size_t>(n) || z_.extent(1) != static_cast<std::size_t>(d))
    z_ = Mat<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::capi::z"), n, d);
  const std::vector<double>& off = source_.file.input_offset;
  const std::vector<double>& sc = source_.file.input_scale;
  T* z = z_.data();
  Kokkos::parallel_for("kpde::capi::scale", Kokkos::RangePolicy<HostExec>(0, n), [&](const std::int64_t p) {
    for (int a = 0; a < d; ++a) z[p * d + a] = T((x[p * d + a] - off[a]) * sc[a]);
  });
  return Arr3<const T>(z_.data(), 1, n, d);
}

template <class T>
void CModel<T>::eval(std::int64_t n, const double* x, unsigned mask, double* out) {
  const int d = dim(), ta = time_axis();
  if (mask == 0 || (mask & ~unsigned(KPDE_ALL_QUANTITIES)))
    throw InputError("quantities: " + std::to_string(mask) + " is not a set of KPDE_U ... KPDE_LAP bits");
  bool first = false, diag = false, mixed = false, lap = false;
  for (int b = 0; b < 11; ++b) {
    if (!(mask & (1u << b))) continue;
    const Bit& q = kBits[b];
    if (q.i >= d || q.j >= d)
      throw InputError(std::string("quantities: ") + kBitNames[b] + " asks for axis " + std::to_string(std::max(q.i, q.j)) +
                       " of a " + std::to_string(d) + "-D model");
    first = first || q.order == 1;
    diag = diag || (q.order == 2 && q.i == q.j);
    mixed = mixed || (q.order == 2 && q.i != q.j);
    lap = lap || q.order == 3;
  }
  if (n == 0) return;
  require_finite(x, n * d, "x", d);
  const std::vector<double>& sc = source_.file.input_scale;
  // ch: the channels in x; ch_z: the same layout as the network computes them in z
  nn::ChannelSpec ch = nn::ChannelSpec::value(d), ch_z;
  if (mixed) {
    ch = nn::ChannelSpec::hessian(d);
  } else if (diag) {
    ch = nn::ChannelSpec::diagonal(d);
  } else if (lap) {
    std::array<double, 3> a{0, 0, 0}, az{0, 0, 0};
    for (int i = 0; i < d; ++i) a[i] = i == ta ? 0.0 : 1.0, az[i] = a[i] * sc[i] * sc[i];
    ch = nn::ChannelSpec::laplacian(d, a);
    ch_z = nn::ChannelSpec::laplacian(d, az);
  } else if (first) {
    ch = nn::ChannelSpec::with_gradient(d);
  }
  if (ch.second != nn::SecondOrder::laplacian) ch_z = ch;
  const int C = ch.n_channels();
  if (y_.extent(0) < static_cast<std::size_t>(n * C))
    y_ = Kokkos::View<T*, HostSpace>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::capi::y"), n * C);
  const Arr4<T> y(y_.data(), 1, n, C, 1);
  net_.forward(nn::as_batch(Vec<const T>(params_)), network_input(n, x), ch_z, y);
  // dN/dx_a = s_a dN/dz_a, second channels s_a s_b (the collapsed Laplacian has them in its weights)
  double factor[16];
  for (int c = 0; c < C; ++c) factor[c] = 1.0;
  for (int a = 0; a < ch.n_grad(); ++a) factor[ch.grad_channel(a)] = sc[a];
  if (ch.second == nn::SecondOrder::hessian || ch.second == nn::SecondOrder::diagonal)
    for (int a = 0; a < d; ++a)
      for (int b = a; b < d; ++b)
        if (ch.hessian_channel(a, b) >= 0) factor[ch.hessian_channel(a, b)] = sc[a] * sc[b];
  // columns: for each set bit, the channel it reads (-1: the Laplacian summed here)
  int col[11], ncol = 0;
  for (int b = 0; b < 11; ++b) {
    if (!(mask & (1u << b))) continue;
    const Bit& q = kBits[b];
    col[ncol++] = q.order == 0 ? 0 : q.order == 1 ? ch.grad_channel(q.i)
                : q.order == 2 ? ch.hessian_channel(q.i, q.j)
                : ch.second == nn::SecondOrder::laplacian ? ch.second_channel(0) : -1;
  }
  std::optional<data::HardDirichlet> hard;
  std::vector<double> jets;
  if (source_.pinn.hard_dirichlet) {
    hard.emplace(problem(), ch);
    jets = hard->jets(Mat<const double>(x, n, d));
  }
  const T* yv = y_.data();
  Kokkos::parallel_for("kpde::capi::columns", Kokkos::RangePolicy<HostExec>(0, n), [&](const std::int64_t p) {
    double u[16], v[16];
    for (int c = 0; c < C; ++c) v[c] = double(yv[p * C + c]) * factor[c];
    if (hard) hard->forward(jets.data() + p * hard->stride(), v, 1, true, u);
    else for (int c = 0; c < C; ++c) u[c] = v[c];
    double* o = out + p * ncol;
    for (int k = 0; k < ncol; ++k) {
      if (col[k] >= 0) {
        o[k] = u[col[k]];
      } else {  // Laplacian from the second-order channels
        double s = 0;
        for (int a = 0; a < d; ++a)
          if (a != ta) s += u[ch.hessian_channel(a, a)];
        o[k] = s;
      }
    }
  });
}

template <class T>
void CModel<T>::get_params(std::int64_t n, double* p) const {
  if (n != n_params())
    throw InputError("n: " + std::to_string(n) + "; expected the model's parameter count " + std::to_string(n_params()) +
                     " (kpde_model_n_params)");
  for (std::int64_t i = 0; i < n; ++i) p[i] = double(params_(i));
}

template <class T>
void CModel<T>::set_params(std::int64_t n, const double* p) {
  if (n != n_params())
    throw InputError("n: " + std::to_string(n) + "; expected the model's parameter count " + std::to_string(n_params()) +
                     " (kpde_model_n_params)");
  require_finite(p, n, "params");
  for (std::int64_t i = 0; i < n; ++i) params_(i) = T(p[i]);
}

/// Runs f on rank 0 only; every rank then gets rank 0's outcome (the same status).
template <class F>
void on_root(const train::Comm& comm, F&& f) {
  int code = 0;
  std::string what;
  if (comm.root()) {
    try {
      f();
    } catch (const Error& e) {
      code = int(e.code()), what = e.what();
    }
  }
  if (!comm.parallel()) {
    if (code) throw Error(what, ExitCode(code));
    return;
  }
  MPI_Bcast(&code, 1, MPI_INT, 0, comm.mpi());
  if (code == 0) return;
  if (comm.root()) throw Error(what, ExitCode(code));
  throw Error("rank 0 failed (its message says why)", ExitCode(code));
}

template <class T>
void CModel<T>::save(const std::string& path) const {
  on_root(comm_, [&] {
    io::ModelFile m = source_.file;
    m.params.assign(params_.data(), params_.data() + params_.extent(0));
    io::write_model_file(path, m);
  });
}

template <class T>
void CModel<T>::save_state(const std::string& path) const {
  on_root(comm_, [&] {
    io::H5File f = io::H5File::create(path);
    f.set_attribute("/", "format", "kpde-capi-state");
    f.set_attribute("/", "architecture", source_.file.architecture);
    f.set_attribute("/", "steps", double(steps()));
    const auto vec = [](const Vec<T>& v) { return std::vector<double>(v.data(), v.data() + v.extent(0)); };
    const std::size_t n = params_.extent(0);
    f.write("params", vec(params_), {n});
    if (adam_) {
      f.write("adam/m", vec(adam_->m()), {n});
      f.write("adam/v", vec(adam_->v()), {n});
    }
    f.close();
  });
}

template <class T>
void CModel<T>::load_state(const std::string& path) {
  const io::H5File f = io::H5File::open(path);
  const auto bad = [&](const std::string& why) { throw InputError("path: " + path + ": " + why); };
  if (!f.has_attribute("/", "format") || f.string_attribute("/", "format") != "kpde-capi-state")
    bad("not a training state written by kpde_model_save_state");
  if (f.string_attribute("/", "architecture") != source_.file.architecture)
    bad("written for another network architecture than this model's");
  const std::size_t n = params_.extent(0);
  const auto p = f.read_checked("params", {n});
  const long steps = long(f.number_attribute("/", "steps"));
  require_finite(p.data(), std::int64_t(n), "params");
  for (std::size_t i = 0; i < n; ++i) params_(i) = T(p[i]);
  if (!adam_) adam_.emplace(n, source_.adam);
  if (steps > 0 && f.exists("adam/m")) {
    const auto m = f.read_checked("adam/m", {n}), v = f.read_checked("adam/v", {n});
    Vec<T> mt("m", n), vt("v", n);
    for (std::size_t i = 0; i < n; ++i) mt(i) = T(m[i]), vt(i) = T(v[i]);
    adam_->set_state(steps, mt, vt);
  } else {
    adam_->reset();
  }
}

template class CModel<float>;
template class CModel<double>;

}  // namespace kpde::capi
