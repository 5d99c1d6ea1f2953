// pinn::TrainedPinn (pinn/model.hpp): every quantity it evaluates (u_x, u_y, u_z, u_t,
// u_xx, u_yy, u_xy, ..., lap) against central differences of its own u
// (evaluate(..., {u}), tests/support/fd_check.hpp), for model files built in memory:
//  - through each channel path of evaluate(): the full Hessian (any u_ab asked for), the
//    collapsed Laplacian (lap the only second-order quantity), gradients only;
//  - 1-D, 2-D and 3-D; identity and non-identity input scaling (the network sees
//    (x - offset) * scale, so every derivative carries the chain-rule factors);
//  - a time axis (u_t naming; lap sums the other axes only);
//  - the hard-Dirichlet output transform (u = g + phi N): u = g on the boundary, and the
//    derivatives still match the differences;
//  - a float32 model (against differences of its float64 twin with the same rounded
//    parameters, 1e-3 relative);
//  - lap = sum of u_aa (non-time axes) from the same call to rounding, and u_yx = u_xy.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/rng.hpp"
#include "io/model_file.hpp"
#include "nn/network.hpp"
#include "pinn/model.hpp"
#include "pinn/settings.hpp"
#include "support/fd_check.hpp"

using namespace kpde;
using kpde::testing::DerivativeClaim;
using kpde::testing::FdReport;
using kpde::testing::fd_all_within;
using kpde::testing::fd_within;
using kpde::testing::Field;

namespace {

/// What a model file is built from.
struct ModelCase {
  int dim = 2;
  std::vector<double> offset, scale, lo, hi;
  int time_axis = -1;
  bool float32 = false;
  std::string hard_problem;  ///< the `problem:` section text of a hard-Dirichlet model, or ""
  std::string activation = "tanh";
};

/// A model file of a random (initialised, then perturbed so that biases matter) MLP.
io::ModelFile make_model(const ModelCase& c, std::uint64_t seed = 3) {
  io::ModelFile m;
  m.kind = "pinn";
  m.precision = c.float32 ? "float32" : "float64";
  m.architecture = "type: mlp\nwidth: 10\ndepth: 3\nactivation: " + c.activation + "\nprecision: " + m.precision + "\n";
  m.problem = c.hard_problem.empty() ? "{}" : c.hard_problem;
  m.output_transform = c.hard_problem.empty() ? "none" : "hard_dirichlet";
  m.coordinates = pinn::axis_names(c.dim);
  m.time_axis = c.time_axis;
  m.input_offset = c.offset, m.input_scale = c.scale, m.domain_lo = c.lo, m.domain_hi = c.hi;
  config::Document doc = config::Document::load_string(m.architecture, "architecture");
  const pinn::ModelSettings s = pinn::load_model(doc.root(), c.dim);
  nn::Network<double> net(s.network);
  Vec<double> p("params", net.n_params());
  net.init_params(p, seed);
  Rng rng(seed + 1);
  for (int i = 0; i < net.n_params(); ++i) p(i) += 0.1 * rng.normal();
  m.params.assign(p.data(), p.data() + p.extent(0));
  return m;
}

/// The quantities of model at points x [n][d]: [n][names.size()].
std::vector<double> eval(const pinn::TrainedPinn& model, const std::vector<double>& x,
                         const std::vector<std::string>& names) {
  const int d = model.dim();
  Mat<double> xm("x", x.size() / d, d);
  for (std::size_t p = 0; p < xm.extent(0); ++p)
    for (int a = 0; a < d; ++a) xm(p, a) = x[p * d + a];
  std::vector<pinn::Quantity> q;
  for (const auto& name : names) q.push_back(pinn::parse_quantity(name, d, model.file().time_axis));
  return model.evaluate(xm, q);
}

/// Column k of a [n][Q] table.
std::vector<double> column(const std::vector<double>& t, std::size_t Q, std::size_t k) {
  std::vector<double> c;
  for (std::size_t p = 0; p < t.size() / Q; ++p) c.push_back(t[p * Q + k]);
  return c;
}

/// n random points inside [lo, hi], row-major.
std::vector<double> random_points(int n, const std::vector<double>& lo, const std::vector<double>& hi,
                                  std::uint64_t seed = 5) {
  Rng rng(seed);
  std::vector<double> x;
  for (int p = 0; p < n; ++p)
    for (std::size_t a = 0; a < lo.size(); ++a) x.push_back(lo[a] + (hi[a] - lo[a]) * (0.05 + 0.9 * rng.uniform()));
  return x;
}

/// Name of axis a: x, y, z, or t for the time axis.
std::string axis(int a, int time_axis) { return a == time_axis ? "t" : std::string(1, "xyz"[a]); }

/// The quantity names of the three channel paths: every derivative (Hessian channels),
/// u and lap (the collapsed Laplacian channel), first derivatives only.
std::vector<std::vector<std::string>> paths(int d, int ta) {
  std::vector<std::string> all = {"u"}, grad = {"u"};
  for (int a = 0; a < d; ++a) all.push_back("u_" + axis(a, ta)), grad.push_back("u_" + axis(a, ta));
  for (int a = 0; a < d; ++a)
    for (int b = a; b < d; ++b) all.push_back("u_" + axis(a, ta) + axis(b, ta));
  all.push_back("lap");
  return {all, {"u", "lap"}, grad};
}

/// Tolerances of the checks: first and second order.
struct Tolerance {
  double first = 1e-7, second = 1e-5;
};

/// Every quantity of every path of `model` at x against central differences of the u of
/// `reference` (the model itself, or a float64 twin of a float32 model): first order with
/// step 1e-5, second order (3-point and 4-point stencils) with step 1e-4.
void check_model(const pinn::TrainedPinn& model, const pinn::TrainedPinn& reference, const std::vector<double>& x,
                 Tolerance tol, const std::string& what) {
  const int d = model.dim(), ta = model.file().time_axis;
  const Field u = [&](const std::vector<double>& xs) { return eval(reference, xs, {"u"}); };
  const std::vector<double> u0 = eval(model, x, {"u"});
  for (const auto& names : paths(d, ta)) {
    const std::size_t Q = names.size();
    const std::vector<double> t = eval(model, x, names);
    std::vector<DerivativeClaim> first, second;
    std::string list;
    for (std::size_t k = 0; k < Q; ++k) {
      list += names[k] + " ";
      const pinn::Quantity q = pinn::parse_quantity(names[k], d, ta);
      const std::vector<double> col = column(t, Q, k);
      const std::string name = what + " " + names[k];
      if (q.order == 0) {  // the same u in every path
        for (std::size_t p = 0; p < col.size(); ++p) EXPECT_NEAR(col[p], u0[p], 1e-13 * (1 + std::abs(u0[p]))) << name;
      } else if (q.laplacian) {
        std::array<std::array<double, 3>, 3> A{};
        for (int a = 0; a < d; ++a) A[a][a] = a == ta ? 0.0 : 1.0;
        second.push_back(DerivativeClaim::functional(name, A, col));
      } else if (q.order == 1) {
        first.push_back(DerivativeClaim::first(name, q.i, col));
      } else {
        second.push_back(DerivativeClaim::second(name, q.i, q.j, col));
      }
    }
    SCOPED_TRACE("quantities: " + list);
    if (!first.empty()) {
      EXPECT_TRUE(fd_all_within(kpde::testing::check_input_derivatives(u, x, d, first, 1e-5), tol.first));
    }
    if (!second.empty()) {
      EXPECT_TRUE(fd_all_within(kpde::testing::check_input_derivatives(u, x, d, second, 1e-5, 1e-4), tol.second));
    }
  }
  // lap = sum of u_aa over the non-time axes, from the same call, to rounding; u_yx = u_xy
  std::vector<std::string> names = {"lap"};
  for (int a = 0; a < d; ++a) names.push_back("u_" + axis(a, ta) + axis(a, ta));
  if (d >= 2) names.push_back("u_" + axis(0, ta) + axis(1, ta)), names.push_back("u_" + axis(1, ta) + axis(0, ta));
  const std::vector<double> t = eval(model, x, names);
  const std::size_t Q = names.size();
  for (std::size_t p = 0; p < t.size() / Q; ++p) {
    double sum = 0, mag = 0;
    for (int a = 0; a < d; ++a)
      if (a != ta) sum += t[p * Q + 1 + a], mag += std::abs(t[p * Q + 1 + a]);
    EXPECT_NEAR(t[p * Q], sum, 4e-16 * mag) << what << " lap at point " << p;
    if (d >= 2) {
      EXPECT_EQ(t[p * Q + d + 1], t[p * Q + d + 2]) << what << " " << names[d + 1] << " and " << names[d + 2];
    }
  }
}

void check_model(const pinn::TrainedPinn& model, const std::vector<double>& x, const std::string& what,
                 Tolerance tol = {}) {
  check_model(model, model, x, tol, what);
}

ModelCase case2d(bool scaled) {
  ModelCase c;
  c.dim = 2, c.lo = {-1, 0}, c.hi = {1, 2};
  c.offset = scaled ? std::vector<double>{0.3, -0.2} : std::vector<double>{0, 0};
  c.scale = scaled ? std::vector<double>{2.0, 0.5} : std::vector<double>{1, 1};
  return c;
}

const std::string kG2 = "1 + x*y - 0.5*y^2 + sin(x)*exp(0.5*y)";
double g2(double x, double y) { return 1 + x * y - 0.5 * y * y + std::sin(x) * std::exp(0.5 * y); }

}  // namespace

TEST(TrainedPinnFD, TwoDimensionsIdentityScaling) {
  const ModelCase c = case2d(false);
  const pinn::TrainedPinn model(make_model(c), "identity.h5");
  check_model(model, random_points(8, c.lo, c.hi), "2-D identity scaling");
}

TEST(TrainedPinnFD, TwoDimensionsInputScalingChainRule) {
  const ModelCase c = case2d(true);
  const pinn::TrainedPinn model(make_model(c), "scaled.h5");
  check_model(model, random_points(8, c.lo, c.hi), "2-D scaled");
  // the scaling matters: the same parameters without it give another function
  ModelCase plain = c;
  plain.offset = {0, 0}, plain.scale = {1, 1};
  const pinn::TrainedPinn unscaled(make_model(plain), "unscaled.h5");
  const auto x = random_points(3, c.lo, c.hi);
  EXPECT_GT(std::abs(eval(model, x, {"u_x"})[0] - eval(unscaled, x, {"u_x"})[0]), 1e-3);
}

TEST(TrainedPinnFD, OneAndThreeDimensions) {
  ModelCase c1;
  c1.dim = 1, c1.lo = {0}, c1.hi = {2}, c1.offset = {0.1}, c1.scale = {1.5}, c1.activation = "sin";
  const pinn::TrainedPinn m1(make_model(c1), "one.h5");
  check_model(m1, random_points(8, c1.lo, c1.hi), "1-D");
  ModelCase c3;
  c3.dim = 3, c3.lo = {0, -1, 0}, c3.hi = {1, 1, 2};
  c3.offset = {0.3, -0.2, 0.1}, c3.scale = {2.0, 0.5, 1.5};
  const pinn::TrainedPinn m3(make_model(c3), "three.h5");
  check_model(m3, random_points(6, c3.lo, c3.hi), "3-D");
}

TEST(TrainedPinnFD, TimeAxis) {
  ModelCase c = case2d(true);
  c.time_axis = 1;
  const pinn::TrainedPinn model(make_model(c), "time.h5");
  const auto x = random_points(8, c.lo, c.hi);
  check_model(model, x, "2-D with time axis t = y");
  // lap is u_xx alone (not u_xx + u_tt)
  const auto t = eval(model, x, {"lap", "u_xx", "u_tt"});
  for (std::size_t p = 0; p < x.size() / 2; ++p) {
    EXPECT_EQ(t[p * 3], t[p * 3 + 1]) << p;
    EXPECT_GT(std::abs(t[p * 3 + 2]), 1e-6) << p;  // u_tt is not zero, so leaving it out shows
  }
  ModelCase c3;
  c3.dim = 3, c3.lo = {0, -1, 0}, c3.hi = {1, 1, 2}, c3.time_axis = 2;
  c3.offset = {0.3, -0.2, 0.1}, c3.scale = {2.0, 0.5, 1.5};
  const pinn::TrainedPinn m3(make_model(c3), "time3.h5");
  check_model(m3, random_points(6, c3.lo, c3.hi), "3-D with time axis t = z");
}

TEST(TrainedPinnFD, HardDirichletTransform) {
  ModelCase c = case2d(true);
  c.hard_problem = "domain: {box: [[-1, 1], [0, 2]]}\noperator: {c_uxx: 1, c_uyy: 1}\nsource: 1\n"
                   "boundary: [{parts: all, type: dirichlet, value: " + kG2 + "}]\n";
  const pinn::TrainedPinn model(make_model(c), "hard.h5");
  check_model(model, random_points(8, c.lo, c.hi), "2-D hard Dirichlet");
  // u = g on every side, and not inside
  const std::vector<double> xb = {-1, 0.3, 1, 1.7, 0.2, 0, -0.6, 2, 1, 2};
  const auto u = eval(model, xb, {"u"});
  for (std::size_t p = 0; p < u.size(); ++p) {
    const double g = g2(xb[2 * p], xb[2 * p + 1]);
    EXPECT_NEAR(u[p], g, 1e-14 * (1 + std::abs(g))) << xb[2 * p] << " " << xb[2 * p + 1];
  }
  EXPECT_GT(std::abs(eval(model, {0.1, 0.9}, {"u"})[0] - g2(0.1, 0.9)), 1e-6);
  // with a time axis: Dirichlet sides and the initial value; lap without u_tt
  ModelCase t = case2d(true);
  t.hi = {1, 1}, t.time_axis = 1;
  t.hard_problem = "domain: {box: [[-1, 1], [0, 1]], time_axis: y}\noperator: {c_uxx: 1, c_uy: -1}\nsource: 1\n"
                   "boundary: [{parts: [left, right], type: dirichlet, value: " + kG2 + "}]\n"
                   "initial: {value: " + kG2 + "}\n";
  const pinn::TrainedPinn mt(make_model(t), "hard_time.h5");
  check_model(mt, random_points(8, t.lo, t.hi), "2-D hard Dirichlet with time axis");
  // 3-D
  ModelCase c3;
  c3.dim = 3, c3.lo = {0, -1, 0}, c3.hi = {1, 1, 2};
  c3.offset = {0.3, -0.2, 0.1}, c3.scale = {2.0, 0.5, 1.5};
  c3.hard_problem = "domain: {box: [[0, 1], [-1, 1], [0, 2]]}\noperator: {c_uxx: 1, c_uyy: 1, c_uzz: 1}\n"
                    "boundary: [{parts: all, type: dirichlet, value: x*y*z + cos(x - z)}]\n";
  const pinn::TrainedPinn m3(make_model(c3), "hard3.h5");
  check_model(m3, random_points(6, c3.lo, c3.hi), "3-D hard Dirichlet");
}

// A float32 model against its float64 twin (the same parameters rounded to float): u to
// float rounding, and every derivative against differences of the twin's u (1e-3).
TEST(TrainedPinnFD, Float32Model) {
  for (const bool hard : {false, true}) {
    ModelCase c = case2d(true);
    c.float32 = true;
    if (hard)
      c.hard_problem = "domain: {box: [[-1, 1], [0, 2]]}\noperator: {c_uxx: 1, c_uyy: 1}\nsource: 1\n"
                       "boundary: [{parts: all, type: dirichlet, value: " + kG2 + "}]\n";
    io::ModelFile f32 = make_model(c);
    io::ModelFile f64 = f32;
    f64.precision = "float64";
    f64.architecture = "type: mlp\nwidth: 10\ndepth: 3\nactivation: tanh\nprecision: float64\n";
    for (double& v : f64.params) v = double(static_cast<float>(v));
    const pinn::TrainedPinn m32(f32, "float32.h5"), m64(f64, "twin.h5");
    const auto x = random_points(8, c.lo, c.hi);
    const FdReport ru = kpde::testing::compare(eval(m32, x, {"u"}), eval(m64, x, {"u"}), "float32 u");
    EXPECT_TRUE(fd_within(ru, 1e-5));
    check_model(m32, m64, x, Tolerance{1e-5, 1e-5}, hard ? "float32 hard Dirichlet" : "float32");
  }
}
