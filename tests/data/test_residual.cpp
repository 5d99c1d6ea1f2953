// data::Residual and data::HardDirichlet (data/residual.hpp) against finite differences
// (tests/support/fd_check.hpp), in double:
//  - Residual::of_u: dr/du_c against central differences of r in each channel value u_c,
//    for the collapsed Laplacian channel (constant coefficients), diagonal channels
//    (variable coefficients), Hessian channels (u_xy), nonlinear residual expressions
//    (Burgers; u_xy with sin(u)), in 1-D, 2-D and 3-D; r itself against R[u] - f written
//    out here for a known u; the block layout (stride > 1) gives the same r and dr;
//  - with hard Dirichlet data: Residual::operator() on N's channels and to_network's
//    dr/dN against central differences in N's channels;
//  - HardDirichlet::forward: u's channels against central differences of
//    u(x) = g(x) + phi(x) N(x) (value() and jets() at shifted points) for a known smooth N,
//    u = g on the boundary, value() against g + phi N written out here; backward as the
//    adjoint of forward's linear part (dot-product test and vector-Jacobian FD check);
//    for the value, gradient, diagonal, Hessian and Laplacian channel specs, 2-D and 3-D.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/problem.hpp"
#include "data/residual.hpp"
#include "mesh/sampling.hpp"
#include "support/fd_check.hpp"

using namespace kpde;
using kpde::testing::check_gradient;
using kpde::testing::check_input_derivatives;
using kpde::testing::check_vjp;
using kpde::testing::DerivativeClaim;
using kpde::testing::fd_all_within;
using kpde::testing::fd_within;
using kpde::testing::Field;

namespace {

data::Problem load(const std::string& problem_yaml) {
  config::Document doc = config::Document::load_string("problem:\n" + problem_yaml, "residual.yaml");
  return data::load_problem(doc.root().at("problem"), doc);
}

/// Points [n][d] row-major as a Mat.
Mat<double> mat_of(const std::vector<double>& x, int d) {
  const std::size_t n = x.size() / d;
  Mat<double> m("x", n, d);
  for (std::size_t p = 0; p < n; ++p)
    for (int a = 0; a < d; ++a) m(p, a) = x[p * d + a];
  return m;
}

/// n random points in the box [lo, hi] (d axes), row-major.
std::vector<double> random_points(int n, const std::vector<double>& lo, const std::vector<double>& hi,
                                  std::uint64_t seed) {
  Rng rng(seed);
  const int d = static_cast<int>(lo.size());
  std::vector<double> x;
  for (int p = 0; p < n; ++p)
    for (int a = 0; a < d; ++a) x.push_back(lo[a] + (hi[a] - lo[a]) * (0.05 + 0.9 * rng.uniform()));
  return x;
}

/// A known smooth function with exact derivatives (z = 0 in 2-D, y = z = 0 in 1-D):
///   N(x, y, z) = sin(x) cos(2y) e^{0.3 z} + x y + y z^2.
struct Smooth {
  double v = 0;
  std::array<double, 3> g{};
  std::array<std::array<double, 3>, 3> H{};
  explicit Smooth(const double* x, int d) {
    const double X = x[0], Y = d > 1 ? x[1] : 0.0, Z = d > 2 ? x[2] : 0.0;
    const double s = std::sin(X), c = std::cos(X), s2 = std::sin(2 * Y), c2 = std::cos(2 * Y), E = std::exp(0.3 * Z);
    v = s * c2 * E + X * Y + Y * Z * Z;
    g = {c * c2 * E + Y, -2 * s * s2 * E + X + Z * Z, 0.3 * s * c2 * E + 2 * Y * Z};
    H[0][0] = -s * c2 * E;
    H[1][1] = -4 * s * c2 * E;
    H[2][2] = 0.09 * s * c2 * E + 2 * Y;
    H[0][1] = H[1][0] = -2 * c * s2 * E + 1;
    H[0][2] = H[2][0] = 0.3 * c * c2 * E;
    H[1][2] = H[2][1] = -0.6 * s * s2 * E + 2 * Z;
  }
  /// The channels of spec ch: value, gradient, then sum_ij A^s_ij H_ij per second channel.
  std::vector<double> channels(const nn::ChannelSpec& ch) const {
    std::vector<double> y = {v};
    for (int i = 0; i < ch.n_grad(); ++i) y.push_back(g[i]);
    for (int s = 0; s < ch.n_second(); ++s) {
      const auto A = ch.second_matrix(s);
      double q = 0;
      for (int i = 0; i < ch.dim; ++i)
        for (int j = 0; j < ch.dim; ++j) q += A[i][j] * H[i][j];
      y.push_back(q);
    }
    return y;
  }
  /// D u for a data::Derivative.
  double derivative(const data::Derivative& D) const {
    return D.order == 0 ? v : D.order == 1 ? g[D.i] : H[D.i][D.j];
  }
};

/// Checks of_u at points x: dr/du_c against central differences of r in u_c at random
/// channel values; r and dr equal in the block layout (stride 3).
void check_of_u(const data::Residual& res, const std::vector<double>& x, const std::string& what) {
  const int d = res.problem().dim, C = res.channels().n_channels();
  const auto pts = res.at(mat_of(x, d));
  Rng rng(17);
  for (int p = 0; p < pts.n; ++p) {
    std::vector<double> u(C), dr(C), scratch(C);
    for (int c = 0; c < C; ++c) u[c] = rng.normal();
    const double r = res.of_u(pts, p, u.data(), 1, dr.data());
    const auto f = [&](const std::vector<double>& uu) { return res.of_u(pts, p, uu.data(), 1, scratch.data()); };
    kpde::testing::GradientOptions o;
    o.what = what + " dr/du_c at point " + std::to_string(p);
    EXPECT_TRUE(fd_within(check_gradient(f, u, dr, o), 1e-8));
    // block layout: channel c of this point at u[c * 3]
    std::vector<double> block(static_cast<std::size_t>(C) * 3, 1e30), dr3(C);
    for (int c = 0; c < C; ++c) block[c * 3] = u[c];
    EXPECT_EQ(res.of_u(pts, p, block.data(), 3, dr3.data()), r) << what;
    EXPECT_EQ(dr3, dr) << what;
  }
}

/// r for u = Smooth at x against R[u] - f written out here: linear operators from the
/// problem's terms and coefficient fields; nonlinear ones from `residual` (u's jet, x).
template <class R>
void check_value(const data::Residual& res, const std::vector<double>& x, R&& residual, const std::string& what) {
  const data::Problem& pb = res.problem();
  const int d = pb.dim, C = res.channels().n_channels();
  const auto pts = res.at(mat_of(x, d));
  std::vector<double> dr(C);
  for (int p = 0; p < pts.n; ++p) {
    const double* xp = &x[static_cast<std::size_t>(p) * d];
    const Smooth u(xp, d);
    const mesh::Point pt{xp[0], d > 1 ? xp[1] : 0.0, d > 2 ? xp[2] : 0.0};
    double want = -pb.source(pt);
    if (pb.nonlinear) {
      want += residual(u, pt);
    } else {
      for (const auto& t : pb.terms) want += t.coefficient(pt) * u.derivative(t.derivative);
    }
    const std::vector<double> y = u.channels(res.channels());
    EXPECT_NEAR(res.of_u(pts, p, y.data(), 1, dr.data()), want, 1e-12 * (1 + std::abs(want))) << what << " point " << p;
  }
}

const auto kNoResidual = [](const Smooth&, const mesh::Point&) { return 0.0; };
const std::string kSquare = "  domain: {box: [[-1, 1], [-1, 1]]}\n";
const std::string kDirichletAll = "  boundary: [{parts: all, type: dirichlet, value: x*y}]\n";

}  // namespace

TEST(ResidualFD, ConstantCoefficientsCollapsedLaplacian) {
  const auto pb = load(kSquare + "  operator: {c_uxx: -1, c_uyy: -2.5, c_ux: 0.5, c_u: 1.5}\n"
                                 "  source: sin(pi*x)*y\n" + kDirichletAll);
  const data::Residual res(pb, false);
  EXPECT_EQ(res.channels().second, nn::SecondOrder::laplacian);
  const auto x = random_points(6, {-1, -1}, {1, 1}, 1);
  check_of_u(res, x, "laplacian");
  check_value(res, x, kNoResidual, "laplacian");
  // 1-D and 3-D
  const auto p1 = load("  domain: {box: [[0, 2]]}\n  operator: {c_uxx: 2, c_u: -1}\n  source: exp(x)\n"
                       "  boundary: [{parts: all, type: dirichlet, value: 0}]\n");
  const data::Residual r1(p1, false);
  check_of_u(r1, random_points(4, {0}, {2}, 2), "1-D laplacian");
  check_value(r1, random_points(4, {0}, {2}, 2), kNoResidual, "1-D laplacian");
  const auto p3 = load("  domain: {box: [[0, 1], [-1, 1], [0, 2]]}\n"
                       "  operator: {c_uxx: 1, c_uyy: 2, c_uzz: 3, c_uz: -1}\n"
                       "  source: x*y*z\n  boundary: [{parts: all, type: dirichlet, value: 0}]\n");
  const data::Residual r3(p3, false);
  EXPECT_EQ(r3.channels().second, nn::SecondOrder::laplacian);
  check_of_u(r3, random_points(4, {0, -1, 0}, {1, 1, 2}, 3), "3-D laplacian");
  check_value(r3, random_points(4, {0, -1, 0}, {1, 1, 2}, 3), kNoResidual, "3-D laplacian");
}

TEST(ResidualFD, VariableCoefficientsDiagonalChannels) {
  const auto pb = load(kSquare + "  operator: {c_uxx: 1+x^2, c_uyy: exp(y), c_uy: x, c_u: cos(x*y)}\n"
                                 "  source: x - y\n" + kDirichletAll);
  const data::Residual res(pb, false);
  EXPECT_EQ(res.channels().second, nn::SecondOrder::diagonal);
  const auto x = random_points(6, {-1, -1}, {1, 1}, 4);
  check_of_u(res, x, "diagonal");
  check_value(res, x, kNoResidual, "diagonal");
}

TEST(ResidualFD, MixedDerivativeHessianChannels) {
  const auto pb = load(kSquare + "  operator: {c_uxx: 1+y, c_uyy: 1, c_uxy: 0.7, c_ux: -0.3}\n"
                                 "  source: exp(x)\n" + kDirichletAll);
  const data::Residual res(pb, false);
  EXPECT_EQ(res.channels().second, nn::SecondOrder::hessian);
  const auto x = random_points(6, {-1, -1}, {1, 1}, 5);
  check_of_u(res, x, "hessian");
  check_value(res, x, kNoResidual, "hessian");
  const auto p3 = load("  domain: {box: [[0, 1], [-1, 1], [0, 2]]}\n"
                       "  operator: {c_uxx: 1, c_uyy: 1, c_uzz: 1, c_uxz: x*y, c_uyz: 0.5}\n"
                       "  source: 1\n  boundary: [{parts: all, type: dirichlet, value: 0}]\n");
  const data::Residual r3(p3, false);
  EXPECT_EQ(r3.channels().second, nn::SecondOrder::hessian);
  check_of_u(r3, random_points(4, {0, -1, 0}, {1, 1, 2}, 6), "3-D hessian");
  check_value(r3, random_points(4, {0, -1, 0}, {1, 1, 2}, 6), kNoResidual, "3-D hessian");
}

TEST(ResidualFD, NonlinearBurgers) {
  const auto pb = load("  domain: {box: [[-1, 1], [0, 1]], time_axis: y}\n"
                       "  operator: {residual: u_y + u*u_x - 0.01*u_xx}\n"
                       "  boundary: [{parts: [left, right], type: dirichlet, value: 0}]\n"
                       "  initial: {value: -sin(pi*x)}\n");
  const data::Residual res(pb, false);
  EXPECT_FALSE(res.linear());
  const auto x = random_points(6, {-1, 0}, {1, 1}, 7);
  check_of_u(res, x, "burgers");
  check_value(res, x, [](const Smooth& u, const mesh::Point&) { return u.g[1] + u.v * u.g[0] - 0.01 * u.H[0][0]; },
              "burgers");
}

TEST(ResidualFD, NonlinearWithMixedDerivativeSinAndCoordinates) {
  const auto pb = load(kSquare + "  constants: {k: 0.3}\n"
                                 "  operator: {residual: u_xx + u_yy + k*sin(u) + x*u_xy - exp(u_x)*u_y^2}\n"
                                 "  source: y\n" + kDirichletAll);
  const data::Residual res(pb, false);
  EXPECT_EQ(res.channels().second, nn::SecondOrder::hessian);
  const auto x = random_points(6, {-1, -1}, {1, 1}, 8);
  check_of_u(res, x, "nonlinear hessian");
  check_value(res, x,
              [](const Smooth& u, const mesh::Point& p) {
                return u.H[0][0] + u.H[1][1] + 0.3 * std::sin(u.v) + p[0] * u.H[0][1] -
                       std::exp(u.g[0]) * u.g[1] * u.g[1];
              },
              "nonlinear hessian");
  const auto p3 = load("  domain: {box: [[0, 1], [0, 1], [0, 1]]}\n"
                       "  operator: {residual: u_yz + z*u^2 + cos(u_x*u_zz)}\n"
                       "  boundary: [{parts: all, type: dirichlet, value: 0}]\n");
  const data::Residual r3(p3, false);
  check_of_u(r3, random_points(4, {0, 0, 0}, {1, 1, 1}, 9), "3-D nonlinear");
  check_value(r3, random_points(4, {0, 0, 0}, {1, 1, 1}, 9),
              [](const Smooth& u, const mesh::Point& p) {
                return u.H[1][2] + p[2] * u.v * u.v + std::cos(u.g[0] * u.H[2][2]);
              },
              "3-D nonlinear");
}

// ---- hard Dirichlet data ------------------------------------------------------------------

namespace {

/// g of the hard-Dirichlet problems below, written out here (2-D: z = 0).
double g_of(const double* x, int d) {
  const double X = x[0], Y = d > 1 ? x[1] : 0.0, Z = d > 2 ? x[2] : 0.0;
  return 1 + X * Y * (1 + Z) - 0.5 * Y * Y + std::sin(X) * std::exp(0.5 * Y + 0.2 * Z);
}
const std::string kG = "1 + x*y*(1 + z) - 0.5*y^2 + sin(x)*exp(0.5*y + 0.2*z)";
const std::string kG2 = "1 + x*y - 0.5*y^2 + sin(x)*exp(0.5*y)";

/// A box problem with Dirichlet data g on every side.
struct HardBox {
  std::vector<double> lo, hi;
  data::Problem problem;
  HardBox(std::vector<double> l, std::vector<double> h) : lo(std::move(l)), hi(std::move(h)) {
    const int d = static_cast<int>(lo.size());
    std::string box = "[";
    for (int a = 0; a < d; ++a)
      box += (a ? ", [" : "[") + std::to_string(lo[a]) + ", " + std::to_string(hi[a]) + "]";
    box += "]";
    const std::string op = d == 2 ? "{c_uxx: 1, c_uyy: 1}" : "{c_uxx: 1, c_uyy: 1, c_uzz: 1}";
    problem = load("  domain: {box: " + box + "}\n  operator: " + op + "\n  source: 1\n" +
                   "  boundary: [{parts: all, type: dirichlet, value: " + (d == 2 ? kG2 : kG) + "}]\n");
  }
  int dim() const { return static_cast<int>(lo.size()); }
  /// phi written out here: the product over all sides of the normalised distances.
  double phi(const double* x) const {
    double f = 1;
    for (int a = 0; a < dim(); ++a) {
      const double h = 0.5 * (hi[a] - lo[a]);
      f *= (x[a] - lo[a]) / h * ((hi[a] - x[a]) / h);
    }
    return f;
  }
};

std::vector<nn::ChannelSpec> all_specs(int d) {
  return {nn::ChannelSpec::value(d), nn::ChannelSpec::with_gradient(d), nn::ChannelSpec::diagonal(d),
          nn::ChannelSpec::hessian(d), nn::ChannelSpec::laplacian(d, {0.7, -1.3, 2.1})};
}

/// forward()'s channels of u = g + phi N (N = Smooth) at the points x against central
/// differences of u(x) = value(jets(x), N(x)); value() against `want` (g + phi N written
/// out by the caller; may be null); backward() as the adjoint of forward()'s linear part.
/// Returns u(x) at any points, for the caller's boundary checks.
using Want = std::function<double(const double*)>;
Field check_transform(const data::Problem& pb, const nn::ChannelSpec& ch, const std::vector<double>& x,
                      const Want& want, const std::string& label) {
  const int d = pb.dim, C = ch.n_channels(), G = ch.n_grad();
  const auto hd = std::make_shared<const data::HardDirichlet>(pb, ch);
  const std::string what = label + " " + std::to_string(d) + "-D " + ch.name();
  const int n = static_cast<int>(x.size()) / d;
  const auto jets = hd->jets(mat_of(x, d));
  EXPECT_EQ(jets.size(), static_cast<std::size_t>(n) * hd->stride());
  // u's channels per point from forward
  std::vector<std::vector<double>> u(C, std::vector<double>(n));
  for (int p = 0; p < n; ++p) {
    const double* xp = &x[static_cast<std::size_t>(p) * d];
    const std::vector<double> y = Smooth(xp, d).channels(ch);
    std::vector<double> up(C);
    hd->forward(&jets[static_cast<std::size_t>(p) * hd->stride()], y.data(), 1, true, up.data());
    for (int c = 0; c < C; ++c) u[c][p] = up[c];
    if (want) {
      EXPECT_NEAR(up[0], want(xp), 1e-13 * (1 + std::abs(want(xp)))) << what << " point " << p;
    }
  }
  // u(x) at any points from jets() and value()
  const Field u_field = [hd, d](const std::vector<double>& xs) {
    const auto h = hd->jets(mat_of(xs, d));
    std::vector<double> out;
    for (std::size_t p = 0; p * d < xs.size(); ++p)
      out.push_back(hd->value(&h[p * hd->stride()], Smooth(&xs[p * d], d).v));
    return out;
  };
  const auto u0 = u_field(x);
  for (int p = 0; p < n; ++p) EXPECT_NEAR(u0[p], u[0][p], 1e-15 * (1 + std::abs(u0[p]))) << what;
  std::vector<DerivativeClaim> claims;
  for (int i = 0; i < G; ++i) claims.push_back(DerivativeClaim::first(what + " u_" + "xyz"[i], i, u[1 + i]));
  for (int s = 0; s < ch.n_second(); ++s)
    claims.push_back(DerivativeClaim::functional(what + " second channel " + std::to_string(s), ch.second_matrix(s),
                                                 u[1 + G + s]));
  if (!claims.empty()) {
    EXPECT_TRUE(fd_all_within(check_input_derivatives(u_field, x, d, claims), 1e-6));
  }
  // backward = adjoint of the linear part of forward
  Rng rng(23);
  for (int p = 0; p < n; ++p) {
    const double* h = &jets[static_cast<std::size_t>(p) * hd->stride()];
    const auto lin = [&](const std::vector<double>& dn) {
      std::vector<double> du(C);
      hd->forward(h, dn.data(), 1, false, du.data());
      return du;
    };
    const auto adj = [&](const std::vector<double>& du) {
      std::vector<double> dn(C);
      hd->backward(h, du.data(), dn.data());
      return dn;
    };
    std::vector<double> a(C), b(C);
    for (int c = 0; c < C; ++c) a[c] = rng.normal(), b[c] = rng.normal();
    EXPECT_LT(kpde::testing::adjoint_mismatch(lin, adj, a, b), 1e-14) << what << " point " << p;
    // and J^T v against differences of <v, forward(N)> in N's channels (with g)
    const auto full = [&](const std::vector<double>& yn) {
      std::vector<double> du(C);
      hd->forward(h, yn.data(), 1, true, du.data());
      return du;
    };
    std::vector<double> yn = Smooth(&x[static_cast<std::size_t>(p) * d], d).channels(ch);
    kpde::testing::GradientOptions o;
    o.what = what + " J^T v at point " + std::to_string(p);
    EXPECT_TRUE(fd_within(check_vjp(full, yn, b, adj(b), o), 1e-9));
  }
  return u_field;
}

/// check_transform on a box with g + phi N written out, and u = g on every side.
void check_hard(const HardBox& box, const nn::ChannelSpec& ch) {
  const int d = box.dim();
  const auto x = random_points(7, box.lo, box.hi, 11);
  const Field u_field = check_transform(
      box.problem, ch, x, [&](const double* xp) { return g_of(xp, d) + box.phi(xp) * Smooth(xp, d).v; }, "box");
  for (int a = 0; a < d; ++a)
    for (const double side : {box.lo[a], box.hi[a]}) {
      std::vector<double> xb(x.begin(), x.begin() + d);
      xb[a] = side;
      EXPECT_NEAR(u_field(xb)[0], g_of(xb.data(), d), 1e-14 * (1 + std::abs(g_of(xb.data(), d)))) << ch.name();
    }
}

}  // namespace

TEST(HardDirichletFD, ChannelsAndAdjointIn2D) {
  const HardBox box({-1, 0}, {1, 2});
  for (const auto& ch : all_specs(2)) check_hard(box, ch);
}

TEST(HardDirichletFD, ChannelsAndAdjointIn3D) {
  const HardBox box({0, -1, 0}, {1, 1, 2});
  for (const auto& ch : all_specs(3)) check_hard(box, ch);
}

// With hard Dirichlet data the residual takes N's channels: r(N) = of_u(forward(N)) and
// to_network maps dr/du to dr/dN; both against differences in N's channels.
TEST(HardDirichletFD, ResidualThroughTheTransform) {
  for (const std::string op : {"{c_uxx: -1, c_uyy: -2.5, c_ux: 0.5, c_u: 1.5}",
                               "{c_uxx: 1+x^2, c_uyy: exp(y), c_uy: x, c_u: cos(x*y)}",
                               "{c_uxx: 1+y, c_uyy: 1, c_uxy: 0.7, c_ux: -0.3}",
                               "{residual: u_xx + u_yy + 0.3*sin(u) + x*u_xy - exp(u_x)*u_y^2}"}) {
    const auto pb = load("  domain: {box: [[-1, 1], [0, 2]]}\n  operator: " + op + "\n  source: sin(pi*x)*y\n" +
                         "  boundary: [{parts: all, type: dirichlet, value: " + kG2 + "}]\n");
    const data::Residual res(pb, true);
    ASSERT_NE(res.hard(), nullptr);
    const int C = res.channels().n_channels();
    const auto x = random_points(5, {-1, 0}, {1, 2}, 31);
    const auto pts = res.at(mat_of(x, 2));
    Rng rng(3);
    for (int p = 0; p < pts.n; ++p) {
      std::vector<double> y(C), dr(C), dn(C), scratch(C), u(C), dr_u(C);
      for (int c = 0; c < C; ++c) y[c] = 0.5 * rng.normal();
      const double r = res(pts, p, y.data(), 1, dr.data());
      res.hard()->forward(&pts.hard[static_cast<std::size_t>(p) * res.hard()->stride()], y.data(), 1, true, u.data());
      EXPECT_NEAR(r, res.of_u(pts, p, u.data(), 1, dr_u.data()), 1e-14 * (1 + std::abs(r))) << op;
      for (int c = 0; c < C; ++c)  // dr is with respect to u's channels
        EXPECT_NEAR(dr[c], dr_u[c], 1e-14 * (1 + std::abs(dr[c]))) << op << " channel " << c;
      res.to_network(pts, p, dr.data(), dn.data());
      const auto f = [&](const std::vector<double>& yy) { return res(pts, p, yy.data(), 1, scratch.data()); };
      kpde::testing::GradientOptions o;
      o.what = std::string(op) + " dr/dN at point " + std::to_string(p);
      EXPECT_TRUE(fd_within(check_gradient(f, y, dn, o), 1e-8));
      EXPECT_NEAR(res.value(pts, p, y[0]), u[0], 1e-15 * (1 + std::abs(u[0]))) << op;
    }
  }
}

// ---- exact Dirichlet data on CSG domains with data by part (R-functions) ----------------

namespace {

/// n points of pb's domain at least `margin` inside (random points of the box, kept when
/// the signed distance is <= -margin), row-major.
std::vector<double> inner_points(const data::Problem& pb, int n, double margin, std::uint64_t seed) {
  const mesh::Geometry& geo = *pb.geometry;
  const int d = pb.dim;
  std::vector<double> lo(geo.lo().begin(), geo.lo().begin() + d), hi(geo.hi().begin(), geo.hi().begin() + d);
  std::vector<double> x;
  for (std::uint64_t s = seed; static_cast<int>(x.size()) < n * d; ++s) {
    const auto c = random_points(1, lo, hi, s);
    if (geo.sdf(mesh::Point{c[0], d > 1 ? c[1] : 0.0, d > 2 ? c[2] : 0.0}) <= -margin) x.insert(x.end(), c.begin(), c.end());
  }
  return x;
}

/// u = g_k at boundary samples of every part k (its own condition's value), to rounding:
/// |u - g_k| <= 1e-13 (1 + |g_k|). Returns the largest |u - g_k| seen.
double check_boundary_values(const data::Problem& pb, const Field& u_field, const std::string& what) {
  const int d = pb.dim;
  const auto b = mesh::sample_boundary(*pb.geometry, 600, 5);
  double worst = 0;
  for (int q = 0; q < b.n_points(); ++q) {
    const data::Condition* cond = nullptr;
    for (const auto& c : pb.conditions)
      if (c.part == b.part(q)) cond = &c;
    if (!cond) continue;
    std::vector<double> xb(d);
    mesh::Point pt{};
    for (int a = 0; a < d; ++a) xb[a] = pt[a] = b.x(q, a);
    const double g = cond->value(pt), u = u_field(xb)[0];
    worst = std::max(worst, std::abs(u - g));
    EXPECT_NEAR(u, g, 1e-13 * (1 + std::abs(g))) << what << " part " << cond->part_name << " at (" << xb[0] << ", "
                                                 << (d > 1 ? xb[1] : 0.0) << ")";
  }
  return worst;
}

const std::string kHoles =
    "  domain:\n"
    "    box: [[-1, 1], [0, 2]]\n"
    "    holes:\n"
    "      - {type: disk, name: hole, center: [0.3, 1.2], radius: 0.3}\n"
    "      - {type: triangle, name: tri, vertices: [[-0.8, 0.3], [-0.3, 0.3], [-0.55, 0.8]]}\n"
    "      - {type: rectangle, name: rect, lo: [-0.7, 1.4], hi: [-0.3, 1.7]}\n"
    "  operator: {c_uxx: 1, c_uyy: 1}\n  source: 1\n";

}  // namespace

// A square with a disk, a triangle and a rectangle cut out, different data on the box's
// top, its other sides and each hole: forward's channels against finite differences of
// u = g + phi N (jets of phi and g to second order), the adjoint, and u = g_k on every
// part to rounding.
TEST(HardDirichletCSG, HolesWithDataByPart) {
  const auto pb = load(kHoles +
                       "  boundary:\n"
                       "    - {parts: [left, right, bottom], type: dirichlet, value: " + kG2 + "}\n"
                       "    - {parts: [top], type: dirichlet, value: 2 - x^2}\n"
                       "    - {parts: [hole], type: dirichlet, value: 0.5*x*y}\n"
                       "    - {parts: [tri], type: dirichlet, value: cos(y)}\n"
                       "    - {parts: [rect], type: dirichlet, value: 1}\n");
  const auto x = inner_points(pb, 6, 0.08, 41);
  for (const auto& ch : all_specs(2)) {
    const Field u = check_transform(pb, ch, x, nullptr, "holes");
    if (ch.second == nn::SecondOrder::none && ch.n_grad() == 0) {
      const double worst = check_boundary_values(pb, u, "holes");
      EXPECT_GT(worst, 0.0);  // the samples are not exactly on the zero sets
      std::printf("holes, data by part: max |u - g| on the boundary %.2e\n", worst);
    }
  }
}

// One value everywhere on a domain with holes: g itself (no blending), phi from the
// distances.
TEST(HardDirichletCSG, HolesWithOneValue) {
  const auto pb = load(kHoles + "  boundary: [{parts: all, type: dirichlet, value: " + kG2 + "}]\n");
  const auto x = inner_points(pb, 5, 0.08, 43);
  const Field u = check_transform(pb, nn::ChannelSpec::hessian(2), x, nullptr, "holes, one value");
  check_boundary_values(pb, u, "holes, one value");
}

// A plain 3-D box with data that differ by side (as an initial value does on a time
// side): the planes' R-equivalence and the blended data.
TEST(HardDirichletCSG, BoxWithDataBySideIn3D) {
  const auto pb = load("  domain: {box: [[0, 1], [-1, 1], [0, 2]]}\n"
                       "  operator: {c_uxx: 1, c_uyy: 1, c_uzz: 1}\n  source: 1\n"
                       "  boundary:\n"
                       "    - {parts: [left, right], type: dirichlet, value: " + kG + "}\n"
                       "    - {parts: [bottom, top], type: dirichlet, value: x - z}\n"
                       "    - {parts: [front, back], type: dirichlet, value: sin(x)*y}\n");
  const auto x = inner_points(pb, 5, 0.1, 47);
  for (const auto& ch : all_specs(3)) {
    const Field u = check_transform(pb, ch, x, nullptr, "3-D box by side");
    if (ch.n_grad() == 0) check_boundary_values(pb, u, "3-D box by side");
  }
}

TEST(HardDirichletCSG, RefusesWhatItCannotDo) {
  const auto refuses = [](const std::string& yaml, const std::string& needle) {
    const auto pb = load(yaml);
    try {
      data::HardDirichlet hd(pb, nn::ChannelSpec::laplacian(pb.dim, {1, 1, 1}));
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("training.hard_dirichlet"), std::string::npos) << e.what();
    }
  };
  // a disk united with the box: its circle runs through the domain
  refuses("  domain:\n    box: [[-1, 1], [-1, 1]]\n    add: [{type: disk, name: d, center: [1, 0], radius: 0.5}]\n"
          "  operator: {c_uxx: 1, c_uyy: 1}\n  source: 1\n"
          "  boundary: [{parts: all, type: dirichlet, value: x}]\n",
          "runs through the inside");
  // a box-shaped hole in 3-D
  refuses("  domain:\n    box: [[0, 1], [0, 1], [0, 1]]\n"
          "    holes: [{type: box, name: cube, lo: [0.4, 0.4, 0.4], hi: [0.6, 0.6, 0.6]}]\n"
          "  operator: {c_uxx: 1, c_uyy: 1, c_uzz: 1}\n  source: 1\n"
          "  boundary: [{parts: all, type: dirichlet, value: x}]\n",
          "2-D only");
  // no Dirichlet condition at all
  refuses(kHoles + "  boundary: [{parts: all, type: neumann, value: 0}]\n", "no Dirichlet condition");
}
