// CnnBranch: conv blocks (nn::Conv2d, activation, nn::avg_pool2d with the remainder
// dropped), then nn::Linear layers; the reverse pass runs the layers' own backward passes
// in reverse order.
#include "operators/cnn_branch.hpp"

#include <string>
#include <utility>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "nn/pointwise.hpp"
#include "nn/resample.hpp"

namespace kpde::operators {

CnnActivation parse_cnn_activation(const std::string& name) {
  const std::string n = to_lower(name);
  if (n == "relu") return CnnActivation::relu;
  if (n == "gelu") return CnnActivation::gelu;
  if (n == "tanh") return CnnActivation::tanh;
  throw InputError("unknown conv activation '" + name + "' (expected relu, gelu or tanh)");
}

std::string to_string(CnnActivation a) {
  switch (a) {
    case CnnActivation::relu: return "relu";
    case CnnActivation::gelu: return "gelu";
    case CnnActivation::tanh: return "tanh";
  }
  return "?";
}

namespace {

constexpr int kMaxExtent = 1 << 16;  // channels, widths and image extents
constexpr long kMaxValues = 1L << 30;  // values of one image or of one flattened map

void require_in(int v, int lo, int hi, const std::string& name) {
  if (v < lo || v > hi)
    throw InputError("cnn_branch: " + name + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                     "], got " + std::to_string(v));
}

// floor(n / p^l), stopping at 0.
int pooled_extent(int n, int p, int l) {
  for (int i = 0; i < l && n > 0; ++i) n /= p;
  return n;
}

}  // namespace

void CnnBranchSpec::validate() const {
  require_in(channels, 1, kMaxExtent, "channels");
  require_in(height, 1, kMaxExtent, "height");
  require_in(width, 1, kMaxExtent, "width");
  if (filters.empty()) throw InputError("cnn_branch: filters must list at least one conv block, got none");
  if (filters.size() > 64)
    throw InputError("cnn_branch: filters may list at most 64 conv blocks, got " + std::to_string(filters.size()));
  for (std::size_t l = 0; l < filters.size(); ++l)
    require_in(filters[l], 1, kMaxExtent, "filters[" + std::to_string(l) + "]");
  require_in(kernel, 1, 63, "kernel");
  if (kernel % 2 == 0)
    throw InputError("cnn_branch: kernel must be odd ('same' padding kernel/2 on each side), got " +
                     std::to_string(kernel));
  require_in(pool, 1, 1024, "pool");
  if (dense.size() > 64)
    throw InputError("cnn_branch: dense may list at most 64 hidden layers, got " + std::to_string(dense.size()));
  for (std::size_t l = 0; l < dense.size(); ++l)
    require_in(dense[l], 1, kMaxExtent, "dense[" + std::to_string(l) + "]");
  require_in(outputs, 1, kMaxExtent, "outputs");
  const int L = static_cast<int>(filters.size());
  const std::pair<int, const char*> extents[] = {{height, "height"}, {width, "width"}};
  for (const auto& [n, name] : extents) {
    for (int l = 1; l <= L; ++l)
      if (pooled_extent(n, pool, l) < 1) {
        long need = 1;
        for (int i = 0; i < L && need <= kMaxExtent; ++i) need *= pool;
        throw InputError("cnn_branch: " + std::string(name) + " " + std::to_string(n) + " is too small for " +
                         std::to_string(L) + " pools of " + std::to_string(pool) + " (conv block " +
                         std::to_string(l) + " would leave an empty map; " + name + " must be >= " +
                         std::to_string(need) + ")");
      }
  }
  if (long(channels) * height * width > kMaxValues)
    throw InputError("cnn_branch: channels x height x width must be <= " + std::to_string(kMaxValues) + ", got " +
                     std::to_string(long(channels) * height * width));
  for (int l = 0; l < L; ++l) {
    const long values = long(filters[static_cast<std::size_t>(l)]) * pooled_extent(height, pool, l) *
                        pooled_extent(width, pool, l);
    if (values > kMaxValues)
      throw InputError("cnn_branch: the map of conv block " + std::to_string(l) + " has " + std::to_string(values) +
                       " values per image, more than " + std::to_string(kMaxValues));
  }
}

int CnnBranchSpec::map_height(int l) const { return pooled_extent(height, pool, l); }
int CnnBranchSpec::map_width(int l) const { return pooled_extent(width, pool, l); }

namespace {

nn::Conv2dSpec conv_spec(const CnnBranchSpec& s, int l) {
  nn::Conv2dSpec c;
  c.in_channels = l == 0 ? s.channels : s.filters[static_cast<std::size_t>(l - 1)];
  c.out_channels = s.filters[static_cast<std::size_t>(l)];
  c.kernel = s.kernel;
  c.stride = 1;
  c.padding = s.kernel / 2;
  c.pad = nn::PadMode::zeros;
  c.bias = true;
  return c;
}

const CnnBranchSpec& validated(const CnnBranchSpec& s) {
  s.validate();
  return s;
}

template <class T>
void activation_forward(CnnActivation a, std::size_t n, const T* z, T* y) {
  switch (a) {
    case CnnActivation::relu: return nn::relu_forward<T>(n, z, y);
    case CnnActivation::gelu: return nn::gelu_forward<T>(n, z, y);
    case CnnActivation::tanh: return nn::tanh_forward<T>(n, z, y);
  }
}

// d = act'(z) d (in place).
template <class T>
void activation_backward(CnnActivation a, std::size_t n, const T* z, T* d) {
  switch (a) {
    case CnnActivation::relu: return nn::relu_backward<T>(n, z, d, d);
    case CnnActivation::gelu: return nn::gelu_backward<T>(n, z, d, d);
    case CnnActivation::tanh: return nn::tanh_backward<T>(n, z, d, d);
  }
}

template <class T>
Arr4<T> new_map(const char* label, std::size_t B, int C, int H, int W) {
  return Arr4<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), B, C, H, W);
}

template <class T>
Mat<T> new_mat(const char* label, std::size_t B, int n) {
  return Mat<T>(Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string(label)), B, n);
}

}  // namespace

template <class T>
CnnBranch<T>::CnnBranch(const CnnBranchSpec& spec) : spec_(validated(spec)) {
  const int L = static_cast<int>(spec_.filters.size());
  for (int l = 0; l < L; ++l) {
    conv_offsets_.push_back(n_params_);
    conv_.emplace_back(conv_spec(spec_, l));
    n_params_ += conv_.back().n_params();
  }
  int in = flat_size();
  for (std::size_t k = 0; k <= spec_.dense.size(); ++k) {
    const int out = k < spec_.dense.size() ? spec_.dense[k] : spec_.outputs;
    dense_offsets_.push_back(n_params_);
    dense_.emplace_back(in, out, true);
    n_params_ += dense_.back().n_params();
    in = out;
  }
}

template <class T>
int CnnBranch<T>::flat_size() const {
  const int L = static_cast<int>(spec_.filters.size());
  return spec_.filters.back() * spec_.map_height(L) * spec_.map_width(L);
}

template <class T>
void CnnBranch<T>::init(T* params, Rng& rng) const {
  nn::detail::require_data("CnnBranch::init", "params", params);
  for (std::size_t l = 0; l < conv_.size(); ++l) conv_[l].init(params + conv_offsets_[l], rng);
  for (std::size_t k = 0; k < dense_.size(); ++k) dense_[k].init(params + dense_offsets_[k], rng);
}

template <class T>
void CnnBranch<T>::forward(const T* params, const Mat<const T>& x, const Mat<T>& out, Cache* cache) const {
  const char* where = "CnnBranch::forward";
  nn::detail::require_data(where, "params", params);
  nn::detail::require_extents(where, "x", x, {nn::detail::any_extent, std::size_t(input_size())});
  const std::size_t B = x.extent(0);
  nn::detail::require_extents(where, "out", out, {B, std::size_t(spec_.outputs)});
  KPDE_REQUIRE(out.span_is_contiguous(), InputError, std::string(where) + ": out must be a contiguous array");
  Cache local;
  Cache& c = cache ? *cache : local;
  c.maps.clear(), c.conv_pre.clear(), c.dense_in.clear(), c.dense_pre.clear();
  const int p = spec_.pool;

  // conv blocks: a_{l+1} = pool(act(conv_l(a_l)))
  Arr4<T> a = new_map<T>("kpde::cnn_branch::x", B, spec_.channels, spec_.height, spec_.width);
  Kokkos::deep_copy(Mat<T>(a.data(), B, std::size_t(input_size())), x);
  if (cache) c.maps.push_back(a);
  for (std::size_t l = 0; l < conv_.size(); ++l) {
    const int F = spec_.filters[l], H = spec_.map_height(int(l)), W = spec_.map_width(int(l));
    Arr4<T> z = new_map<T>("kpde::cnn_branch::z", B, F, H, W);
    conv_[l].forward(params + conv_offsets_[l], Arr4<const T>(a), z);
    // the activation in place unless the cache keeps z
    Arr4<T> act = cache ? new_map<T>("kpde::cnn_branch::act", B, F, H, W) : z;
    activation_forward(spec_.conv_activation, z.size(), z.data(), act.data());
    if (cache) c.conv_pre.push_back(z);
    if (p > 1) {
      a = new_map<T>("kpde::cnn_branch::pooled", B, F, spec_.map_height(int(l) + 1), spec_.map_width(int(l) + 1));
      nn::avg_pool2d_forward<T>(p, Arr4<const T>(act), a, nn::PoolRemainder::drop);
    } else {
      a = act;
    }
    if (cache) c.maps.push_back(a);
  }

  // dense layers on the flattened map (a view of a, which `a` or the cache keeps alive)
  Mat<T> h(a.data(), B, std::size_t(flat_size()));
  for (std::size_t k = 0; k < dense_.size(); ++k) {
    const nn::Linear<T>& D = dense_[k];
    if (cache) c.dense_in.push_back(h);
    if (k + 1 == dense_.size()) {
      D.forward(params + dense_offsets_[k], Mat<const T>(h), out);
      break;
    }
    Mat<T> z = new_mat<T>("kpde::cnn_branch::dense_z", B, D.out());
    D.forward(params + dense_offsets_[k], Mat<const T>(h), z);
    Mat<T> next = cache ? new_mat<T>("kpde::cnn_branch::dense_h", B, D.out()) : z;
    nn::tanh_forward<T>(z.size(), z.data(), next.data());
    if (cache) c.dense_pre.push_back(z);
    h = next;
  }
}

template <class T>
void CnnBranch<T>::backward(const T* params, Cache& c, const Mat<const T>& dout, T* grad, const Mat<T>* dx) const {
  const char* where = "CnnBranch::backward";
  nn::detail::require_data(where, "params", params);
  nn::detail::require_data(where, "grad", grad);
  KPDE_REQUIRE(c.maps.size() == conv_.size() + 1 && c.dense_in.size() == dense_.size(), Error,
               std::string(where) + ": the cache does not come from forward(..., cache) of this branch");
  const std::size_t B = c.maps[0].extent(0);
  nn::detail::require_extents(where, "dout", dout, {B, std::size_t(spec_.outputs)});
  KPDE_REQUIRE(dout.span_is_contiguous(), InputError, std::string(where) + ": dout must be a contiguous array");
  if (dx) {
    nn::detail::require_extents(where, "dx", *dx, {B, std::size_t(input_size())});
    KPDE_REQUIRE(dx->span_is_contiguous(), InputError, std::string(where) + ": dx must be a contiguous array");
  }
  for (std::size_t i = 0; i < n_params_; ++i) grad[i] = T(0);

  // dense layers: dh_k = dz_k W_k, dz_{k-1} = tanh'(z_{k-1}) dh_k
  Mat<const T> dz = dout;
  Mat<T> dh;
  for (std::size_t k = dense_.size(); k-- > 0;) {
    const nn::Linear<T>& D = dense_[k];
    dh = new_mat<T>("kpde::cnn_branch::dh", B, D.in());
    D.backward(params + dense_offsets_[k], Mat<const T>(c.dense_in[k]), dz, dh, grad + dense_offsets_[k]);
    if (k > 0) nn::tanh_backward<T>(dh.size(), c.dense_pre[k - 1].data(), dh.data(), dh.data());
    dz = dh;
  }

  // conv blocks: da_l = pool^T(da_{l+1}), dz_l = act'(z_l) da_l, da_l-1 = conv_l^T(dz_l)
  const int L = static_cast<int>(conv_.size()), p = spec_.pool;
  Arr4<T> dnext(dh.data(), B, spec_.filters.back(), spec_.map_height(L), spec_.map_width(L));  // dh keeps it alive
  for (int l = L - 1; l >= 0; --l) {
    const std::size_t ul = static_cast<std::size_t>(l);
    const int F = spec_.filters[ul], H = spec_.map_height(l), W = spec_.map_width(l);
    Arr4<T> dzl = dnext;  // pool 1: the gradient buffer is ours to modify
    if (p > 1) {
      dzl = new_map<T>("kpde::cnn_branch::dz", B, F, H, W);
      nn::avg_pool2d_backward<T>(p, Arr4<const T>(dnext), dzl, nn::PoolRemainder::drop);
    }
    const Arr4<T>& z = c.conv_pre[ul];
    activation_backward(spec_.conv_activation, z.size(), z.data(), dzl.data());
    Arr4<T> da;
    if (l > 0)
      da = new_map<T>("kpde::cnn_branch::da", B, conv_[ul].spec().in_channels, H, W);
    else if (dx)
      da = Arr4<T>(dx->data(), B, spec_.channels, spec_.height, spec_.width);
    conv_[ul].backward(params + conv_offsets_[ul], Arr4<const T>(c.maps[ul]), Arr4<const T>(dzl), da,
                       grad + conv_offsets_[ul]);
    dnext = da;
  }
}

template <class T>
double CnnBranch<T>::forward_flops(int B) const {
  double f = 0;
  for (std::size_t l = 0; l < conv_.size(); ++l)
    f += conv_[l].forward_flops(B, spec_.map_height(int(l)), spec_.map_width(int(l)));
  for (const auto& D : dense_) f += D.forward_flops(B);
  return f;
}

template class CnnBranch<float>;
template class CnnBranch<double>;

}  // namespace kpde::operators
