#pragma once
/// Helpers of the config and problem tests: where a token sits in a YAML text, and
/// expecting a kpde::InputError whose message holds given pieces.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace kpde::test {

/// "LINE:COLUMN" (1-based) of the `occurrence`-th (1-based) appearance of `needle` in
/// `text`, computed from the text itself, so that the expected position of a message
/// never mirrors the code under test. Fails the test when the needle is absent.
inline std::string loc(const std::string& text, const std::string& needle, int occurrence = 1) {
  std::size_t at = std::string::npos, from = 0;
  for (int k = 0; k < occurrence; ++k) {
    at = text.find(needle, from);
    if (at == std::string::npos) {
      ADD_FAILURE() << "'" << needle << "' occurs fewer than " << occurrence << " times in the test text";
      return "?:?";
    }
    from = at + 1;
  }
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < at; ++i)
    if (text[i] == '\n') ++line, line_start = i + 1;
  return std::to_string(line) + ":" + std::to_string(at - line_start + 1);
}

/// "LINE:" of the occurrence of `needle` (see loc).
inline std::string line_of(const std::string& text, const std::string& needle, int occurrence = 1) {
  const std::string lc = loc(text, needle, occurrence);
  return lc.substr(0, lc.find(':') + 1);
}

/// Runs f and returns the message of the kpde::InputError it throws (exit code 2);
/// fails the test (returning "") when it throws nothing or something else.
inline std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    EXPECT_EQ(e.code(), ExitCode::bad_input);
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected kpde::InputError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected kpde::InputError, nothing was thrown";
  return "";
}

/// Expects f to throw an InputError whose message contains every piece of `pieces`.
inline void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& pieces) {
  const std::string msg = input_error(f);
  for (const std::string& p : pieces)
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' is not in the message:\n" << msg;
}

/// Expects the message to start with `prefix` (e.g. "cfg.yaml:7:9: problem.source: ").
inline void expect_starts_with(const std::string& msg, const std::string& prefix) {
  EXPECT_EQ(msg.rfind(prefix, 0), 0u) << "message does not start with '" << prefix << "':\n" << msg;
}

}  // namespace kpde::test
