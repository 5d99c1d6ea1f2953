#pragma once
/// The one GEMM of kpde (docs/design.md 3.4):
///   C = alpha * op(A) * op(B) + beta * C,   op(X) = X or X^T ('N' or 'T').
/// A, B, C are rank-2 Kokkos Views in LayoutLeft (column-major) with any stride
/// between columns. On host-accessible memory the Views are mapped to Eigen (with
/// -march=native this runs at 30-60 GFLOP/s in double here, against 3-4 for
/// Debian's reference BLAS); on other memory spaces it calls KokkosBlas::gemm
/// (cuBLAS on a CUDA build of Kokkos). Runs on the calling thread: kpde
/// parallelises above it (over point blocks), so Eigen's own threading is off.
#include <Eigen/Core>
#include <Kokkos_Core.hpp>
#include <atomic>
#include <chrono>
#include <type_traits>

#include "core/error.hpp"
#ifdef KPDE_HAVE_KOKKOSKERNELS
#include <KokkosBlas3_gemm.hpp>
#endif

namespace kpde {

/// Optional accounting of the time spent inside kpde::gemm, summed over threads
/// (for `kpde bench`: GEMM rate and the share of a step outside GEMM). Off by default;
/// when off it costs one relaxed load per call.
struct GemmStats {
  static std::atomic<bool>& enabled() {
    static std::atomic<bool> on{false};
    return on;
  }
  static std::atomic<long long>& nanoseconds() {
    static std::atomic<long long> ns{0};
    return ns;
  }
  static std::atomic<long long>& calls() {
    static std::atomic<long long> n{0};
    return n;
  }
  static void reset() { nanoseconds() = 0, calls() = 0; }
  /// Thread-seconds spent in GEMM since the last reset.
  static double seconds() { return 1e-9 * static_cast<double>(nanoseconds().load()); }
};

namespace detail {

/// Column-major raw-pointer GEMM on host memory through Eigen.
/// op(A) is m x k, op(B) is k x n, C is m x n; lda/ldb/ldc are column strides.
template <class T>
inline void gemm_host(char ta, char tb, int m, int n, int k, T alpha, const T* A, int lda,
                      const T* B, int ldb, T beta, T* C, int ldc) {
  using MatT = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  using CMap = Eigen::Map<const MatT, Eigen::Unaligned, Eigen::OuterStride<>>;
  using Map = Eigen::Map<MatT, Eigen::Unaligned, Eigen::OuterStride<>>;
  const bool tA = (ta == 'T' || ta == 't'), tB = (tb == 'T' || tb == 't');
  const CMap a(A, tA ? k : m, tA ? m : k, Eigen::OuterStride<>(lda));
  const CMap b(B, tB ? n : k, tB ? k : n, Eigen::OuterStride<>(ldb));
  Map c(C, m, n, Eigen::OuterStride<>(ldc));
  const bool timed = GemmStats::enabled().load(std::memory_order_relaxed);
  std::chrono::steady_clock::time_point t0;
  if (timed) t0 = std::chrono::steady_clock::now();
  if (beta == T(0)) {
    c.setZero();
  } else if (beta != T(1)) {
    c *= beta;
  }
  if (m > 0 && n > 0 && k > 0) {
    if (!tA && !tB) c.noalias() += alpha * (a * b);
    else if (tA && !tB) c.noalias() += alpha * (a.transpose() * b);
    else if (!tA && tB) c.noalias() += alpha * (a * b.transpose());
    else c.noalias() += alpha * (a.transpose() * b.transpose());
  }
  if (timed) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0);
    GemmStats::nanoseconds().fetch_add(ns.count(), std::memory_order_relaxed);
    GemmStats::calls().fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace detail

/// C = alpha * op(A) * op(B) + beta * C on rank-2 LayoutLeft Views.
template <class AV, class BV, class CV>
void gemm(char ta, char tb, typename CV::non_const_value_type alpha, const AV& A, const BV& B,
          typename CV::non_const_value_type beta, const CV& C) {
  using T = typename CV::non_const_value_type;
  static_assert(std::is_same<typename AV::array_layout, Kokkos::LayoutLeft>::value &&
                    std::is_same<typename BV::array_layout, Kokkos::LayoutLeft>::value &&
                    std::is_same<typename CV::array_layout, Kokkos::LayoutLeft>::value,
                "kpde::gemm takes LayoutLeft views");
  const bool tA = (ta == 'T' || ta == 't'), tB = (tb == 'T' || tb == 't');
  const int m = static_cast<int>(C.extent(0)), n = static_cast<int>(C.extent(1));
  const int k = static_cast<int>(tA ? A.extent(0) : A.extent(1));
  KPDE_ASSERT(static_cast<int>(tA ? A.extent(1) : A.extent(0)) == m, "gemm: rows of op(A)");
  KPDE_ASSERT(static_cast<int>(tB ? B.extent(1) : B.extent(0)) == k, "gemm: inner dimension");
  KPDE_ASSERT(static_cast<int>(tB ? B.extent(0) : B.extent(1)) == n, "gemm: columns of op(B)");
  using space = typename CV::memory_space;
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, space>::accessible) {
    auto ld = [](const auto& v) {
      return static_cast<int>(v.extent(1) > 1 ? v.stride(1) : (v.extent(0) > 0 ? v.extent(0) : 1));
    };
    detail::gemm_host<T>(ta, tb, m, n, k, alpha, A.data(), ld(A), B.data(), ld(B), beta, C.data(),
                         ld(C));
  } else {
#ifdef KPDE_HAVE_KOKKOSKERNELS
    const char mA[2] = {tA ? 'T' : 'N', 0}, mB[2] = {tB ? 'T' : 'N', 0};
    KokkosBlas::gemm(mA, mB, alpha, A, B, beta, C);
#else
    static_assert(Kokkos::SpaceAccessibility<Kokkos::HostSpace, space>::accessible,
                  "kpde::gemm on device memory needs KokkosKernels");
#endif
  }
}

}  // namespace kpde
