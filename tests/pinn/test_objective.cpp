// pinn::PinnObjective (pinn/objective.hpp) in double:
//  - evaluate()'s parameter gradient against central differences of the loss, for
//    each way the interior pass carries derivatives: the collapsed laplacian channel
//    (constant coefficients), diagonal channels (variable coefficients), Hessian
//    channels (u_xy), nonlinear residuals, and Neumann and Robin conditions on a hole;
//  - per-term gradients that sum, with the trainer's weights, to the total;
//  - evaluate_points()'s residual against a residual computed here from finite differences of
//    the network's value (no derivative channel involved), and the loss terms against
//    means computed here from evaluate() and the boundary samples;
//  - the least-squares output layer: zero output-layer gradient afterwards, no increase;
//  - the low-mode residual term: its value against c_m computed here from evaluate()'s
//    residual and cosines written out again, its gradient, least squares with it.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/problem.hpp"
#include "nn/network.hpp"
#include "pinn/objective.hpp"
#include "support/pinn_problems.hpp"
#include "support/fd_check.hpp"
#include "train/trainer.hpp"

using namespace kpde;
using pinn::PinnObjective;
using pinn::kDirichlet;
using pinn::kNeumann;
using pinn::kResidual;
using kpde::testing::fd_within;

namespace {

/// A problem, a small network with random parameters and its loss on sampled points.
struct Case {
  data::Problem problem;
  std::unique_ptr<nn::Network<double>> net;
  Vec<double> params;
  std::unique_ptr<PinnObjective<double>> loss;
  std::vector<double> lambda{1, 1, 1};  ///< term weights
  int n_params() const { return net->n_params(); }
};

/// sum_k lambda_k L_k (returned) and its gradient into grad; the unweighted terms and
/// their gradients into terms and term_grads when given.
double loss_and_grad(Case& c, const Vec<double>& grad, std::vector<double>* terms = nullptr,
                     std::vector<Vec<double>>* term_grads = nullptr) {
  const int n = c.n_params();
  std::vector<double> t(3);
  std::vector<Vec<double>> tg = {Vec<double>("g0", n), Vec<double>("g1", n), Vec<double>("g2", n)};
  c.loss->evaluate(c.params, t, tg);
  double l = 0;
  for (int k = 0; k < 3; ++k) l += c.lambda[k] * t[k];
  for (int i = 0; i < n; ++i) grad(i) = c.lambda[0] * tg[0](i) + c.lambda[1] * tg[1](i) + c.lambda[2] * tg[2](i);
  if (terms) *terms = t;
  if (term_grads) *term_grads = tg;
  return l;
}

std::unique_ptr<Case> make_case(const std::string& problem_yaml, int width = 10, int depth = 2, int n_interior = 20,
                                int n_boundary = 24, nn::Arch arch = nn::Arch::mlp, bool hard_dirichlet = false,
                                int gaussians = 0, int modes = 0, double modes_weight = 0,
                                const std::string& residual_weight = "") {
  auto c = std::make_unique<Case>();
  config::Document doc = config::Document::load_string("problem:\n" + problem_yaml, "case.yaml");
  c->problem = data::load_problem(doc.root().at("problem"), doc);
  nn::NetworkSpec spec;
  spec.input_dim = c->problem.dim;
  spec.width = width;
  spec.depth = depth;
  spec.arch = arch;
  spec.activation = nn::Activation::tanh;
  spec.block_points = 8;  // several blocks, so block boundaries are exercised
  if (gaussians > 0) {
    // Gaussian features (no truncation at cutoff 50: the loss is smooth for the FD check)
    spec.features.kind = nn::FeatureKind::gaussian;
    spec.features.n_gaussians = gaussians;
    spec.features.gauss_channels = 3;
    spec.features.sigma_init = 0.5;
    spec.features.weight_scale = 1.0;
    spec.features.cutoff = 50;
  }
  c->net = std::make_unique<nn::Network<double>>(spec);
  c->params = Vec<double>("params", c->net->n_params());
  c->net->init_params(c->params, 42);
  // nonzero biases: zero ones would hide a missing bias gradient term
  for (int i = 0; i < c->net->n_params(); ++i)
    if (c->params(i) == 0) c->params(i) = 0.1 * std::sin(1.0 + i);
  pinn::PinnSettings s;
  s.n_interior = n_interior;
  s.n_boundary = n_boundary;
  s.method = mesh::InteriorMethod::sobol;
  s.seed = 3;
  s.hard_dirichlet = hard_dirichlet;
  s.residual_modes = modes;
  s.modes_weight = modes_weight;
  if (!residual_weight.empty())
    s.residual_weight = std::make_shared<const pde::Expression>(pde::Expression::parse(residual_weight, {"x", "y", "z"}));
  c->loss = std::make_unique<PinnObjective<double>>(c->problem, *c->net, s);
  c->loss->sample(0);
  return c;
}

/// The gradient of the total loss (term < 0) or of one unweighted term against central
/// differences with step 1e-5 (1 + |p_i|) (kpde::testing::check_gradient): the report's
/// relative error is max_i |fd_i - g_i| / max_i |g_i|.
kpde::testing::FdReport gradient_error(Case& c, int term = -1) {
  const int n = c.n_params();
  Vec<double> grad("grad", n), scratch("scratch", n);
  std::vector<Vec<double>> tg;
  loss_and_grad(c, grad, nullptr, &tg);
  const Vec<double> g = term < 0 ? grad : tg[term];
  // value() reads c.params, which check_gradient perturbs in place
  const auto value = [&](const Vec<double>&) {
    std::vector<double> tt;
    const double total = loss_and_grad(c, scratch, &tt);
    return term < 0 ? total : tt[term];
  };
  kpde::testing::GradientOptions o;
  o.what = term < 0 ? "loss gradient" : c.loss->term_names()[term] + " gradient";
  return kpde::testing::check_gradient(value, c.params, g, o);
}

/// u at points x [n][dim] row-major (value channel only).
std::vector<double> u_at(const Case& c, const std::vector<double>& pts) {
  const int d = c.problem.dim;
  Mat<double> x("x", pts.size() / d, d);
  for (std::size_t p = 0; p < x.extent(0); ++p)
    for (int k = 0; k < d; ++k) x(p, k) = pts[p * d + k];
  std::vector<double> u;
  c.loss->evaluate_points(c.params, x, &u, nullptr);
  return u;
}

/// u and its derivatives at 2-D points x [n][2] by central differences of u (step h,
/// kpde::testing::fd_first / fd_second): {u, u_x, u_y, u_xx, u_yy, u_xy}, each [n]; u
/// from the points in reverse order (other blocks than the caller's batch).
std::array<std::vector<double>, 6> fd_derivatives(const Case& c, const std::vector<double>& x, double h) {
  const kpde::testing::Field u = [&](const std::vector<double>& xs) { return u_at(c, xs); };
  using kpde::testing::fd_first;
  using kpde::testing::fd_second;
  const std::size_t n = x.size() / 2;
  std::vector<double> xr(x.size());
  for (std::size_t p = 0; p < n; ++p) xr[2 * p] = x[2 * (n - 1 - p)], xr[2 * p + 1] = x[2 * (n - 1 - p) + 1];
  std::vector<double> u0 = u(xr);
  std::reverse(u0.begin(), u0.end());
  return {u0,
          fd_first(u, x, 2, 0, h),
          fd_first(u, x, 2, 1, h),
          fd_second(u, x, 2, 0, 0, h),
          fd_second(u, x, 2, 1, 1, h),
          fd_second(u, x, 2, 0, 1, h)};
}

/// Checks evaluate()'s residual at the interior points against R[u] - f computed from
/// finite-difference derivatives of u and the problem's own coefficients, source or
/// residual expression; and that mean r^2 equals the residual term of the loss.
void check_residual(Case& c) {
  const Mat<double>& x = c.loss->interior();
  const int n = c.loss->n_interior();
  ASSERT_GT(n, 0);
  std::vector<double> u, r;
  c.loss->evaluate_points(c.params, x, &u, &r);
  ASSERT_EQ(static_cast<int>(r.size()), n);
  double sum_r2 = 0, scale = 0;
  for (int p = 0; p < n; ++p) scale = std::max(scale, std::abs(r[p]));
  std::vector<double> xs;
  for (int p = 0; p < n; ++p) xs.push_back(x(p, 0)), xs.push_back(x(p, 1));
  const auto fd = fd_derivatives(c, xs, 1e-3);
  for (int p = 0; p < n; ++p) {
    const mesh::Point pt{x(p, 0), x(p, 1), 0};
    const std::array<double, 6> d = {fd[0][p], fd[1][p], fd[2][p], fd[3][p], fd[4][p], fd[5][p]};
    EXPECT_NEAR(u[p], d[0], 1e-12 * (1 + std::abs(d[0])));
    double want = -c.problem.source(pt);
    if (!c.problem.nonlinear) {
      for (const auto& term : c.problem.linear_terms()) {
        const int k = term.derivative.order == 0 ? 0
                      : term.derivative.order == 1 ? 1 + term.derivative.i
                      : term.derivative.i == term.derivative.j ? 3 + term.derivative.i
                                                               : 5;
        want += term.coefficient(pt) * d[k];
      }
    } else {
      // residual variables in 2-D: u, u_x, u_y, u_xx, u_yy, u_xy, x, y
      const double vars[8] = {d[0], d[1], d[2], d[3], d[4], d[5], pt[0], pt[1]};
      want += c.problem.residual->eval(vars);
    }
    EXPECT_NEAR(r[p], want, 1e-4 * (1 + scale)) << "point " << p << " (" << pt[0] << ", " << pt[1] << ")";
    sum_r2 += r[p] * r[p];
  }
  Vec<double> grad("grad", c.n_params());
  std::vector<double> t;
  loss_and_grad(c, grad, &t);
  EXPECT_NEAR(t[kResidual], sum_r2 / n, 1e-12 * t[kResidual]);
}

/// Checks the Dirichlet and Neumann/Robin terms against means computed here from the
/// boundary samples, the problem's conditions, u from evaluate() and n.grad u from
/// central differences of u along the normal. hard: the Dirichlet data are exact (u = g
/// at the samples, no Dirichlet term).
void check_boundary_terms(Case& c, bool hard = false) {
  const mesh::BoundarySamples& b = c.loss->boundary();
  double sd = 0, sn = 0;
  int nd = 0, nn = 0;
  const double h = 1e-5;
  for (int q = 0; q < b.n_points(); ++q) {
    const mesh::Point x{b.x(q, 0), b.x(q, 1), 0};
    const double n0 = b.normal(q, 0), n1 = b.normal(q, 1);
    const auto u = u_at(c, {x[0], x[1], x[0] + h * n0, x[1] + h * n1, x[0] - h * n0, x[1] - h * n1});
    const double dudn = (u[1] - u[2]) / (2 * h);
    for (const auto& cond : c.problem.conditions) {
      if (cond.part != b.part(q)) continue;
      const double g = cond.value(x);
      if (cond.kind == mesh::BoundaryKind::dirichlet && hard) {
        EXPECT_NEAR(u[0], g, 1e-13 * (1 + std::abs(g)));
      } else if (cond.kind == mesh::BoundaryKind::dirichlet) {
        sd += cond.weight * (u[0] - g) * (u[0] - g);
        ++nd;
      } else {
        const bool robin = cond.kind == mesh::BoundaryKind::robin;
        const double e = (robin ? cond.alpha : 0.0) * u[0] + (robin ? cond.beta : 1.0) * dudn - g;
        sn += cond.weight * e * e;
        ++nn;
      }
    }
  }
  EXPECT_EQ(nd, c.loss->n_dirichlet());
  EXPECT_EQ(nn, c.loss->n_neumann());
  Vec<double> grad("grad", c.n_params());
  std::vector<double> t;
  loss_and_grad(c, grad, &t);
  if (nd > 0) {
    EXPECT_NEAR(t[kDirichlet], sd / nd, 1e-12 * t[kDirichlet]);
  }
  if (nn > 0) {
    EXPECT_NEAR(t[kNeumann], sn / nn, 1e-7 * t[kNeumann]);
  }
}

const std::string kSquare = "  domain: {box: [[-1, 1], [-1, 1]]}\n";
const std::string kDirichletAll = "  boundary: [{parts: all, type: dirichlet, value: x*y}]\n";

/// (e): a disk hole with a Neumann condition, a Robin side, Dirichlet elsewhere.
using kpde::testing::kHoleProblem;

}  // namespace

TEST(PinnObjectiveGradient, ConstantCoefficientsCollapsedLaplacian) {
  auto c = make_case(kSquare + "  operator: {c_uxx: -1, c_uyy: -2.5, c_ux: 0.5, c_u: 1.5}\n"
                               "  source: sin(pi*x)*y\n" + kDirichletAll);
  EXPECT_EQ(c->loss->interior_channels().second, nn::SecondOrder::laplacian);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  check_residual(*c);
  check_boundary_terms(*c);
}

TEST(PinnObjectiveGradient, VariableCoefficientsDiagonalChannels) {
  auto c = make_case(kSquare + "  operator: {c_uxx: 1+x^2, c_uyy: exp(y), c_uy: x, c_u: cos(x*y)}\n"
                               "  source: x - y\n" + kDirichletAll);
  EXPECT_EQ(c->loss->interior_channels().second, nn::SecondOrder::diagonal);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  check_residual(*c);
}

TEST(PinnObjectiveGradient, DivergenceFormVariableCoefficient) {
  // -div(a grad u) + c_u u: expanded to -a u_xx - a u_yy - a_x u_x - a_y u_y (check_residual
  // evaluates that expansion on finite differences of u)
  auto c = make_case(kSquare + "  operator: {diffusion: 2 + sin(x + 2*y), c_u: 0.5}\n"
                               "  source: x*y\n" + kDirichletAll);
  EXPECT_EQ(c->loss->interior_channels().second, nn::SecondOrder::diagonal);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  check_residual(*c);
  // a constant a collapses into the Laplacian channel with weights -a
  auto k = make_case(kSquare + "  operator: {diffusion: 3, c_uxx: 1}\n  source: 1\n" + kDirichletAll);
  EXPECT_EQ(k->loss->interior_channels().second, nn::SecondOrder::laplacian);
  EXPECT_EQ(k->loss->interior_channels().weights[0], -2.0);
  EXPECT_EQ(k->loss->interior_channels().weights[1], -3.0);
  EXPECT_TRUE(fd_within(gradient_error(*k), 1e-6));
  check_residual(*k);
}

TEST(PinnObjectiveGradient, MixedDerivativeHessianChannels) {
  auto c = make_case(kSquare + "  operator: {c_uxx: 1+y, c_uyy: 1, c_uxy: 0.7, c_ux: -0.3}\n"
                               "  source: exp(x)\n" + kDirichletAll);
  EXPECT_EQ(c->loss->interior_channels().second, nn::SecondOrder::hessian);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  check_residual(*c);
  // constant coefficients with u_xy also take the Hessian channels
  auto k = make_case(kSquare + "  operator: {c_uxx: 1, c_uyy: 1, c_uxy: 0.5}\n  source: 1\n" + kDirichletAll);
  EXPECT_EQ(k->loss->interior_channels().second, nn::SecondOrder::hessian);
  EXPECT_TRUE(fd_within(gradient_error(*k), 1e-6));
  check_residual(*k);
}

TEST(PinnObjectiveGradient, NonlinearBurgersResidual) {
  auto c = make_case(
      "  domain: {box: [[-1, 1], [0, 1]], time_axis: y}\n"
      "  operator: {residual: u_y + u*u_x - 0.01/pi*u_xx}\n"
      "  boundary: [{parts: [left, right], type: dirichlet, value: 0}]\n"
      "  initial: {value: -sin(pi*x)}\n");
  EXPECT_EQ(c->loss->interior_channels().second, nn::SecondOrder::diagonal);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  check_residual(*c);
  check_boundary_terms(*c);
}

TEST(PinnObjectiveGradient, NonlinearResidualWithEveryChannelAndCoordinates) {
  auto c = make_case(kSquare +
                     "  constants: {k: 0.3}\n"
                     "  operator: {residual: u_xx + u_yy + k*sin(u) + x*u_xy - exp(u_x)*u_y^2}\n"
                     "  source: y\n" + kDirichletAll);
  EXPECT_EQ(c->loss->interior_channels().second, nn::SecondOrder::hessian);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  check_residual(*c);
}

TEST(PinnObjectiveGradient, NeumannAndRobinOnAHole) {
  auto c = make_case(kHoleProblem, 10, 2, 20, 40);
  ASSERT_GT(c->loss->n_neumann(), 0);
  ASSERT_GT(c->loss->n_dirichlet(), 0);
  c->lambda = {0.7, 1.3, 2.1};
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(fd_within(gradient_error(*c, k), 1e-6)) << c->loss->term_names()[k];
  check_residual(*c);
  check_boundary_terms(*c);
}

TEST(PinnObjectiveGradient, ModifiedMlp) {
  auto c = make_case(kHoleProblem, 8, 2, 16, 24, nn::Arch::modified_mlp);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
}

// Gaussian features through the whole loss: Neumann/Robin/Dirichlet terms and a mixed
// derivative (Hessian channels), every parameter including means, log sigmas, weights.
TEST(PinnObjectiveGradient, GaussianFeatures) {
  auto c = make_case(kHoleProblem, 6, 1, 20, 40, nn::Arch::mlp, false, 7);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  auto h = make_case(kSquare + "  operator: {c_uxx: 1+x^2, c_uyy: 1, c_uxy: 0.3, c_u: x}\n  source: sin(x)\n" +
                         kDirichletAll,
                     6, 1, 20, 24, nn::Arch::mlp, false, 7);
  EXPECT_EQ(h->loss->interior_channels().second, nn::SecondOrder::hessian);
  EXPECT_TRUE(fd_within(gradient_error(*h), 1e-6));
}

TEST(PinnObjectiveTerms, TrainerWeightsTheTermGradients) {
  auto c = make_case(kHoleProblem, 10, 2, 20, 40);
  const int n = c->n_params();
  const std::vector<std::string> names = c->loss->term_names();
  EXPECT_EQ(names, (std::vector<std::string>{"residual", "dirichlet", "neumann"}));
  // unweighted terms and their gradients
  std::vector<double> t1(3);
  std::vector<Vec<double>> tg1 = {Vec<double>("a", n), Vec<double>("b", n), Vec<double>("c", n)};
  c->loss->evaluate(c->params, t1, tg1);
  for (int k = 0; k < 3; ++k) {
    EXPECT_GT(t1[k], 0.0) << names[k];
    EXPECT_TRUE(c->loss->term_active(k)) << names[k];
  }
  // the trainer's weighted loss and gradient
  train::TrainerSettings ts;
  ts.weights = {0.7, 1.3, 2.1};
  train::Trainer<double> trainer(*c->loss, ts, train::TrainerOptions{"", "", "pinn", true, train::Comm()});
  Vec<double> g("g", n);
  std::vector<double> t;
  const double l = trainer.evaluate(c->params, g, t);
  EXPECT_NEAR(l, 0.7 * t[0] + 1.3 * t[1] + 2.1 * t[2], 1e-14 * l);
  double gmax = 0;
  for (int i = 0; i < n; ++i) gmax = std::max(gmax, std::abs(g(i)));
  for (int i = 0; i < n; ++i) EXPECT_NEAR(g(i), 0.7 * tg1[0](i) + 1.3 * tg1[1](i) + 2.1 * tg1[2](i), 1e-14 * gmax) << i;
  for (int k = 0; k < 3; ++k) EXPECT_EQ(t[k], t1[k]);
}

TEST(PinnObjectiveTerms, ResampledPointsChangeTheLoss) {
  auto c = make_case(kHoleProblem);
  Vec<double> g("g", c->n_params());
  const double l0 = loss_and_grad(*c, g);
  c->loss->sample(0);  // same round: same points
  EXPECT_EQ(loss_and_grad(*c, g), l0);
  c->loss->sample(1);
  EXPECT_NE(loss_and_grad(*c, g), l0);
  // every interior point is inside the domain (out of the hole)
  const Mat<double>& x = c->loss->interior();
  for (int p = 0; p < c->loss->n_interior(); ++p)
    EXPECT_TRUE(c->problem.geometry->inside(mesh::Point{x(p, 0), x(p, 1), 0})) << p;
}

namespace {

/// Solves for the output layer and checks: the loss did not increase, the output-layer
/// gradient is ~0 relative to its size before, a second solve changes nothing.
void check_least_squares(Case& c) {
  const int n = c.n_params();
  const auto [off, len] = c.loss->projected_range();
  ASSERT_LE(off + len, static_cast<std::size_t>(n));
  EXPECT_EQ(len, static_cast<std::size_t>(c.net->spec().width + 1));
  Vec<double> g("g", n);
  const double before = loss_and_grad(c, g);
  double g_before = 0;
  for (std::size_t i = off; i < off + len; ++i) g_before = std::max(g_before, std::abs(g(i)));
  ASSERT_GT(g_before, 0.0);
  std::vector<double> hidden(c.params.data(), c.params.data() + off);
  c.loss->project(c.params, c.lambda, 0.0);
  const double after = loss_and_grad(c, g);
  double g_after = 0;
  for (std::size_t i = off; i < off + len; ++i) g_after = std::max(g_after, std::abs(g(i)));
  EXPECT_LT(after, before);
  EXPECT_LT(g_after, 1e-6 * g_before) << "before " << g_before << ", after " << g_after;
  for (std::size_t i = 0; i < off; ++i) EXPECT_EQ(c.params(i), hidden[i]) << "a hidden parameter changed: " << i;
  c.loss->project(c.params, c.lambda, 0.0);
  EXPECT_NEAR(loss_and_grad(c, g), after, 1e-9 * after);
}

}  // namespace

TEST(PinnLeastSquares, OutputLayerIsOptimal) {
  auto c = make_case(kHoleProblem, 10, 2, 60, 60);
  c->lambda = {1.0, 3.0, 0.5};
  check_least_squares(*c);
}

TEST(PinnLeastSquares, VariableCoefficientsAndModifiedMlp) {
  auto c = make_case(kSquare + "  operator: {c_uxx: 1+x^2, c_uyy: 1, c_uxy: 0.3, c_u: x}\n  source: sin(x)\n" + kDirichletAll,
                     8, 2, 60, 40, nn::Arch::modified_mlp);
  check_least_squares(*c);
}

TEST(PinnLeastSquares, GaussianFeatures) {
  auto c = make_case(kHoleProblem, 6, 1, 60, 60, nn::Arch::mlp, false, 9);
  check_least_squares(*c);
}

TEST(PinnLeastSquares, RefusedForNonlinearOperators) {
  auto c = make_case(kSquare + "  operator: {residual: u_xx + u^3}\n" + kDirichletAll);
  EXPECT_FALSE(c->loss->can_project());
  EXPECT_THROW(c->loss->project(c->params, c->lambda, 0.0), InputError);
}

// Exact Dirichlet data, u = g + phi N (training.hard_dirichlet): the parameter gradient
// through the transform for each channel kind, the residual against finite differences
// of u, u = g on the boundary, the least-squares output layer, and the refusals.
namespace {
const std::string kHardBc = "  boundary:\n    - {parts: all, type: dirichlet, value: 1 + x*y - 0.5*y^2}\n";
}

TEST(PinnHardDirichlet, GradientsAndResidualForEveryChannelKind) {
  for (const std::string op : {"{c_uxx: -1, c_uyy: -2.5, c_ux: 0.5, c_u: 1.5}",
                               "{c_uxx: 1+x^2, c_uyy: exp(y), c_uy: x, c_u: cos(x*y)}",
                               "{c_uxx: 1+y, c_uyy: 1, c_uxy: 0.7, c_ux: -0.3}", "{c_u: 2, c_uy: 1}"}) {
    auto c = make_case(kSquare + "  operator: " + op + "\n  source: sin(pi*x)*y\n" + kHardBc, 10, 2, 20, 24,
                       nn::Arch::mlp, true);
    EXPECT_EQ(c->loss->n_dirichlet(), 0) << op;  // no penalty points: the data hold exactly
    EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6)) << op;
    check_residual(*c);
  }
}

TEST(PinnHardDirichlet, BoundaryValuesHoldExactly) {
  auto c = make_case(kSquare + "  operator: {c_uxx: -1, c_uyy: -1}\n  source: 1\n" + kHardBc, 10, 2, 20, 24,
                     nn::Arch::mlp, true);
  const std::vector<double> pts = {-1, 0.3, 1, -0.7, 0.2, -1, -0.6, 1, 1, 1};
  const auto u = u_at(*c, pts);
  for (std::size_t k = 0; k < u.size(); ++k) {
    const double x = pts[2 * k], y = pts[2 * k + 1];
    EXPECT_NEAR(u[k], 1 + x * y - 0.5 * y * y, 1e-14) << x << " " << y;
  }
  // and not in the interior (the network contributes there)
  const auto ui = u_at(*c, {0.1, 0.2});
  EXPECT_GT(std::abs(ui[0] - (1 + 0.02 - 0.02)), 1e-6);
}

TEST(PinnHardDirichlet, LeastSquaresOutputLayer) {
  auto c = make_case(kSquare + "  operator: {c_uxx: 1+x^2, c_uyy: 1, c_uxy: 0.3, c_u: x}\n  source: sin(x)\n" + kHardBc,
                     8, 2, 60, 40, nn::Arch::mlp, true);
  check_least_squares(*c);
}

// Exact Dirichlet data beside Neumann and Robin parts: those stay penalised, through the
// transform (their u and n.grad u are g + phi N's). The terms against means computed
// here, the gradient, the least-squares output layer; and with a hole, a Robin side and
// a Neumann circle (R-functions) the gradient.
TEST(PinnHardDirichlet, BesideNeumannAndRobinParts) {
  auto c = make_case(kSquare + "  operator: {c_uxx: -1, c_uyy: -1, c_u: 0.3}\n  source: cos(x)\n  boundary:\n"
                               "    - {parts: [left, right], type: dirichlet, value: x*y}\n"
                               "    - {part: bottom, type: robin, value: y, alpha: 2, beta: 0.5, weight: 3}\n"
                               "    - {part: top, type: neumann, value: sin(x)}\n",
                     10, 2, 20, 24, nn::Arch::mlp, true);
  EXPECT_EQ(c->loss->n_dirichlet(), 0);
  EXPECT_GT(c->loss->n_neumann(), 0);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  EXPECT_TRUE(fd_within(gradient_error(*c, kNeumann), 1e-6));
  check_boundary_terms(*c, true);
  check_least_squares(*c);
  auto h = make_case(kHoleProblem, 10, 2, 20, 24, nn::Arch::mlp, true);
  EXPECT_EQ(h->loss->n_dirichlet(), 0);
  EXPECT_TRUE(fd_within(gradient_error(*h), 1e-6));
}

// A hole and different data by part (R-function distances, blended data): the parameter
// gradient through the transform, the residual against finite differences of u, and
// u = g_k on the sides and on the circle.
TEST(PinnHardDirichlet, HoleWithDataByPart) {
  auto c = make_case("  domain:\n    box: [[-1, 1], [-1, 1]]\n"
                     "    holes: [{type: disk, name: hole, center: [0.1, -0.1], radius: 0.4}]\n"
                     "  operator: {c_uxx: -1, c_uyy: -1, c_ux: 0.3}\n  source: 1 + x*y\n  boundary:\n"
                     "    - {parts: [left, right], type: dirichlet, value: 0}\n"
                     "    - {parts: [bottom, top], type: dirichlet, value: 1 + x}\n"
                     "    - {parts: [hole], type: dirichlet, value: x*y}\n",
                     10, 2, 20, 24, nn::Arch::mlp, true);
  EXPECT_EQ(c->loss->n_dirichlet(), 0);
  EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
  check_residual(*c);
  const double a = 0.7;  // a point on the circle at angle a
  const double cx = 0.1 + 0.4 * std::cos(a), cy = -0.1 + 0.4 * std::sin(a);
  const auto u = u_at(*c, {-1, 0.3, 1, -0.7, 0.2, -1, -0.6, 1, cx, cy});
  EXPECT_NEAR(u[0], 0, 1e-14);
  EXPECT_NEAR(u[1], 0, 1e-14);
  EXPECT_NEAR(u[2], 1.2, 1e-14);
  EXPECT_NEAR(u[3], 0.4, 1e-14);
  EXPECT_NEAR(u[4], cx * cy, 1e-14);
}

// training.residual_weight: the residual term is mean_p w(x_p) r_p^2 (r unweighted from
// evaluate_points), with its gradient, with and without exact Dirichlet data; the
// least-squares output layer is refused.
TEST(PinnResidualWeight, WeightedMeanAndGradient) {
  for (const bool hard : {false, true}) {
    auto c = make_case(kSquare + "  operator: {c_uxx: -1, c_uyy: -1, c_u: 0.5}\n  source: sin(x)\n" + kHardBc, 10, 2, 20, 24,
                       nn::Arch::mlp, hard, 0, 0, 0, "min(1, (x^2 + y^2) / 0.25) + 0.1*y");
    EXPECT_TRUE(fd_within(gradient_error(*c), 1e-6));
    EXPECT_TRUE(fd_within(gradient_error(*c, kResidual), 1e-6));
    const Mat<double>& x = c->loss->interior();
    std::vector<double> r;
    c->loss->evaluate_points(c->params, x, nullptr, &r);
    double s = 0;
    for (int p = 0; p < c->loss->n_interior(); ++p)
      s += (std::min(1.0, (x(p, 0) * x(p, 0) + x(p, 1) * x(p, 1)) / 0.25) + 0.1 * x(p, 1)) * r[p] * r[p];
    Vec<double> grad("grad", c->n_params());
    std::vector<double> t;
    loss_and_grad(*c, grad, &t);
    EXPECT_NEAR(t[kResidual], s / c->loss->n_interior(), 1e-12 * t[kResidual]);
    EXPECT_FALSE(c->loss->can_project());
    EXPECT_THROW(c->loss->project(c->params, c->lambda, 0.0), InputError);
  }
  // a negative weight is refused, naming the key
  try {
    make_case(kSquare + "  operator: {c_uxx: -1, c_uyy: -1}\n" + kHardBc, 10, 2, 20, 24, nn::Arch::mlp, false, 0, 0, 0,
              "x");
    ADD_FAILURE() << "a negative weight was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("training.residual_weight"), std::string::npos) << e.what();
  }
}

// Low modes of the residual (training.weights.modes): the residual term is
// mean r^2 + w sum_m w_m c_m^2 with c_m = mean_p r_p phi_m(x_p), w_m = (1 + |k|^2)^-2.
namespace {

/// The residual term recomputed here: r from evaluate(), phi_m written out again
/// (psi_0 = 1, psi_k = sqrt(2) cos(k pi t) on the bounding box [-1, 1]^2), each c_m^2
/// weighted by 1 / (1 + kx^2 + ky^2)^2.
double residual_term_by_hand(const Case& c, int n, double w) {
  std::vector<double> r;
  c.loss->evaluate_points(c.params, c.loss->interior(), nullptr, &r);
  const Mat<double>& x = c.loss->interior();
  const int N = static_cast<int>(r.size());
  double ms = 0;
  for (double v : r) ms += v * v;
  ms /= N;
  double c2 = 0;
  for (int mx = 0; mx < n; ++mx)
    for (int my = 0; my < n; ++my) {
      double cm = 0;
      for (int p = 0; p < N; ++p) {
        const double tx = (x(p, 0) + 1) / 2, ty = (x(p, 1) + 1) / 2;
        const double px = mx == 0 ? 1 : std::sqrt(2.0) * std::cos(mx * M_PI * tx);
        const double py = my == 0 ? 1 : std::sqrt(2.0) * std::cos(my * M_PI * ty);
        cm += r[p] * px * py;
      }
      cm /= N;
      const double k2 = mx * mx + my * my;
      c2 += cm * cm / ((1 + k2) * (1 + k2));
    }
  return ms + w * c2;
}

}  // namespace

TEST(PinnResidualModes, TermIsTheMeanSquarePlusTheWeightedProjections) {
  const std::string prob = kSquare + "  operator: {c_uxx: 1+x^2, c_uyy: exp(y), c_uy: x, c_u: cos(x*y)}\n"
                                     "  source: x - y\n" + kDirichletAll;
  for (const double w : {0.0, 1.0, 250.0}) {
    auto c = make_case(prob, 10, 2, 40, 24, nn::Arch::mlp, false, 0, 3, w);
    Vec<double> g("g", c->n_params());
    std::vector<double> t;
    loss_and_grad(*c, g, &t);
    const double ref = residual_term_by_hand(*c, 3, w);
    EXPECT_NEAR(t[kResidual], ref, 1e-12 * ref) << "w = " << w;
    if (w > 0) {  // the projections are not zero, so the weight shows
      auto plain = make_case(prob, 10, 2, 40, 24);
      std::vector<double> tp;
      loss_and_grad(*plain, g, &tp);
      EXPECT_GT(t[kResidual], tp[kResidual] * (1 + 1e-6)) << "w = " << w;
    }
  }
}

TEST(PinnResidualModes, GradientForEveryChannelKind) {
  // collapsed Laplacian, diagonal channels, Hessian channels, Gaussian features, hard Dirichlet
  auto a = make_case(kSquare + "  operator: {c_uxx: -1, c_uyy: -2.5, c_ux: 0.5, c_u: 1.5}\n  source: sin(pi*x)*y\n" +
                         kDirichletAll,
                     10, 2, 20, 24, nn::Arch::mlp, false, 0, 3, 40.0);
  EXPECT_TRUE(fd_within(gradient_error(*a), 1e-6));
  EXPECT_TRUE(fd_within(gradient_error(*a, 0), 1e-6));
  auto b = make_case(kSquare + "  operator: {c_uxx: 1+y, c_uyy: 1, c_uxy: 0.7, c_ux: -0.3}\n  source: x*y\n" +
                         kDirichletAll,
                     8, 2, 20, 24, nn::Arch::mlp, false, 0, 2, 40.0);
  EXPECT_TRUE(fd_within(gradient_error(*b), 1e-6));
  auto g = make_case(kHoleProblem, 6, 1, 20, 40, nn::Arch::mlp, false, 7, 4, 40.0);
  EXPECT_TRUE(fd_within(gradient_error(*g), 1e-6));
  auto h = make_case(kSquare + "  operator: {c_uxx: 1+x^2, c_uyy: exp(y), c_uy: x, c_u: cos(x*y)}\n  source: x\n" + kHardBc,
                     10, 2, 20, 24, nn::Arch::mlp, true, 0, 3, 40.0);
  EXPECT_TRUE(fd_within(gradient_error(*h), 1e-6));
}

TEST(PinnResidualModes, LeastSquaresOutputLayer) {
  auto c = make_case(kHoleProblem, 10, 2, 60, 60, nn::Arch::mlp, false, 0, 3, 100.0);
  c->lambda = {1.0, 3.0, 0.5};
  check_least_squares(*c);
  auto h = make_case(kSquare + "  operator: {c_uxx: 1+x^2, c_uyy: 1, c_uxy: 0.3, c_u: x}\n  source: sin(x)\n" + kHardBc,
                     8, 2, 60, 40, nn::Arch::mlp, true, 0, 2, 100.0);
  check_least_squares(*h);
}

TEST(PinnResidualModes, StageWeightSwitchesTheTerm) {
  const std::string prob = kSquare + "  operator: {c_uxx: 1, c_uyy: 1, c_u: 1}\n  source: x*y\n" + kDirichletAll;
  auto c = make_case(prob, 10, 2, 40, 24, nn::Arch::mlp, false, 0, 3, 250.0);
  auto plain = make_case(prob, 10, 2, 40, 24);
  Vec<double> g("g", c->n_params()), gp("gp", c->n_params());
  std::vector<double> t, tp;
  loss_and_grad(*plain, gp, &tp);
  c->loss->set_modes_weight(0);  // off: exactly the plain loss and gradient
  loss_and_grad(*c, g, &t);
  EXPECT_EQ(t[kResidual], tp[kResidual]);
  for (int i = 0; i < c->n_params(); ++i) EXPECT_EQ(g(i), gp(i)) << i;
  c->loss->set_modes_weight(7.5);
  loss_and_grad(*c, g, &t);
  const double ref = residual_term_by_hand(*c, 3, 7.5);
  EXPECT_NEAR(t[kResidual], ref, 1e-12 * ref);
  EXPECT_GT(t[kResidual], tp[kResidual] * (1 + 1e-6));
  EXPECT_THROW(plain->loss->set_modes_weight(1.0), InputError);  // no modes configured
  EXPECT_THROW(c->loss->set_modes_weight(-1.0), InputError);
}
