// Attention pooling: forward and hand-written backward through kpde::gemm, per item.
// Per-item matrices are column-major (kpde::gemm's layout): k, v, dk, dv [N][D] (a head
// is a block of dh columns), q, o, do [Tq][D], the transposed attention A^T [N][Tq]
// (a column per query, softmax over contiguous values). x_b, C order [D][N], is the
// column-major X [N][D]; dx_b is dX [N][D] in the same way; y_b, C order [Tq][D], is
// the column-major y_b^T [D][Tq].
#include "nn/attention_pool.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "nn/activation.hpp"
#include "nn/gemm.hpp"
#include "nn/linear.hpp"

namespace kpde::nn {

namespace {

using detail::col_matrix;

/// Offsets of the parameter blocks.
struct Offsets {
  std::size_t Q, Wq, bq, Wk, bk, Wv, bv, Wo, bo, end;
  Offsets(std::size_t D, std::size_t Tq) {
    Q = 0, Wq = Tq * D, bq = Wq + D * D, Wk = bq + D, bk = Wk + D * D, Wv = bk + D, bv = Wv + D * D;
    Wo = bv + D, bo = Wo + D * D, end = bo + D;
  }
};

/// Column j of the column-major rows x cols matrix m gets += b[j].
template <class T>
void add_bias_columns(T* m, int rows, int cols, const T* b) {
  for (int j = 0; j < cols; ++j) {
    T* col = m + std::size_t(j) * rows;
    const T bj = b[j];
#pragma omp simd
    for (int i = 0; i < rows; ++i) col[i] += bj;
  }
}

/// out[j] += sum_i m[i][j] over the column-major rows x cols matrix m (sums in double).
template <class T>
void add_column_sums(const T* m, int rows, int cols, T* out) {
  for (int j = 0; j < cols; ++j) {
    const T* col = m + std::size_t(j) * rows;
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < rows; ++i) s += double(col[i]);
    out[j] += T(s);
  }
}

/// Each column of the column-major n x cols matrix s is replaced by its softmax
/// (stable: the column maximum is subtracted; the sum in double).
template <class T>
void softmax_columns(T* s, int n, int cols) {
  for (int j = 0; j < cols; ++j) {
    T* c = s + std::size_t(j) * n;
    T mx = c[0];
    for (int i = 1; i < n; ++i) mx = c[i] > mx ? c[i] : mx;
    double sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int i = 0; i < n; ++i) {
      c[i] = detail::vexp(T(c[i] - mx));
      sum += double(c[i]);
    }
    const T inv = T(1.0 / sum);
#pragma omp simd
    for (int i = 0; i < n; ++i) c[i] *= inv;
  }
}

/// Softmax backward per column: da <- a (da - <a, da>) for the columns of the
/// column-major n x cols matrices a (probabilities) and da.
template <class T>
void softmax_backward_columns(const T* a, T* da, int n, int cols) {
  for (int j = 0; j < cols; ++j) {
    const T* ac = a + std::size_t(j) * n;
    T* dc = da + std::size_t(j) * n;
    double dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int i = 0; i < n; ++i) dot += double(ac[i]) * double(dc[i]);
    const T d = T(dot);
#pragma omp simd
    for (int i = 0; i < n; ++i) dc[i] = ac[i] * (dc[i] - d);
  }
}

}  // namespace

template <class T>
AttentionPool<T>::AttentionPool(int dim, int heads, int queries) : dim_(dim), heads_(heads), queries_(queries) {
  if (dim < 1 || heads < 1 || dim % heads != 0)
    throw InputError("AttentionPool: dim must be a positive multiple of heads (given dim = " + std::to_string(dim) +
                     ", heads = " + std::to_string(heads) + ")");
  if (queries < 1)
    throw InputError("AttentionPool: queries must be >= 1 (given " + std::to_string(queries) + ")");
}

template <class T>
std::size_t AttentionPool<T>::n_params() const {
  return Offsets(std::size_t(dim_), std::size_t(queries_)).end;
}

template <class T>
void AttentionPool<T>::init(T* params, Rng& rng) const {
  detail::require_data("AttentionPool::init", "params", params);
  const std::size_t D = std::size_t(dim_);
  const Offsets o(D, std::size_t(queries_));
  for (std::size_t i = o.Q; i < o.Wq; ++i) params[i] = T(rng.normal());
  const double a = std::sqrt(6.0 / double(2 * D));
  for (const std::size_t w : {o.Wq, o.Wk, o.Wv, o.Wo}) {
    for (std::size_t i = w; i < w + D * D; ++i) params[i] = T(a * (2.0 * rng.uniform() - 1.0));
    for (std::size_t i = w + D * D; i < w + D * D + D; ++i) params[i] = T(0);  // the bias after it
  }
}

template <class T>
double AttentionPool<T>::forward_flops(int B, int N) const {
  const double D = dim_, Tq = queries_;
  return double(B) * (4.0 * N * D * D + 4.0 * Tq * N * D + 2.0 * Tq * D * D) + 2.0 * Tq * D * D;
}

template <class T>
void AttentionPool<T>::forward(const T* params, const Arr3<const T>& x, const Arr3<T>& y) const {
  const int D = dim_, Tq = queries_, H = heads_, dh = D / H;
  const std::size_t B = x.extent(0);
  const int N = static_cast<int>(x.extent(2));
  detail::require_data("AttentionPool::forward", "params", params);
  detail::require_extents("AttentionPool::forward", "x", x, {detail::any_extent, std::size_t(D), detail::any_extent});
  detail::require_extents("AttentionPool::forward", "y", y, {B, std::size_t(Tq), std::size_t(D)});
  if (N < 1 && B > 0)
    throw InputError("AttentionPool::forward: x has no tokens (extents " + detail::extents_string(x) + ")");
  KPDE_ASSERT(x.span_is_contiguous() && y.span_is_contiguous(), "AttentionPool: contiguous x and y");
  const Offsets o(D, Tq);
  const T scale = T(1.0 / std::sqrt(double(dh)));
  // q = Q Wq^T + bq, shared by the items.
  std::vector<T> q(std::size_t(Tq) * D);
  gemm('T', 'N', T(1), col_matrix(params + o.Q, D, Tq), col_matrix(params + o.Wq, D, D), T(0),
       col_matrix(q.data(), Tq, D));
  add_bias_columns(q.data(), Tq, D, params + o.bq);
  const auto item = [&](const std::size_t b) {
    std::vector<T> k(std::size_t(N) * D), v(std::size_t(N) * D), at(std::size_t(N) * Tq), out(std::size_t(Tq) * D);
    const auto X = col_matrix(x.data() + b * D * N, N, D);
    gemm('N', 'N', T(1), X, col_matrix(params + o.Wk, D, D), T(0), col_matrix(k.data(), N, D));
    add_bias_columns(k.data(), N, D, params + o.bk);
    gemm('N', 'N', T(1), X, col_matrix(params + o.Wv, D, D), T(0), col_matrix(v.data(), N, D));
    add_bias_columns(v.data(), N, D, params + o.bv);
    for (int h = 0; h < H; ++h) {
      const std::size_t c0 = std::size_t(h) * dh;
      gemm('N', 'T', scale, col_matrix(k.data() + c0 * N, N, dh), col_matrix(q.data() + c0 * Tq, Tq, dh), T(0),
           col_matrix(at.data(), N, Tq));
      softmax_columns(at.data(), N, Tq);
      gemm('T', 'N', T(1), col_matrix(at.data(), N, Tq), col_matrix(v.data() + c0 * N, N, dh), T(0),
           col_matrix(out.data() + c0 * Tq, Tq, dh));
    }
    T* yb = y.data() + b * Tq * D;
    gemm('T', 'T', T(1), col_matrix(params + o.Wo, D, D), col_matrix(out.data(), Tq, D), T(0), col_matrix(yb, D, Tq));
    for (int t = 0; t < Tq; ++t)
#pragma omp simd
      for (int d = 0; d < D; ++d) yb[std::size_t(t) * D + d] += params[o.bo + d];
  };
  Kokkos::parallel_for("kpde::nn::AttentionPool::forward", Kokkos::RangePolicy<HostExec>(0, B), item);
}

template <class T>
void AttentionPool<T>::backward(const T* params, const Arr3<const T>& x, const Arr3<const T>& dy, const Arr3<T>& dx,
                                T* grad) const {
  const int D = dim_, Tq = queries_, H = heads_, dh = D / H;
  const std::size_t B = x.extent(0);
  const int N = static_cast<int>(x.extent(2));
  detail::require_data("AttentionPool::backward", "params", params);
  detail::require_extents("AttentionPool::backward", "x", x, {detail::any_extent, std::size_t(D), detail::any_extent});
  detail::require_extents("AttentionPool::backward", "dy", dy, {B, std::size_t(Tq), std::size_t(D)});
  if (dx.data()) detail::require_extents("AttentionPool::backward", "dx", dx, {B, std::size_t(D), std::size_t(N)});
  KPDE_ASSERT(x.span_is_contiguous() && dy.span_is_contiguous() && dx.span_is_contiguous(),
              "AttentionPool: contiguous views");
  if ((!dx.data() && !grad) || B == 0) return;
  if (N < 1) throw InputError("AttentionPool::backward: x has no tokens (extents " + detail::extents_string(x) + ")");
  const Offsets o(D, Tq);
  const std::size_t np = o.end, nd = std::size_t(N) * D;
  const T scale = T(1.0 / std::sqrt(double(dh)));
  std::vector<T> q(std::size_t(Tq) * D);
  gemm('T', 'N', T(1), col_matrix(params + o.Q, D, Tq), col_matrix(params + o.Wq, D, D), T(0),
       col_matrix(q.data(), Tq, D));
  add_bias_columns(q.data(), Tq, D, params + o.bq);

  // Group g's partial gradient has the layout of the parameters, except that the Q slot
  // holds d(loss)/dq [Tq][D] column-major and the Wq, bq slots stay 0.
  const int G = gradient_groups(static_cast<int>(B));
  std::vector<T> partials(grad ? np * G : 0, T(0));
  Kokkos::parallel_for("kpde::nn::AttentionPool::backward", Kokkos::RangePolicy<HostExec>(0, G), [&](const int g) {
    std::vector<T> k(nd), v(nd), dk(nd), dv(nd), at(std::size_t(N) * Tq), dat(std::size_t(N) * Tq);
    std::vector<T> out(std::size_t(Tq) * D), dout(std::size_t(Tq) * D);
    T* pg = grad ? partials.data() + np * g : nullptr;
    for (std::size_t b = std::size_t(g); b < B; b += std::size_t(G)) {
      const auto X = col_matrix(x.data() + b * D * N, N, D);
      const auto dY = col_matrix(dy.data() + b * Tq * D, D, Tq);  // dy_b^T [D][Tq]
      gemm('N', 'N', T(1), X, col_matrix(params + o.Wk, D, D), T(0), col_matrix(k.data(), N, D));
      add_bias_columns(k.data(), N, D, params + o.bk);
      gemm('N', 'N', T(1), X, col_matrix(params + o.Wv, D, D), T(0), col_matrix(v.data(), N, D));
      add_bias_columns(v.data(), N, D, params + o.bv);
      // dO = dY Wo [Tq][D]
      gemm('T', 'T', T(1), dY, col_matrix(params + o.Wo, D, D), T(0), col_matrix(dout.data(), Tq, D));
      for (int h = 0; h < H; ++h) {
        const std::size_t c0 = std::size_t(h) * dh;
        const auto kh = col_matrix(k.data() + c0 * N, N, dh), vh = col_matrix(v.data() + c0 * N, N, dh);
        const auto qh = col_matrix(q.data() + c0 * Tq, Tq, dh);
        const auto doh = col_matrix(dout.data() + c0 * Tq, Tq, dh);
        const auto A = col_matrix(at.data(), N, Tq), dA = col_matrix(dat.data(), N, Tq);
        gemm('N', 'T', scale, kh, qh, T(0), A);
        softmax_columns(at.data(), N, Tq);
        if (pg)  // o_h = A_h v_h, for dWo
          gemm('T', 'N', T(1), A, vh, T(0), col_matrix(out.data() + c0 * Tq, Tq, dh));
        gemm('N', 'T', T(1), vh, doh, T(0), dA);                                  // dA^T = v_h dO_h^T
        gemm('N', 'N', T(1), A, doh, T(0), col_matrix(dv.data() + c0 * N, N, dh));  // dv_h = A_h^T dO_h
        softmax_backward_columns(at.data(), dat.data(), N, Tq);                  // dS^T
        gemm('N', 'N', scale, dA, qh, T(0), col_matrix(dk.data() + c0 * N, N, dh));  // dk_h = s dS^T q_h
        if (pg)  // dq_h += s dS k_h
          gemm('T', 'N', scale, dA, kh, T(1), col_matrix(pg + o.Q + c0 * Tq, Tq, dh));
      }
      if (pg) {
        // dWo^T += O^T dY, dbo += sum_t dy; dWk^T += X^T dk, dWv^T += X^T dv; dbk, dbv.
        gemm('T', 'T', T(1), col_matrix(out.data(), Tq, D), dY, T(1), col_matrix(pg + o.Wo, D, D));
        for (int t = 0; t < Tq; ++t) {
          const T* dyt = dy.data() + (b * Tq + t) * D;
#pragma omp simd
          for (int d = 0; d < D; ++d) pg[o.bo + d] += dyt[d];
        }
        gemm('T', 'N', T(1), X, col_matrix(dk.data(), N, D), T(1), col_matrix(pg + o.Wk, D, D));
        add_column_sums(dk.data(), N, D, pg + o.bk);
        gemm('T', 'N', T(1), X, col_matrix(dv.data(), N, D), T(1), col_matrix(pg + o.Wv, D, D));
        add_column_sums(dv.data(), N, D, pg + o.bv);
      }
      if (dx.data()) {  // dX = dk Wk + dv Wv
        const auto dX = col_matrix(dx.data() + b * D * N, N, D);
        gemm('N', 'T', T(1), col_matrix(dk.data(), N, D), col_matrix(params + o.Wk, D, D), T(0), dX);
        gemm('N', 'T', T(1), col_matrix(dv.data(), N, D), col_matrix(params + o.Wv, D, D), T(1), dX);
      }
    }
  });
  if (!grad) return;
  // Sum the groups in order, then: the Wk .. bo blocks are added as they are; from
  // dq: dQ^T = Wq^T dq^T, dWq^T = Q^T dq, dbq = sum_t dq.
  std::vector<T> total(np, T(0));
  detail::add_partials(total.data(), partials.data(), G, np);
  for (std::size_t i = o.Wk; i < np; ++i) grad[i] += total[i];
  const auto dq = col_matrix(static_cast<const T*>(total.data()) + o.Q, Tq, D);
  gemm('N', 'T', T(1), col_matrix(params + o.Wq, D, D), dq, T(1), col_matrix(grad + o.Q, D, Tq));
  gemm('N', 'N', T(1), col_matrix(params + o.Q, D, Tq), dq, T(1), col_matrix(grad + o.Wq, D, D));
  add_column_sums(total.data() + o.Q, Tq, D, grad + o.bq);
}

template class AttentionPool<float>;
template class AttentionPool<double>;

}  // namespace kpde::nn
