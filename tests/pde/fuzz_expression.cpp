// Fuzz harness of the expression parser (src/pde/expression.hpp).
//
// LLVMFuzzerTestOneInput parses arbitrary bytes as an expression in x and y (with
// the named constant nu). Bad input must end in kpde::pde::ExpressionError and
// nothing else; any other exception escapes and is reported as a crash. When the
// parse succeeds it checks, at a few points (NaN and huge values included):
//   - eval_jet's value equals eval's, bit for bit (or both NaN);
//   - eval_many equals eval bit for bit;
//   - the canonical text to_string() parses again with the same values and prints
//     the same text (when it fits the length limit).
// A broken check aborts. Built two ways (tests/pde/CMakeLists.txt): with clang++
// -fsanitize=fuzzer (KPDE_FUZZ=ON) for real fuzzing, and with the project compiler
// plus fuzz_corpus_main.cpp as the ctest test_pde_fuzz_corpus.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "pde/expression.hpp"

namespace {

using kpde::pde::Expression;
using kpde::pde::ExpressionError;

bool same_bits(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

[[noreturn]] void broken(const char* what, const std::string& text) {
  std::fprintf(stderr, "fuzz_expression: %s for input of %zu bytes: '%s'\n", what, text.size(), text.c_str());
  std::abort();
}

const std::vector<std::string> kVariables = {"x", "y"};
const std::map<std::string, double> kConstants = {{"nu", 0.01}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Expression e;
  try {
    e = Expression::parse(text, kVariables, kConstants, "fuzz");
  } catch (const ExpressionError& err) {
    const std::string msg = err.what();
    if (msg.rfind("fuzz: expression error: ", 0) != 0) broken("message without prefix", text);
    if (err.column() < 0 || static_cast<std::size_t>(err.column()) > size + 1) broken("column out of range", text);
    return 0;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double points[] = {0.3, -0.7, 0.0, 0.0, -1e300, 1e-300, nan, 1.0, 2.0, 0.5};
  constexpr std::size_t n_points = 5;
  double many[n_points];
  e.eval_many(n_points, points, 2, many);
  const int active[2] = {0, 1};
  for (std::size_t p = 0; p < n_points; ++p) {
    const double* v = points + 2 * p;
    const double value = e.eval(v);
    Expression::Jet jet;
    e.eval_jet(v, active, 2, jet);
    if (!same_bits(jet.value, value)) broken("jet value differs from eval", text);
    if (!same_bits(many[p], value)) broken("eval_many differs from eval", text);
    if (!same_bits(jet.hess[0][1], jet.hess[1][0])) broken("Hessian not symmetric", text);
  }
  const std::string canon = e.to_string();
  if (canon.size() <= kpde::pde::kMaxExpressionLength) {
    Expression again;
    try {
      again = Expression::parse(canon, kVariables, kConstants);
    } catch (const ExpressionError& err) {
      std::fprintf(stderr, "%s\n", err.what());
      broken("canonical text does not parse", text);
    }
    if (again.to_string() != canon) broken("canonical text is not a fixed point", text);
    for (std::size_t p = 0; p < n_points; ++p)
      if (!same_bits(again.eval(points + 2 * p), e.eval(points + 2 * p))) broken("canonical text evaluates differently", text);
  }
  return 0;
}
