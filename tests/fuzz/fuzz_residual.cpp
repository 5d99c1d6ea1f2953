// check_residual (fuzz_checks.hpp): pde::Expression::parse and eval_jet on arbitrary
// text over the variables of a 2-D nonlinear residual.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "fuzz_checks.hpp"
#include "pde/expression.hpp"

namespace kpde::fuzz {

namespace {

using pde::Expression;

const std::vector<std::string> kVariables = {"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "x", "y"};
const std::map<std::string, double> kConstants = {{"nu", 0.01 / 3.141592653589793}};
constexpr int kN = 8;

[[noreturn]] void broken(const std::string& what, const std::string& text) { report_finding("fuzz_residual", what, text); }

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Central-difference check of `exact` = d/dv_k of g at v: g(v +- h e_k) with steps h
/// and h/2. When the two differences agree (g is smooth there) the finer one must match.
template <class G>
void check_difference(const G& g, const double* v, int k, double exact, const std::string& what, const std::string& text) {
  if (!std::isfinite(exact)) return;
  const auto diff = [&](double h) {
    double w[kN];
    for (int i = 0; i < kN; ++i) w[i] = v[i];
    w[k] = v[k] + h;
    const double gp = g(w);
    w[k] = v[k] - h;
    const double gm = g(w);
    if (!std::isfinite(gp) || !std::isfinite(gm) || std::abs(gp) > 1e3 || std::abs(gm) > 1e3)
      return std::numeric_limits<double>::quiet_NaN();
    return (gp - gm) / (2 * h);
  };
  const double h = 1e-3 * (1 + std::abs(v[k]));
  const double d1 = diff(h), d2 = diff(h / 2);
  if (!std::isfinite(d1) || !std::isfinite(d2)) return;
  const double tol = 1e-5 * (1 + std::abs(d2));
  if (std::abs(d1 - d2) > tol) return;  // not smooth at this scale: no verdict
  // both exactly 0: the steps may be absorbed by a huge term (u + 1e20 - 1e20)
  if (d1 == 0 && d2 == 0) return;
  if (std::abs(d2 - exact) > 4 * tol)
    broken(what + " = " + num(exact) + " but central differences give " + num(d2) + " (h: " + num(d1) + ") at variable " +
               kVariables[k],
           text);
}

/// The checks at one point; the difference checks only when `differences` (moderate
/// values: at 1e300 a step is lost in rounding).
void check_point(const Expression& e, const double* v, bool differences, const std::string& text) {
  const double value = e.eval(v);
  double many = 0;
  e.eval_many(1, v, kN, &many);
  if (!same(many, value)) broken("eval_many " + num(many) + " differs from eval " + num(value), text);
  int all[kN];
  for (int i = 0; i < kN; ++i) all[i] = i;
  Expression::Jet full;
  e.eval_jet(v, all, kN, full);
  if (!same(full.value, value)) broken("the jet's value " + num(full.value) + " differs from eval " + num(value), text);
  bool finite = std::isfinite(value);
  for (int a = 0; a < kN; ++a) {
    finite = finite && std::isfinite(full.grad[a]);
    for (int b = 0; b < kN; ++b) {
      finite = finite && std::isfinite(full.hess[a][b]);
      if (!same(full.hess[a][b], full.hess[b][a])) broken("the Hessian is not symmetric", text);
    }
  }
  // one active variable, and pairs in reversed order: the same numbers. Only where
  // both are finite: with an infinite variable the full jet may hold inf * 0 = NaN in a
  // component that a smaller jet never computes.
  // Equal to rounding ("exact to rounding": the order of operations may differ), with
  // an absolute floor for entries that cancel to about 0 (1e-16 vs 5e-17).
  double scale = 1 + std::abs(value);
  for (int a = 0; a < kN; ++a)
    if (std::isfinite(full.grad[a])) scale += std::abs(full.grad[a]);
  const auto agree = [scale](double a, double b) {
    return !std::isfinite(a) || !std::isfinite(b) ||
           std::abs(a - b) <= 1e-12 * std::max(std::abs(a), std::abs(b)) + 1e-14 * scale;
  };
  for (int k = 0; k < kN && std::isfinite(value); ++k) {
    Expression::Jet one;
    e.eval_jet(v, &k, 1, one);
    if (!agree(one.grad[0], full.grad[k]) || !agree(one.hess[0][0], full.hess[k][k]))
      broken("the derivative in " + kVariables[k] + " depends on the other active variables: " + num(one.grad[0]) + ", " +
                 num(one.hess[0][0]) + " alone, " + num(full.grad[k]) + ", " + num(full.hess[k][k]) + " with all",
             text);
    const int l = (k + 3) % kN;
    const int pair[2] = {l, k};
    Expression::Jet two;
    e.eval_jet(v, pair, 2, two);
    if (!agree(two.grad[0], full.grad[l]) || !agree(two.grad[1], full.grad[k]) || !agree(two.hess[0][1], full.hess[l][k]))
      broken("the jet over (" + kVariables[l] + ", " + kVariables[k] + ") differs from the full jet", text);
    if (finite && !e.depends_on(k) && (full.grad[k] != 0 || full.hess[k][k] != 0))
      broken("a nonzero derivative in " + kVariables[k] + ", which the expression does not use", text);
  }
  // exact derivatives against differences, where the expression is smooth
  if (!differences || !finite || std::abs(value) > 1e3 || scale > 1e3) return;
  const auto f = [&](const double* w) { return e.eval(w); };
  for (int k = 0; k < kN; ++k) {
    check_difference(f, v, k, full.grad[k], "d/d" + kVariables[k], text);
    const int l = (k + 1) % kN;  // a mixed and a pure second derivative per variable
    for (const int m : {k, l}) {
      const auto gk = [&](const double* w) {
        Expression::Jet j;
        e.eval_jet(w, &k, 1, j);
        return j.grad[0];
      };
      check_difference(gk, v, m, full.hess[k][m], "d2/d" + kVariables[k] + "d" + kVariables[m], text);
    }
  }
}

/// Whether huge intermediate values are possible: a number literal above 1e6 in
/// magnitude, or a power, exponential or hyperbolic function. A huge intermediate can
/// swallow a variable in rounding (`y + 2e154 - 2e154`, `u^60 + y - u^60`), so that
/// central differences of the value no longer measure the derivative: no difference
/// checks then (the jets are still checked against each other).
bool may_have_huge_intermediates(const std::string& text) {
  for (const char* f : {"^", "pow", "exp", "sinh", "cosh", "tan"})
    if (text.find(f) != std::string::npos) return true;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool starts = (std::isdigit(static_cast<unsigned char>(c)) || c == '.') &&
                        (i == 0 || !(std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '_' ||
                                     text[i - 1] == '.'));
    if (!starts) continue;
    char* end = nullptr;
    const double v = std::strtod(text.c_str() + i, &end);
    if (std::abs(v) > 1e6) return true;
    if (end > text.c_str() + i) i = static_cast<std::size_t>(end - text.c_str()) - 1;
  }
  return false;
}

}  // namespace

bool check_residual(const std::string& text) {
  Expression e;
  try {
    e = Expression::parse(text, kVariables, kConstants, "fuzz");
  } catch (const pde::ExpressionError& err) {
    const std::string msg = err.what();
    if (msg.rfind("fuzz: expression error: ", 0) != 0) broken("an error message without its context: " + msg, text);
    if (err.column() < 0 || static_cast<std::size_t>(err.column()) > text.size() + 1)
      broken("error column " + std::to_string(err.column()) + " outside the text", text);
    return false;
  }
  // values with distinct magnitudes (no ties for min/max), and one point with an
  // infinity and a NaN
  const double points[3][kN] = {{0.3127, -0.7412, 0.5531, -1.2209, 0.0873, 2.3391, 0.6518, -0.4187},
                                {-1.9183, 0.2291, -0.0517, 0.7777, -2.4431, 0.1399, -0.3364, 0.9129},
                                {0.5, std::numeric_limits<double>::infinity(), -1e300, 1e-300,
                                 std::numeric_limits<double>::quiet_NaN(), 0.0, -0.0, 7.0}};
  const bool differences = !may_have_huge_intermediates(text);
  for (int p = 0; p < 3; ++p) check_point(e, points[p], differences && p < 2, text);
  return true;
}

}  // namespace kpde::fuzz
