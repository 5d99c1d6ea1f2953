#pragma once
/// Pointwise layers (conventions: nn/layer.hpp): GELU, tanh and ReLU on contiguous values,
/// and FiLM (feature-wise affine modulation) of token sets. No parameters of their own
/// (FiLM's gamma and beta are inputs, e.g. produced by a Linear head).
#include <cstddef>

#include "core/types.hpp"
#include "nn/layer.hpp"

namespace kpde::nn {

/// GELU (exact, erf form): y[i] = x[i] Phi(x[i]) for i < n. y may alias x (in place).
template <class T>
void gelu_forward(std::size_t n, const T* x, T* y);
/// dx[i] = dy[i] GELU'(x[i]) = dy[i] (Phi(x[i]) + x[i] phi(x[i])) for i < n (from the
/// forward input x). dx may alias dy (not x unless dy is x).
template <class T>
void gelu_backward(std::size_t n, const T* x, const T* dy, T* dx);

/// y[i] = tanh(x[i]) for i < n. y may alias x (in place).
template <class T>
void tanh_forward(std::size_t n, const T* x, T* y);
/// dx[i] = dy[i] (1 - tanh(x[i])^2) for i < n (from the forward input x). dx may alias dy.
template <class T>
void tanh_backward(std::size_t n, const T* x, const T* dy, T* dx);

/// ReLU: y[i] = max(x[i], 0) for i < n (NaN stays NaN). y may alias x (in place).
template <class T>
void relu_forward(std::size_t n, const T* x, T* y);
/// dx[i] = dy[i] when x[i] > 0, else 0 (the derivative at 0 taken as 0, as PyTorch), for i < n
/// (from the forward input x). dx may alias dy.
template <class T>
void relu_backward(std::size_t n, const T* x, const T* dy, T* dx);

/// FiLM: y[b][c][n] = gamma[b][c] x[b][c][n] + beta[b][c]; x, y [B][C][N], gamma, beta
/// [B][C]. y overwritten; y may alias x.
template <class T>
void film_forward(const Arr3<const T>& x, const Mat<const T>& gamma, const Mat<const T>& beta, const Arr3<T>& y);
/// For the cotangent dy [B][C][N] (all overwritten):
///   dx[b][c][n] = gamma[b][c] dy[b][c][n]   (skipped when dx.data() == nullptr; dx may alias dy),
///   dgamma[b][c] = sum_n dy[b][c][n] x[b][c][n],  dbeta[b][c] = sum_n dy[b][c][n]
///   (each skipped when its data() == nullptr), gamma, dgamma, dbeta [B][C].
template <class T>
void film_backward(const Arr3<const T>& x, const Mat<const T>& gamma, const Arr3<const T>& dy, const Arr3<T>& dx,
                   const Mat<T>& dgamma, const Mat<T>& dbeta);

extern template void gelu_forward<float>(std::size_t, const float*, float*);
extern template void gelu_forward<double>(std::size_t, const double*, double*);
extern template void gelu_backward<float>(std::size_t, const float*, const float*, float*);
extern template void gelu_backward<double>(std::size_t, const double*, const double*, double*);
extern template void tanh_forward<float>(std::size_t, const float*, float*);
extern template void tanh_forward<double>(std::size_t, const double*, double*);
extern template void tanh_backward<float>(std::size_t, const float*, const float*, float*);
extern template void tanh_backward<double>(std::size_t, const double*, const double*, double*);
extern template void relu_forward<float>(std::size_t, const float*, float*);
extern template void relu_forward<double>(std::size_t, const double*, double*);
extern template void relu_backward<float>(std::size_t, const float*, const float*, float*);
extern template void relu_backward<double>(std::size_t, const double*, const double*, double*);
extern template void film_forward<float>(const Arr3<const float>&, const Mat<const float>&, const Mat<const float>&,
                                         const Arr3<float>&);
extern template void film_forward<double>(const Arr3<const double>&, const Mat<const double>&,
                                          const Mat<const double>&, const Arr3<double>&);
extern template void film_backward<float>(const Arr3<const float>&, const Mat<const float>&, const Arr3<const float>&,
                                          const Arr3<float>&, const Mat<float>&, const Mat<float>&);
extern template void film_backward<double>(const Arr3<const double>&, const Mat<const double>&,
                                           const Arr3<const double>&, const Arr3<double>&, const Mat<double>&,
                                           const Mat<double>&);

}  // namespace kpde::nn
