#pragma once
/// Math expressions with exact first and second derivatives (docs/design.md 3.6).
///
/// A string such as `sin(pi*x)*sin(pi*y)` or `u_y + u*u_x - 0.01/pi*u_xx` is parsed
/// once into an AST over caller-named variables, constant-folded and compiled to a
/// postfix program for a small stack machine. The program evaluates
///  - the value f(v) at one point (eval) or many points (eval_many, blocked so the
///    per-instruction dispatch is paid once per 64 points), and
///  - a second-order jet: f, grad f and the Hessian of f with respect to a chosen
///    subset of up to 8 variables (eval_jet), exact to rounding: every instruction
///    applies the first- and second-order chain rule (hyper-dual arithmetic), there
///    are no finite differences anywhere.
/// The grammar, the functions, the error format and the limits are documented in
/// docs/expressions.md. Host code only; an Expression is immutable after parse, so
/// one object may be evaluated from many threads at once.
#include <array>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace kpde::pde {

/// Longest accepted expression text, in bytes.
constexpr std::size_t kMaxExpressionLength = 10000;
/// Deepest accepted nesting: every '(', function call, unary sign and '^' opens one
/// level. Bounds the parser's recursion, so no input can overflow the stack.
constexpr int kMaxExpressionDepth = 200;
/// Most variables a jet differentiates with respect to.
constexpr int kMaxJetVariables = 8;

/// A bad expression (bad input, exit code 2). what() is the full message:
///   "[context: ]expression error: <reason> at column <c>\n  <text>\n  <caret>"
/// reason() and column() give the parts, e.g. for a config loader that maps the
/// column back into its file.
class ExpressionError : public InputError {
 public:
  ExpressionError(const std::string& message, const std::string& reason, int column)
      : InputError(message), reason_(reason), column_(column) {}
  /// The reason alone, e.g. "unknown function 'sn'".
  const std::string& reason() const noexcept { return reason_; }
  /// 1-based column in the expression text (in characters, UTF-8 aware) where the
  /// problem is; 0 when the problem is not at a position (a bad name list, a text
  /// over the length limit).
  int column() const noexcept { return column_; }

 private:
  std::string reason_;
  int column_;
};

namespace detail {

/// One instruction of the compiled postfix program (internal).
struct Instr {
  int op = 0;        ///< an opcode of expression.cpp
  int var = -1;      ///< variable index for a variable load
  double c = 0;      ///< literal for a constant load, exponent for x^c
};

/// One AST node (internal). Nodes are stored in postfix order: children first.
struct Node {
  int kind = 0;      ///< number, variable, named constant, operator or function
  int op = 0;        ///< opcode of an operator or function node
  int a = -1, b = -1;  ///< children (node indices), -1 when absent
  int var = -1;      ///< variable index of a variable node
  double value = 0;  ///< number or constant value
  std::string name;  ///< spelling of a number, variable, constant or function
};

}  // namespace detail

/// A parsed and compiled expression f(v_0, ..., v_{n-1}) over the caller's variables.
class Expression {
 public:
  /// Second-order jet of f at a point with respect to k = active.size() variables
  /// w_a = v[active[a]]:
  ///   value      = f
  ///   grad[a]    = df/dw_a                        a < k  (entries >= k are 0)
  ///   hess[a][b] = d2f/(dw_a dw_b), symmetric     a, b < k (others 0)
  struct Jet {
    double value = 0;
    std::array<double, kMaxJetVariables> grad{};
    std::array<std::array<double, kMaxJetVariables>, kMaxJetVariables> hess{};
  };

  /// The constant expression "0" with no variables.
  Expression();

  /// Parses and compiles `text`.
  ///  - variables: the names the expression may use, in the order eval() expects
  ///    their values (e.g. {"x","y"}; {"u","u_x","u_y","u_xx","u_yy","u_xy","x","y"}).
  ///  - constants: named parameters (name -> value, e.g. {"nu", 0.01}), folded in.
  ///    pi and e are always defined.
  ///  - context: prefixes every error message, e.g. "problem.yaml:12:9: source".
  /// Names must be identifiers ([A-Za-z_][A-Za-z0-9_]*), distinct, and neither pi, e
  /// nor a function name. Throws ExpressionError (a kpde::InputError) on a bad name,
  /// and on text that is empty, longer than kMaxExpressionLength, nested deeper than
  /// kMaxExpressionDepth, has an unknown variable or function, a wrong argument
  /// count, unbalanced parentheses, a malformed or overflowing number, or trailing
  /// input. The message quotes the text with a caret under the offending column.
  static Expression parse(const std::string& text, const std::vector<std::string>& variables,
                          const std::map<std::string, double>& constants = {},
                          const std::string& context = "");

  /// f(v) at one point; vars[i] is the value of variables()[i] (n_variables()
  /// entries; may be null when there are none). Non-finite results (log(-1) = NaN,
  /// 1/0 = inf) are returned, not thrown: the caller checks.
  double eval(const double* vars) const;

  /// f at n_points points stored point-major: variable i of point p is
  /// points[p * point_stride + i] (point_stride >= n_variables()); out[p] = f.
  /// Same results, bit for bit, as eval() at each point.
  void eval_many(std::size_t n_points, const double* points, std::size_t point_stride,
                 double* out) const;

  /// Second-order jets with respect to two variables at many points, blocked like
  /// eval_many (the dispatch is paid once per 64 points): variable i of point p is
  /// points[p * point_stride + i]; out[6 p + k] = f, df/dw0, df/dw1, d2f/dw0^2,
  /// d2f/dw0dw1, d2f/dw1^2 with w0 = v[active0], w1 = v[active1] (distinct). Same
  /// values as eval_jet to rounding (the order of operations per point is the same;
  /// only the compiler's contraction may differ).
  void eval_jet2_many(std::size_t n_points, const double* points, std::size_t point_stride, int active0,
                      int active1, double* out) const;
  /// Value, gradient and Hessian of f with respect to the variables whose indices
  /// are listed in `active` (distinct, in [0, n_variables()), at most 8; the order
  /// of `active` is the order of grad and hess). Variables not listed are held
  /// fixed. Derivatives are exact (forward-mode second order through every
  /// operation); at kinks the chosen branch is differentiated: min/max take the
  /// derivative of the selected argument (the first on a tie), abs'(0) = 0.
  /// Precondition (KPDE_ASSERT): `active` is valid.
  Jet eval_jet(const double* vars, const std::vector<int>& active) const;
  /// As above without allocation: n_active entries of `active`, result in `out`.
  void eval_jet(const double* vars, const int* active, int n_active, Jet& out) const;

  /// The text as given to parse().
  const std::string& text() const noexcept { return text_; }
  /// The variable names given to parse(), in eval() order.
  const std::vector<std::string>& variables() const noexcept { return variables_; }
  int n_variables() const noexcept { return static_cast<int>(variables_.size()); }
  /// True when variable `var` appears in the compiled program (after constant
  /// folding; no algebra: x*0 still depends on x).
  bool depends_on(int var) const;
  /// True when the compiled program loads no variable (e.g. "sin(pi/2) + nu").
  bool is_constant() const noexcept;
  /// Canonical text: the AST printed with minimal parentheses, spaces around
  /// + - * / and after commas, names of variables and constants kept, numbers in
  /// shortest round-trip form ("-x^2", "2^3^2", "(a - b) / c", "pow(x, 2)").
  /// Parsing it with the same names gives the same values bit for bit.
  std::string to_string() const;
  /// Number of instructions of the compiled program (folding makes
  /// "sin(pi/2)" a single constant load).
  int n_instructions() const noexcept { return static_cast<int>(program_.size()); }

 private:
  std::string text_;
  std::vector<std::string> variables_;
  std::vector<detail::Node> nodes_;      // postfix AST, root last
  std::vector<detail::Instr> program_;   // postfix program after folding
  std::vector<char> uses_var_;           // uses_var_[i]: program loads variable i
  int max_stack_ = 1;                    // deepest evaluation stack of program_

  void compile();
};

}  // namespace kpde::pde
