// Expressions (src/pde/expression.hpp): values against hand-written C++, exact first
// and second derivatives against central finite differences (Richardson-extrapolated,
// double) and hand-derived formulas, precedence, canonical printing, constant
// folding, the batch path, threads, every error class with its message and column,
// and the limits that keep the parser's recursion bounded.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "pde/expression.hpp"

using kpde::pde::Expression;
using kpde::pde::ExpressionError;

namespace {

const double pi = 3.14159265358979323846;
const std::vector<std::string> xy = {"x", "y"};

Expression parse_xy(const std::string& text) { return Expression::parse(text, xy); }

double eval_at(const Expression& e, std::vector<double> v) { return e.eval(v.data()); }

bool same_bits(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// ---- finite differences of the value (Richardson: error O(h^4), roundoff ~eps/h^2) ----

double fd1(const Expression& e, std::vector<double> v, int i, double h = 1e-3) {
  auto d = [&](double s) {
    std::vector<double> p = v, m = v;
    p[i] += s;
    m[i] -= s;
    return (e.eval(p.data()) - e.eval(m.data())) / (2 * s);
  };
  return (4 * d(h / 2) - d(h)) / 3;
}

double fd2(const Expression& e, std::vector<double> v, int i, int j, double h = 1e-3) {
  auto f = [&](double si, double sj) {
    std::vector<double> p = v;
    p[i] += si;
    p[j] += sj;
    return e.eval(p.data());
  };
  auto d = [&](double s) {
    if (i == j) return (f(s, 0) - 2 * e.eval(v.data()) + f(-s, 0)) / (s * s);
    return (f(s, s) - f(s, -s) - f(-s, s) + f(-s, -s)) / (4 * s * s);
  };
  return (4 * d(h / 2) - d(h)) / 3;
}

// relative error with a floor of 1 on the scale
void expect_close(double got, double want, double rel, const std::string& what) {
  EXPECT_LE(std::abs(got - want), rel * std::max(1.0, std::abs(want)))
      << what << ": got " << got << ", want " << want;
}

/// Jet of `e` at v with respect to all variables (or `active`) against finite
/// differences of the value.
void check_jet_against_fd(const Expression& e, const std::vector<double>& v, std::vector<int> active = {}) {
  if (active.empty())
    for (int i = 0; i < e.n_variables(); ++i) active.push_back(i);
  const Expression::Jet jet = e.eval_jet(v.data(), active);
  const std::string where = "'" + e.text() + "' at (" + [&] {
    std::string s;
    for (double x : v) s += std::to_string(x) + " ";
    return s;
  }() + ")";
  EXPECT_TRUE(same_bits(jet.value, e.eval(v.data()))) << where;
  for (std::size_t a = 0; a < active.size(); ++a) {
    expect_close(jet.grad[a], fd1(e, v, active[a]), 1e-6, where + " d/d" + e.variables()[active[a]]);
    for (std::size_t b = 0; b < active.size(); ++b) {
      expect_close(jet.hess[a][b], fd2(e, v, active[a], active[b]), 1e-6,
                   where + " d2/d" + e.variables()[active[a]] + "d" + e.variables()[active[b]]);
      EXPECT_EQ(jet.hess[a][b], jet.hess[b][a]) << where;
    }
  }
}

std::string caret_line(const std::string& message) { return message.substr(message.rfind('\n') + 1); }

/// Parses `text` expecting an ExpressionError whose reason contains `reason` at
/// `column`; the caret line puts '^' under that column.
ExpressionError expect_error(const std::string& text, const std::string& reason, int column,
                             const std::vector<std::string>& vars = xy,
                             const std::map<std::string, double>& constants = {}) {
  try {
    Expression::parse(text, vars, constants);
  } catch (const ExpressionError& err) {
    EXPECT_NE(err.reason().find(reason), std::string::npos) << "for '" << text << "': " << err.what();
    EXPECT_EQ(err.column(), column) << "for '" << text << "': " << err.what();
    EXPECT_EQ(std::string(err.what()).rfind("expression error: ", 0), 0u) << err.what();
    if (column > 0 && text.size() <= 100) {  // longer texts are shown in a window
      const std::string caret = caret_line(err.what());
      EXPECT_EQ(caret, std::string(static_cast<std::size_t>(2 + column - 1), ' ') + "^") << err.what();
      EXPECT_NE(std::string(err.what()).find(" at column " + std::to_string(column)), std::string::npos)
          << err.what();
    }
    EXPECT_EQ(err.code(), kpde::ExitCode::bad_input);
    return err;
  }
  ADD_FAILURE() << "no error for '" << text << "'";
  return ExpressionError("", "", 0);
}

const std::vector<std::vector<double>> kPoints = {{0.3, 0.7}, {0.9, 0.15}, {0.55, 0.45}, {0.12, 0.81}};

}  // namespace

// ---------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------

TEST(Expression, ValuesMatchHandWrittenCpp) {
  struct Case {
    const char* text;
    std::function<double(double, double)> f;
  };
  const std::vector<Case> cases = {
      {"x + y", [](double x, double y) { return x + y; }},
      {"x - y - 1", [](double x, double y) { return x - y - 1; }},
      {"x * y / 3", [](double x, double y) { return x * y / 3; }},
      {"x^2 + y^3", [](double x, double y) { return x * x + std::pow(y, 3); }},
      {"-x^2", [](double x, double y) { return -(x * x); }},
      {"sin(pi*x)*sin(pi*y)", [](double x, double y) { return std::sin(pi * x) * std::sin(pi * y); }},
      {"cos(2*x) + tan(y)", [](double x, double y) { return std::cos(2 * x) + std::tan(y); }},
      {"exp(-x*y) * log(1 + y)", [](double x, double y) { return std::exp(-x * y) * std::log(1 + y); }},
      {"sqrt(x^2 + y^2)", [](double x, double y) { return std::sqrt(x * x + y * y); }},
      {"tanh(x) + sinh(y) - cosh(x*y)",
       [](double x, double y) { return std::tanh(x) + std::sinh(y) - std::cosh(x * y); }},
      {"sigmoid(3*x - y)", [](double x, double y) { return 1 / (1 + std::exp(-(3 * x - y))); }},
      {"abs(x - y)", [](double x, double y) { return std::abs(x - y); }},
      {"atan(x) + asin(y) + acos(x)",
       [](double x, double y) { return std::atan(x) + std::asin(y) + std::acos(x); }},
      {"min(x, y) + 2*max(x, y)", [](double x, double y) { return std::min(x, y) + 2 * std::max(x, y); }},
      {"pow(x, y) + x^y", [](double x, double y) { return 2 * std::pow(x, y); }},
      {"atan2(y, x - 1)", [](double x, double y) { return std::atan2(y, x - 1); }},
      {"e^x", [](double x, double y) { return std::exp(x); }},
      {"  ( x )*( ( y ) )  ", [](double x, double y) { return x * y; }},
      {"1/(1 + 25*x^2)", [](double x, double y) { return 1 / (1 + 25 * x * x); }},
      {"x*exp(-((x-0.5)^2 + (y-0.5)^2)/0.01)",
       [](double x, double y) { return x * std::exp(-((x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5)) / 0.01); }},
      {"2.5e-1*x + .5*y + 1.*1E+1", [](double x, double y) { return 0.25 * x + 0.5 * y + 10; }},
      {"-sin(x)^2", [](double x, double y) { return -(std::sin(x) * std::sin(x)); }},
      {"x^-1 + 2^-x", [](double x, double y) { return 1 / x + std::pow(2, -x); }},
  };
  for (const Case& c : cases) {
    const Expression e = parse_xy(c.text);
    for (const auto& p : kPoints) {
      const double want = c.f(p[0], p[1]);
      EXPECT_NEAR(eval_at(e, p), want, 1e-14 * std::max(1.0, std::abs(want))) << c.text;
    }
  }
}

TEST(Expression, PrecedenceAndAssociativity) {
  EXPECT_EQ(parse_xy("2^3^2").eval(nullptr), 512);
  EXPECT_EQ(parse_xy("(2^3)^2").eval(nullptr), 64);
  EXPECT_EQ(parse_xy("-2^2").eval(nullptr), -4);
  EXPECT_EQ(parse_xy("(-2)^2").eval(nullptr), 4);
  EXPECT_EQ(parse_xy("1-2-3").eval(nullptr), -4);
  EXPECT_EQ(parse_xy("8/4/2").eval(nullptr), 1);
  EXPECT_EQ(parse_xy("2*3^2").eval(nullptr), 18);
  EXPECT_EQ(parse_xy("2^-1").eval(nullptr), 0.5);
  EXPECT_EQ(parse_xy("2^-1^2").eval(nullptr), 0.5);  // 2^(-(1^2))
  EXPECT_EQ(parse_xy("--2").eval(nullptr), 2);
  EXPECT_EQ(parse_xy("+-+2").eval(nullptr), -2);
  EXPECT_EQ(parse_xy("1 - -2").eval(nullptr), 3);
  EXPECT_EQ(parse_xy("-2*3").eval(nullptr), -6);
  EXPECT_EQ(parse_xy("2+3*4").eval(nullptr), 14);
  EXPECT_EQ(parse_xy("(2+3)*4").eval(nullptr), 20);
  EXPECT_EQ(parse_xy("12/2*3").eval(nullptr), 18);
  const double v[2] = {3, 0};
  EXPECT_EQ(parse_xy("-x^2").eval(v), -9);
  EXPECT_EQ(parse_xy("2^x^2").eval(v), 512);
}

TEST(Expression, NumbersAndConstants) {
  EXPECT_EQ(parse_xy("1").eval(nullptr), 1);
  EXPECT_EQ(parse_xy("2.5").eval(nullptr), 2.5);
  EXPECT_EQ(parse_xy("1e-3").eval(nullptr), 1e-3);
  EXPECT_EQ(parse_xy(".5").eval(nullptr), 0.5);
  EXPECT_EQ(parse_xy("5.").eval(nullptr), 5);
  EXPECT_EQ(parse_xy("1E+2").eval(nullptr), 100);
  EXPECT_EQ(parse_xy("1.7976931348623157e308").eval(nullptr), 1.7976931348623157e308);
  EXPECT_EQ(parse_xy("1e-400").eval(nullptr), 0);  // underflow rounds to zero
  EXPECT_EQ(parse_xy("pi").eval(nullptr), pi);
  EXPECT_EQ(parse_xy("e").eval(nullptr), std::exp(1.0));
  const Expression nu = Expression::parse("nu * x + beta", {"x"}, {{"nu", 0.5}, {"beta", -2}});
  const double x = 3;
  EXPECT_EQ(nu.eval(&x), -0.5);
  EXPECT_TRUE(nu.depends_on(0));
  const Expression c = Expression::parse("nu^2 * pi", {"x", "y"}, {{"nu", 0.1}});
  EXPECT_TRUE(c.is_constant());
  EXPECT_EQ(c.n_instructions(), 1);
  EXPECT_DOUBLE_EQ(c.eval(nullptr), 0.01 * pi);
}

TEST(Expression, NamesAreCaseSensitiveAndMayHaveUnderscores) {
  const Expression e = Expression::parse("X + x + u_xx", {"x", "X", "u_xx"});
  const double v[3] = {1, 10, 100};
  EXPECT_EQ(e.eval(v), 111);
  expect_error("Pi", "unknown variable 'Pi'", 1);
  expect_error("SIN(x)", "unknown function 'SIN'", 1);
}

TEST(Expression, ConstantFoldingAndDependence) {
  const Expression a = parse_xy("sin(pi/2)");
  EXPECT_TRUE(a.is_constant());
  EXPECT_EQ(a.n_instructions(), 1);
  EXPECT_EQ(a.eval(nullptr), 1);
  const Expression b = parse_xy("x * (2*pi)^2 + 0*y");
  EXPECT_FALSE(b.is_constant());
  EXPECT_TRUE(b.depends_on(0));
  EXPECT_TRUE(b.depends_on(1));  // no algebra: 0*y still loads y
  EXPECT_FALSE(b.depends_on(2));
  EXPECT_FALSE(b.depends_on(-1));
  EXPECT_EQ(b.n_instructions(), 7);  // x, c, *, 0, y, *, +
  const Expression c = parse_xy("x^2 + y");
  EXPECT_TRUE(c.depends_on(0));
  EXPECT_EQ(c.n_instructions(), 4);  // x, square, y, +
  EXPECT_FALSE(parse_xy("2*x").is_constant());
  const Expression d = Expression::parse("3", {});
  EXPECT_TRUE(d.is_constant());
  EXPECT_EQ(d.eval(nullptr), 3);
  const Expression z;  // default: "0"
  EXPECT_EQ(z.eval(nullptr), 0);
  EXPECT_EQ(z.to_string(), "0");
}

TEST(Expression, NonFiniteResultsAreReturnedNotThrown) {
  const double v[2] = {0, -1};
  EXPECT_TRUE(std::isnan(parse_xy("log(y)").eval(v)));
  EXPECT_TRUE(std::isnan(parse_xy("sqrt(y)").eval(v)));
  EXPECT_EQ(parse_xy("1/x").eval(v), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(parse_xy("log(-1)").eval(nullptr)));  // folded to NaN
  EXPECT_TRUE(std::isnan(parse_xy("min(x, log(y))").eval(v)));
  const Expression::Jet j = parse_xy("log(y) + x").eval_jet(v, {0, 1});
  EXPECT_TRUE(std::isnan(j.value));
  EXPECT_EQ(j.grad[0], 1);
  EXPECT_EQ(j.grad[1], -1);
}

TEST(Expression, TextVariablesAndCanonicalForm) {
  const Expression e = parse_xy("  sin( pi*x )*sin(pi*y)");
  EXPECT_EQ(e.text(), "  sin( pi*x )*sin(pi*y)");
  EXPECT_EQ(e.variables(), xy);
  EXPECT_EQ(e.n_variables(), 2);
  EXPECT_EQ(e.to_string(), "sin(pi * x) * sin(pi * y)");
  const std::vector<std::pair<std::string, std::string>> canon = {
      {"-x^2", "-x^2"},           {"(-x)^2", "(-x)^2"},       {"2^3^2", "2^3^2"},
      {"(2^3)^2", "(2^3)^2"},     {"1-2-3", "1 - 2 - 3"},     {"1-(2-3)", "1 - (2 - 3)"},
      {"(a-b)/c", "(a - b) / c"}, {"a/(b*c)", "a / (b * c)"}, {"((a))", "a"},
      {"a+(b+c)", "a + (b + c)"}, {"-(a*b)", "-(a * b)"},     {"(-a)*b", "-a * b"},
      {"2^-x", "2^-x"},           {"2^(-x)", "2^-x"},         {"+x", "x"},
      {"pow(a,2)", "pow(a, 2)"},  {"1e-3*a", "0.001 * a"},    {"(a^b)^c", "(a^b)^c"},
      {"a*-b", "a * -b"},         {"--a", "--a"},             {"a - -b", "a - -b"},
      {"2.50", "2.5"},            {"(x+y)^(1/2)", "(x + y)^(1 / 2)"},
  };
  const std::vector<std::string> abc = {"a", "b", "c", "x", "y"};
  for (const auto& [text, want] : canon) EXPECT_EQ(Expression::parse(text, abc).to_string(), want) << text;
}

TEST(Expression, CanonicalFormRoundTripsBitForBit) {
  const std::vector<std::string> texts = {
      "sin(pi*x)*sin(pi*y)",      "-x^2 + 2^-y^2",           "1/(1+25*x^2) - (x-y)/(x+y)",
      "pow(x, y) * atan2(y, x)",  "--x - -y * +x",           "exp(-((x-0.5)^2+(y-0.5)^2)/0.01)",
      "min(x, y)^max(x, 0.1)",    "sigmoid(3*x-1)*abs(y-x)", "1e-17*x + 123456789.123456789*y",
      "0.1+0.2-0.3+x*(x*(x*(x)))", "(x^2)^0.5 + x^2^0.5",    "e^(pi*x) / sqrt(2)",
  };
  for (const std::string& t : texts) {
    const Expression a = parse_xy(t);
    const Expression b = parse_xy(a.to_string());
    EXPECT_EQ(b.to_string(), a.to_string()) << t;
    for (const auto& p : kPoints) EXPECT_TRUE(same_bits(eval_at(a, p), eval_at(b, p))) << t;
  }
}

TEST(Expression, EvalManyEqualsEvalBitForBit) {
  const Expression e = parse_xy("sin(pi*x)*exp(-y) + x^3/(1+y^2) - min(x, y) + atan2(y, x) + abs(x)^0.5");
  const std::size_t n = 1000, stride = 3;  // 1000 is not a multiple of the block size
  std::vector<double> pts(n * stride), out(n);
  for (std::size_t p = 0; p < n; ++p) {
    pts[p * stride] = -1 + 2.0 * static_cast<double>(p) / n;
    pts[p * stride + 1] = std::cos(0.37 * static_cast<double>(p));
    pts[p * stride + 2] = 1e300;  // padding, never read
  }
  e.eval_many(n, pts.data(), stride, out.data());
  for (std::size_t p = 0; p < n; ++p) EXPECT_TRUE(same_bits(out[p], e.eval(&pts[p * stride]))) << p;
  e.eval_many(0, pts.data(), stride, out.data());  // no points: nothing happens
}

// The blocked two-variable jets equal the scalar jets, for every function, operator
// and kink rule, with constant subexpressions and either order of the variables.
TEST(ExpressionJet, BlockedTwoVariableJetsEqualScalarJets) {
  const char* texts[] = {
      "sin(pi*x)*exp(-y) + x^3/(1+y^2) - min(x, y) + atan2(y, x) + abs(x)^0.5",
      "tanh(3*x - y)*sigmoid(x*y) + cos(2)*1/(1 + (x + 2*y)^2) - max(x^2, y) + sqrt(1 + x*x + y*y)",
      "log(2 + sin(x)) + pow(1.5 + cos(y), x) - tan(0.3*x) + asin(0.5*y) + acos(0.4*x) + atan(x*y)",
      "sinh(x)*cosh(y) - (-x)^2 + 4 - y/3 + 5*(x - y) + exp(x)*0",
      "-1.9*tanh(7.3*((3*cos(0*(0.6*tanh(0*(0) + 2.6)) + 4.5) + -1.2)*(-0.9*tanh(2.7*x + -2.0)) + y)) + 6"};
  const std::size_t n = 333, stride = 3;
  std::vector<double> pts(n * stride), out(6 * n);
  for (std::size_t p = 0; p < n; ++p) {
    pts[p * stride] = -0.95 + 1.9 * static_cast<double>(p) / n;
    pts[p * stride + 1] = 0.9 * std::cos(0.37 * static_cast<double>(p));
    pts[p * stride + 2] = 1e300;  // padding, never read
  }
  for (const char* t : texts) {
    const Expression e = parse_xy(t);
    for (int order = 0; order < 2; ++order) {
      const int a0 = order, a1 = 1 - order;
      e.eval_jet2_many(n, pts.data(), stride, a0, a1, out.data());
      for (std::size_t p = 0; p < n; ++p) {
        const auto j = e.eval_jet(&pts[p * stride], {a0, a1});
        const double want[6] = {j.value, j.grad[0], j.grad[1], j.hess[0][0], j.hess[0][1], j.hess[1][1]};
        for (int k = 0; k < 6; ++k)
          EXPECT_NEAR(out[6 * p + static_cast<std::size_t>(k)], want[k], 1e-13 * (1 + std::abs(want[k])))
              << t << " point " << p << " entry " << k;
      }
    }
  }
}

TEST(Expression, ConcurrentEvaluationFromThreads) {
  const Expression e = parse_xy("sin(pi*x)*sin(pi*y) + x^y");
  std::vector<double> serial(400);
  for (int p = 0; p < 400; ++p) {
    const double v[2] = {0.001 * p + 0.1, 0.002 * p + 0.1};
    serial[static_cast<std::size_t>(p)] = e.eval_jet(v, {0, 1}).hess[0][1];
  }
  std::vector<double> parallel(400);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int p = t; p < 400; p += 4) {
        const double v[2] = {0.001 * p + 0.1, 0.002 * p + 0.1};
        parallel[static_cast<std::size_t>(p)] = e.eval_jet(v, {0, 1}).hess[0][1];
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(parallel, serial);
}

// ---------------------------------------------------------------------------------
// Derivatives
// ---------------------------------------------------------------------------------

TEST(ExpressionJet, EveryFunctionAgainstFiniteDifferences) {
  // Each function composed with an inner function of both variables, so that the
  // chain rule, the mixed derivative and the second-order term all matter.
  const std::vector<std::string> texts = {
      "sin(x*y + x)",          "cos(x^2 - y)",          "tan(0.5*x + 0.3*y)",
      "exp(x*y - y)",          "log(1 + x*y + y^2)",    "sqrt(1 + x^2 + x*y)",
      "tanh(2*x - y*x)",       "sinh(x - 2*y*x)",       "cosh(x*y + y)",
      "sigmoid(3*x*y - 1)",    "abs(x*y - 0.8)",        "atan(2*x*y - x)",
      "asin(0.5*x*y + 0.2*x)", "acos(0.5*x*y - 0.3*y)", "min(x*y, sin(x + y))",
      "max(x^2, y*x)",         "pow(1 + x, y*x)",       "(1 + x*y)^(x - y)",
      "atan2(y*x - 0.1, x + y)", "x/(1 + y^2*x)",       "-x^3*y",
      "(x + y)^2",             "(x*y)^3",               "(x+y)^0.5",
      "x - y*x + 3",           "e^(x*y)",               "2^(x*y)",
  };
  for (const std::string& t : texts) {
    const Expression e = parse_xy(t);
    for (const auto& p : kPoints) check_jet_against_fd(e, p);
  }
}

TEST(ExpressionJet, HandDerivedFormulas) {
  for (const auto& p : kPoints) {
    const double x = p[0], y = p[1];
    {
      const auto j = parse_xy("sin(x^2)").eval_jet(p.data(), {0});
      EXPECT_NEAR(j.grad[0], 2 * x * std::cos(x * x), 1e-15);
      EXPECT_NEAR(j.hess[0][0], 2 * std::cos(x * x) - 4 * x * x * std::sin(x * x), 1e-14);
    }
    {
      const auto j = parse_xy("x^y").eval_jet(p.data(), {0, 1});
      const double v = std::pow(x, y), l = std::log(x);
      EXPECT_NEAR(j.grad[0], y * std::pow(x, y - 1), 1e-14);
      EXPECT_NEAR(j.grad[1], v * l, 1e-14);
      EXPECT_NEAR(j.hess[0][0], y * (y - 1) * std::pow(x, y - 2), 1e-13);
      EXPECT_NEAR(j.hess[0][1], std::pow(x, y - 1) * (1 + y * l), 1e-14);
      EXPECT_NEAR(j.hess[1][1], v * l * l, 1e-14);
    }
    {
      const auto j = parse_xy("atan2(y, x)").eval_jet(p.data(), {0, 1});
      const double r2 = x * x + y * y;
      EXPECT_NEAR(j.grad[0], -y / r2, 1e-14);
      EXPECT_NEAR(j.grad[1], x / r2, 1e-14);
      EXPECT_NEAR(j.hess[0][0], 2 * x * y / (r2 * r2), 1e-13);
      EXPECT_NEAR(j.hess[1][1], -2 * x * y / (r2 * r2), 1e-13);
      EXPECT_NEAR(j.hess[0][1], (y * y - x * x) / (r2 * r2), 1e-13);
    }
    {
      const auto j = parse_xy("sigmoid(x)").eval_jet(p.data(), {0});
      const double s = 1 / (1 + std::exp(-x));
      EXPECT_NEAR(j.grad[0], s * (1 - s), 1e-15);
      EXPECT_NEAR(j.hess[0][0], s * (1 - s) * (1 - 2 * s), 1e-15);
    }
    {
      const auto j = parse_xy("sqrt(x)").eval_jet(p.data(), {0});
      EXPECT_NEAR(j.grad[0], 0.5 / std::sqrt(x), 1e-14);
      EXPECT_NEAR(j.hess[0][0], -0.25 * std::pow(x, -1.5), 1e-13);
    }
    {
      const auto j = parse_xy("log(x)/y").eval_jet(p.data(), {0, 1});
      EXPECT_NEAR(j.grad[0], 1 / (x * y), 1e-13);
      EXPECT_NEAR(j.grad[1], -std::log(x) / (y * y), 1e-13);
      EXPECT_NEAR(j.hess[0][0], -1 / (x * x * y), 1e-12);
      EXPECT_NEAR(j.hess[0][1], -1 / (x * y * y), 1e-12);
      EXPECT_NEAR(j.hess[1][1], 2 * std::log(x) / (y * y * y), 1e-12);
    }
  }
}

TEST(ExpressionJet, KinksTakeTheChosenBranch) {
  const double neg[2] = {-2, 1}, zero[2] = {0, 1}, tie[2] = {1, 1};
  auto j = parse_xy("abs(x)").eval_jet(neg, {0});
  EXPECT_EQ(j.value, 2);
  EXPECT_EQ(j.grad[0], -1);
  EXPECT_EQ(j.hess[0][0], 0);
  EXPECT_EQ(parse_xy("abs(x)").eval_jet(zero, {0}).grad[0], 0);  // abs'(0) = 0
  j = parse_xy("min(x^2, 3*y)").eval_jet(neg, {0, 1});
  EXPECT_EQ(j.value, 3);
  EXPECT_EQ(j.grad[0], 0);
  EXPECT_EQ(j.grad[1], 3);
  j = parse_xy("max(x^2, 3*y)").eval_jet(neg, {0, 1});
  EXPECT_EQ(j.value, 4);
  EXPECT_EQ(j.grad[0], -4);
  EXPECT_EQ(j.hess[0][0], 2);
  EXPECT_EQ(j.grad[1], 0);
  j = parse_xy("min(2*x, 3*y - 1)").eval_jet(tie, {0, 1});  // tie: the first argument
  EXPECT_EQ(j.grad[0], 2);
  EXPECT_EQ(j.grad[1], 0);
  j = parse_xy("max(3*y - 1, 2*x)").eval_jet(tie, {0, 1});
  EXPECT_EQ(j.grad[0], 0);
  EXPECT_EQ(j.grad[1], 3);
}

TEST(ExpressionJet, PowersAtZeroAndNegativeBases) {
  const double zero[2] = {0, 3}, neg[2] = {-2, 3};
  auto j = parse_xy("x^2").eval_jet(zero, {0});
  EXPECT_EQ(j.grad[0], 0);
  EXPECT_EQ(j.hess[0][0], 2);
  j = parse_xy("x^1").eval_jet(zero, {0});
  EXPECT_EQ(j.grad[0], 1);
  EXPECT_EQ(j.hess[0][0], 0);
  j = parse_xy("x^0").eval_jet(zero, {0});
  EXPECT_EQ(j.value, 1);
  EXPECT_EQ(j.grad[0], 0);
  EXPECT_EQ(j.hess[0][0], 0);
  j = parse_xy("x^3").eval_jet(neg, {0});
  EXPECT_EQ(j.value, -8);
  EXPECT_EQ(j.grad[0], 12);
  EXPECT_EQ(j.hess[0][0], -12);
  // exponent is a variable that is not differentiated: power rule, no log(-2)
  j = parse_xy("x^y").eval_jet(neg, {0});
  EXPECT_EQ(j.value, -8);
  EXPECT_EQ(j.grad[0], 12);
  EXPECT_EQ(j.hess[0][0], -12);
  // 2^y: only the exponent varies
  j = parse_xy("2^y").eval_jet(neg, {1});
  EXPECT_NEAR(j.grad[0], 8 * std::log(2.0), 1e-14);
  EXPECT_NEAR(j.hess[0][0], 8 * std::log(2.0) * std::log(2.0), 1e-14);
  // sqrt(x^2): the derivative of |x| away from 0
  j = parse_xy("sqrt(x^2)").eval_jet(neg, {0});
  EXPECT_NEAR(j.grad[0], -1, 1e-15);
  EXPECT_NEAR(j.hess[0][0], 0, 1e-15);
}

TEST(ExpressionJet, MixedSecondDerivatives) {
  for (const auto& p : kPoints) {
    const double x = p[0], y = p[1];
    EXPECT_EQ(parse_xy("x*y").eval_jet(p.data(), {0, 1}).hess[0][1], 1);
    EXPECT_NEAR(parse_xy("sin(x*y)").eval_jet(p.data(), {0, 1}).hess[0][1],
                std::cos(x * y) - x * y * std::sin(x * y), 1e-15);
    EXPECT_NEAR(parse_xy("exp(x)*sin(y)").eval_jet(p.data(), {0, 1}).hess[0][1], std::exp(x) * std::cos(y),
                1e-14);
    EXPECT_NEAR(parse_xy("(x+y)^3").eval_jet(p.data(), {0, 1}).hess[0][1], 6 * (x + y), 1e-14);
    EXPECT_NEAR(parse_xy("x^2*y^3").eval_jet(p.data(), {1, 0}).hess[0][1], 6 * x * y * y, 1e-14);
    EXPECT_NEAR(parse_xy("x/y").eval_jet(p.data(), {0, 1}).hess[0][1], -1 / (y * y), 1e-13);
  }
}

TEST(ExpressionJet, ActiveSubsetsAndOrder) {
  const double v[2] = {2, 5};
  auto j = parse_xy("x*y^2").eval_jet(v, {1});  // y only: x held fixed
  EXPECT_EQ(j.grad[0], 20);
  EXPECT_EQ(j.hess[0][0], 4);
  EXPECT_EQ(j.grad[1], 0);
  j = parse_xy("x*y^2").eval_jet(v, {1, 0});  // order of `active` is the output order
  EXPECT_EQ(j.grad[0], 20);
  EXPECT_EQ(j.grad[1], 25);
  EXPECT_EQ(j.hess[0][1], 10);
  j = parse_xy("x*y^2").eval_jet(v, {});
  EXPECT_EQ(j.value, 50);
  EXPECT_EQ(j.grad[0], 0);
  j = parse_xy("3 + 0*x").eval_jet(v, {0, 1});
  EXPECT_EQ(j.grad[0], 0);
  EXPECT_EQ(j.hess[1][1], 0);
}

TEST(ExpressionJet, EightActiveVariables) {
  const std::vector<std::string> names = {"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "x", "y"};
  const Expression e = Expression::parse(
      "u*u_x*sin(u_y) + exp(0.3*u_xx*u_yy) - u_xy^3*x + atan2(y, x + 2) * u^2 + sqrt(1 + u_x^2 + y^2)", names);
  const std::vector<double> v = {0.3, -0.4, 0.7, 0.2, -0.6, 0.5, 0.25, 0.8};
  check_jet_against_fd(e, v);
  check_jet_against_fd(e, v, {7, 0, 5});
}

TEST(ExpressionJet, ManufacturedSolutionSource) {
  // u = sin(pi x) sin(pi y): f = -(u_xx + u_yy) = 2 pi^2 sin(pi x) sin(pi y)
  const Expression u = parse_xy("sin(pi*x)*sin(pi*y)");
  for (double x = -1; x <= 1; x += 0.25)
    for (double y = -1; y <= 1; y += 0.25) {
      const double v[2] = {x, y};
      const auto j = u.eval_jet(v, {0, 1});
      const double f = -(j.hess[0][0] + j.hess[1][1]);
      const double want = 2 * pi * pi * std::sin(pi * x) * std::sin(pi * y);
      EXPECT_NEAR(f, want, 1e-13) << x << " " << y;
      EXPECT_NEAR(j.grad[0], pi * std::cos(pi * x) * std::sin(pi * y), 1e-14);
      EXPECT_NEAR(j.hess[0][1], pi * pi * std::cos(pi * x) * std::cos(pi * y), 1e-13);
    }
}

TEST(ExpressionJet, BurgersResidualChannels) {
  // r = u_y + u u_x - (0.01/pi) u_xx: dr/du = u_x, dr/du_x = u, dr/du_y = 1,
  // dr/du_xx = -0.01/pi; d2r/(du du_x) = 1, every other second derivative 0.
  const std::vector<std::string> names = {"u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "x", "y"};
  const Expression r = Expression::parse("u_y + u*u_x - 0.01/pi*u_xx", names);
  EXPECT_FALSE(r.depends_on(4));
  EXPECT_TRUE(r.depends_on(3));
  const std::vector<double> v = {0.7, -1.3, 0.4, 2.5, 9, 9, 0.1, 0.2};
  EXPECT_DOUBLE_EQ(r.eval(v.data()), 0.4 + 0.7 * -1.3 - 0.01 / pi * 2.5);
  const auto j = r.eval_jet(v.data(), {0, 1, 3, 2});
  EXPECT_DOUBLE_EQ(j.value, r.eval(v.data()));
  EXPECT_EQ(j.grad[0], -1.3);
  EXPECT_EQ(j.grad[1], 0.7);
  EXPECT_DOUBLE_EQ(j.grad[2], -0.01 / pi);
  EXPECT_EQ(j.grad[3], 1);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 4; ++b) EXPECT_EQ(j.hess[a][b], (a + b == 1) ? 1.0 : 0.0) << a << b;
  check_jet_against_fd(r, v, {0, 1, 2, 3});
}

TEST(ExpressionJet, NoAllocationOverloadMatches) {
  const Expression e = parse_xy("x^2*y");
  const double v[2] = {3, 2};
  const int active[2] = {0, 1};
  Expression::Jet j;
  e.eval_jet(v, active, 2, j);
  EXPECT_EQ(j.value, 18);
  EXPECT_EQ(j.grad[0], 12);
  EXPECT_EQ(j.grad[1], 9);
  EXPECT_EQ(j.hess[0][0], 4);
  EXPECT_EQ(j.hess[0][1], 6);
  EXPECT_EQ(j.hess[1][1], 0);
}

// ---------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------

TEST(ExpressionErrors, UnknownFunctionShowsCaret) {
  const ExpressionError err = expect_error("sn(pi*x)", "unknown function 'sn'", 1);
  EXPECT_EQ(std::string(err.what()),
            "expression error: unknown function 'sn' at column 1; did you mean 'sin'?\n"
            "  sn(pi*x)\n"
            "  ^");
  const ExpressionError far = expect_error("x + foo(y)", "unknown function 'foo'", 5);
  EXPECT_NE(std::string(far.what()).find("known functions: sin, cos"), std::string::npos) << far.what();
}

TEST(ExpressionErrors, ContextPrefixesTheMessage) {
  try {
    Expression::parse("sin(pi*x) + z", xy, {{"nu", 0.1}}, "problem.yaml:12:9: source");
    FAIL();
  } catch (const kpde::InputError& err) {  // catchable as the generic bad-input error
    EXPECT_EQ(std::string(err.what()),
              "problem.yaml:12:9: source: expression error: unknown variable 'z' at column 13; "
              "allowed variables: x, y; constants: pi, e, nu\n"
              "  sin(pi*x) + z\n"
              "              ^");
  }
}

TEST(ExpressionErrors, UnknownVariableListsAllowedNames) {
  const ExpressionError err = expect_error("u_xx + u_zz", "unknown variable 'u_zz'", 8, {"u", "u_x", "u_xx"});
  const std::string msg = err.what();
  EXPECT_NE(msg.find("did you mean 'u_xx'?"), std::string::npos) << msg;
  EXPECT_NE(msg.find("allowed variables: u, u_x, u_xx"), std::string::npos) << msg;
  expect_error("t", "unknown variable 't'", 1);
  expect_error("x + nu", "unknown variable 'nu'", 5);  // constants are only those given
}

TEST(ExpressionErrors, EveryClassWithColumn) {
  expect_error("", "empty expression", 1);
  expect_error("   \t ", "empty expression", 1);
  expect_error("(x + 1", "'(' is never closed", 1);
  expect_error("((x + 1)", "'(' is never closed", 1);
  expect_error("sin(x", "'(' of the call of 'sin' is never closed", 4);
  expect_error("x + 1)", "')' has no matching '('", 6);
  expect_error("()", "expected a number, variable, function call or '(', found ')'", 2);
  expect_error("x +", "unexpected end of expression", 4);
  expect_error("x * / y", "found '/'", 5);
  expect_error("2x", "missing operator before 'x'", 2);
  expect_error("x y", "missing operator before 'y'", 3);
  expect_error("(x)(y)", "missing operator before '('", 4);
  expect_error("(x y)", "missing operator before 'y'", 4);
  expect_error("x**2", "'**' is not an operator", 3);
  expect_error("sin x", "function 'sin' needs parentheses", 1);
  expect_error("x(2)", "'x' is not a function", 1);
  expect_error("sin()", "function 'sin' takes 1 argument, got 0", 1);
  expect_error("sin(x, y)", "function 'sin' takes 1 argument, got 2", 1);
  expect_error("1 + pow(x)", "function 'pow' takes 2 arguments, got 1", 5);
  expect_error("max(1, 2, 3)", "function 'max' takes 2 arguments, got 3", 1);
  expect_error("atan2(x y)", "missing operator before 'y'", 9);
  expect_error("min(x; y)", "unexpected character ';'", 6);
  expect_error("x, y", "',' outside a function call", 2);
  expect_error("x # y", "unexpected character '#'", 3);
  expect_error("x == y", "unexpected character '='", 3);
  expect_error("[x]", "unexpected character '['", 1);
  expect_error("1e", "malformed number '1e'", 1);
  expect_error("1e+", "malformed number '1e+'", 1);
  expect_error("2*1.2.3", "malformed number '1.2.3'", 3);
  expect_error("1e999", "number '1e999' is too large", 1);
  expect_error("x + 1e400*0", "too large", 5);
  expect_error("x\n + \n", "unexpected end of expression", 7);
}

TEST(ExpressionErrors, NonAsciiInputIsShownByCharacter) {
  // columns count UTF-8 characters: 'π' is one column
  const ExpressionError err = expect_error("2*π*x", "unexpected character 'π'", 3);
  EXPECT_NE(std::string(err.what()).find("write pi"), std::string::npos);
  expect_error("x²", "unexpected character '²'", 2);
  expect_error("π + y # 1", "unexpected character 'π'", 1);
  expect_error(std::string("x + \xff"), "unexpected byte 0xFF", 5);
  expect_error(std::string("x + \x01"), "unexpected byte 0x01", 5);
}

TEST(ExpressionErrors, BadNameLists) {
  expect_error("x", "invalid variable name '1x'", 0, {"1x"});
  expect_error("x", "invalid variable name ''", 0, {""});
  expect_error("x", "variable name 'pi' is the built-in constant pi", 0, {"x", "pi"});
  expect_error("x", "variable name 'sin' is a function name", 0, {"sin"});
  expect_error("x", "name 'x' is declared twice", 0, {"x", "x"});
  expect_error("x", "name 'x' is declared twice", 0, {"x"}, {{"x", 1.0}});
  expect_error("x", "constant name 'e' is the built-in constant e", 0, {"x"}, {{"e", 1.0}});
}

TEST(ExpressionErrors, LimitsKeepRecursionBounded) {
  // length
  std::string sum = "x";
  while (sum.size() < 9998) sum += "+x";
  EXPECT_EQ(sum.size(), 9999u);
  EXPECT_EQ(parse_xy(sum).eval(std::vector<double>{1, 0}.data()), 5000.0);  // 5000 terms, left-nested
  const ExpressionError len = expect_error(sum + "+x+x", "characters long; at most 10000", 0);
  EXPECT_LT(std::string(len.what()).size(), 400u);  // long texts are shown in a window
  // nesting: 200 levels pass, 201 fail, whatever opens them
  const std::string ok = std::string(200, '(') + "x" + std::string(200, ')');
  EXPECT_EQ(parse_xy(ok).eval(std::vector<double>{2, 0}.data()), 2);
  expect_error(std::string(201, '(') + "x" + std::string(201, ')'), "nests deeper than 200 levels", 201);
  expect_error(std::string(201, '-') + "x", "nests deeper than 200", 201);
  std::string tower = "x";
  for (int k = 0; k < 201; ++k) tower += "^x";
  expect_error(tower, "nests deeper than 200", 2 * 201);
  std::string calls;
  for (int k = 0; k < 201; ++k) calls += "sin(";
  expect_error(calls + "x" + std::string(201, ')'), "nests deeper than 200", 4 * 200 + 4);
  // a long error position is shown in a window with the caret under it
  const std::string long_text = std::string(3000, ' ') + "x + ?";
  const ExpressionError far = expect_error(long_text, "unexpected character '?'", 3005);
  const std::string msg = far.what();
  EXPECT_LT(msg.size(), 300u);
  const std::string caret = caret_line(msg);
  const std::size_t text_begin = msg.find('\n') + 1;
  const std::string shown = msg.substr(text_begin, msg.rfind('\n') - text_begin);
  ASSERT_EQ(caret.back(), '^');
  EXPECT_EQ(shown.at(caret.size() - 1), '?') << msg;  // the caret sits under the '?'
  EXPECT_EQ(shown.substr(0, 5), "  ...") << msg;
}
