#include "hypernet/target.hpp"

namespace kpde::hypernet {

nn::NetworkSpec target_spec(int outputs) {
  nn::NetworkSpec s;
  s.input_dim = 2;
  s.output_dim = outputs;
  s.width = kTargetWidth;
  s.depth = 4;
  s.activation = nn::Activation::tanh;
  s.arch = nn::Arch::modified_mlp;
  s.features.kind = nn::FeatureKind::fourier_fixed;
  s.features.n_frequencies = 5;
  s.features.base = 0.1;
  s.features.include_input = true;
  return s;
}

namespace {

// Offsets in the engine's layout (network.hpp): W_1, b_1, ..., W_4, b_4, W_o, b_o, Wu, bu, Wv, bv.
struct Layout {
  std::size_t W[4], b[4], Wo, bo, Wu, bu, Wv, bv, total;
  explicit Layout(int m) {
    const std::size_t w = kTargetWidth, F = 22;
    std::size_t off = 0;
    for (int l = 0; l < 4; ++l) {
      W[l] = off, off += w * (l == 0 ? F : w);
      b[l] = off, off += w;
    }
    Wo = off, off += w * static_cast<std::size_t>(m);
    bo = off, off += static_cast<std::size_t>(m);
    Wu = off, off += w * F;
    bu = off, off += w;
    Wv = off, off += w * F;
    bv = off, off += w;
    total = off;
  }
};
const Layout& target_layout() {
  static const Layout l(1);
  return l;
}
const Layout& basis_layout() {
  static const Layout l(kTargetWidth);
  return l;
}

// (target offset, basis offset, length) of the hidden tensors.
std::vector<std::array<std::size_t, 3>> hidden_blocks() {
  const Layout &t = target_layout(), &b = basis_layout();
  return {{t.W[0], b.W[0], t.Wo - t.W[0]}, {t.Wu, b.Wu, t.total - t.Wu}};
}

}  // namespace

const std::vector<TargetTensor>& target_tensors() {
  static const std::vector<TargetTensor> tensors = [] {
    const Layout& t = target_layout();
    const int w = kTargetWidth, F = 22;
    return std::vector<TargetTensor>{
        {"W1", w, F, t.W[0]}, {"W2", w, w, t.W[1]}, {"W3", w, w, t.W[2]}, {"W4", w, w, t.W[3]},
        {"Wu", w, F, t.Wu},   {"Wv", w, F, t.Wv},   {"Wo", 1, w, t.Wo},   {"b1", w, 1, t.b[0]},
        {"b2", w, 1, t.b[1]}, {"b3", w, 1, t.b[2]}, {"b4", w, 1, t.b[3]}, {"bu", w, 1, t.bu},
        {"bv", w, 1, t.bv},   {"bo", 1, 1, t.bo}};
  }();
  return tensors;
}

std::size_t target_size() { return target_layout().total; }
std::size_t basis_size() { return basis_layout().total; }

template <class T>
void basis_from_target(const T* target, T* basis) {
  for (const auto& [t, b, n] : hidden_blocks())
    for (std::size_t k = 0; k < n; ++k) basis[b + k] = target[t + k];
  const Layout& l = basis_layout();
  for (std::size_t k = 0; k < static_cast<std::size_t>(kTargetWidth) * kTargetWidth; ++k)
    basis[l.Wo + k] = (k % (kTargetWidth + 1) == 0) ? T(1) : T(0);
  for (std::size_t k = 0; k < static_cast<std::size_t>(kTargetWidth); ++k) basis[l.bo + k] = T(0);
}

template <class T>
void add_basis_gradient(const T* basis_grad, T* target_grad) {
  for (const auto& [t, b, n] : hidden_blocks())
    for (std::size_t k = 0; k < n; ++k) target_grad[t + k] += basis_grad[b + k];
}

template <class T>
void set_output_layer(const double* out, double scale, T* target) {
  const Layout& l = target_layout();
  for (int j = 0; j < kTargetWidth; ++j) target[l.Wo + static_cast<std::size_t>(j)] = static_cast<T>(scale * out[j]);
  target[l.bo] = static_cast<T>(scale * out[kTargetWidth]);
}

template void basis_from_target<float>(const float*, float*);
template void basis_from_target<double>(const double*, double*);
template void add_basis_gradient<float>(const float*, float*);
template void add_basis_gradient<double>(const double*, double*);
template void set_output_layer<float>(const double*, double, float*);
template void set_output_layer<double>(const double*, double, double*);

}  // namespace kpde::hypernet
