#include "pde/expression.hpp"

#include "core/strings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <system_error>
#include <utility>

namespace kpde::pde {

namespace {

using detail::Instr;
using detail::Node;

// ---------------------------------------------------------------------------------
// Opcodes and the function table
// ---------------------------------------------------------------------------------

enum Op : int {
  op_const,
  op_var,
  // unary
  op_neg,
  op_sin,
  op_cos,
  op_tan,
  op_exp,
  op_log,
  op_sqrt,
  op_tanh,
  op_sinh,
  op_cosh,
  op_sigmoid,
  op_abs,
  op_atan,
  op_asin,
  op_acos,
  op_square,  // x^2 (compiled from x^2)
  op_powc,    // x^c for a constant c (compiled from x^c)
  // binary
  op_add,
  op_sub,
  op_mul,
  op_div,
  op_pow,
  op_min,
  op_max,
  op_atan2,
};

bool is_unary(int op) { return op >= op_neg && op <= op_powc; }

enum NodeKind : int { k_number, k_variable, k_constant, k_operator, k_call };

struct Function {
  const char* name;
  int arity;
  int op;
};

constexpr Function kFunctions[] = {
    {"sin", 1, op_sin},   {"cos", 1, op_cos},   {"tan", 1, op_tan},
    {"exp", 1, op_exp},   {"log", 1, op_log},   {"sqrt", 1, op_sqrt},
    {"tanh", 1, op_tanh}, {"sinh", 1, op_sinh}, {"cosh", 1, op_cosh},
    {"sigmoid", 1, op_sigmoid}, {"abs", 1, op_abs}, {"atan", 1, op_atan},
    {"asin", 1, op_asin}, {"acos", 1, op_acos}, {"min", 2, op_min},
    {"max", 2, op_max},   {"pow", 2, op_pow},   {"atan2", 2, op_atan2},
};

const Function* find_function(const std::string& name) {
  for (const Function& f : kFunctions)
    if (name == f.name) return &f;
  return nullptr;
}

constexpr double kPi = 3.141592653589793238462643383279502884;
constexpr double kE = 2.718281828459045235360287471352662498;

// ---------------------------------------------------------------------------------
// Values and derivatives of single operations (shared by folding, eval, eval_many
// and eval_jet, so that all of them give the same bits).
// ---------------------------------------------------------------------------------

inline double sigmoid(double a) { return 1.0 / (1.0 + std::exp(-a)); }

/// min/max select the second argument when it is strictly smaller/larger; a NaN
/// argument makes the value NaN.
inline bool pick_second(int op, double a, double b) { return op == op_min ? b < a : b > a; }

inline double unary_value(int op, double a, double c) {
  switch (op) {
    case op_neg: return -a;
    case op_sin: return std::sin(a);
    case op_cos: return std::cos(a);
    case op_tan: return std::tan(a);
    case op_exp: return std::exp(a);
    case op_log: return std::log(a);
    case op_sqrt: return std::sqrt(a);
    case op_tanh: return std::tanh(a);
    case op_sinh: return std::sinh(a);
    case op_cosh: return std::cosh(a);
    case op_sigmoid: return sigmoid(a);
    case op_abs: return std::fabs(a);
    case op_atan: return std::atan(a);
    case op_asin: return std::asin(a);
    case op_acos: return std::acos(a);
    case op_square: return a * a;
    case op_powc: return std::pow(a, c);
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

inline double binary_value(int op, double a, double b) {
  switch (op) {
    case op_add: return a + b;
    case op_sub: return a - b;
    case op_mul: return a * b;
    case op_div: return a / b;
    case op_pow: return std::pow(a, b);
    case op_min:
    case op_max:
      if (std::isnan(a) || std::isnan(b)) return a + b;
      return pick_second(op, a, b) ? b : a;
    case op_atan2: return std::atan2(a, b);
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

/// f'(a) and f''(a) of a unary operation, given v = f(a) (and c for x^c).
inline void unary_derivatives(int op, double a, double v, double c, double& f1, double& f2) {
  switch (op) {
    case op_neg: f1 = -1; f2 = 0; return;
    case op_sin: f1 = std::cos(a); f2 = -v; return;
    case op_cos: f1 = -std::sin(a); f2 = -v; return;
    case op_tan: f1 = 1 + v * v; f2 = 2 * v * f1; return;
    case op_exp: f1 = v; f2 = v; return;
    case op_log: f1 = 1 / a; f2 = -f1 * f1; return;
    case op_sqrt: f1 = 0.5 / v; f2 = -0.25 / (v * a); return;
    case op_tanh: f1 = 1 - v * v; f2 = -2 * v * f1; return;
    case op_sinh: f1 = std::cosh(a); f2 = v; return;
    case op_cosh: f1 = std::sinh(a); f2 = v; return;
    case op_sigmoid: f1 = v * (1 - v); f2 = f1 * (1 - 2 * v); return;
    case op_abs: f1 = a > 0 ? 1.0 : (a < 0 ? -1.0 : 0.0); f2 = 0; return;
    case op_atan: {
      const double q = 1 / (1 + a * a);
      f1 = q;
      f2 = -2 * a * q * q;
      return;
    }
    case op_asin:
    case op_acos: {
      const double w = (1 - a) * (1 + a);  // 1 - a^2 without cancellation near +-1
      const double r = 1 / std::sqrt(w);
      const double sign = op == op_asin ? 1.0 : -1.0;  // acos = pi/2 - asin
      f1 = sign * r;
      f2 = sign * a * r / w;
      return;
    }
    case op_square: f1 = 2 * a; f2 = 2; return;
    case op_powc:
      // power rule; the guards keep x^0 and x^1 exact at x = 0 (no 0 * inf)
      f1 = c == 0 ? 0.0 : c * std::pow(a, c - 1);
      f2 = (c == 0 || c == 1) ? 0.0 : c * (c - 1) * std::pow(a, c - 2);
      return;
    default: f1 = f2 = std::numeric_limits<double>::quiet_NaN(); return;
  }
}

/// Partial derivatives of a smooth binary operation f(a, b), given v = f(a, b).
struct Partials {
  double fa, fb, faa, fab, fbb;
};

inline Partials binary_partials(int op, double a, double b, double v) {
  switch (op) {
    case op_mul: return {b, a, 0, 1, 0};
    case op_div: {
      const double ib = 1 / b;
      return {ib, -v * ib, 0, -ib * ib, 2 * v * ib * ib};
    }
    case op_pow: {
      // a^b = exp(b log a). The a-derivatives use the power rule (no log: valid for
      // a <= 0 with integer b); the b-derivatives need log a.
      const double la = std::log(a);
      const double p1 = std::pow(a, b - 1);
      const double fa = b == 0 ? 0.0 : b * p1;
      const double faa = (b == 0 || b == 1) ? 0.0 : b * (b - 1) * std::pow(a, b - 2);
      return {fa, v * la, faa, p1 * (1 + b * la), v * la * la};
    }
    case op_atan2: {
      // f = atan2(a, b): angle of the point (b, a)
      const double r2 = a * a + b * b;
      const double q = 1 / (r2 * r2);
      return {b / r2, -a / r2, -2 * a * b * q, (a * a - b * b) * q, 2 * a * b * q};
    }
    default: {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      return {nan, nan, nan, nan, nan};
    }
  }
}

// ---------------------------------------------------------------------------------
// Jet arithmetic: value, gradient and packed upper-triangular Hessian
// (entry (i, j), i <= j, at k = j (j + 1) / 2 + i, so the first n (n + 1) / 2
// entries are those of the first n variables).
// ---------------------------------------------------------------------------------

constexpr int kMaxHess = kMaxJetVariables * (kMaxJetVariables + 1) / 2;

struct PackedIndex {
  int i[kMaxHess];
  int j[kMaxHess];
  constexpr PackedIndex() : i(), j() {
    int k = 0;
    for (int jj = 0; jj < kMaxJetVariables; ++jj)
      for (int ii = 0; ii <= jj; ++ii, ++k) {
        i[k] = ii;
        j[k] = jj;
      }
  }
};
constexpr PackedIndex kPacked{};

struct JetWork {
  double v;
  bool active;  // false: gradient and Hessian are zero and g, h are not read
  double g[kMaxJetVariables];
  double h[kMaxHess];
};

/// a <- f(a) given f' and f'': g = f1 g, H = f1 H + f2 g g^T.
inline void chain1(JetWork& a, double f1, double f2, int n, int nh) {
  for (int k = 0; k < nh; ++k)
    a.h[k] = f1 * a.h[k] + f2 * a.g[kPacked.i[k]] * a.g[kPacked.j[k]];
  for (int i = 0; i < n; ++i) a.g[i] *= f1;
}

/// a <- f(a, b): g = fa ga + fb gb,
/// H = fa Ha + fb Hb + faa ga ga^T + fab (ga gb^T + gb ga^T) + fbb gb gb^T.
inline void chain2(JetWork& a, const JetWork& b, const Partials& p, int n, int nh) {
  for (int k = 0; k < nh; ++k) {
    const int i = kPacked.i[k], j = kPacked.j[k];
    a.h[k] = p.fa * a.h[k] + p.fb * b.h[k] + p.faa * a.g[i] * a.g[j] +
             p.fab * (a.g[i] * b.g[j] + b.g[i] * a.g[j]) + p.fbb * b.g[i] * b.g[j];
  }
  for (int i = 0; i < n; ++i) a.g[i] = p.fa * a.g[i] + p.fb * b.g[i];
}

inline void copy_derivatives(JetWork& to, const JetWork& from, int n, int nh) {
  std::memcpy(to.g, from.g, sizeof(double) * n);
  std::memcpy(to.h, from.h, sizeof(double) * nh);
  to.active = from.active;
}

// ---------------------------------------------------------------------------------
// Error messages
// ---------------------------------------------------------------------------------

/// The text as displayed under the message: one entry per character (a valid UTF-8
/// sequence, or one invalid byte shown as '?'); whitespace and control bytes shown
/// as a space so that the caret lines up.
struct Display {
  std::vector<std::string> chars;
  std::vector<int> char_of_byte;  // size text.size() + 1
};

Display make_display(const std::string& text) {
  Display d;
  d.char_of_byte.assign(text.size() + 1, 0);
  std::size_t p = 0;
  while (p < text.size()) {
    const auto c = static_cast<unsigned char>(text[p]);
    std::size_t len = 1;
    std::string shown;
    if (c < 0x80) {
      shown = (c >= 0x20 && c < 0x7f) ? std::string(1, static_cast<char>(c)) : " ";
    } else {
      const std::size_t want = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
      bool ok = want >= 2 && c != 0xC0 && c != 0xC1 && c < 0xF5 && p + want <= text.size();
      for (std::size_t k = 1; ok && k < want; ++k)
        ok = (static_cast<unsigned char>(text[p + k]) & 0xC0) == 0x80;
      if (ok) {
        len = want;
        shown = text.substr(p, want);
      } else {
        shown = "?";
      }
    }
    for (std::size_t k = 0; k < len; ++k) d.char_of_byte[p + k] = static_cast<int>(d.chars.size());
    d.chars.push_back(shown);
    p += len;
  }
  d.char_of_byte[text.size()] = static_cast<int>(d.chars.size());
  return d;
}

/// "  <text>\n  <caret>" with a window of at most 80 characters around the caret
/// for long texts; no caret line when char_index < 0.
std::string quote_with_caret(const Display& d, int char_index) {
  const int n = static_cast<int>(d.chars.size());
  constexpr int kWidth = 80;
  int begin = 0, end = n;
  if (n > 100) {
    begin = char_index < 0 ? 0 : std::max(0, char_index - kWidth / 2);
    end = std::min(n, begin + kWidth);
    begin = std::max(0, std::min(begin, end - kWidth));
  }
  std::string line = "  ";
  if (begin > 0) line += "...";
  for (int k = begin; k < end; ++k) line += d.chars[k];
  if (end < n) line += "...";
  if (char_index < 0) return line;
  const int offset = char_index - begin + (begin > 0 ? 3 : 0);
  return line + "\n  " + std::string(static_cast<std::size_t>(offset), ' ') + "^";
}

int edit_distance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}


/// "did you mean 'sin'?" for a near miss (case, or one or two edits), else "".
std::string suggest(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  int best_d = 1 << 30;
  for (const std::string& c : candidates) {
    const int d = to_lower(c) == to_lower(name) ? 0 : edit_distance(name, c);
    // ties: the candidate closest in length
    const auto len_gap = [&](const std::string& s) {
      return std::abs(static_cast<int>(s.size()) - static_cast<int>(name.size()));
    };
    if (d < best_d || (d == best_d && len_gap(c) < len_gap(best))) {
      best_d = d;
      best = c;
    }
  }
  const int limit = name.size() <= 3 ? 1 : 2;
  if (best.empty() || best_d > limit || best_d >= static_cast<int>(name.size())) return "";
  return "did you mean '" + best + "'?";
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "(none)" : s;
}

bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool valid_name(const std::string& s) {
  if (s.empty() || !is_ident_start(s[0])) return false;
  for (char c : s)
    if (!is_ident_char(c)) return false;
  return true;
}

// ---------------------------------------------------------------------------------
// Lexer and recursive-descent parser
//   expr  := term (('+' | '-') term)*
//   term  := unary (('*' | '/') unary)*
//   unary := ('-' | '+') unary | power
//   power := primary ('^' unary)?          (right-associative, binds tighter than sign)
//   primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
// Nodes are appended in postfix order (children before their parent).
// ---------------------------------------------------------------------------------

enum Tok { t_end, t_number, t_ident, t_plus, t_minus, t_star, t_slash, t_caret, t_lparen, t_rparen, t_comma };

struct Token {
  Tok kind = t_end;
  std::size_t pos = 0;
  std::size_t len = 0;
  double value = 0;
};

class Parser {
 public:
  Parser(const std::string& text, const std::vector<std::string>& variables,
         const std::map<std::string, double>& constants, const std::string& context,
         std::vector<Node>& nodes)
      : text_(text), variables_(variables), constants_(constants), context_(context), nodes_(nodes) {}

  void parse() {
    if (text_.size() > kMaxExpressionLength)
      fail_at(-1, "expression is " + std::to_string(text_.size()) + " characters long; at most " +
                      std::to_string(kMaxExpressionLength) + " are accepted");
    check_names();
    advance();
    if (tok_.kind == t_end) fail(0, "empty expression");
    parse_expr();
    if (tok_.kind != t_end) fail_after_operand(false);
  }

 private:
  const std::string& text_;
  const std::vector<std::string>& variables_;
  const std::map<std::string, double>& constants_;
  const std::string& context_;
  std::vector<Node>& nodes_;
  Token tok_;
  std::size_t next_ = 0;  // first byte after tok_
  int depth_ = 0;

  // ---- errors ----
  [[noreturn]] void fail_at(int column_char, const std::string& reason, const std::string& hint = "") {
    const Display d = make_display(text_);
    std::string msg = context_.empty() ? "" : context_ + ": ";
    msg += "expression error: " + reason;
    if (column_char >= 0) msg += " at column " + std::to_string(column_char + 1);
    if (!hint.empty()) msg += "; " + hint;
    msg += "\n" + quote_with_caret(d, column_char);
    throw ExpressionError(msg, reason, column_char + 1);
  }
  [[noreturn]] void fail(std::size_t byte_pos, const std::string& reason, const std::string& hint = "") {
    const Display d = make_display(text_);
    fail_at(d.char_of_byte[std::min(byte_pos, text_.size())], reason, hint);
  }

  std::string spelling(const Token& t) const { return text_.substr(t.pos, t.len); }

  std::string describe(const Token& t) const {
    if (t.kind == t_end) return "the end of the expression";
    return "'" + spelling(t) + "'";
  }

  void check_names() {
    std::vector<std::string> seen;
    auto check = [&](const std::string& name, const char* what) {
      if (!valid_name(name))
        fail_at(-1, std::string("invalid ") + what + " name '" + name +
                        "' (a name is a letter or '_' followed by letters, digits or '_')");
      if (name == "pi" || name == "e")
        fail_at(-1, std::string(what) + " name '" + name + "' is the built-in constant " + name);
      if (find_function(name))
        fail_at(-1, std::string(what) + " name '" + name + "' is a function name");
      if (std::find(seen.begin(), seen.end(), name) != seen.end())
        fail_at(-1, "name '" + name + "' is declared twice (as variable or constant)");
      seen.push_back(name);
    };
    for (const std::string& v : variables_) check(v, "variable");
    for (const auto& c : constants_) check(c.first, "constant");
  }

  // ---- lexer ----
  void advance() {
    std::size_t p = next_;
    while (p < text_.size() && is_space(text_[p])) ++p;
    tok_ = Token{};
    tok_.pos = p;
    if (p >= text_.size()) {
      tok_.kind = t_end;
      next_ = p;
      return;
    }
    const char c = text_[p];
    if (is_digit(c) || (c == '.' && p + 1 < text_.size() && is_digit(text_[p + 1]))) {
      lex_number(p);
      return;
    }
    if (is_ident_start(c)) {
      std::size_t q = p;
      while (q < text_.size() && is_ident_char(text_[q])) ++q;
      tok_.kind = t_ident;
      tok_.len = q - p;
      next_ = q;
      return;
    }
    tok_.len = 1;
    next_ = p + 1;
    switch (c) {
      case '+': tok_.kind = t_plus; return;
      case '-': tok_.kind = t_minus; return;
      case '*': tok_.kind = t_star; return;
      case '/': tok_.kind = t_slash; return;
      case '^': tok_.kind = t_caret; return;
      case '(': tok_.kind = t_lparen; return;
      case ')': tok_.kind = t_rparen; return;
      case ',': tok_.kind = t_comma; return;
      default: break;
    }
    unexpected_character(p);
  }

  [[noreturn]] void unexpected_character(std::size_t p) {
    const auto c = static_cast<unsigned char>(text_[p]);
    if (c >= 0x20 && c < 0x7f) {
      std::string hint;
      if (c == '[' || c == '{') hint = "use '(' for grouping";
      if (c == '=' || c == '<' || c == '>' || c == '!') hint = "comparisons are not supported; use min, max or abs";
      fail(p, std::string("unexpected character '") + static_cast<char>(c) + "'", hint);
    }
    const Display d = make_display(text_);
    const std::string shown = d.chars[d.char_of_byte[p]];
    if (c < 0x80 || shown == "?") {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02X", c);
      fail(p, std::string("unexpected byte ") + buf);
    }
    std::string hint;
    if (shown == "\xCF\x80") hint = "write pi";
    if (shown == "\xC3\x97" || shown == "\xC2\xB7" || shown == "\xE2\x8B\x85") hint = "write '*'";
    if (shown == "\xE2\x88\x92") hint = "write '-' (ASCII minus)";
    if (shown == "\xC2\xB2") hint = "write ^2";
    if (shown == "\xC2\xB3") hint = "write ^3";
    fail(p, "unexpected character '" + shown + "'", hint);
  }

  void lex_number(std::size_t p) {
    const std::size_t start = p;
    const std::size_t n = text_.size();
    while (p < n && is_digit(text_[p])) ++p;
    if (p < n && text_[p] == '.') {
      ++p;
      while (p < n && is_digit(text_[p])) ++p;
    }
    const std::size_t mantissa_end = p;
    if (p < n && (text_[p] == 'e' || text_[p] == 'E')) {
      std::size_t q = p + 1;
      if (q < n && (text_[q] == '+' || text_[q] == '-')) ++q;
      if (q < n && is_digit(text_[q])) {
        while (q < n && is_digit(text_[q])) ++q;
        p = q;
      } else if (q > p + 1) {  // "1e+" with no digits
        fail(start, "malformed number '" + text_.substr(start, q - start) + "'",
             "an exponent needs digits, as in 1e-3; write '*' for a product with e");
      }
      // else "2exp(x)", "2e": the number ends before the letter; the parser reports
      // the missing operator (a bare trailing 'e' is reported here)
      else if (q == n || !is_ident_char(text_[q]))
        fail(start, "malformed number '" + text_.substr(start, q - start) + "'",
             "an exponent needs digits, as in 1e-3; write '*' for a product with e");
    }
    if (p < n && (text_[p] == '.' || (is_digit(text_[p])))) {  // "1.2.3"
      std::size_t q = p;
      while (q < n && (is_digit(text_[q]) || text_[q] == '.')) ++q;
      fail(start, "malformed number '" + text_.substr(start, q - start) + "'");
    }
    double value = 0;
    const char* first = text_.data() + start;
    const char* last = text_.data() + p;
    const auto res = std::from_chars(first, last, value, std::chars_format::general);
    if (res.ec == std::errc::result_out_of_range) {
      if (overflows(start, mantissa_end, p))
        fail(start, "number '" + text_.substr(start, p - start) + "' is too large for double precision",
             "the largest is about 1.8e308");
      value = 0;  // underflow: below the smallest subnormal
    } else if (res.ec != std::errc() || res.ptr != last) {
      fail(start, "malformed number '" + text_.substr(start, p - start) + "'");
    }
    tok_.kind = t_number;
    tok_.len = p - start;
    tok_.value = value;
    next_ = p;
  }

  /// For an out-of-range literal: true when its magnitude is huge (overflow), false
  /// when it is tiny (underflow). Decimal exponent of the leading digit, saturated.
  bool overflows(std::size_t start, std::size_t mantissa_end, std::size_t end) const {
    long long exp10 = 0;
    bool seen_point = false, seen_nonzero = false;
    long long int_digits = 0, leading_frac_zeros = 0;
    for (std::size_t p = start; p < mantissa_end; ++p) {
      const char c = text_[p];
      if (c == '.') {
        seen_point = true;
        continue;
      }
      if (!seen_nonzero && c == '0') {
        if (seen_point) ++leading_frac_zeros;
        continue;
      }
      seen_nonzero = true;
      if (!seen_point) ++int_digits;
    }
    long long e = 0;
    bool negative = false;
    std::size_t p = mantissa_end;
    if (p < end) {
      ++p;  // 'e'
      if (text_[p] == '+' || text_[p] == '-') negative = text_[p++] == '-';
      for (; p < end; ++p) e = std::min<long long>(e * 10 + (text_[p] - '0'), 1000000000LL);
    }
    exp10 = (negative ? -e : e) + (int_digits > 0 ? int_digits : -leading_frac_zeros);
    return seen_nonzero && exp10 > 0;
  }

  // ---- parser ----
  struct Level {
    Parser& p;
    Level(Parser& parser, std::size_t pos) : p(parser) {
      if (++p.depth_ > kMaxExpressionDepth)
        p.fail(pos, "expression nests deeper than " + std::to_string(kMaxExpressionDepth) +
                        " levels (parentheses, function calls, signs and powers)");
    }
    ~Level() { --p.depth_; }
  };

  int push(Node n) {
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size()) - 1;
  }

  int push_op(int op, int a, int b) {
    Node n;
    n.kind = k_operator;
    n.op = op;
    n.a = a;
    n.b = b;
    return push(std::move(n));
  }

  int parse_expr() {
    int lhs = parse_term();
    while (tok_.kind == t_plus || tok_.kind == t_minus) {
      const int op = tok_.kind == t_plus ? op_add : op_sub;
      advance();
      const int rhs = parse_term();
      lhs = push_op(op, lhs, rhs);
    }
    return lhs;
  }

  int parse_term() {
    int lhs = parse_unary();
    while (tok_.kind == t_star || tok_.kind == t_slash) {
      const int op = tok_.kind == t_star ? op_mul : op_div;
      advance();
      if (op == op_mul && tok_.kind == t_star) fail(tok_.pos, "'**' is not an operator", "write x^2 for a power");
      const int rhs = parse_unary();
      lhs = push_op(op, lhs, rhs);
    }
    return lhs;
  }

  int parse_unary() {
    if (tok_.kind == t_minus || tok_.kind == t_plus) {
      Level level(*this, tok_.pos);
      const bool minus = tok_.kind == t_minus;
      advance();
      const int operand = parse_unary();
      return minus ? push_op(op_neg, operand, -1) : operand;
    }
    return parse_power();
  }

  int parse_power() {
    const int base = parse_primary();
    if (tok_.kind != t_caret) return base;
    Level level(*this, tok_.pos);
    advance();
    const int exponent = parse_unary();
    return push_op(op_pow, base, exponent);
  }

  int parse_primary() {
    switch (tok_.kind) {
      case t_number: {
        Node n;
        n.kind = k_number;
        n.value = tok_.value;
        n.name = spelling(tok_);
        advance();
        return push(std::move(n));
      }
      case t_ident: {
        const Token name_tok = tok_;
        const std::string name = spelling(tok_);
        advance();
        if (tok_.kind == t_lparen) return parse_call(name_tok, name);
        return resolve_name(name_tok, name);
      }
      case t_lparen: {
        Level level(*this, tok_.pos);
        const std::size_t open = tok_.pos;
        advance();
        const int inner = parse_expr();
        if (tok_.kind == t_end) fail(open, "'(' is never closed");
        if (tok_.kind != t_rparen) fail_after_operand(true);
        advance();
        return inner;
      }
      default: fail_expected_operand();
    }
  }

  [[noreturn]] void fail_expected_operand() {
    const std::string what = "expected a number, variable, function call or '('";
    if (tok_.kind == t_end) fail(tok_.pos, "unexpected end of expression; " + what);
    fail(tok_.pos, what + ", found " + describe(tok_));
  }

  /// After a complete operand, tok_ is neither an operator nor (when `enclosed`) ')'.
  [[noreturn]] void fail_after_operand(bool enclosed) {
    switch (tok_.kind) {
      case t_number:
      case t_ident:
      case t_lparen:
        fail(tok_.pos, "missing operator before " + describe(tok_),
             "implicit multiplication is not supported: write '*'");
      case t_rparen: fail(tok_.pos, "')' has no matching '('");
      case t_comma: fail(tok_.pos, "',' outside a function call");
      default: fail(tok_.pos, std::string("expected an operator") + (enclosed ? " or ')'" : "") +
                                  ", found " + describe(tok_));
    }
  }

  int parse_call(const Token& name_tok, const std::string& name) {
    const Function* f = find_function(name);
    if (!f) {
      if (std::find(variables_.begin(), variables_.end(), name) != variables_.end() ||
          constants_.count(name) || name == "pi" || name == "e")
        fail(name_tok.pos, "'" + name + "' is not a function",
             "implicit multiplication is not supported: write " + name + "*(...)");
      std::vector<std::string> names;
      for (const Function& g : kFunctions) names.push_back(g.name);
      std::string hint = suggest(name, names);
      if (hint.empty()) hint = "known functions: " + join(names);
      fail(name_tok.pos, "unknown function '" + name + "'", hint);
    }
    Level level(*this, tok_.pos);
    const std::size_t open = tok_.pos;
    advance();
    int args[2] = {-1, -1};
    int n_args = 0;
    if (tok_.kind != t_rparen) {
      while (true) {
        const int arg = parse_expr();
        if (n_args < 2) args[n_args] = arg;
        ++n_args;
        if (tok_.kind != t_comma) break;
        advance();
      }
    }
    if (tok_.kind == t_end) fail(open, "'(' of the call of '" + name + "' is never closed");
    if (tok_.kind != t_rparen) {
      if (tok_.kind == t_number || tok_.kind == t_ident || tok_.kind == t_lparen) fail_after_operand(true);
      fail(tok_.pos, "expected ',' or ')' in the call of '" + name + "', found " + describe(tok_));
    }
    if (n_args != f->arity)
      fail(name_tok.pos, "function '" + name + "' takes " + std::to_string(f->arity) +
                             (f->arity == 1 ? " argument" : " arguments") + ", got " + std::to_string(n_args));
    advance();
    Node n;
    n.kind = k_call;
    n.op = f->op;
    n.a = args[0];
    n.b = f->arity == 2 ? args[1] : -1;
    n.name = name;
    return push(std::move(n));
  }

  int resolve_name(const Token& name_tok, const std::string& name) {
    Node n;
    n.name = name;
    const auto v = std::find(variables_.begin(), variables_.end(), name);
    if (v != variables_.end()) {
      n.kind = k_variable;
      n.var = static_cast<int>(v - variables_.begin());
      return push(std::move(n));
    }
    const auto c = constants_.find(name);
    if (c != constants_.end() || name == "pi" || name == "e") {
      n.kind = k_constant;
      n.value = c != constants_.end() ? c->second : (name == "pi" ? kPi : kE);
      return push(std::move(n));
    }
    if (find_function(name)) fail(name_tok.pos, "function '" + name + "' needs parentheses", "write " + name + "(...)");
    std::vector<std::string> names = variables_;
    std::vector<std::string> consts = {"pi", "e"};
    for (const auto& kv : constants_) consts.push_back(kv.first);
    names.insert(names.end(), consts.begin(), consts.end());
    std::string hint = suggest(name, names);
    hint += (hint.empty() ? "" : "; ") + std::string("allowed variables: ") + join(variables_) +
            "; constants: " + join(consts);
    fail(name_tok.pos, "unknown variable '" + name + "'", hint);
  }
};

// ---------------------------------------------------------------------------------
// Canonical printing
// ---------------------------------------------------------------------------------

int precedence(const Node& n) {
  if (n.kind != k_operator) return 5;
  switch (n.op) {
    case op_add:
    case op_sub: return 1;
    case op_mul:
    case op_div: return 2;
    case op_neg: return 3;
    default: return 4;  // op_pow
  }
}

std::string format_number(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

}  // namespace

// ---------------------------------------------------------------------------------
// Expression
// ---------------------------------------------------------------------------------

Expression::Expression() {
  text_ = "0";
  Node n;
  n.kind = k_number;
  n.name = "0";
  nodes_.push_back(n);
  compile();
}

Expression Expression::parse(const std::string& text, const std::vector<std::string>& variables,
                             const std::map<std::string, double>& constants, const std::string& context) {
  Expression e;
  e.nodes_.clear();
  e.text_ = text;
  e.variables_ = variables;
  Parser(e.text_, e.variables_, constants, context, e.nodes_).parse();
  e.compile();
  return e;
}

void Expression::compile() {
  // One pass over the postfix AST with a stack of operands, each remembered as the
  // start of its code in program_: an operation whose operands are all constant
  // loads is evaluated now and replaced by one constant load; x^c becomes x^2 or
  // x^c with c in the instruction.
  struct Operand {
    std::size_t start;
    bool is_const;
    double value;
  };
  program_.clear();
  std::vector<Operand> stack;
  auto emit_const = [&](std::size_t start, double v) {
    program_.resize(start);
    Instr in;
    in.op = op_const;
    in.c = v;
    program_.push_back(in);
    return Operand{start, true, v};
  };
  for (const Node& n : nodes_) {
    if (n.kind == k_number || n.kind == k_constant) {
      stack.push_back(emit_const(program_.size(), n.value));
    } else if (n.kind == k_variable) {
      Instr in;
      in.op = op_var;
      in.var = n.var;
      stack.push_back({program_.size(), false, 0});
      program_.push_back(in);
    } else if (n.b < 0) {  // unary operator or one-argument function
      Operand& a = stack.back();
      if (a.is_const) {
        a = emit_const(a.start, unary_value(n.op, a.value, 0));
      } else {
        Instr in;
        in.op = n.op;
        program_.push_back(in);
      }
    } else {
      const Operand b = stack.back();
      stack.pop_back();
      Operand& a = stack.back();
      if (a.is_const && b.is_const) {
        a = emit_const(a.start, binary_value(n.op, a.value, b.value));
      } else if (n.op == op_pow && b.is_const) {
        program_.resize(b.start);
        Instr in;
        in.op = b.value == 2 ? op_square : op_powc;
        in.c = b.value;
        program_.push_back(in);
        a.is_const = false;
      } else {
        Instr in;
        in.op = n.op;
        program_.push_back(in);
        a.is_const = false;
      }
    }
  }
  KPDE_ASSERT(stack.size() == 1, "expression: malformed AST");

  uses_var_.assign(variables_.size(), 0);
  int depth = 0;
  max_stack_ = 1;
  for (const Instr& in : program_) {
    if (in.op == op_const || in.op == op_var) {
      ++depth;
      if (in.op == op_var) uses_var_[static_cast<std::size_t>(in.var)] = 1;
    } else if (!is_unary(in.op)) {
      --depth;
    }
    max_stack_ = std::max(max_stack_, depth);
  }
}

bool Expression::depends_on(int var) const {
  return var >= 0 && var < n_variables() && uses_var_[static_cast<std::size_t>(var)];
}

bool Expression::is_constant() const noexcept {
  return std::none_of(uses_var_.begin(), uses_var_.end(), [](char u) { return u != 0; });
}

double Expression::eval(const double* vars) const {
  double local[64];
  std::vector<double> heap;
  double* s = local;
  if (max_stack_ > 64) {
    heap.resize(static_cast<std::size_t>(max_stack_));
    s = heap.data();
  }
  int top = -1;
  for (const Instr& in : program_) {
    switch (in.op) {
      case op_const: s[++top] = in.c; break;
      case op_var: s[++top] = vars[in.var]; break;
      default:
        if (is_unary(in.op)) {
          s[top] = unary_value(in.op, s[top], in.c);
        } else {
          s[top - 1] = binary_value(in.op, s[top - 1], s[top]);
          --top;
        }
    }
  }
  return s[0];
}

namespace {

template <class F>
inline void map1(double* a, int m, F f) {
  for (int k = 0; k < m; ++k) a[k] = f(a[k]);
}
template <class F>
inline void map2(double* a, const double* b, int m, F f) {
  for (int k = 0; k < m; ++k) a[k] = f(a[k], b[k]);
}

}  // namespace

void Expression::eval_many(std::size_t n_points, const double* points, std::size_t point_stride,
                           double* out) const {
  // Interpret the program once per block of 64 points: each instruction runs as a
  // loop over the block (the arithmetic loops vectorise).
  constexpr int kBlock = 64;
  std::vector<double> stack(static_cast<std::size_t>(max_stack_) * kBlock);
  for (std::size_t p0 = 0; p0 < n_points; p0 += kBlock) {
    const int m = static_cast<int>(std::min<std::size_t>(kBlock, n_points - p0));
    int top = -1;
    for (const Instr& in : program_) {
      // slot k of the stack starts at stack[k * kBlock]; `next` is slot top + 1
      double* const next = stack.data() + static_cast<std::size_t>(top + 1) * kBlock;
      switch (in.op) {
        case op_const:
          for (int k = 0; k < m; ++k) next[k] = in.c;
          ++top;
          break;
        case op_var: {
          const double* src = points + p0 * point_stride + static_cast<std::size_t>(in.var);
          for (int k = 0; k < m; ++k) next[k] = src[static_cast<std::size_t>(k) * point_stride];
          ++top;
          break;
        }
        case op_neg: map1(next - kBlock, m, [](double a) { return -a; }); break;
        case op_square: map1(next - kBlock, m, [](double a) { return a * a; }); break;
        case op_add: map2(next - 2 * kBlock, next - kBlock, m, [](double a, double b) { return a + b; }); --top; break;
        case op_sub: map2(next - 2 * kBlock, next - kBlock, m, [](double a, double b) { return a - b; }); --top; break;
        case op_mul: map2(next - 2 * kBlock, next - kBlock, m, [](double a, double b) { return a * b; }); --top; break;
        case op_div: map2(next - 2 * kBlock, next - kBlock, m, [](double a, double b) { return a / b; }); --top; break;
        default:
          if (is_unary(in.op)) {
            const int op = in.op;
            const double c = in.c;
            map1(next - kBlock, m, [op, c](double a) { return unary_value(op, a, c); });
          } else {
            const int op = in.op;
            map2(next - 2 * kBlock, next - kBlock, m, [op](double a, double b) { return binary_value(op, a, b); });
            --top;
          }
      }
    }
    std::memcpy(out + p0, stack.data(), sizeof(double) * static_cast<std::size_t>(m));
  }
}

Expression::Jet Expression::eval_jet(const double* vars, const std::vector<int>& active) const {
  Jet out;
  eval_jet(vars, active.data(), static_cast<int>(active.size()), out);
  return out;
}

void Expression::eval_jet2_many(std::size_t n_points, const double* points, std::size_t point_stride, int active0,
                                int active1, double* out) const {
  KPDE_ASSERT(active0 != active1 && active0 >= 0 && active1 >= 0 && active0 < n_variables() && active1 < n_variables(),
              "eval_jet2_many: two distinct variables");
  constexpr int kBlock = 64;
  // slot s of the stack: 6 arrays of kBlock (v, g0, g1, h00, h01, h11) and a flag
  // (whether the slot depends on an active variable; the same for every point)
  const std::size_t slot = 6 * kBlock;
  std::vector<double> stack(static_cast<std::size_t>(max_stack_) * slot);
  std::vector<char> act(static_cast<std::size_t>(max_stack_), 0);
  for (std::size_t p0 = 0; p0 < n_points; p0 += kBlock) {
    const int m = static_cast<int>(std::min<std::size_t>(kBlock, n_points - p0));
    int top = -1;
    for (const Instr& in : program_) {
      if (in.op == op_const || in.op == op_var) {
        ++top;
        double* r = stack.data() + static_cast<std::size_t>(top) * slot;
        if (in.op == op_const) {
          for (int k = 0; k < m; ++k) r[k] = in.c;
          act[static_cast<std::size_t>(top)] = 0;
        } else {
          const double* src = points + p0 * point_stride + static_cast<std::size_t>(in.var);
          for (int k = 0; k < m; ++k) r[k] = src[static_cast<std::size_t>(k) * point_stride];
          const bool a0 = in.var == active0, a1 = in.var == active1;
          act[static_cast<std::size_t>(top)] = a0 || a1;
          if (a0 || a1) {
            std::fill(r + kBlock, r + 6 * kBlock, 0.0);
            std::fill(r + (a0 ? 1 : 2) * kBlock, r + (a0 ? 1 : 2) * kBlock + m, 1.0);
          }
        }
        continue;
      }
      if (is_unary(in.op)) {
        double* a = stack.data() + static_cast<std::size_t>(top) * slot;
        const bool aa = act[static_cast<std::size_t>(top)] != 0;
        for (int k = 0; k < m; ++k) {
          const double v = unary_value(in.op, a[k], in.c);
          if (aa) {
            double f1, f2;
            unary_derivatives(in.op, a[k], v, in.c, f1, f2);
            const double g0 = a[kBlock + k], g1 = a[2 * kBlock + k];
            a[3 * kBlock + k] = f1 * a[3 * kBlock + k] + f2 * g0 * g0;
            a[4 * kBlock + k] = f1 * a[4 * kBlock + k] + f2 * g0 * g1;
            a[5 * kBlock + k] = f1 * a[5 * kBlock + k] + f2 * g1 * g1;
            a[kBlock + k] = f1 * g0;
            a[2 * kBlock + k] = f1 * g1;
          }
          a[k] = v;
        }
        continue;
      }
      double* a = stack.data() + static_cast<std::size_t>(top - 1) * slot;
      const double* b = a + slot;
      const bool aa = act[static_cast<std::size_t>(top - 1)] != 0, ba = act[static_cast<std::size_t>(top)] != 0;
      --top;
      if (in.op == op_add || in.op == op_sub) {
        const double sign = in.op == op_add ? 1.0 : -1.0;
        for (int k = 0; k < m; ++k) a[k] = in.op == op_add ? a[k] + b[k] : a[k] - b[k];
        if (ba)
          for (int c = 1; c < 6; ++c)
            for (int k = 0; k < m; ++k)
              a[c * kBlock + k] = (aa ? a[c * kBlock + k] : 0.0) + sign * b[c * kBlock + k];
        act[static_cast<std::size_t>(top)] = aa || ba;
        continue;
      }
      if (in.op == op_min || in.op == op_max) {
        for (int k = 0; k < m; ++k) {
          if (pick_second(in.op, a[k], b[k])) {
            for (int c = 1; c < 6; ++c) a[c * kBlock + k] = ba ? b[c * kBlock + k] : 0.0;
          } else if (!aa) {
            for (int c = 1; c < 6; ++c) a[c * kBlock + k] = 0.0;
          }
          a[k] = binary_value(in.op, a[k], b[k]);
        }
        act[static_cast<std::size_t>(top)] = aa || ba;
        continue;
      }
      // mul, div, pow, atan2
      for (int k = 0; k < m; ++k) {
        const double v = binary_value(in.op, a[k], b[k]);
        if (aa || ba) {
          const Partials p = binary_partials(in.op, a[k], b[k], v);
          const double ag0 = aa ? a[kBlock + k] : 0.0, ag1 = aa ? a[2 * kBlock + k] : 0.0;
          const double bg0 = ba ? b[kBlock + k] : 0.0, bg1 = ba ? b[2 * kBlock + k] : 0.0;
          const double ah00 = aa ? a[3 * kBlock + k] : 0.0, ah01 = aa ? a[4 * kBlock + k] : 0.0,
                       ah11 = aa ? a[5 * kBlock + k] : 0.0;
          const double bh00 = ba ? b[3 * kBlock + k] : 0.0, bh01 = ba ? b[4 * kBlock + k] : 0.0,
                       bh11 = ba ? b[5 * kBlock + k] : 0.0;
          const double fa = aa ? p.fa : 0.0, fb = ba ? p.fb : 0.0;
          const double faa = aa ? p.faa : 0.0, fbb = ba ? p.fbb : 0.0, fab = aa && ba ? p.fab : 0.0;
          a[3 * kBlock + k] = fa * ah00 + fb * bh00 + faa * ag0 * ag0 + fab * (ag0 * bg0 + bg0 * ag0) + fbb * bg0 * bg0;
          a[4 * kBlock + k] = fa * ah01 + fb * bh01 + faa * ag0 * ag1 + fab * (ag0 * bg1 + bg0 * ag1) + fbb * bg0 * bg1;
          a[5 * kBlock + k] = fa * ah11 + fb * bh11 + faa * ag1 * ag1 + fab * (ag1 * bg1 + bg1 * ag1) + fbb * bg1 * bg1;
          a[kBlock + k] = fa * ag0 + fb * bg0;
          a[2 * kBlock + k] = fa * ag1 + fb * bg1;
        }
        a[k] = v;
      }
      act[static_cast<std::size_t>(top)] = aa || ba;
    }
    const double* r = stack.data();
    const bool ra = act[0] != 0;
    for (int k = 0; k < m; ++k) {
      double* o = out + 6 * (p0 + static_cast<std::size_t>(k));
      o[0] = r[k];
      for (int c = 1; c < 6; ++c) o[c] = ra ? r[c * kBlock + k] : 0.0;
    }
  }
}

void Expression::eval_jet(const double* vars, const int* active, int n_active, Jet& out) const {
  KPDE_ASSERT(n_active >= 0 && n_active <= kMaxJetVariables, "eval_jet: at most 8 active variables");
#ifndef NDEBUG
  for (int a = 0; a < n_active; ++a) {
    KPDE_ASSERT(active[a] >= 0 && active[a] < n_variables(), "eval_jet: active variable out of range");
    for (int b = 0; b < a; ++b) KPDE_ASSERT(active[a] != active[b], "eval_jet: active variable listed twice");
  }
#endif
  const int n = n_active;
  const int nh = n * (n + 1) / 2;
  thread_local std::vector<JetWork> scratch;
  if (scratch.size() < static_cast<std::size_t>(max_stack_)) scratch.resize(static_cast<std::size_t>(max_stack_));
  JetWork* s = scratch.data();
  int top = -1;
  for (const Instr& in : program_) {
    switch (in.op) {
      case op_const: {
        JetWork& r = s[++top];
        r.v = in.c;
        r.active = false;
        break;
      }
      case op_var: {
        JetWork& r = s[++top];
        r.v = vars[in.var];
        int slot = -1;
        for (int a = 0; a < n; ++a)
          if (active[a] == in.var) slot = a;
        r.active = slot >= 0;
        if (r.active) {
          std::fill(r.g, r.g + n, 0.0);
          std::fill(r.h, r.h + nh, 0.0);
          r.g[slot] = 1;
        }
        break;
      }
      default:
        if (is_unary(in.op)) {
          JetWork& a = s[top];
          const double v = unary_value(in.op, a.v, in.c);
          if (a.active) {
            double f1, f2;
            unary_derivatives(in.op, a.v, v, in.c, f1, f2);
            chain1(a, f1, f2, n, nh);
          }
          a.v = v;
          break;
        }
        JetWork& a = s[top - 1];
        const JetWork& b = s[top];
        const double v = binary_value(in.op, a.v, b.v);
        --top;
        switch (in.op) {
          case op_add:
          case op_sub: {
            const double sign = in.op == op_add ? 1.0 : -1.0;
            if (b.active && a.active) {
              for (int i = 0; i < n; ++i) a.g[i] += sign * b.g[i];
              for (int k = 0; k < nh; ++k) a.h[k] += sign * b.h[k];
            } else if (b.active) {
              for (int i = 0; i < n; ++i) a.g[i] = sign * b.g[i];
              for (int k = 0; k < nh; ++k) a.h[k] = sign * b.h[k];
              a.active = true;
            }
            break;
          }
          case op_min:
          case op_max:
            if (pick_second(in.op, a.v, b.v)) copy_derivatives(a, b, n, nh);
            break;
          default: {  // mul, div, pow, atan2
            if (!a.active && !b.active) break;
            const Partials p = binary_partials(in.op, a.v, b.v, v);
            if (a.active && b.active) {
              chain2(a, b, p, n, nh);
            } else if (a.active) {
              chain1(a, p.fa, p.faa, n, nh);
            } else {
              copy_derivatives(a, b, n, nh);
              chain1(a, p.fb, p.fbb, n, nh);
            }
          }
        }
        a.v = v;
    }
  }
  out = Jet{};
  out.value = s[0].v;
  if (s[0].active) {
    for (int i = 0; i < n; ++i) out.grad[static_cast<std::size_t>(i)] = s[0].g[i];
    for (int k = 0; k < nh; ++k) {
      const auto i = static_cast<std::size_t>(kPacked.i[k]);
      const auto j = static_cast<std::size_t>(kPacked.j[k]);
      out.hess[i][j] = s[0].h[k];
      out.hess[j][i] = s[0].h[k];
    }
  }
}

std::string Expression::to_string() const {
  // Postfix nodes: build strings on a stack; parenthesise a child only where the
  // grammar would otherwise group differently.
  struct Part {
    std::string s;
    int prec;
  };
  std::vector<Part> stack;
  for (const Node& n : nodes_) {
    switch (n.kind) {
      case k_number: stack.push_back({format_number(n.value), 5}); break;
      case k_variable:
      case k_constant: stack.push_back({n.name, 5}); break;
      case k_call: {
        if (n.b >= 0) {
          Part b = std::move(stack.back());
          stack.pop_back();
          Part& a = stack.back();
          a.s = n.name + "(" + a.s + ", " + b.s + ")";
          a.prec = 5;
        } else {
          Part& a = stack.back();
          a.s = n.name + "(" + a.s + ")";
          a.prec = 5;
        }
        break;
      }
      default: {
        const int p = precedence(n);
        if (n.op == op_neg) {
          Part& a = stack.back();
          a.s = a.prec < 3 ? "-(" + a.s + ")" : "-" + a.s;
          a.prec = 3;
          break;
        }
        Part b = std::move(stack.back());
        stack.pop_back();
        Part& a = stack.back();
        const bool paren_a = n.op == op_pow ? a.prec < 5 : a.prec < p;
        const bool paren_b = n.op == op_pow ? b.prec < 3 : b.prec <= p;
        std::string s = paren_a ? "(" + a.s + ")" : std::move(a.s);
        switch (n.op) {
          case op_add: s += " + "; break;
          case op_sub: s += " - "; break;
          case op_mul: s += " * "; break;
          case op_div: s += " / "; break;
          default: s += "^"; break;
        }
        if (paren_b) {
          s += "(";
          s += b.s;
          s += ")";
        } else {
          s += b.s;
        }
        a.s = std::move(s);
        a.prec = p;
      }
    }
  }
  return stack.empty() ? std::string() : stack.back().s;
}

}  // namespace kpde::pde
