#pragma once
/// Small string helpers shared by parsers and messages (`type:` names are
/// case-insensitive, docs/design.md section 3.9).
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace kpde {

/// ASCII lower case of s.
/// The items separated by `sep` ("a,b,c"); "" for none.
inline std::string join(const std::vector<std::string>& items, const std::string& sep = ",") {
  std::string s;
  for (const auto& x : items) s += (s.empty() ? "" : sep) + x;
  return s;
}

inline std::string to_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// A number for messages: 6 significant digits ("%.6g": 0.001, 1e-05, 1234.57, inf, nan).
inline std::string format_number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

/// A number in "%.3e" form for progress lines and loss values ("1.234e-05", nan, inf).
inline std::string format_e(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : "inf";
  char b[32];
  std::snprintf(b, sizeof b, "%.3e", v);
  return b;
}

/// A duration for ETAs: "42s", "3m07s", "2h05m"; "?" when unknown or negative.
inline std::string format_duration(double s) {
  char b[32];
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) std::snprintf(b, sizeof b, "%.0fs", s);
  else if (s < 3600) std::snprintf(b, sizeof b, "%dm%02ds", int(s) / 60, int(s) % 60);
  else std::snprintf(b, sizeof b, "%dh%02dm", int(s) / 3600, (int(s) % 3600) / 60);
  return b;
}

}  // namespace kpde
