// pinn::SystemObjective (pinn/system_objective.hpp) and data::SystemResidual in double:
//  - the parameter gradient of every term (one per equation, Dirichlet, Neumann) against
//    central differences, for a two-field nonlinear system with a mixed derivative, a
//    Neumann condition on one field and a three-field Stokes-like system;
//  - evaluate_weighted() (one interior pass for every equation) against the weighted
//    sum of evaluate()'s terms and gradients;
//  - the residuals of evaluate_points() against the equations evaluated here on
//    finite-difference derivatives of each field (no derivative channel involved), and
//    each equation's term against the mean of its squared residual;
//  - the boundary terms against means computed here from the samples and the fields.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/report.hpp"
#include "data/problem.hpp"
#include "nn/network.hpp"
#include "pinn/system_objective.hpp"
#include "support/fd_check.hpp"

#include <unistd.h>

using namespace kpde;
using kpde::testing::fd_within;
using pinn::SystemObjective;

namespace {

struct Case {
  data::Problem problem;
  std::unique_ptr<nn::Network<double>> net;
  Vec<double> params;
  std::unique_ptr<SystemObjective<double>> loss;
  int n_terms() const { return static_cast<int>(loss->term_names().size()); }
  int n_params() const { return net->n_params(); }
};

std::unique_ptr<Case> make_case(const std::string& problem_yaml, bool per_term = true, bool hard = false,
                                const std::string& residual_weight = "") {
  auto c = std::make_unique<Case>();
  config::Document doc = config::Document::load_string("problem:\n" + problem_yaml, "case.yaml");
  c->problem = data::load_problem(doc.root().at("problem"), doc);
  nn::NetworkSpec spec;
  spec.input_dim = c->problem.dim;
  spec.output_dim = c->problem.n_fields();
  spec.width = 9;
  spec.depth = 2;
  spec.activation = nn::Activation::tanh;
  spec.block_points = 8;  // several blocks
  c->net = std::make_unique<nn::Network<double>>(spec);
  c->params = Vec<double>("params", c->net->n_params());
  c->net->init_params(c->params, 7);
  for (int i = 0; i < c->net->n_params(); ++i)
    if (c->params(i) == 0) c->params(i) = 0.1 * std::sin(1.0 + i);
  pinn::PinnSettings s;
  s.n_interior = 21;
  s.n_boundary = 30;
  s.seed = 5;
  s.hard_dirichlet = hard;
  if (!residual_weight.empty())
    s.residual_weight = std::make_shared<const pde::Expression>(pde::Expression::parse(residual_weight, {"x", "y", "z"}));
  c->loss = std::make_unique<SystemObjective<double>>(c->problem, *c->net, s, per_term);
  c->loss->sample(0);
  return c;
}

std::vector<double> terms_of(Case& c, std::vector<Vec<double>>* grads = nullptr) {
  const int K = c.n_terms();
  std::vector<double> t(K);
  std::vector<Vec<double>> g;
  for (int k = 0; k < K; ++k) g.emplace_back("g", c.n_params());
  c.loss->evaluate(c.params, t, g);
  if (grads) *grads = g;
  return t;
}

void check_term_gradients(Case& c) {
  std::vector<Vec<double>> g;
  terms_of(c, &g);
  for (int k = 0; k < c.n_terms(); ++k) {
    if (!c.loss->term_active(k)) continue;
    const auto value = [&](const Vec<double>&) { return terms_of(c)[k]; };
    kpde::testing::GradientOptions o;
    o.what = c.loss->term_names()[k] + " gradient";
    EXPECT_TRUE(fd_within(kpde::testing::check_gradient(value, c.params, g[k], o), 1e-6));
  }
}

/// evaluate_weighted: the weighted terms and gradient of evaluate() in one pass.
void check_weighted(Case& c) {
  const int K = c.n_terms(), n = c.n_params();
  std::vector<Vec<double>> g;
  const std::vector<double> t = terms_of(c, &g);
  std::vector<double> w(K);
  for (int k = 0; k < K; ++k) w[k] = 0.5 + 0.7 * k;
  std::vector<double> tw(K);
  Vec<double> gw("gw", n);
  const double L = c.loss->evaluate_weighted(c.params, w, tw, gw);
  double want = 0, scale = 0;
  for (int k = 0; k < K; ++k) {
    EXPECT_NEAR(tw[k], t[k], 1e-13 * (1 + t[k])) << c.loss->term_names()[k];
    want += w[k] * t[k];
  }
  EXPECT_NEAR(L, want, 1e-13 * want);
  for (int i = 0; i < n; ++i) {
    double gi = 0;
    for (int k = 0; k < K; ++k) gi += w[k] * g[k](i);
    scale = std::max(scale, std::abs(gi));
  }
  for (int i = 0; i < n; ++i) {
    double gi = 0;
    for (int k = 0; k < K; ++k) gi += w[k] * g[k](i);
    EXPECT_NEAR(gw(i), gi, 1e-12 * scale) << "parameter " << i;
  }
}

/// The fields [F] at one 2-D point.
std::vector<double> fields_at(const Case& c, double x, double y) {
  Mat<double> p("p", 1, 2);
  p(0, 0) = x, p(0, 1) = y;
  std::vector<std::vector<double>> f;
  c.loss->evaluate_points(c.params, p, &f, nullptr);
  std::vector<double> out;
  for (const auto& v : f) out.push_back(v[0]);
  return out;
}

/// Residuals at the interior points against the equations on central differences of
/// the fields (2-D), and each equation's term against mean r_e^2.
void check_residuals(Case& c) {
  const Mat<double> x("x", 7, 2);
  for (int p = 0; p < 7; ++p) x(p, 0) = -0.8 + 0.23 * p, x(p, 1) = 0.6 - 0.17 * p;
  std::vector<std::vector<double>> f, r;
  c.loss->evaluate_points(c.params, x, &f, &r);
  const int F = c.problem.n_fields(), E = static_cast<int>(c.problem.equations.size());
  ASSERT_EQ(static_cast<int>(r.size()), E);
  const double h = 1e-3;
  for (int p = 0; p < 7; ++p) {
    const double a = x(p, 0), b = x(p, 1);
    // variables: per field u, u_x, u_y, u_xx, u_yy, u_xy, then x, y
    std::vector<double> vars;
    const auto u0 = fields_at(c, a, b), ue = fields_at(c, a + h, b), uw = fields_at(c, a - h, b),
               un = fields_at(c, a, b + h), us = fields_at(c, a, b - h), ne = fields_at(c, a + h, b + h),
               nw = fields_at(c, a - h, b + h), se = fields_at(c, a + h, b - h), sw = fields_at(c, a - h, b - h);
    for (int k = 0; k < F; ++k) {
      vars.push_back(u0[k]);
      vars.push_back((ue[k] - uw[k]) / (2 * h));
      vars.push_back((un[k] - us[k]) / (2 * h));
      vars.push_back((ue[k] - 2 * u0[k] + uw[k]) / (h * h));
      vars.push_back((un[k] - 2 * u0[k] + us[k]) / (h * h));
      vars.push_back((ne[k] - nw[k] - se[k] + sw[k]) / (4 * h * h));
      EXPECT_NEAR(f[k][p], u0[k], 1e-12 * (1 + std::abs(u0[k])));
    }
    vars.push_back(a), vars.push_back(b);
    for (int e = 0; e < E; ++e) {
      const double want = c.problem.equations[e].residual->eval(vars.data());
      EXPECT_NEAR(r[e][p], want, 1e-4 * (1 + std::abs(want))) << c.problem.equations[e].name << " at point " << p;
    }
  }
  // the terms are the mean squares of the residuals at the objective's own points
  c.loss->evaluate_points(c.params, Mat<const double>(c.loss->interior()), &f, &r);
  const std::vector<double> t = terms_of(c);
  for (int e = 0; e < E; ++e) {
    double s = 0;
    for (double v : r[e]) s += v * v;
    EXPECT_NEAR(t[e], s / r[e].size(), 1e-12 * t[e]) << c.problem.equations[e].name;
  }
}

/// The Dirichlet and Neumann terms against means over the boundary samples of the
/// conditions, each on its own field (n.grad f by central differences along n). hard:
/// the Dirichlet data are exact (f_k = g at the samples, no Dirichlet term).
void check_boundary(Case& c, bool hard = false) {
  const mesh::BoundarySamples& b = c.loss->boundary();
  double sd = 0, sn = 0;
  int nd = 0, nn = 0;
  const double h = 1e-5;
  for (int q = 0; q < b.n_points(); ++q) {
    const mesh::Point x{b.x(q, 0), b.x(q, 1), 0};
    const double n0 = b.normal(q, 0), n1 = b.normal(q, 1);
    const auto u = fields_at(c, x[0], x[1]);
    const auto up = fields_at(c, x[0] + h * n0, x[1] + h * n1), um = fields_at(c, x[0] - h * n0, x[1] - h * n1);
    for (const auto& cond : c.problem.conditions) {
      if (cond.part != b.part(q)) continue;
      const int k = cond.field;
      const double g = cond.value(x);
      if (cond.kind == mesh::BoundaryKind::dirichlet && hard) {
        EXPECT_NEAR(u[k], g, 1e-13 * (1 + std::abs(g)));
      } else if (cond.kind == mesh::BoundaryKind::dirichlet) {
        sd += cond.weight * (u[k] - g) * (u[k] - g), ++nd;
      } else {
        const double e = (up[k] - um[k]) / (2 * h) - g;
        sn += cond.weight * e * e, ++nn;
      }
    }
  }
  EXPECT_EQ(nd, c.loss->n_dirichlet());
  EXPECT_EQ(nn, c.loss->n_neumann());
  const std::vector<double> t = terms_of(c);
  const int E = static_cast<int>(c.problem.equations.size());
  if (!hard) {
    ASSERT_GT(nd, 0);
    EXPECT_NEAR(t[E], sd / nd, 1e-12 * t[E]);
  }
  if (nn > 0) {
    EXPECT_NEAR(t[E + 1], sn / nn, 1e-7 * t[E + 1]);
  }
}

// Two fields, a nonlinear coupling, a mixed derivative and coordinates; Dirichlet on u
// everywhere, on v on three sides and Neumann on v on the fourth.
const std::string kTwoFields =
    "  domain: {box: [[-1, 1], [-1, 1]]}\n"
    "  constants: {k: 0.4}\n"
    "  fields: [u, v]\n"
    "  residuals:\n"
    "    first: u_xx + u_yy + k*u*v_x - sin(x)*v\n"
    "    second: v_xx + 0.5*v_xy + v_yy - exp(u_y)*u + y\n"
    "  boundary:\n"
    "    - {parts: all, field: u, type: dirichlet, value: x*y}\n"
    "    - {parts: [left, right, bottom], field: v, type: dirichlet, value: 1 + x}\n"
    "    - {part: top, field: v, type: neumann, value: cos(x), weight: 2}\n";

}  // namespace

TEST(SystemObjective, TwoFieldGradientsPerTerm) {
  auto c = make_case(kTwoFields);
  EXPECT_EQ(c->loss->residual().channels().second, nn::SecondOrder::hessian);
  EXPECT_EQ(c->loss->term_names(), (std::vector<std::string>{"first", "second", "dirichlet", "neumann"}));
  check_term_gradients(*c);
  check_weighted(*c);
  check_residuals(*c);
  check_boundary(*c);
}

// Exact Dirichlet data per field beside v's Neumann side: the Neumann term through v's
// transform, against central differences of v, and every term's gradient.
TEST(SystemObjective, ExactDataBesideANeumannSide) {
  auto c = make_case(kTwoFields, true, true);
  EXPECT_EQ(c->loss->n_dirichlet(), 0);
  EXPECT_GT(c->loss->n_neumann(), 0);
  check_term_gradients(*c);
  check_boundary(*c, true);
}

TEST(SystemObjective, StokesThreeFields) {
  // steady Stokes with pressure: the momentum equations read p_x, p_y; continuity reads
  // first derivatives only; p is fixed on one side
  auto c = make_case(
      "  domain: {box: [[-1, 1], [-1, 1]]}\n"
      "  fields: [u, v, p]\n"
      "  residuals:\n"
      "    momentum_x: -(u_xx + u_yy) + p_x - x\n"
      "    momentum_y: -(v_xx + v_yy) + p_y\n"
      "    continuity: u_x + v_y\n"
      "  boundary:\n"
      "    - {parts: all, field: u, type: dirichlet, value: 1 - y^2}\n"
      "    - {parts: all, field: v, type: dirichlet, value: 0}\n"
      "    - {part: right, field: p, type: dirichlet, value: 0}\n",
      false);
  EXPECT_EQ(c->loss->residual().channels().second, nn::SecondOrder::diagonal);
  EXPECT_TRUE(c->loss->weighs_terms());
  check_term_gradients(*c);
  check_weighted(*c);
  check_residuals(*c);
  check_boundary(*c);
}

const std::string kStokes =
    "  domain: {box: [[-1, 1], [-1, 1]]}\n"
    "  fields: [u, v, p]\n"
    "  residuals:\n"
    "    momentum_x: -(u_xx + u_yy) + p_x - x + u*u_x\n"
    "    momentum_y: -(v_xx + v_yy) + p_y + 0.3*u_xy\n"
    "    continuity: u_x + v_y\n"
    "  boundary:\n"
    "    - {parts: all, field: u, type: dirichlet, value: 1 - y^2 + 0.2*x}\n"
    "    - {parts: all, field: v, type: dirichlet, value: sin(x)*y}\n"
    "    - {part: right, field: p, type: dirichlet, value: cos(y)}\n";

TEST(SystemObjective, ExactDirichletDataPerField) {
  auto c = make_case(kStokes, true, true);
  ASSERT_TRUE(c->loss->hard_dirichlet());
  EXPECT_EQ(c->loss->n_dirichlet(), 0);  // met exactly: no Dirichlet points
  EXPECT_EQ(c->loss->residual().channels().second, nn::SecondOrder::hessian);
  check_term_gradients(*c);
  check_weighted(*c);
  check_residuals(*c);
  // every field takes its own data on its own constrained sides, for any parameters
  const double ys[3] = {-0.7, 0.1, 0.9};
  for (double y : ys) {
    for (double side : {-1.0, 1.0}) {
      const auto f = fields_at(*c, side, y);
      EXPECT_NEAR(f[0], 1 - y * y + 0.2 * side, 1e-14);
      EXPECT_NEAR(f[1], std::sin(side) * y, 1e-14);
      if (side > 0) {
        EXPECT_NEAR(f[2], std::cos(y), 1e-14);
      }
      const auto t = fields_at(*c, y, side);  // bottom and top
      EXPECT_NEAR(t[0], 1 - side * side + 0.2 * y, 1e-14);
      EXPECT_NEAR(t[1], std::sin(y) * side, 1e-14);
    }
  }
  // p is free off its side: the network moves it
  EXPECT_GT(std::abs(fields_at(*c, -1, 0.3)[2] - std::cos(0.3)), 1e-6);
}

// A pin on a field under exact Dirichlet data (u, pinned at an interior point) is
// measured on u = g + phi N: the Dirichlet term is (u(pin) - value)^2 with its gradient.
TEST(SystemObjective, PinOnAFieldWithExactData) {
  auto c = make_case(kStokes + "  pins: [{field: u, at: [0.2, -0.3], value: 0.4, weight: 2}]\n", true, true);
  EXPECT_EQ(c->loss->n_dirichlet(), 1);
  const double u = fields_at(*c, 0.2, -0.3)[0];
  const auto t = terms_of(*c);
  EXPECT_NEAR(t[3], 2 * (u - 0.4) * (u - 0.4), 1e-12 * (1 + t[3]));
  check_term_gradients(*c);
}

// training.residual_weight: every equation's term is mean_q w(x_q) r_e(x_q)^2, with its
// gradient; here with a cavity's data by part on u (1 on the lid, 0 elsewhere: the
// R-function transform) under exact Dirichlet data.
TEST(SystemObjective, ResidualWeightAndDataByPart) {
  const std::string w = "min(1, (x^2 + (1 - y)^2) / 0.09) * min(1, ((1 - x)^2 + (1 - y)^2) / 0.09)";
  const std::string cavity =
      "  domain: {box: [[0, 1], [0, 1]]}\n"
      "  fields: [u, v, p]\n"
      "  residuals:\n"
      "    momentum_x: u*u_x + v*u_y + p_x - (u_xx + u_yy)/10\n"
      "    momentum_y: u*v_x + v*v_y + p_y - (v_xx + v_yy)/10\n"
      "    continuity: u_x + v_y\n"
      "  boundary:\n"
      "    - {part: top, field: u, type: dirichlet, value: 1}\n"
      "    - {parts: all, field: u, type: dirichlet, value: 0}\n"
      "    - {parts: all, field: v, type: dirichlet, value: 0}\n"
      "  pins: [{field: p, at: [0, 0], value: 0}]\n";
  for (const bool hard : {false, true}) {
    auto c = make_case(cavity, true, hard, w);
    if (hard) {  // the gradients through the weights without exact data are the same code
      check_term_gradients(*c);
      check_weighted(*c);
    }
    const Mat<double>& x = c->loss->interior();
    const int N = static_cast<int>(x.extent(0));
    std::vector<std::vector<double>> f, r;
    c->loss->evaluate_points(c->params, x, &f, &r);  // r: unweighted
    const auto t = terms_of(*c);
    for (int e = 0; e < 3; ++e) {
      double s = 0;
      for (int q = 0; q < N; ++q) {
        const double X = x(q, 0), Y = x(q, 1);
        const double wq = std::min(1.0, (X * X + (1 - Y) * (1 - Y)) / 0.09) *
                          std::min(1.0, ((1 - X) * (1 - X) + (1 - Y) * (1 - Y)) / 0.09);
        s += wq * r[e][q] * r[e][q];
      }
      EXPECT_NEAR(t[e], s / N, 1e-12 * (1 + t[e])) << "equation " << e << (hard ? " (exact data)" : "");
    }
    if (hard) {  // u = 1 on the lid, 0 on the other walls, for any parameters
      EXPECT_NEAR(fields_at(*c, 0.3, 1)[0], 1, 1e-14);
      EXPECT_NEAR(fields_at(*c, 0, 0.6)[0], 0, 1e-14);
      EXPECT_NEAR(fields_at(*c, 0.7, 0)[0], 0, 1e-14);
      EXPECT_NEAR(fields_at(*c, 1, 0.2)[1], 0, 1e-14);
    }
  }
}

TEST(SystemObjective, PinnedPressureIsFreeUnderExactDataAndCountsAsADirichletPoint) {
  // p has no boundary condition, only a pin: under exact Dirichlet data it stays the
  // network's output (g = 0, phi = 1) and the pin is the one Dirichlet point
  std::string text = kStokes;
  text.replace(text.find("    - {part: right, field: p"), std::string::npos,
               "  pins: [{field: p, at: [0.25, -0.5], value: 0.7, weight: 3}]\n");
  auto c = make_case(text, true, true);
  EXPECT_EQ(c->loss->n_dirichlet(), 1);
  check_term_gradients(*c);
  const auto f = fields_at(*c, 0.25, -0.5);
  const std::vector<double> t = terms_of(*c);
  EXPECT_NEAR(t[3], 3 * (f[2] - 0.7) * (f[2] - 0.7), 1e-14);  // the Dirichlet term: w (p - 0.7)^2
  Mat<double> one("x", 1, 2);
  one(0, 0) = 1, one(0, 1) = 0.2;  // on the right side p is free: N itself
  std::vector<std::vector<double>> u;
  c->loss->evaluate_points(c->params, one, &u, nullptr);
  Arr3<double> out("out", 1, 1, 3);
  c->net->forward(nn::as_batch(Vec<const double>(c->params)), nn::as_batch(Mat<const double>(one)),
                  nn::ChannelSpec::value(2), nn::as_batch(out));
  EXPECT_NEAR(u[2][0], out(0, 0, 2), 1e-15);
}

TEST(SystemReport, FieldsErrorsResidualsAndPointTables) {
  // a table of u and p at three points, written with the network's own values plus
  // known offsets: the report's errors at the table's points are those offsets
  auto c = make_case(kStokes);
  const std::vector<std::array<double, 2>> pts = {{{0.1, 0.2}}, {{-0.5, 0.7}}, {{0.9, -0.9}}};
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("kpde_sysrep_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "table.csv");
    f << "# test table\nx,y,u,p\n";
    for (const auto& q : pts) {
      const auto v = fields_at(*c, q[0], q[1]);
      f << q[0] << "," << q[1] << "," << v[0] + 0.01 << "," << v[2] << "\n";
    }
  }
  std::string text = kStokes + "  reference: {points: " + (dir / "table.csv").string() + "}\n";
  config::Document doc = config::Document::load_string("problem:\n" + text, "case.yaml");
  const data::Problem p = data::load_problem(doc.root().at("problem"), doc);
  ASSERT_EQ(p.field_points.size(), 1u);
  ASSERT_EQ(p.field_points[0].values.size(), 2u);  // u and p; the table has no v
  const data::SystemEval eval = [&](const Mat<const double>& x, std::vector<std::vector<double>>* f,
                                    std::vector<std::vector<double>>* r) { c->loss->evaluate_points(c->params, x, f, r); };
  const data::Report rep = data::build_system_report(p, data::same_counts(9), eval);
  for (const char* name : {"u", "v", "p", "residual_momentum_x", "residual_continuity", "domain_mask"})
    EXPECT_NE(rep.fields.find(name), nullptr) << name;
  EXPECT_EQ(rep.fields.find("u_error"), nullptr);  // no exact solution here
  EXPECT_EQ(rep.fields.unknowns, (std::vector<std::string>{"u", "v", "p"}));
  const io::JsonValue* tables = rep.metrics.find("points");
  ASSERT_NE(tables, nullptr);
  const io::JsonValue* per = tables->find(p.field_points[0].origin);
  ASSERT_NE(per, nullptr);
  EXPECT_NEAR(per->find("u")->find("max_abs_err")->number(), 0.01, 1e-6);  // the CSV's 6 digits
  EXPECT_LT(per->find("p")->find("max_abs_err")->number(), 1e-5);
  EXPECT_EQ(per->find("v"), nullptr);
  EXPECT_NEAR(rep.summary.max_abs_err, 0.01, 1e-6);  // the headline: u, the larger rel_l2
  std::filesystem::remove_all(dir);
}

TEST(SystemObjective, RefusesWhatSystemsDoNotTakeYet) {
  config::Document doc = config::Document::load_string("problem:\n" + kTwoFields, "case.yaml");
  const data::Problem p = data::load_problem(doc.root().at("problem"), doc);
  nn::NetworkSpec spec;
  spec.output_dim = 2;
  nn::Network<double> net(spec);
  pinn::PinnSettings s;
  s.residual_modes = 2;
  EXPECT_THROW(SystemObjective<double>(p, net, s, false), InputError);
  // the scalar objective's residual refuses a system
  EXPECT_THROW(data::Residual(p, false), InputError);
}
