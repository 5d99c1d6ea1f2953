#pragma once
/// The checks behind kpde's fuzz harnesses (docs/fuzzing.md), shared by the libFuzzer
/// entry points (fuzz_config_main.cpp, fuzz_residual_main.cpp; built with clang++ when
/// KPDE_FUZZ=ON) and by the corpus replay test (test_fuzz_corpus.cpp; every build).
/// A broken property prints the input and aborts (libFuzzer records a crash), or, after
/// set_abort_on_finding(false) (the replay test), throws Finding.
#include <stdexcept>
#include <string>

namespace kpde::fuzz {

/// A broken property found by a harness (thrown instead of aborting when asked).
class Finding : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// true (default): a finding prints the input and aborts; false: it throws Finding.
void set_abort_on_finding(bool abort_on_finding);
/// Reports a finding: prints `what` and the input to stderr, then aborts or throws.
[[noreturn]] void report_finding(const std::string& harness, const std::string& what, const std::string& input);

/// What check_config made of a text.
enum class ConfigOutcome { accepted, rejected };

/// Loads `text` as a `kpde solve` config named `name` the way solve does (problem,
/// model, training and output sections, then check_unused), after applying every line
/// "#set key.path=value" of the text as a --set override (YAML sees a comment).
/// Bad input must end in kpde::InputError whose message starts with `name` + ":" or
/// "--set " (it names the file or the override) or a kpde::Error; any other exception,
/// a crash or a sanitizer report escapes. When the config is accepted it also checks:
///  - integer settings later narrowed to int fit (no silent wrap-around): network
///    width, depth, block size, sample counts, output n, stage steps and histories;
///  - resolved_text() loads again, with the same settings (the rerun promise of
///    docs/design.md 3.9).
/// `message` receives the error message when rejected.
ConfigOutcome check_config(const std::string& text, const std::string& name, std::string* message = nullptr);

/// Parses `text` as a nonlinear residual over u, u_x, u_y, u_xx, u_yy, u_xy, x, y (and
/// the constant nu). Bad input must end in pde::ExpressionError with the context
/// prefix and a column inside the text. A parsed expression must give, at a few
/// points: eval == eval_many == the jet's value (bit for bit, or both NaN); a
/// symmetric Hessian; where the value is finite, the same derivatives (to rounding)
/// for a variable whatever the other active variables and their order; zero
/// derivatives for variables it does not use (where everything is finite); and, where
/// the expression is smooth (central differences with steps h and h/2 agree), the
/// value and gradient are moderate and no huge intermediate is possible (no literal
/// above 1e6, no ^, pow, exp, sinh, cosh, tan), first and second derivatives equal to
/// those differences. Returns true when it parsed.
bool check_residual(const std::string& text);

}  // namespace kpde::fuzz
