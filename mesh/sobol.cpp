#include "mesh/sobol.hpp"

#include <cmath>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace kpde::mesh {

namespace {
/// Joe-Kuo parameters of dimensions 2 and 3 (dimension 1 has all m_k = 1).
struct DirectionParams {
  int s;
  unsigned a;
  std::uint32_t m[2];
};
constexpr DirectionParams kJoeKuo[2] = {{1, 0, {1, 0}}, {2, 1, {1, 3}}};
}  // namespace

SobolSequence::SobolSequence(int dim, bool scramble, std::uint64_t seed) : dim_(dim) {
  if (dim < 1 || dim > max_dim)
    throw InputError("sobol: dimension must be 1 to " + std::to_string(max_dim) + ", got " +
                     std::to_string(dim));
  for (int k = 0; k < 32; ++k) v_[0][k] = std::uint32_t(1) << (31 - k);
  for (int d = 1; d < dim_; ++d) {
    const DirectionParams& p = kJoeKuo[d - 1];
    std::uint32_t* v = v_[d];
    for (int k = 0; k < p.s; ++k) v[k] = p.m[k] << (31 - k);
    for (int k = p.s; k < 32; ++k) {
      v[k] = v[k - p.s] ^ (v[k - p.s] >> p.s);
      for (int j = 1; j < p.s; ++j)
        if ((p.a >> (p.s - 1 - j)) & 1u) v[k] ^= v[k - j];
    }
  }
  if (scramble) {
    Rng rng(seed);
    for (int d = 0; d < dim_; ++d) shift_[d] = static_cast<std::uint32_t>(rng.next() >> 32);
  }
}

void SobolSequence::next(double* out) {
  if (index_ >= (std::uint64_t(1) << 32))
    throw Error("sobol: the sequence has only 2^32 points");
  for (int d = 0; d < dim_; ++d) out[d] = double(x_[d] ^ shift_[d]) * 0x1.0p-32;
  // Gray code: point i+1 = point i XOR v[c], c = index of the lowest zero bit of i.
  std::uint64_t i = index_;
  int c = 0;
  while (i & 1u) i >>= 1, ++c;
  if (c < 32)
    for (int d = 0; d < dim_; ++d) x_[d] ^= v_[d][c];
  ++index_;
}

void SobolSequence::skip(std::uint64_t n) {
  double tmp[max_dim];
  for (std::uint64_t k = 0; k < n; ++k) next(tmp);
}

Mat<double> latin_hypercube(int n, int dim, Rng& rng) {
  if (n < 0) throw InputError("latin hypercube: the number of points must be >= 0");
  if (dim < 1) throw InputError("latin hypercube: the dimension must be >= 1");
  Mat<double> x("lhs", n, dim);
  std::vector<int> perm(n);
  for (int k = 0; k < dim; ++k) {
    for (int i = 0; i < n; ++i) perm[i] = i;
    for (int i = n - 1; i > 0; --i) {
      const int j = static_cast<int>(rng.uniform() * (i + 1));
      std::swap(perm[i], perm[j]);
    }
    for (int i = 0; i < n; ++i) {
      // keep x in its stratum [p/n, (p+1)/n) despite rounding
      const double top = (perm[i] + 1.0) / n;
      const double v = (perm[i] + rng.uniform()) / n;
      x(i, k) = v < top ? v : std::nextafter(top, 0.0);
    }
  }
  return x;
}

}  // namespace kpde::mesh
