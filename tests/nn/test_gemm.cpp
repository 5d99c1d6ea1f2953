// kpde::gemm against a naive triple loop, every transpose combination, with strides.
#include <gtest/gtest.h>

#include "core/rng.hpp"
#include "core/types.hpp"
#include "nn/gemm.hpp"

template <class T>
void run_case(char ta, char tb) {
  using V = Kokkos::View<T**, Kokkos::LayoutLeft, kpde::HostSpace>;
  const int m = 7, n = 5, k = 9;
  kpde::Rng rng(3);
  V A("A", ta == 'N' ? m : k, ta == 'N' ? k : m), B("B", tb == 'N' ? k : n, tb == 'N' ? n : k);
  V Cbig("C", m + 3, n);  // column stride m+3
  auto C = Kokkos::subview(Cbig, Kokkos::make_pair(0, m), Kokkos::ALL);
  for (size_t i = 0; i < A.extent(0); ++i)
    for (size_t j = 0; j < A.extent(1); ++j) A(i, j) = T(rng.normal());
  for (size_t i = 0; i < B.extent(0); ++i)
    for (size_t j = 0; j < B.extent(1); ++j) B(i, j) = T(rng.normal());
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) C(i, j) = T(rng.normal());
  V C0("C0", m, n);
  Kokkos::deep_copy(C0, C);
  const T alpha = T(0.7), beta = T(-1.3);
  kpde::gemm(ta, tb, alpha, A, B, beta, C);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      T s = 0;
      for (int l = 0; l < k; ++l) s += (ta == 'N' ? A(i, l) : A(l, i)) * (tb == 'N' ? B(l, j) : B(j, l));
      EXPECT_NEAR(C(i, j), alpha * s + beta * C0(i, j), sizeof(T) == 8 ? 1e-13 : 1e-5);
    }
}

TEST(Gemm, AllTransposesDouble) {
  for (char a : {'N', 'T'})
    for (char b : {'N', 'T'}) run_case<double>(a, b);
}
TEST(Gemm, AllTransposesFloat) {
  for (char a : {'N', 'T'})
    for (char b : {'N', 'T'}) run_case<float>(a, b);
}
