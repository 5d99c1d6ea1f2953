#pragma once
/// Derivative channels carried by a forward pass (docs/design.md 3.1).
///
/// At every point a network output u carries C channels, in this order:
///   channel 0            u
///   channels 1 .. G      du/dx_i, i = 0..d-1          (G = d when present, else 0)
///   channels 1+G .. C-1  S second-order channels, each a linear functional of the
///                        Hessian: u_s = sum_ij A^s_ij u_ij with A^s symmetric d x d.
/// Second-order kinds:
///   diagonal   S = d,          A^s = e_s e_s^T                  -> u_ii
///   hessian    S = d(d+1)/2,   pairs (i<=j) in row order         -> u_ij
///              (d=2: xx, xy, yy; d=3: xx, xy, xz, yy, yz, zz)
///   laplacian  S = 1,          A = diag(a)                      -> sum_i a_i u_ii
///              (the collapsed channel for constant-coefficient operators)
/// Second-order channels need the gradient channels (the chain rule uses them), so
/// they always come with them.
#include <array>
#include <string>

#include "core/error.hpp"

namespace kpde::nn {

enum class SecondOrder { none, diagonal, hessian, laplacian };

struct ChannelSpec {
  int dim = 2;                          ///< input dimension d, 1..3
  bool gradient = false;                ///< carry du/dx_i
  SecondOrder second = SecondOrder::none;
  std::array<double, 3> weights{1.0, 1.0, 1.0};  ///< a_i of the laplacian channel

  static ChannelSpec value(int d) { return {d, false, SecondOrder::none}; }
  static ChannelSpec with_gradient(int d) { return {d, true, SecondOrder::none}; }
  static ChannelSpec diagonal(int d) { return {d, true, SecondOrder::diagonal}; }
  static ChannelSpec hessian(int d) { return {d, true, SecondOrder::hessian}; }
  /// value, gradient and sum_i a_i u_ii.
  static ChannelSpec laplacian(int d, std::array<double, 3> a = {1.0, 1.0, 1.0}) {
    return {d, true, SecondOrder::laplacian, a};
  }

  int n_grad() const { return gradient ? dim : 0; }
  int n_second() const {
    switch (second) {
      case SecondOrder::none: return 0;
      case SecondOrder::diagonal: return dim;
      case SecondOrder::hessian: return dim * (dim + 1) / 2;
      case SecondOrder::laplacian: return 1;
    }
    return 0;
  }
  int n_channels() const { return 1 + n_grad() + n_second(); }
  int grad_channel(int i) const { return 1 + i; }
  int second_channel(int s) const { return 1 + n_grad() + s; }
  /// Channel of u_ij for diagonal (i == j) or hessian specs; -1 when not carried.
  int hessian_channel(int i, int j) const {
    if (i > j) std::swap(i, j);
    if (second == SecondOrder::diagonal) return i == j ? second_channel(i) : -1;
    if (second != SecondOrder::hessian) return -1;
    int s = 0;
    for (int a = 0; a < dim; ++a)
      for (int b = a; b < dim; ++b, ++s)
        if (a == i && b == j) return second_channel(s);
    return -1;
  }
  /// The symmetric matrix A^s of second-order channel s (3x3, zero beyond dim).
  std::array<std::array<double, 3>, 3> second_matrix(int s) const {
    std::array<std::array<double, 3>, 3> A{};
    if (second == SecondOrder::diagonal) {
      A[s][s] = 1.0;
    } else if (second == SecondOrder::laplacian) {
      for (int i = 0; i < dim; ++i) A[i][i] = weights[i];
    } else if (second == SecondOrder::hessian) {
      int k = 0;
      for (int a = 0; a < dim; ++a)
        for (int b = a; b < dim; ++b, ++k)
          if (k == s) {
            if (a == b) {
              A[a][a] = 1.0;
            } else {
              A[a][b] = A[b][a] = 0.5;  // sum_ij A_ij u_ij = u_ab
            }
          }
    }
    return A;
  }
  void validate() const {
    if (dim < 1 || dim > 3) throw InputError("channels: input dimension must be 1, 2 or 3");
    if (second != SecondOrder::none && !gradient)
      throw InputError("channels: second-order channels need the gradient channels");
  }
  std::string name() const {
    switch (second) {
      case SecondOrder::none: return gradient ? "gradient" : "value";
      case SecondOrder::diagonal: return "diagonal";
      case SecondOrder::hessian: return "hessian";
      case SecondOrder::laplacian: return "laplacian";
    }
    return "?";
  }
};

}  // namespace kpde::nn
