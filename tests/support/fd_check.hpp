#pragma once
/// The finite-difference harness of the tests (docs/design.md 4: one gradient-check harness for
/// every differentiable piece, first and second order, in double). Claimed derivatives
/// are compared with central differences and summarised in an FdReport:
///   max |fd - g|, max |g|, relative error max |fd - g| / max |g|, the worst entry.
/// Header-only, no Kokkos: containers are std::vector<double> or anything with size()
/// and operator[] (a host Kokkos Vec<double> works too).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace kpde::testing {

/// Claimed values g against reference values fd over the checked entries:
/// max_abs_error = max_i |fd_i - g_i|, max_abs_claimed = max_i |g_i|,
/// relative_error = max_abs_error / max_abs_claimed (max_abs_error when g is 0),
/// worst = argmax_i |fd_i - g_i| in the caller's numbering.
struct FdReport {
  std::string what;             ///< the quantity, for messages
  double max_abs_error = 0;     ///< max_i |fd_i - g_i|
  double max_abs_claimed = 0;   ///< max_i |g_i|
  double relative_error = 0;    ///< max_abs_error / max_abs_claimed
  std::size_t worst = 0;        ///< index of the largest |fd_i - g_i|
  double worst_claimed = 0;     ///< g at worst
  double worst_fd = 0;          ///< fd at worst
  std::size_t n_checked = 0;    ///< entries compared
  std::size_t per_point = 0;    ///< values per point (field checks: worst = point * per_point + k), 0: none
};

/// One line: "what: relative error e (max |fd-g| a, max |g| b; worst entry i [point p,
/// value k]: g=.., fd=..; n checked)".
inline std::ostream& operator<<(std::ostream& os, const FdReport& r) {
  std::ostringstream s;
  s.precision(6);
  s << (r.what.empty() ? "fd check" : r.what) << ": relative error " << r.relative_error << " (max |fd-g| "
    << r.max_abs_error << ", max |g| " << r.max_abs_claimed << "; worst entry " << r.worst;
  if (r.per_point > 0) s << " [point " << r.worst / r.per_point << ", value " << r.worst % r.per_point << "]";
  s.precision(17);
  s << ": g=" << r.worst_claimed << ", fd=" << r.worst_fd << "; " << r.n_checked << " checked)";
  return os << s.str();
}

/// Success when r.relative_error <= tol and max |g| > 0 (a zero claim checks nothing);
/// the failure message is the report. With KPDE_FD_VERBOSE set, every report is printed.
inline ::testing::AssertionResult fd_within(const FdReport& r, double tol) {
  if (std::getenv("KPDE_FD_VERBOSE")) std::cout << "[fd] " << r << " (tolerance " << tol << ")\n";
  if (r.n_checked == 0 || !(r.max_abs_claimed > 0))
    return ::testing::AssertionFailure() << "nothing was checked (the claimed values are all zero): " << r;
  if (!(r.relative_error <= tol)) return ::testing::AssertionFailure() << r << " > tolerance " << tol;
  return ::testing::AssertionSuccess() << r;
}

/// fd_within for every report; the failure message lists the reports that fail.
inline ::testing::AssertionResult fd_all_within(const std::vector<FdReport>& reports, double tol) {
  ::testing::AssertionResult bad = ::testing::AssertionFailure();
  bool ok = !reports.empty();
  if (reports.empty()) bad << "no reports";
  for (const FdReport& r : reports) {
    const ::testing::AssertionResult one = fd_within(r, tol);
    if (!one) ok = false, bad << "\n  " << one.message();
  }
  return ok ? ::testing::AssertionSuccess() : bad;
}

/// A copy of v [n] as a std::vector (v: anything with size() and operator[]).
template <class V>
std::vector<double> to_vector(const V& v) {
  std::vector<double> out(static_cast<std::size_t>(v.size()));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = double(v[i]);
  return out;
}

/// The report of claimed g against reference fd (same length) at `indices` (every index
/// when empty).
inline FdReport compare(const std::vector<double>& claimed, const std::vector<double>& fd, const std::string& what = "",
                        const std::vector<std::size_t>& indices = {}) {
  EXPECT_EQ(claimed.size(), fd.size()) << what << ": claimed and reference sizes differ";
  FdReport r;
  r.what = what;
  const std::size_t n = std::min(claimed.size(), fd.size());
  const auto visit = [&](std::size_t i) {
    const double e = std::abs(fd[i] - claimed[i]);
    r.max_abs_claimed = std::max(r.max_abs_claimed, std::abs(claimed[i]));
    if (r.n_checked == 0 || e > r.max_abs_error || (std::isnan(e) && !std::isnan(r.max_abs_error)))
      r.max_abs_error = e, r.worst = i, r.worst_claimed = claimed[i], r.worst_fd = fd[i];
    ++r.n_checked;
  };
  if (indices.empty())
    for (std::size_t i = 0; i < n; ++i) visit(i);
  else
    for (std::size_t i : indices)
      if (i < n) visit(i);
  r.relative_error = r.max_abs_claimed > 0 ? r.max_abs_error / r.max_abs_claimed : r.max_abs_error;
  return r;
}

// ---- gradients of scalar functions ------------------------------------------------------

/// A subset for large parameter vectors: every stride-th index of [0, n) and the first
/// and last index of each block [starts[b], starts[b+1]) (the last block ends at n).
inline std::vector<std::size_t> sampled_indices(std::size_t n, std::size_t stride,
                                                const std::vector<std::size_t>& block_starts = {}) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < n; i += std::max<std::size_t>(stride, 1)) out.push_back(i);
  for (std::size_t b = 0; b < block_starts.size(); ++b) {
    const std::size_t end = b + 1 < block_starts.size() ? block_starts[b + 1] : n;
    if (block_starts[b] < end) out.push_back(block_starts[b]), out.push_back(end - 1);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

/// Central-difference gradient of f: R^n -> R at x,
///   fd_i = (f(x + h_i e_i) - f(x - h_i e_i)) / (2 h_i),   h_i = h (1 + |x_i|),
/// at `indices` (every i when empty; the others are 0). x is perturbed in place, one
/// entry at a time, and restored bit for bit, so f may read it by reference: f(x) -> double.
template <class F, class X>
std::vector<double> fd_gradient(F&& f, X& x, double h = 1e-5, const std::vector<std::size_t>& indices = {}) {
  const std::size_t n = static_cast<std::size_t>(x.size());
  std::vector<double> fd(n, 0.0);
  const auto one = [&](std::size_t i) {
    const double xi = x[i], hi = h * (1 + std::abs(xi));
    x[i] = xi + hi;
    const double fp = f(x);
    x[i] = xi - hi;
    const double fm = f(x);
    x[i] = xi;
    fd[i] = (fp - fm) / (2 * hi);
  };
  if (indices.empty())
    for (std::size_t i = 0; i < n; ++i) one(i);
  else
    for (std::size_t i : indices) one(i);
  return fd;
}

/// Options of check_gradient: step h (h_i = h (1 + |x_i|)), the indices to check (every
/// one when empty; sampled_indices for large vectors) and the name in messages.
struct GradientOptions {
  double h = 1e-5;                   ///< relative step: h_i = h (1 + |x_i|)
  std::vector<std::size_t> indices;  ///< entries to check; empty: all
  std::string what = "gradient";     ///< name in messages
};

/// The claimed gradient g of f: R^n -> R at x against fd_gradient (x perturbed in place).
template <class F, class X, class G>
FdReport check_gradient(F&& f, X& x, const G& g, const GradientOptions& o = {}) {
  return compare(to_vector(g), fd_gradient(f, x, o.h, o.indices), o.what, o.indices);
}

/// Vector-Jacobian check of F: R^n -> R^m at x: the claimed J(x)^T v [n] against the
/// central-difference gradient of phi(x) = <v, F(x)> (F(x) -> std::vector<double> [m]).
template <class F, class X>
FdReport check_vjp(F&& map, X& x, const std::vector<double>& v, const std::vector<double>& claimed,
                   const GradientOptions& o = {}) {
  const auto phi = [&](const X& xx) {
    const std::vector<double> y = map(xx);
    EXPECT_EQ(y.size(), v.size()) << o.what;
    double s = 0;
    for (std::size_t k = 0; k < std::min(y.size(), v.size()); ++k) s += v[k] * y[k];
    return s;
  };
  return compare(claimed, fd_gradient(phi, x, o.h, o.indices), o.what, o.indices);
}

/// Dot-product test of a linear map J: R^n -> R^m and its claimed adjoint J^T:
///   |<J a, b> - <a, J^T b>| / (|J a| |b| + |a| |J^T b|)   (0 when the denominator is 0),
/// for a [n], b [m]; apply(a) -> J a [m], apply_t(b) -> J^T b [n].
template <class A, class AT>
double adjoint_mismatch(A&& apply, AT&& apply_t, const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> ja = apply(a), jtb = apply_t(b);
  EXPECT_EQ(ja.size(), b.size());
  EXPECT_EQ(jtb.size(), a.size());
  const auto dot = [](const std::vector<double>& u, const std::vector<double>& v) {
    double s = 0;
    for (std::size_t i = 0; i < std::min(u.size(), v.size()); ++i) s += u[i] * v[i];
    return s;
  };
  const double den = std::sqrt(dot(ja, ja) * dot(b, b)) + std::sqrt(dot(a, a) * dot(jtb, jtb));
  return den > 0 ? std::abs(dot(ja, b) - dot(a, jtb)) / den : 0.0;
}

// ---- input derivatives of fields --------------------------------------------------------

/// A field sampled at n points in d dimensions: x [n][d] row-major -> values [n][m]
/// row-major, the same m values per point for every x (m = 1: a scalar field u).
using Field = std::function<std::vector<double>(const std::vector<double>& x)>;

/// x [n][d] with coordinate i of every point moved by delta.
inline std::vector<double> shifted(std::vector<double> x, int d, int i, double delta) {
  for (std::size_t p = static_cast<std::size_t>(i); p < x.size(); p += static_cast<std::size_t>(d)) x[p] += delta;
  return x;
}

/// du/dx_i at every point by (u(x + h e_i) - u(x - h e_i)) / (2h): [n][m].
inline std::vector<double> fd_first(const Field& u, const std::vector<double>& x, int d, int i, double h = 1e-5) {
  std::vector<double> up = u(shifted(x, d, i, h));
  const std::vector<double> um = u(shifted(x, d, i, -h));
  for (std::size_t k = 0; k < up.size(); ++k) up[k] = (up[k] - um[k]) / (2 * h);
  return up;
}

/// d2u/dx_i dx_j at every point from values only, [n][m]:
///   i == j: (u(x + h e_i) - 2 u(x) + u(x - h e_i)) / h^2
///   i != j: (u(x + h e_i + h e_j) - u(x + h e_i - h e_j) - u(x - h e_i + h e_j)
///            + u(x - h e_i - h e_j)) / (4 h^2)
inline std::vector<double> fd_second(const Field& u, const std::vector<double>& x, int d, int i, int j,
                                     double h = 1e-4) {
  if (i == j) {
    std::vector<double> up = u(shifted(x, d, i, h));
    const std::vector<double> u0 = u(x), um = u(shifted(x, d, i, -h));
    for (std::size_t k = 0; k < up.size(); ++k) up[k] = (up[k] - 2 * u0[k] + um[k]) / (h * h);
    return up;
  }
  const std::vector<double> xp = shifted(x, d, i, h), xm = shifted(x, d, i, -h);
  std::vector<double> pp = u(shifted(xp, d, j, h));
  const std::vector<double> pm = u(shifted(xp, d, j, -h)), mp = u(shifted(xm, d, j, h)),
                            mm = u(shifted(xm, d, j, -h));
  for (std::size_t k = 0; k < pp.size(); ++k) pp[k] = (pp[k] - pm[k] - mp[k] + mm[k]) / (4 * h * h);
  return pp;
}

/// A claimed input derivative of a field, values [n][m]: first order du/dx_i, or second
/// order q = sum_ij A_ij u_ij (A symmetric, 3x3, zero beyond d; u_ij itself is
/// A = (e_i e_j^T + e_j e_i^T) / 2).
struct DerivativeClaim {
  std::string name;                             ///< for messages
  int order = 1;                                ///< 1 or 2
  int axis = 0;                                 ///< first order: i
  std::array<std::array<double, 3>, 3> A{};     ///< second order
  std::vector<double> claimed;                  ///< [n][m]

  /// du/dx_i.
  static DerivativeClaim first(std::string name, int i, std::vector<double> claimed) {
    DerivativeClaim c;
    c.name = std::move(name), c.order = 1, c.axis = i, c.claimed = std::move(claimed);
    return c;
  }
  /// d2u/dx_i dx_j.
  static DerivativeClaim second(std::string name, int i, int j, std::vector<double> claimed) {
    DerivativeClaim c;
    c.name = std::move(name), c.order = 2, c.claimed = std::move(claimed);
    c.A[i][j] += 0.5, c.A[j][i] += 0.5;
    return c;
  }
  /// sum_ij A_ij u_ij.
  static DerivativeClaim functional(std::string name, const std::array<std::array<double, 3>, 3>& A,
                                    std::vector<double> claimed) {
    DerivativeClaim c;
    c.name = std::move(name), c.order = 2, c.A = A, c.claimed = std::move(claimed);
    return c;
  }
};

/// One report per claim, from values of u only: first-order claims against fd_first
/// (step h1), second-order ones against sum_i A_ii fd_second(i, i) + sum_{i<j} (A_ij +
/// A_ji) fd_second(i, j) (step h2). m: values per point (for the worst entry's point).
inline std::vector<FdReport> check_input_derivatives(const Field& u, const std::vector<double>& x, int d,
                                                     const std::vector<DerivativeClaim>& claims, double h1 = 1e-5,
                                                     double h2 = 1e-4, std::size_t m = 1) {
  std::map<std::pair<int, int>, std::vector<double>> cache;  // (axis, -1) first, (i, j) second
  const auto get = [&](int i, int j) -> const std::vector<double>& {
    auto it = cache.find({i, j});
    if (it == cache.end())
      it = cache.emplace(std::make_pair(i, j), j < 0 ? fd_first(u, x, d, i, h1) : fd_second(u, x, d, i, j, h2)).first;
    return it->second;
  };
  std::vector<FdReport> out;
  for (const DerivativeClaim& c : claims) {
    std::vector<double> fd;
    if (c.order == 1) {
      fd = get(c.axis, -1);
    } else {
      fd.assign(c.claimed.size(), 0.0);
      for (int i = 0; i < d; ++i)
        for (int j = i; j < d; ++j) {
          const double w = i == j ? c.A[i][i] : c.A[i][j] + c.A[j][i];
          if (w == 0) continue;
          const std::vector<double>& s = get(i, j);
          for (std::size_t k = 0; k < std::min(fd.size(), s.size()); ++k) fd[k] += w * s[k];
        }
    }
    out.push_back(compare(c.claimed, fd, c.name));
    out.back().per_point = m;
  }
  return out;
}

/// One report per second-order claim, against central differences of a gradient field
/// (sharper than differences of values): fd of sum_ij A_ij u_ij =
///   sum_ij A_ij (u_i(x + h e_j) - u_i(x - h e_j)) / (2h),
/// grad_u: x [n][d] -> [n][d][m] (u_i of value k at [p][i][k]).
inline std::vector<FdReport> check_second_from_gradient(const Field& grad_u, const std::vector<double>& x, int d,
                                                        std::size_t m, const std::vector<DerivativeClaim>& claims,
                                                        double h = 1e-5) {
  std::vector<std::vector<double>> dj(static_cast<std::size_t>(d));  // d/dx_j of [n][d][m]
  for (int j = 0; j < d; ++j) dj[j] = fd_first(grad_u, x, d, j, h);
  const std::size_t n = x.size() / static_cast<std::size_t>(d);
  std::vector<FdReport> out;
  for (const DerivativeClaim& c : claims) {
    std::vector<double> fd(n * m, 0.0);
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t k = 0; k < m; ++k)
        for (int i = 0; i < d; ++i)
          for (int j = 0; j < d; ++j)
            if (c.A[i][j] != 0) fd[p * m + k] += c.A[i][j] * dj[j][(p * d + i) * m + k];
    out.push_back(compare(c.claimed, fd, c.name));
    out.back().per_point = m;
  }
  return out;
}

}  // namespace kpde::testing
