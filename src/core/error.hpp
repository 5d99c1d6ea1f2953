#pragma once
/// kpde's two kinds of failure (docs/design.md section 4):
///  - kpde::Error: a runtime error a user can act on (bad input, a file, a diverged
///    run). It carries an exit code: 2 for bad input, 1 for a runtime failure.
///  - KPDE_ASSERT: a debug precondition on the caller's side; compiled out in
///    release builds (NDEBUG), aborts with file and line otherwise.
#include <stdexcept>
#include <string>

namespace kpde {

/// Exit codes of the kpde executable.
enum class ExitCode : int { ok = 0, runtime_failure = 1, bad_input = 2 };

/// A runtime error with a message a user can act on.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::runtime_failure)
      : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

/// Bad input (config, expression, file, command line): exit code 2.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(message, ExitCode::bad_input) {}
};

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line, const char* msg);

}  // namespace kpde

#ifdef NDEBUG
#define KPDE_ASSERT(cond, msg) ((void)0)
#else
#define KPDE_ASSERT(cond, msg) \
  ((cond) ? (void)0 : ::kpde::assertion_failed(#cond, __FILE__, __LINE__, (msg)))
#endif

/// Throws kpde::Error (or a subclass) when `cond` does not hold; always checked.
#define KPDE_REQUIRE(cond, ErrorType, msg) \
  do {                                     \
    if (!(cond)) throw ErrorType(msg);     \
  } while (0)
