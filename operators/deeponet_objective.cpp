#include "operators/deeponet_objective.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "io/hdf5.hpp"

namespace kpde::operators {

namespace {

/// Rows `idx` of a [N][c] matrix, as T.
template <class T>
Mat<T> gather(const Mat<double>& a, const std::vector<long>& idx) {
  const std::size_t c = a.extent(1);
  Mat<T> out(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::rows"), idx.size(), c);
  for (std::size_t r = 0; r < idx.size(); ++r)
    for (std::size_t k = 0; k < c; ++k) out(r, k) = T(a(static_cast<std::size_t>(idx[r]), k));
  return out;
}

template <class T>
Mat<T> converted(const Mat<double>& a) {
  Mat<T> out(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::y"), a.extent(0), a.extent(1));
  for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = T(a.data()[i]);
  return out;
}

}  // namespace

template <class T>
std::vector<double> relative_errors(const DeepOnet<T>& net, const T* params, const OperatorData& data) {
  const long N = data.n_samples();
  const int P = static_cast<int>(data.y.extent(0)), n_out = net.spec().outputs;
  const Mat<T> y = converted<T>(data.y);
  const bool masked = data.mask.extent(0) > 0;  // MT-DeepONet: the prediction is G times the mask
  std::vector<double> err(static_cast<std::size_t>(N));
  for (long a = 0; a < N; a += 256) {
    std::vector<long> idx;
    for (long b = a; b < std::min(N, a + 256); ++b) idx.push_back(b);
    Arr3<T> G("kpde::deeponet::G", idx.size(), P, n_out);
    net.forward(params, Mat<const T>(gather<T>(data.u, idx)), Mat<const T>(y), G);
    for (std::size_t r = 0; r < idx.size(); ++r) {
      double e2 = 0, s2 = 0;
      for (int j = 0; j < P; ++j)
        for (int o = 0; o < n_out; ++o) {
          const double s = data.s(static_cast<std::size_t>(idx[r]), static_cast<std::size_t>(j * n_out + o));
          const double g = double(G(r, j, o)) * (masked ? data.mask(static_cast<std::size_t>(idx[r]), j) : 1.0);
          e2 += (g - s) * (g - s), s2 += s * s;
        }
      err[static_cast<std::size_t>(idx[r])] = std::sqrt(e2 / std::max(s2, 1e-300));
    }
  }
  return err;
}

template <class T>
DeepOnetObjective<T>::DeepOnetObjective(const DeepOnet<T>& net, const OperatorData& train, const OperatorData& test,
                                        long batch, std::uint64_t seed, const OperatorPhysics* physics,
                                        bool with_data)
    : net_(net), train_(train), test_(test), batch_size_(batch), physics_(physics),
      with_data_(with_data || !physics) {
  KPDE_REQUIRE(train.n_samples() > 0, InputError, "deeponet: the training set is empty");
  if (physics) {
    KPDE_REQUIRE(net.spec().outputs == 1, InputError, "pi_deeponet: the physics loss is for one output");
    KPDE_REQUIRE(physics->x.extent(0) == static_cast<std::size_t>(net.spec().sensors) &&
                     static_cast<int>(physics->x.extent(1)) == net.spec().coord_dim,
                 InputError, "pi_deeponet: the residual points must be the " + std::to_string(net.spec().sensors) +
                                 " sensors in " + std::to_string(net.spec().coord_dim) + "-D");
  }
  KPDE_REQUIRE(batch >= 1, InputError, "training.batch: must be >= 1");
  const std::size_t m = static_cast<std::size_t>(net.spec().sensors);
  const std::size_t out = static_cast<std::size_t>(net.spec().outputs) * train.y.extent(0);
  for (const OperatorData* d : {&train, &test}) {
    if (d->n_samples() == 0) continue;
    if (d == &train && !with_data_) {  // no solution data is read
      if (d->u.extent(1) != m)
        throw InputError("deeponet: the data has " + std::to_string(d->u.extent(1)) + " sensors, the model reads " +
                         std::to_string(m) + " (model.sensors)");
      continue;
    }
    if (d->u.extent(1) != m)
      throw InputError("deeponet: the data has " + std::to_string(d->u.extent(1)) + " sensors, the model reads " +
                       std::to_string(m) + " (model.sensors)");
    if (d->s.extent(1) != static_cast<std::size_t>(net.spec().outputs) * d->y.extent(0) ||
        d->y.extent(1) != static_cast<std::size_t>(net.spec().coord_dim))
      throw InputError("deeponet: the data's outputs [" + std::to_string(d->s.extent(1)) + "] and points [" +
                       std::to_string(d->y.extent(0)) + "][" + std::to_string(d->y.extent(1)) +
                       "] do not fit the model (outputs x points expected: " + std::to_string(out) + ")");
  }
  sampler_ = std::make_unique<data::BatchSampler>(train.n_samples(), std::min(batch, train.n_samples()), seed);
  // ||s_b||^2 of every training sample (the relative loss divides by it)
  target_norm2_.assign(static_cast<std::size_t>(train.s.extent(0)), 0.0);
  for (std::size_t b = 0; b < train.s.extent(0); ++b)
    for (std::size_t k = 0; k < train.s.extent(1); ++k) target_norm2_[b] += train.s(b, k) * train.s(b, k);
}

template <class T>
std::vector<std::string> DeepOnetObjective<T>::term_names() const {
  std::vector<std::string> t;
  if (with_data_) t.push_back("data");
  if (physics_) t.push_back("residual"), t.push_back("boundary");
  return t;
}

template <class T>
void DeepOnetObjective<T>::before_step(long, const Vec<const T>&) {
  batch_ = sampler_->next();
}

template <class T>
void DeepOnetObjective<T>::evaluate(const Vec<const T>& params, std::vector<double>& terms, std::vector<Vec<T>>& tg) {
  std::vector<long> all = batch_;
  if (all.empty())
    for (long b = 0; b < train_.n_samples(); ++b) all.push_back(b);
  const long B = static_cast<long>(all.size());
  long b0 = 0, b1 = B;  // this rank's share
  if (comm_ && comm_->parallel()) std::tie(b0, b1) = comm_->shard(B);
  for (std::size_t k = 0; k < terms.size(); ++k) Kokkos::deep_copy(tg[k], T(0)), terms[k] = 0;
  if (b1 == b0) return;
  const std::vector<long> mine(all.begin() + b0, all.begin() + b1);
  const Mat<T> u = gather<T>(train_.u, mine);
  if (physics_) physics_terms(params, mine, B, Mat<const T>(u), terms, tg, with_data_ ? 1 : 0);
  if (!with_data_) return;
  const int P = static_cast<int>(train_.y.extent(0)), n_out = net_.spec().outputs;
  Arr3<T> G("kpde::deeponet::G", mine.size(), P, n_out), dG("kpde::deeponet::dG", mine.size(), P, n_out);
  net_.forward(params.data(), Mat<const T>(u), Mat<const T>(converted<T>(train_.y)), G, &cache_);
  const bool masked = train_.mask.extent(0) > 0;
  double sum = 0;
  for (std::size_t r = 0; r < mine.size(); ++r) {
    const std::size_t b = static_cast<std::size_t>(mine[r]);
    // mse: 1 / (B P n_out); relative: 1 / (B ||s_b||^2)
    const double scale = relative_ ? 1.0 / (static_cast<double>(B) * std::max(target_norm2_[b], 1e-300))
                                   : 1.0 / (static_cast<double>(B) * P * n_out);
    for (int j = 0; j < P; ++j)
      for (int o = 0; o < n_out; ++o) {
        const double mk = masked ? train_.mask(b, j) : 1.0;  // MT-DeepONet: G times the mask
        const double e = double(G(r, j, o)) * mk - train_.s(b, static_cast<std::size_t>(j * n_out + o));
        sum += scale * e * e;
        dG(r, j, o) = T(2 * scale * e * mk);
      }
  }
  terms[0] = sum;
  net_.backward(params.data(), cache_, Arr3<const T>(dG), tg[0].data());
}

template <class T>
void DeepOnetObjective<T>::physics_terms(const Vec<const T>& params, const std::vector<long>& mine, long B,
                                         const Mat<const T>& u, std::vector<double>& terms,
                                         std::vector<Vec<T>>& tg, int k) {
  const OperatorPhysics& ph = *physics_;
  const data::Residual& res = *ph.residual;
  const std::size_t nb = mine.size();
  std::vector<T> g(net_.n_params());
  // residual at the sensors: r_bj = R[G](x_j) - f_j - u_b(x_j)
  {
    const nn::ChannelSpec& cs = res.channels();
    const int m = static_cast<int>(ph.x.extent(0)), C = cs.n_channels();
    Arr4<T> G("kpde::deeponet::Gr", nb, m, C, 1), dG("kpde::deeponet::dGr", nb, m, C, 1);
    net_.forward(params.data(), u, Mat<const T>(converted<T>(ph.x)), cs, G, &cache_);
    const double scale = 1.0 / (static_cast<double>(B) * m);
    double sum = 0, dr[16];
    for (std::size_t r = 0; r < nb; ++r)
      for (int j = 0; j < m; ++j) {
        const double v = res.of_u(ph.at_x, j, &G(r, j, 0, 0), 1, dr) - train_.u(static_cast<std::size_t>(mine[r]), j);
        sum += v * v;
        for (int c = 0; c < C; ++c) dG(r, j, c, 0) = T(2 * scale * v * dr[c]);
      }
    terms[static_cast<std::size_t>(k)] = sum * scale;
    net_.backward(params.data(), cache_, Arr4<const T>(dG), tg[static_cast<std::size_t>(k)].data());
  }
  // boundary: Dirichlet e = G - g, flux e = alpha G + beta n.grad G - g, each weighted by w
  const int nd = ph.boundary.dirichlet.size(), nf = ph.boundary.flux.size();
  if (nd + nf == 0) return;
  const double scale = 1.0 / (static_cast<double>(B) * (nd + nf));
  const int dim = net_.spec().coord_dim;
  double sum = 0;
  Vec<T>& gb = tg[static_cast<std::size_t>(k + 1)];
  for (int set = 0; set < 2; ++set) {
    const data::BoundaryTargets::Set& s = set == 0 ? ph.boundary.dirichlet : ph.boundary.flux;
    const int n = s.size();
    if (n == 0) continue;
    const nn::ChannelSpec cs = set == 0 ? nn::ChannelSpec::value(dim) : nn::ChannelSpec::with_gradient(dim);
    const int C = cs.n_channels();
    Arr4<T> G("kpde::deeponet::Gb", nb, n, C, 1), dG("kpde::deeponet::dGb", nb, n, C, 1);
    net_.forward(params.data(), u, Mat<const T>(converted<T>(set == 0 ? ph.x_dirichlet : ph.x_flux)), cs, G, &cache_);
    for (std::size_t r = 0; r < nb; ++r)
      for (int q = 0; q < n; ++q) {
        const std::size_t qq = static_cast<std::size_t>(q);
        double e = -s.g[qq];
        if (set == 0) {
          e += double(G(r, q, 0, 0));
        } else {
          e += s.alpha[qq] * double(G(r, q, 0, 0));
          for (int a = 0; a < dim; ++a) e += s.beta[qq] * s.normal[qq * dim + a] * double(G(r, q, 1 + a, 0));
        }
        sum += s.w[qq] * e * e;
        const double de = 2 * scale * s.w[qq] * e;
        if (set == 0) {
          dG(r, q, 0, 0) = T(de);
        } else {
          dG(r, q, 0, 0) = T(de * s.alpha[qq]);
          for (int a = 0; a < dim; ++a) dG(r, q, 1 + a, 0) = T(de * s.beta[qq] * s.normal[qq * dim + a]);
        }
      }
    net_.backward(params.data(), cache_, Arr4<const T>(dG), g.data());
    for (std::size_t i = 0; i < g.size(); ++i) gb(i) += g[i];
  }
  terms[static_cast<std::size_t>(k + 1)] = sum * scale;
}

template <class T>
std::vector<std::string> DeepOnetObjective<T>::monitor_names() const {
  if (test_.n_samples() == 0) return {};
  return {"test_rel_l2"};
}

template <class T>
std::vector<double> DeepOnetObjective<T>::monitor(const Vec<const T>& params) {
  if (test_.n_samples() == 0) return {};
  const std::vector<double> e = relative_errors(net_, params.data(), test_);
  double m = 0;
  for (double v : e) m += v;
  return {m / static_cast<double>(e.size())};
}

template <class T>
void DeepOnetObjective<T>::save_state(io::H5File& f, const std::string& group) const {
  f.set_attribute(group, "batches_drawn", static_cast<double>(sampler_->drawn()));
}

template <class T>
void DeepOnetObjective<T>::load_state(const io::H5File& f, const std::string& group) {
  batch_ = sampler_->replay(static_cast<long>(f.number_attribute(group, "batches_drawn")));  // the same batches again
}

template std::vector<double> relative_errors<float>(const DeepOnet<float>&, const float*, const OperatorData&);
template std::vector<double> relative_errors<double>(const DeepOnet<double>&, const double*, const OperatorData&);
template class DeepOnetObjective<float>;
template class DeepOnetObjective<double>;

}  // namespace kpde::operators
