#include "operators/deeponet.hpp"

#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "nn/gemm.hpp"
#include "nn/pointwise.hpp"

namespace kpde::operators {

void DeepOnetSpec::validate() const {
  const auto in = [](int v, int lo, int hi, const char* name) {
    if (v < lo || v > hi)
      throw InputError(std::string("deeponet: ") + name + " must be in [" + std::to_string(lo) + ", " +
                       std::to_string(hi) + "], got " + std::to_string(v));
  };
  in(sensors, 1, 1000000, "sensors");
  in(coord_dim, 1, 3, "coord_dim");
  in(outputs, 1, 64, "outputs");
  in(basis, 1, 4096, "basis");
  in(branch_width, 1, 65536, "branch_width");
  in(branch_depth, 1, 64, "branch_depth");
  in(trunk_width, 1, 65536, "trunk_width");
  in(trunk_depth, 1, 64, "trunk_depth");
  if (!(output_scale > 0) || !std::isfinite(output_scale))
    throw InputError("deeponet: output_scale must be a positive number, got " + std::to_string(output_scale));
  if (cnn_branch) {
    CnnBranchSpec c = cnn;
    c.outputs = basis * outputs;
    c.validate();
    if (c.channels * c.height * c.width != sensors)
      throw InputError("deeponet: the CNN branch reads images of " + std::to_string(c.channels) + " x " +
                       std::to_string(c.height) + " x " + std::to_string(c.width) + " values, the input has " +
                       std::to_string(sensors));
  }
  if (trunk_features.kind == nn::FeatureKind::gaussian)
    throw InputError("deeponet: the trunk takes Fourier features (fourier_fixed, fourier_random), not Gaussian ones");
}

namespace {

nn::NetworkSpec trunk_spec(const DeepOnetSpec& s) {
  s.validate();
  nn::NetworkSpec t;
  t.input_dim = s.coord_dim;
  t.output_dim = s.basis;
  t.width = s.trunk_width;
  t.depth = s.trunk_depth;
  t.activation = nn::Activation::tanh;
  t.features = s.trunk_features;
  return t;
}

using nn::detail::col_matrix;

}  // namespace

template <class T>
DeepOnet<T>::DeepOnet(const DeepOnetSpec& spec) : spec_(spec), trunk_(trunk_spec(spec)) {
  int in = spec.sensors;
  if (spec.cnn_branch) {
    CnnBranchSpec c = spec.cnn;
    c.outputs = spec.basis * spec.outputs;
    cnn_.emplace(c);
    n_params_ = cnn_->n_params();
  }
  for (int l = 0; !spec.cnn_branch && l <= spec.branch_depth; ++l) {
    const int out = l < spec.branch_depth ? spec.branch_width : spec.basis * spec.outputs;
    branch_offsets_.push_back(n_params_);
    branch_.emplace_back(in, out, true);
    n_params_ += branch_.back().n_params();
    in = out;
  }
  trunk_offset_ = n_params_;
  n_params_ += static_cast<std::size_t>(trunk_.n_params());
  bias_offset_ = n_params_;
  if (spec.bias) n_params_ += static_cast<std::size_t>(spec.outputs);
}

template <class T>
void DeepOnet<T>::init_params(T* params, std::uint64_t seed) const {
  Rng rng(seed);
  if (cnn_) cnn_->init(params, rng);
  for (std::size_t l = 0; l < branch_.size(); ++l) branch_[l].init(params + branch_offsets_[l], rng);
  trunk_.init_params(Vec<T>(params + trunk_offset_, static_cast<std::size_t>(trunk_.n_params())), seed ^ 0x7275ull);
  if (spec_.bias)
    for (int o = 0; o < spec_.outputs; ++o) params[bias_offset_ + o] = T(0);
}

template <class T>
void DeepOnet<T>::forward(const T* params, const Mat<const T>& u, const Mat<const T>& y, const Arr3<T>& G,
                          Cache* cache) const {
  nn::detail::require_extents("DeepOnet::forward", "G", G,
                              {u.extent(0), y.extent(0), std::size_t(spec_.outputs)});
  forward(params, u, y, nn::ChannelSpec::value(spec_.coord_dim),
          Arr4<T>(G.data(), G.extent(0), G.extent(1), 1, G.extent(2)), cache);
}

template <class T>
void DeepOnet<T>::forward(const T* params, const Mat<const T>& u, const Mat<const T>& y,
                          const nn::ChannelSpec& channels, const Arr4<T>& G, Cache* cache) const {
  const int B = static_cast<int>(u.extent(0)), P = static_cast<int>(y.extent(0));
  const int p = spec_.basis, n_out = spec_.outputs, C = channels.n_channels();
  nn::detail::require_extents("DeepOnet::forward", "u", u, {nn::detail::any_extent, std::size_t(spec_.sensors)});
  nn::detail::require_extents("DeepOnet::forward", "y", y, {nn::detail::any_extent, std::size_t(spec_.coord_dim)});
  nn::detail::require_extents("DeepOnet::forward", "G", G,
                              {std::size_t(B), std::size_t(P), std::size_t(C), std::size_t(n_out)});
  Cache local;
  Cache& c = cache ? *cache : local;
  // branch: x_{l+1} = tanh(x_l W_l^T + b_l), the last layer linear
  c.inputs.clear();
  c.pre.clear();
  if (cnn_) {
    c.branch = Mat<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::branch"), B, p * n_out);
    cnn_->forward(params, u, c.branch, cache ? &c.cnn : nullptr);
  }
  Mat<T> x(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::u"), cnn_ ? 0 : B, spec_.sensors);
  if (!cnn_) Kokkos::deep_copy(x, u);
  for (std::size_t l = 0; l < branch_.size(); ++l) {
    const nn::Linear<T>& L = branch_[l];
    Mat<T> z(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::z"), B, L.out());
    L.forward(params + branch_offsets_[l], Mat<const T>(x), z);
    c.inputs.push_back(x);
    if (l + 1 < branch_.size()) {
      Mat<T> a(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::a"), B, L.out());
      nn::tanh_forward<T>(z.size(), z.data(), a.data());
      c.pre.push_back(z);
      x = a;
    } else {
      c.branch = z;
    }
  }
  // trunk: T [P][C][p]
  c.channels = channels;
  c.y = Arr3<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::y"), 1, P, spec_.coord_dim);
  for (int j = 0; j < P; ++j)
    for (int a = 0; a < spec_.coord_dim; ++a) c.y(0, j, a) = y(j, a);
  c.trunk = Arr4<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::t"), 1, P, C, p);
  const Vec<const T> tp(params + trunk_offset_, static_cast<std::size_t>(trunk_.n_params()));
  trunk_.forward(nn::as_batch(tp), Arr3<const T>(c.y), channels, c.trunk, cache ? &c.ws : nullptr);
  // G_o [B][P C] = B_o [B][p] T^T [p][P C] (+ b0_o on the value channel): column-major,
  // G_o^T [P C][B] = T [P C][p] B_o^T [p][B]
  const int R = P * C;
  Mat<T> bo(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::bo"), B, p);
  Mat<T> go(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::go"), B, R);
  for (int o = 0; o < n_out; ++o) {
    for (int b = 0; b < B; ++b)
      for (int k = 0; k < p; ++k) bo(b, k) = c.branch(b, o * p + k);
    kpde::gemm('T', 'N', T(1), col_matrix(c.trunk.data(), p, R), col_matrix(bo.data(), p, B), T(0),
               col_matrix(go.data(), R, B));
    const T b0 = spec_.bias ? params[bias_offset_ + o] : T(0), sigma = T(spec_.output_scale);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < P; ++j)
        for (int ch = 0; ch < C; ++ch) G(b, j, ch, o) = sigma * (go(b, j * C + ch) + (ch == 0 ? b0 : T(0)));
  }
}

template <class T>
void DeepOnet<T>::backward(const T* params, Cache& c, const Arr3<const T>& dG, T* grad) const {
  backward(params, c, Arr4<const T>(dG.data(), dG.extent(0), dG.extent(1), 1, dG.extent(2)), grad);
}

template <class T>
void DeepOnet<T>::backward(const T* params, Cache& c, const Arr4<const T>& dG, T* grad) const {
  const int B = static_cast<int>(c.branch.extent(0)), P = static_cast<int>(c.trunk.extent(1));
  const int p = spec_.basis, n_out = spec_.outputs, C = static_cast<int>(c.trunk.extent(2)), R = P * C;
  nn::detail::require_extents("DeepOnet::backward", "dG", dG,
                              {std::size_t(B), std::size_t(P), std::size_t(C), std::size_t(n_out)});
  for (std::size_t i = 0; i < n_params_; ++i) grad[i] = T(0);
  // dB_o [B][p] = dG_o [B][P C] T [P C][p];  dT [P C][p] = sum_o dG_o^T B_o;  db0_o = sum dG_o (value)
  Mat<T> dbranch("kpde::deeponet::dbranch", B, p * n_out);
  Arr4<T> dtrunk("kpde::deeponet::dtrunk", 1, P, C, p);
  Mat<T> go(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::dgo"), B, R);
  Mat<T> bo(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::bo"), B, p);
  Mat<T> dbo(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::dbo"), B, p);
  for (int o = 0; o < n_out; ++o) {
    double db0 = 0;
    const T sigma = T(spec_.output_scale);
    for (int b = 0; b < B; ++b)
      for (int j = 0; j < P; ++j) {
        for (int ch = 0; ch < C; ++ch) go(b, j * C + ch) = sigma * dG(b, j, ch, o);
        db0 += double(go(b, j * C));
      }
    if (spec_.bias) grad[bias_offset_ + o] = T(db0);
    for (int b = 0; b < B; ++b)
      for (int k = 0; k < p; ++k) bo(b, k) = c.branch(b, o * p + k);
    // column-major: dB_o^T [p][B] = T^T [p][P C] dG_o^T [P C][B]
    kpde::gemm('N', 'N', T(1), col_matrix(c.trunk.data(), p, R), col_matrix(go.data(), R, B), T(0),
               col_matrix(dbo.data(), p, B));
    for (int b = 0; b < B; ++b)
      for (int k = 0; k < p; ++k) dbranch(b, o * p + k) = dbo(b, k);
    // dT^T [p][P C] += B_o^T [p][B] dG_o [B][P C]
    kpde::gemm('N', 'T', T(1), col_matrix(bo.data(), p, B), col_matrix(go.data(), R, B), T(1),
               col_matrix(dtrunk.data(), p, R));
  }
  // trunk's reverse pass
  const Vec<const T> tp(params + trunk_offset_, static_cast<std::size_t>(trunk_.n_params()));
  const Vec<T> tg(grad + trunk_offset_, static_cast<std::size_t>(trunk_.n_params()));
  trunk_.backward(nn::as_batch(tp), Arr3<const T>(c.y), c.ws, Arr4<const T>(dtrunk), nn::as_batch(tg), false);
  if (cnn_) {  // the CNN's reverse pass writes its own parameters' gradient
    cnn_->backward(params, c.cnn, Mat<const T>(dbranch), grad);
    return;
  }
  // branch's reverse pass: dz_L = dbranch; dx_l = dz_l W_l; dz_{l-1} = tanh'(z_{l-1}) dx_l
  Mat<T> dz = dbranch;
  for (int l = static_cast<int>(branch_.size()) - 1; l >= 0; --l) {
    const nn::Linear<T>& L = branch_[static_cast<std::size_t>(l)];
    const Mat<T>& xin = c.inputs[static_cast<std::size_t>(l)];
    Mat<T> dx = l > 0 ? Mat<T>("kpde::deeponet::dx", B, L.in()) : Mat<T>();
    L.backward(params + branch_offsets_[static_cast<std::size_t>(l)], Mat<const T>(xin), Mat<const T>(dz), dx,
               grad + branch_offsets_[static_cast<std::size_t>(l)]);
    if (l == 0) break;
    const Mat<T>& z = c.pre[static_cast<std::size_t>(l - 1)];
    Mat<T> dprev(Kokkos::view_alloc(Kokkos::WithoutInitializing, "kpde::deeponet::dz"), B, L.in());
    nn::tanh_backward<T>(z.size(), z.data(), dx.data(), dprev.data());
    dz = dprev;
  }
}

template <class T>
double DeepOnet<T>::forward_flops(int B, int P) const {
  double f = cnn_ ? cnn_->forward_flops(B) : 0.0;
  for (const auto& L : branch_) f += L.forward_flops(B);
  return f + trunk_.forward_flops(P, 1) + 2.0 * B * P * spec_.basis * spec_.outputs;
}

template class DeepOnet<float>;
template class DeepOnet<double>;

}  // namespace kpde::operators
