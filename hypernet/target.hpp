#pragma once
/// The PINN the hypernetwork emits (HyPINO's target network) through kpde's engine:
///   phi(x, y) = [x, y, sin(2 pi 0.1 2^k x), sin(.. y), cos(.. x), cos(.. y)]_{k=0..4}  (22)
///   U = tanh(Wu phi + bu), V = tanh(Wv phi + bv)
///   A_1 = tanh(W_1 phi + b_1), H_l = U A_l + V (1 - A_l), A_{l+1} = tanh(W_{l+1} H_l + b_{l+1})
///   u = W_o H_4 + b_o        (width 32, 4 tanh layers, 5,409 parameters)
/// (kpde's modified MLP gates after every hidden layer, so also before the output;
/// HyPINO's leaves the last one ungated. Same parameter count.)
///
/// The "basis" network is the same network with 32 outputs and W_o = I, b_o = 0: its
/// outputs are the 32 functions H_4,j, whose combination with (w, b) is the PINN
/// u = w . H_4 + b. The hypernetwork's losses are computed on the basis (one forward
/// with derivative channels serves the emitted output layer and the least-squares one).
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "nn/network.hpp"

namespace kpde::hypernet {

constexpr int kTargetWidth = 32;
/// Output-layer unknowns of the basis: 32 weights and the bias.
constexpr int kOut = kTargetWidth + 1;

/// The target network's spec with `outputs` outputs (1: the PINN, 32: the basis).
nn::NetworkSpec target_spec(int outputs = 1);

/// One tensor the hypernetwork emits: rows x cols at `offset` of the target network's
/// parameters (row-major [out][in]; a bias has cols = 1).
struct TargetTensor {
  std::string name;  ///< "W1", ..., "Wu", "Wv", "Wo", "b1", ...
  int rows = 0, cols = 0;
  std::size_t offset = 0;
  std::size_t size() const { return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols); }
  bool output() const { return name == "Wo" || name == "bo"; }
};
/// The 14 tensors: W1 [32][22], W2, W3, W4 [32][32], Wu, Wv [32][22], Wo [1][32], then
/// their biases b1..b4, bu, bv [32] and bo [1]; offsets into the 5,409 parameters.
const std::vector<TargetTensor>& target_tensors();
/// Parameters of the target network (5,409).
std::size_t target_size();
/// Parameters of the basis network.
std::size_t basis_size();

/// Basis parameters from target parameters: the hidden tensors copied, W_o = I, b_o = 0.
template <class T>
void basis_from_target(const T* target, T* basis);
/// Adds the hidden-tensor entries of a basis gradient into a target-layout gradient (the
/// output tensors of `target_grad` are left alone).
template <class T>
void add_basis_gradient(const T* basis_grad, T* target_grad);
/// Sets the output layer of target parameters: W_o = scale w, b_o = scale b (w = out[0..31], b = out[32]).
template <class T>
void set_output_layer(const double* out, double scale, T* target);

}  // namespace kpde::hypernet
