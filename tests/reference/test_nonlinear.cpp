// The Newton reference solver (problems with a residual expression): the exact Jacobian
// against finite differences of the discrete residual, second-order convergence on
// manufactured nonlinear problems (elliptic and Allen-Cahn), viscous Burgers against
// Cole-Hopf, linear problems written as residuals against the linear solver, bad input.
#include <gtest/gtest.h>
#include <petscsys.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/burgers.hpp"
#include "data/reference/nonlinear_system.hpp"
#include "manufactured.hpp"
#include "mesh/shape.hpp"

namespace kpde::data::testing {
namespace {

const std::vector<std::string> kVariables = {"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "x", "y"};

std::shared_ptr<const pde::Expression> residual(const std::string& text,
                                                const std::map<std::string, double>& constants = {}) {
  return std::make_shared<const pde::Expression>(pde::Expression::parse(text, kVariables, constants));
}

/// A manufactured nonlinear problem R[u] = f: the exact solution u(x, y) (an expression
/// in x, y) and the residual R; f = R at the exact solution's jets.
struct NonlinearManufactured {
  Manufactured exact;  // the solution (no coefficients: only u, its jets and boundary values are used)
  std::shared_ptr<const pde::Expression> R;

  NonlinearManufactured(const std::string& u, const std::string& r) : exact(u, {}), R(residual(r)) {}

  double source(double x, double y) const {
    const Jet2 U = jet(*exact.u, x, y);
    const double v[8] = {U.u, U.ux, U.uy, U.uxx, U.uyy, U.uxy, x, y};
    return R->eval(v);
  }

  FdProblem problem(const mesh::Geometry& g) const {
    FdProblem p;
    p.geometry = &g;
    p.residual = R;
    auto self = std::make_shared<NonlinearManufactured>(*this);
    p.source = [self](double x, double y) { return self->source(x, y); };
    return p;
  }
};

mesh::Geometry square() { return mesh::Geometry(mesh::box({-1, -1}, {1, 1})); }
mesh::Geometry holed() { return mesh::Geometry(mesh::box({-1, -1}, {1, 1}) - mesh::disk("hole", 0.13, -0.07, 0.43)); }

/// max over rows of |J - J_fd| / max(1, max |J_row|), J_fd by central differences of F.
double jacobian_error(FdNonlinearSystem& sys, long begin, long end, unsigned seed) {
  sys.build(begin, end);
  const std::size_t nc = sys.columns().size();
  const long n = sys.n_rows();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::vector<double> u(nc);
  for (double& v : u) v = uni(rng);
  sys.set_scales(u.data());  // scaled rows, as Newton sees them
  std::vector<double> J(sys.pattern_cols().size());
  sys.jacobian(u.data(), J.data());
  // dense J from the pattern
  std::vector<double> dense(static_cast<std::size_t>(n) * nc, 0.0);
  for (long r = 0; r < n; ++r)
    for (int q = sys.pattern_rows()[r]; q < sys.pattern_rows()[r + 1]; ++q)
      dense[r * nc + sys.pattern_cols()[q]] += J[q];
  std::vector<double> rowmax(n, 1.0);
  for (long r = 0; r < n; ++r)
    for (std::size_t c = 0; c < nc; ++c) rowmax[r] = std::max(rowmax[r], std::abs(dense[r * nc + c]));
  std::vector<double> Fp(n), Fm(n);
  double worst = 0;
  const double eps = 1e-6;
  for (std::size_t c = 0; c < nc; ++c) {
    const double keep = u[c];
    u[c] = keep + eps;
    sys.residual(u.data(), Fp.data());
    u[c] = keep - eps;
    sys.residual(u.data(), Fm.data());
    u[c] = keep;
    for (long r = 0; r < n; ++r) {
      const double fd = (Fp[r] - Fm[r]) / (2 * eps);
      worst = std::max(worst, std::abs(fd - dense[r * nc + c]) / rowmax[r]);
    }
  }
  return worst;
}

TEST(ReferenceNewton, JacobianMatchesFiniteDifferencesElliptic) {
  // every derivative, Neumann and Robin parts (ghost-node, least-squares and condition rows)
  const mesh::Geometry g = holed();
  const NonlinearManufactured m("sin(x + 0.3)*cosh(y)",
                                "-(1 + u^2)*(u_xx + u_yy) + 0.3*u_xy + u_x*u_y + sinh(u) + x*u + 0.2*u_y^2");
  FdProblem p = m.problem(g);
  p.conditions = {m.exact.dirichlet(g, "left"), m.exact.neumann(g, "right"), m.exact.robin(g, "bottom", 2.0, 0.5),
                  m.exact.dirichlet(g, "top"), m.exact.neumann(g, "hole")};
  FdOptions o;
  o.n = 13;
  FdNonlinearSystem sys(p, o, PETSC_COMM_SELF);
  const double e = jacobian_error(sys, 0, sys.n_unknowns(), 1);
  std::printf("[jacobian elliptic] unknowns=%ld max relative |J - J_fd| = %.2e\n", sys.n_unknowns(), e);
  EXPECT_LT(e, 1e-7);
}

TEST(ReferenceNewton, JacobianMatchesFiniteDifferencesTime) {
  const mesh::Geometry g = square();
  for (const char* r : {"u_y + u*u_x - 0.05*u_xx + 0.3*u^3", "u_yy - (1 + 0.5*u^2)*u_xx + sin(u) + 0.1*u_x*u_y"}) {
    const NonlinearManufactured m("sin(x + 0.3)*cos(y)", r);
    FdProblem p = m.problem(g);
    p.time_axis = 1;
    p.conditions = {m.exact.neumann(g, "left"), m.exact.dirichlet(g, "right"), m.exact.dirichlet(g, "bottom")};
    if (std::string(r).find("u_yy") != std::string::npos) p.conditions.push_back(m.exact.neumann(g, "bottom"));
    FdOptions o;
    o.n = 13;
    FdNonlinearSystem sys(p, o, PETSC_COMM_SELF);
    const std::vector<long> starts = sys.level_starts();
    for (std::size_t k : {std::size_t(0), std::size_t(1), std::size_t(4)}) {  // levels 1, 2 (Taylor start) and 5
      const double e = jacobian_error(sys, starts[k], starts[k + 1], 7 + static_cast<unsigned>(k));
      std::printf("[jacobian time] %s level %zu: max relative |J - J_fd| = %.2e\n", r, k + 1, e);
      EXPECT_LT(e, 1e-7);
    }
    // the whole space-time system at once
    const double e = jacobian_error(sys, 0, sys.n_unknowns(), 3);
    EXPECT_LT(e, 1e-7);
  }
}

/// Max-norm errors against the exact solution on n = ns; returns log2 ratios.
std::vector<double> orders(const NonlinearManufactured& m, const std::function<FdProblem()>& make, const char* name,
                           const std::vector<int>& ns, const std::string& solver = "auto") {
  std::vector<double> err;
  for (int n : ns) {
    FdOptions o;
    o.n = n;
    o.rtol = 1e-12;
    o.solver = solver;
    const FdSolution s = solve_reference(make(), o);
    err.push_back(m.exact.max_error(s));
    std::printf("[%s] n=%d unknowns=%ld newton=%d (max %d per solve, %d solves) solver=%s max_err=%.3e "
                "residual=%.1e wall_s=%.2f\n",
                name, n, s.n_unknowns, s.newton_iterations, s.newton_max, s.newton_solves, s.solver.c_str(),
                err.back(), s.residual_norm, s.wall_s);
    EXPECT_GT(s.newton_iterations, 0);
  }
  std::vector<double> ord;
  for (std::size_t k = 0; k + 1 < err.size(); ++k) ord.push_back(std::log2(err[k] / err[k + 1]));
  std::printf("[%s] orders:", name);
  for (double v : ord) std::printf(" %.3f", v);
  std::printf("\n");
  return ord;
}

TEST(ReferenceNewton, PoissonBoltzmannSquareSecondOrder) {
  // -lap u + sinh(u) = f, Dirichlet
  const mesh::Geometry g = square();
  const NonlinearManufactured m("exp(0.5*x)*sin(2*y) + x^2*y + 1", "-u_xx - u_yy + sinh(u)");
  auto make = [&] {
    FdProblem p = m.problem(g);
    for (const char* s : {"left", "right", "bottom", "top"}) p.conditions.push_back(m.exact.dirichlet(g, s));
    return p;
  };
  const auto ord = orders(m, make, "poisson-boltzmann square", {17, 33, 65});
  for (double v : ord) EXPECT_GE(v, 1.9);
}

TEST(ReferenceNewton, CubicPoissonHoleRobinSecondOrder) {
  // -lap u + u^3 = f on a square with a disk hole (Shortley-Weller and least-squares rows),
  // Neumann and Robin parts
  const mesh::Geometry g = holed();
  const NonlinearManufactured m("sin(2*x + 0.5)*cosh(y) + 0.3*x*y^2", "-u_xx - u_yy + u^3");
  auto make = [&] {
    FdProblem p = m.problem(g);
    p.conditions = {m.exact.dirichlet(g, "left"), m.exact.neumann(g, "right"), m.exact.dirichlet(g, "bottom"),
                    m.exact.dirichlet(g, "top"), m.exact.robin(g, "hole", 1.5, 1.0)};
    return p;
  };
  const auto ord = orders(m, make, "cubic poisson, hole robin", {17, 33, 65});
  EXPECT_GE(ord.back(), 1.9);
  EXPECT_GE(ord.front(), 1.6);  // pre-asymptotic on the curved boundary, as for the linear solver
}

TEST(ReferenceNewton, AllenCahnSecondOrder) {
  // u_t - 0.05 u_xx + 5 (u^3 - u) = f, manufactured; Crank-Nicolson (implicit midpoint) steps
  const mesh::Geometry g(mesh::box({-1, 0}, {1, 1}));
  const NonlinearManufactured m("0.8*cos(pi*x/2 + 0.2)*exp(-y) + 0.1*x*y", "u_y - 0.05*u_xx + 5*(u^3 - u)");
  auto make = [&] {
    FdProblem p = m.problem(g);
    p.time_axis = 1;
    p.conditions = {m.exact.dirichlet(g, "left"), m.exact.neumann(g, "right"), m.exact.dirichlet(g, "bottom")};
    return p;
  };
  const auto ord = orders(m, make, "allen-cahn", {17, 33, 65});
  for (double v : ord) EXPECT_GE(v, 1.9);
}

/// rel. L2 error of a solution on [-1, 1] x [0, 1] against Cole-Hopf at every node.
double burgers_error(const FdSolution& s, double nu) {
  double e2 = 0, u2 = 0;
  for (int i = 0; i < s.grid.n; ++i)
    for (int j = 0; j < s.grid.n; ++j) {
      const double u = burgers_cole_hopf(s.grid.x(j), s.grid.y(i), nu, 2001);
      e2 += (s.u(i, j) - u) * (s.u(i, j) - u);
      u2 += u * u;
    }
  return std::sqrt(e2 / u2);
}

TEST(ReferenceNewton, BurgersAgainstColeHopf) {
  // u_t + u u_x - nu u_xx = 0, u(x, 0) = -sin(pi x), u(+-1, t) = 0, nu = 0.05/pi (the
  // benchmark's front, 5 times wider so that the test grids resolve it)
  const mesh::Geometry g(mesh::box({-1, 0}, {1, 1}));
  const double nu = 0.05 / M_PI;
  FdProblem p;
  p.geometry = &g;
  p.time_axis = 1;
  p.residual = residual("u_y + u*u_x - nu*u_xx", {{"nu", nu}});
  const Fn2 zero = [](double, double) { return 0.0; };
  const Fn2 initial = [](double x, double) { return -std::sin(M_PI * x); };
  p.conditions = {{g.part_id("left"), FdConditionKind::dirichlet, zero},
                  {g.part_id("right"), FdConditionKind::dirichlet, zero},
                  {g.part_id("bottom"), FdConditionKind::dirichlet, initial}};
  std::vector<double> err;
  for (int n : {33, 65, 129}) {
    FdOptions o;
    o.n = n;
    const FdSolution s = solve_reference(p, o);
    err.push_back(burgers_error(s, nu));
    std::printf("[burgers nu=0.05/pi] n=%d newton=%d (max %d per step, %d steps) rel_l2=%.3e wall_s=%.2f\n", n,
                s.newton_iterations, s.newton_max, s.newton_solves, err.back(), s.wall_s);
    EXPECT_EQ(s.newton_solves, n - 1);
    EXPECT_LE(s.newton_max, 8);
  }
  EXPECT_LT(err[1], 0.5 * err[0]);
  EXPECT_LT(err[2], 0.5 * err[1]);
  EXPECT_LT(err[2], 1e-2);
}

double max_diff(const FdSolution& a, const FdSolution& b) {
  double d = 0;
  for (int i = 0; i < a.grid.n; ++i)
    for (int j = 0; j < a.grid.n; ++j) d = std::max(d, std::abs(a.u(i, j) - b.u(i, j)));
  return d;
}

/// The linear problem m (coefficient expressions `c`, FdCoefficient order) and the same
/// operator as a residual expression sum_k c_k D_k; their solutions must agree.
void expect_same_as_linear(const Manufactured& m, const std::vector<std::string>& c, const mesh::Geometry& g,
                           const std::vector<FdCondition>& conditions, int time_axis, const char* name) {
  FdProblem lin = m.problem(g);
  lin.conditions = conditions;
  lin.time_axis = time_axis;
  std::string text;
  for (int k = 0; k < 6; ++k)
    if (!c[k].empty()) text += (text.empty() ? "" : " + ") + ("(" + c[k] + ")*" + kVariables[k]);
  FdProblem non = lin;
  non.coefficient = {};
  non.residual = residual(text);
  FdOptions o;
  o.n = 33;
  o.rtol = 1e-13;
  o.solver = "mumps";
  const FdSolution a = solve_reference(lin, o);
  const FdSolution b = solve_reference(non, o);
  const double d = max_diff(a, b);
  std::printf("[linear as residual: %s] %s: newton=%d max|linear - newton| = %.2e\n", name, text.c_str(),
              b.newton_iterations, d);
  EXPECT_LT(d, 1e-10);
  EXPECT_LE(b.newton_max, 2);
}

TEST(ReferenceNewton, LinearResidualMatchesLinearSolver) {
  const mesh::Geometry h = holed();
  {  // every coefficient, variable, u_xy near a curved Robin hole (least-squares rows)
    const std::vector<std::string> c = {"0.5 + 0.1*x", "0.3", "-0.2*y", "-1 - 0.2*x^2", "-1.2", "0.4"};
    const Manufactured m("sin(1.5*x + y)*exp(0.3*y)", c);
    expect_same_as_linear(m, c, h,
                          {m.dirichlet(h, "left"), m.neumann(h, "right"), m.dirichlet(h, "bottom"),
                           m.dirichlet(h, "top"), m.robin(h, "hole", 1.0, 0.5)},
                          -1, "elliptic, hole");
  }
  const mesh::Geometry g = square();
  {  // heat with a Neumann and a Robin side (Crank-Nicolson)
    const std::vector<std::string> c = {"0.3", "0.2", "1", "-0.5*(1 + 0.2*x)", "", ""};
    const Manufactured m("cos(1.3*x + 0.2)*exp(-0.5*y) + 0.1*x*y", c);
    expect_same_as_linear(m, c, g, {m.neumann(g, "left"), m.robin(g, "right", 1.0, 0.7), m.dirichlet(g, "bottom")},
                          1, "heat");
  }
  {  // wave with an initial rate (Newmark, Taylor start)
    const std::vector<std::string> c = {"", "", "", "-2", "0.5", ""};
    const Manufactured m("sin(pi*(x+1)/2 + 0.3)*cos(pi*(y+1)) + 0.2*(y+1)*x", c);
    expect_same_as_linear(m, c, g,
                          {m.dirichlet(g, "left"), m.dirichlet(g, "right"), m.dirichlet(g, "bottom"),
                           m.neumann(g, "bottom")},
                          1, "wave");
  }
}

/// Expects solve_reference to throw E (and not a subclass of it where E is Error) whose
/// message contains `what`.
template <class E>
void expect_throws(const FdProblem& p, const FdOptions& o, const std::string& what) {
  try {
    solve_reference(p, o);
    ADD_FAILURE() << "expected an error containing '" << what << "'";
  } catch (const InputError& e) {
    if (!std::is_same<E, InputError>::value) {
      ADD_FAILURE() << "an InputError where a runtime Error was expected: " << e.what();
    } else {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  } catch (const Error& e) {
    if (std::is_same<E, InputError>::value) {
      ADD_FAILURE() << "a runtime Error where an InputError was expected: " << e.what();
    } else {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  }
}

TEST(ReferenceNewton, BadInput) {
  const mesh::Geometry g = square();
  const NonlinearManufactured m("exp(0.5*x)*sin(2*y) + x^2*y + 1", "-u_xx - u_yy + sinh(u)");
  FdProblem p = m.problem(g);
  for (const char* s : {"left", "right", "bottom", "top"}) p.conditions.push_back(m.exact.dirichlet(g, s));
  FdOptions o;
  o.n = 17;
  // Newton runs out of iterations: a runtime failure naming the reason and the option
  FdOptions one = o;
  one.newton_max_iterations = 1;
  expect_throws<Error>(p, one, "Newton did not converge: DIVERGED_MAX_IT after 1 iterations");
  expect_throws<Error>(p, one, "newton_max_iterations");
  // options
  FdOptions bad = o;
  bad.newton_rtol = 0;
  expect_throws<InputError>(p, bad, "newton_rtol must be in (0, 1)");
  bad = o;
  bad.newton_max_iterations = 0;
  expect_throws<InputError>(p, bad, "newton_max_iterations must be >= 1");
  bad = o;
  bad.newton_guess = "magic";
  expect_throws<InputError>(p, bad, "unknown newton_guess 'magic'");
  // a residual and coefficients
  FdProblem both = p;
  both.coefficient[c_u] = [](double, double) { return 1.0; };
  expect_throws<InputError>(both, o, "either a residual or coefficients");
  // not elliptic at the guess (u = 0): R = -u u_xx - u_yy
  FdProblem degenerate = p;
  degenerate.residual = residual("-u*u_xx - u_yy");
  expect_throws<InputError>(degenerate, o, "not elliptic at");
  // a time problem backward in time, and with u_xy
  const mesh::Geometry box(mesh::box({-1, 0}, {1, 1}));
  FdProblem heat;
  heat.geometry = &box;
  heat.time_axis = 1;
  const Fn2 zero = [](double, double) { return 0.0; };
  const Fn2 initial = [](double x, double) { return std::cos(M_PI * x / 2); };
  heat.conditions = {{box.part_id("left"), FdConditionKind::dirichlet, zero},
                     {box.part_id("right"), FdConditionKind::dirichlet, zero},
                     {box.part_id("bottom"), FdConditionKind::dirichlet, initial}};
  heat.residual = residual("u_y + 0.1*u_xx + u^3");
  expect_throws<InputError>(heat, o, "not forward in time");
  heat.residual = residual("u_y - 0.1*u_xx + u_xy");
  expect_throws<InputError>(heat, o, "u_xy");
}

}  // namespace
}  // namespace kpde::data::testing
