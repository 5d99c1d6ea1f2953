#pragma once
/// Element-wise kernels on blocks of derivative channels ("jets").
///
/// A jet block holds, for P points and F features, the C channels of docs/design.md 3.1 in
/// one column-major matrix [F x C*P]: column c*P + p is channel c of point p, so a
/// dense layer moves every channel of every point with one GEMM, and the features
/// of one (channel, point) are contiguous (the loops below vectorise over them).
/// Channel order: value, G gradient channels, S second-order channels u_s =
/// sum_ij A^s_ij u_ij (see channels.hpp). These kernels run on one thread; the
/// caller parallelises over blocks.
#include <algorithm>
#include <array>
#include <cstddef>

#define KPDE_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define KPDE_UNROLL KPDE_PRAGMA(unroll)
#elif defined(__GNUC__)
#define KPDE_UNROLL KPDE_PRAGMA(GCC unroll 16)
#else
#define KPDE_UNROLL
#endif

namespace kpde::nn::detail {

template <class T>
struct Jets {
  T* data;
  int F;  ///< features (rows)
  int P;  ///< points in this block
  T* at(int c, int p) const { return data + static_cast<std::size_t>(F) * (c * P + p); }
};

/// The symmetric matrices A^s of the second-order channels, in the working precision.
template <class T>
struct SecondMats {
  T A[6][3][3];
};

/// q_s(g) = g^T A^s g over the first G entries.
template <class T, int G>
inline T quad(const T (&A)[3][3], const std::array<T, G>& g) {
  T q = T(0);
  KPDE_UNROLL
  for (int a = 0; a < G; ++a) {
    q += A[a][a] * g[a] * g[a];
    KPDE_UNROLL
    for (int b = a + 1; b < G; ++b) q += T(2) * A[a][b] * g[a] * g[b];
  }
  return q;
}

/// Features are processed in chunks of kChunk; the activation derivatives of a chunk
/// live in small stack arrays so that every loop below is a plain, vectorisable loop.
constexpr int kChunk = 64;

/// s(z), s'(z), s''(z), s'''(z) for z[0..n).
template <class Act, class T>
inline void act_eval_chunk(const T* z, int n, T* s0, T* s1, T* s2, T* s3) {
#pragma omp simd
  for (int j = 0; j < n; ++j) Act::eval(z[j], s0[j], s1[j], s2[j], s3[j]);
}

/// q[j] = g_j^T A g_j, where g_j = (zg[0][j], ..., zg[G-1][j]).
template <int G, class T>
inline void quad_chunk(const T (&A)[3][3], const T* const* zg, int n, T* q) {
  for (int j = 0; j < n; ++j) q[j] = T(0);
  KPDE_UNROLL
  for (int a = 0; a < G; ++a) {
    const T daa = A[a][a];
#pragma omp simd
    for (int j = 0; j < n; ++j) q[j] += daa * zg[a][j] * zg[a][j];
    KPDE_UNROLL
    for (int b = a + 1; b < G; ++b) {
      const T dab = T(2) * A[a][b];
      if (dab == T(0)) continue;
#pragma omp simd
      for (int j = 0; j < n; ++j) q[j] += dab * zg[a][j] * zg[b][j];
    }
  }
}

/// H = act(Z) channel-wise (chain rule):
///   h = s(z),  h_i = s'(z) z_i,  h_s = s''(z) z_g^T A^s z_g + s'(z) z_s.
template <class Act, int G, int S, class T>
void act_forward(const Jets<const T>& Z, const Jets<T>& H, const SecondMats<T>& M) {
  alignas(64) T s1[kChunk], s2[kChunk], s3[kChunk], q[kChunk];
  for (int p = 0; p < Z.P; ++p) {
    for (int j0 = 0; j0 < Z.F; j0 += kChunk) {
      const int n = std::min(kChunk, Z.F - j0);
      const T* zg[G > 0 ? G : 1];
      KPDE_UNROLL
      for (int i = 0; i < G; ++i) zg[i] = Z.at(1 + i, p) + j0;
      act_eval_chunk<Act>(Z.at(0, p) + j0, n, H.at(0, p) + j0, s1, s2, s3);
      KPDE_UNROLL
      for (int i = 0; i < G; ++i) {
        T* h = H.at(1 + i, p) + j0;
#pragma omp simd
        for (int j = 0; j < n; ++j) h[j] = s1[j] * zg[i][j];
      }
      KPDE_UNROLL
      for (int s = 0; s < S; ++s) {
        quad_chunk<G>(M.A[s], zg, n, q);
        const T* zs = Z.at(1 + G + s, p) + j0;
        T* h = H.at(1 + G + s, p) + j0;
#pragma omp simd
        for (int j = 0; j < n; ++j) h[j] = s2[j] * q[j] + s1[j] * zs[j];
      }
    }
  }
}

/// s'(z), s''(z), s'''(z) for z[0..n), from the stored values h = s(z) when the
/// activation allows it (tanh), else from z.
template <class Act, class T>
inline void act_derivs_chunk(const T* z, const T* h, int n, T* s0, T* s1, T* s2, T* s3) {
  if constexpr (Act::from_value) {
#pragma omp simd
    for (int j = 0; j < n; ++j) Act::derivatives_from_value(h[j], s1[j], s2[j], s3[j]);
  } else {
    act_eval_chunk<Act>(z, n, s0, s1, s2, s3);
  }
}

/// Adjoint of act_forward: given dH, the adjoint of every channel of Z
/// (H, the forward output, gives s(z) for activations that need no re-evaluation).
///   dz_s = s' dh_s
///   dz_i = s' dh_i + s'' sum_s dh_s (2 A^s z_g)_i
///   dz   = s' dh + s'' sum_i dh_i z_i + sum_s dh_s (s''' q_s + s'' z_s)
template <class Act, int G, int S, class T>
void act_backward(const Jets<const T>& Z, const Jets<const T>& H, const Jets<const T>& dH, const Jets<T>& dZ,
                  const SecondMats<T>& M) {
  alignas(64) T s0[kChunk], s1[kChunk], s2[kChunk], s3[kChunk], q[kChunk];
  for (int p = 0; p < Z.P; ++p) {
    for (int j0 = 0; j0 < Z.F; j0 += kChunk) {
      const int n = std::min(kChunk, Z.F - j0);
      const T* zg[G > 0 ? G : 1];
      KPDE_UNROLL
      for (int i = 0; i < G; ++i) zg[i] = Z.at(1 + i, p) + j0;
      act_derivs_chunk<Act>(Z.at(0, p) + j0, H.at(0, p) + j0, n, s0, s1, s2, s3);
      T* dz0 = dZ.at(0, p) + j0;
      const T* dh0 = dH.at(0, p) + j0;
#pragma omp simd
      for (int j = 0; j < n; ++j) dz0[j] = s1[j] * dh0[j];
      KPDE_UNROLL
      for (int i = 0; i < G; ++i) {
        const T* dh = dH.at(1 + i, p) + j0;
        T* dz = dZ.at(1 + i, p) + j0;
#pragma omp simd
        for (int j = 0; j < n; ++j) {
          dz0[j] += s2[j] * dh[j] * zg[i][j];
          dz[j] = s1[j] * dh[j];
        }
      }
      KPDE_UNROLL
      for (int s = 0; s < S; ++s) {
        quad_chunk<G>(M.A[s], zg, n, q);
        const T* zs = Z.at(1 + G + s, p) + j0;
        const T* dh = dH.at(1 + G + s, p) + j0;
        T* dzs = dZ.at(1 + G + s, p) + j0;
#pragma omp simd
        for (int j = 0; j < n; ++j) {
          dz0[j] += dh[j] * (s3[j] * q[j] + s2[j] * zs[j]);
          dzs[j] = s1[j] * dh[j];
        }
        // dz_a += 2 s'' dh_s sum_b A_ab z_b
        KPDE_UNROLL
        for (int a = 0; a < G; ++a) {
          T* dz = dZ.at(1 + a, p) + j0;
          KPDE_UNROLL
          for (int b = 0; b < G; ++b) {
            const T c = T(2) * M.A[s][a][b];
            if (c == T(0)) continue;
#pragma omp simd
            for (int j = 0; j < n; ++j) dz[j] += c * s2[j] * dh[j] * zg[b][j];
          }
        }
      }
    }
  }
}

/// Gating of the modified MLP, channel-wise: Out = V + (U - V) * A, where * is the
/// product of jets: (X*Y) = X Y, (X*Y)_i = X_i Y + X Y_i,
/// (X*Y)_s = X_s Y + X Y_s + 2 X_g^T A^s Y_g.
template <int G, int S, class T>
void gate_forward(const Jets<const T>& U, const Jets<const T>& V, const Jets<const T>& A,
                  const Jets<T>& Out, const SecondMats<T>& M) {
  constexpr int C = 1 + G + S;
  const int F = A.F;
  for (int p = 0; p < A.P; ++p) {
    std::array<const T*, C> u, v, a;
    std::array<T*, C> o;
    KPDE_UNROLL
    for (int c = 0; c < C; ++c) u[c] = U.at(c, p), v[c] = V.at(c, p), a[c] = A.at(c, p), o[c] = Out.at(c, p);
#pragma omp simd
    for (int j = 0; j < F; ++j) {
      const T a0 = a[0][j], d0 = u[0][j] - v[0][j];
      std::array<T, G> dg, ag;
      o[0][j] = v[0][j] + d0 * a0;
      KPDE_UNROLL
      for (int i = 0; i < G; ++i) {
        dg[i] = u[1 + i][j] - v[1 + i][j];
        ag[i] = a[1 + i][j];
        o[1 + i][j] = v[1 + i][j] + dg[i] * a0 + d0 * ag[i];
      }
      KPDE_UNROLL
      for (int s = 0; s < S; ++s) {
        T cross = T(0);
        KPDE_UNROLL
        for (int x = 0; x < G; ++x)
          KPDE_UNROLL
          for (int y = 0; y < G; ++y) cross += M.A[s][x][y] * dg[x] * ag[y];
        const int c = 1 + G + s;
        o[c][j] = v[c][j] + (u[c][j] - v[c][j]) * a0 + d0 * a[c][j] + T(2) * cross;
      }
    }
  }
}

/// Adjoint of gate_forward: given dOut, writes dA and adds to dU, dV.
template <int G, int S, class T>
void gate_backward(const Jets<const T>& U, const Jets<const T>& V, const Jets<const T>& A,
                   const Jets<const T>& dOut, const Jets<T>& dA, const Jets<T>& dU,
                   const Jets<T>& dV, const SecondMats<T>& M) {
  constexpr int C = 1 + G + S;
  const int F = A.F;
  for (int p = 0; p < A.P; ++p) {
    std::array<const T*, C> u, v, a, g;
    std::array<T*, C> da, du, dv;
    KPDE_UNROLL
    for (int c = 0; c < C; ++c) {
      u[c] = U.at(c, p), v[c] = V.at(c, p), a[c] = A.at(c, p), g[c] = dOut.at(c, p);
      da[c] = dA.at(c, p), du[c] = dU.at(c, p), dv[c] = dV.at(c, p);
    }
#pragma omp simd
    for (int j = 0; j < F; ++j) {
      std::array<T, C> d, av, gv, dd, dav;
      KPDE_UNROLL
      for (int c = 0; c < C; ++c) d[c] = u[c][j] - v[c][j], av[c] = a[c][j], gv[c] = g[c][j];
      // adjoint of X = D in X*Y with Y = A, and of Y = A with X = D
      dd[0] = gv[0] * av[0];
      dav[0] = gv[0] * d[0];
      KPDE_UNROLL
      for (int i = 0; i < G; ++i) {
        dd[0] += gv[1 + i] * av[1 + i];
        dav[0] += gv[1 + i] * d[1 + i];
        dd[1 + i] = gv[1 + i] * av[0];
        dav[1 + i] = gv[1 + i] * d[0];
      }
      KPDE_UNROLL
      for (int s = 0; s < S; ++s) {
        const int c = 1 + G + s;
        dd[0] += gv[c] * av[c];
        dav[0] += gv[c] * d[c];
        dd[c] = gv[c] * av[0];
        dav[c] = gv[c] * d[0];
        KPDE_UNROLL
        for (int x = 0; x < G; ++x)
          KPDE_UNROLL
          for (int y = 0; y < G; ++y) {
            dd[1 + x] += T(2) * gv[c] * M.A[s][x][y] * av[1 + y];
            dav[1 + x] += T(2) * gv[c] * M.A[s][x][y] * d[1 + y];
          }
      }
      KPDE_UNROLL
      for (int c = 0; c < C; ++c) {
        da[c][j] = dav[c];
        du[c][j] += dd[c];
        dv[c][j] += gv[c] - dd[c];
      }
    }
  }
}

/// Calls f(integral_constant<G>, integral_constant<S>) for the supported channel
/// shapes (G gradient channels, S second-order channels).
template <class F>
void dispatch_channels(int G, int S, F&& f) {
  using std::integral_constant;
#define KPDE_CASE(g, s) \
  if (G == g && S == s) return f(integral_constant<int, g>{}, integral_constant<int, s>{});
  KPDE_CASE(0, 0) KPDE_CASE(1, 0) KPDE_CASE(2, 0) KPDE_CASE(3, 0)
  KPDE_CASE(1, 1) KPDE_CASE(2, 1) KPDE_CASE(2, 2) KPDE_CASE(2, 3)
  KPDE_CASE(3, 1) KPDE_CASE(3, 3) KPDE_CASE(3, 6)
#undef KPDE_CASE
}

}  // namespace kpde::nn::detail
