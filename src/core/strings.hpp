#pragma once
/// Small string helpers shared by the parsers (`type:` names are case-insensitive,
/// DESIGN.md 3.9).
#include <cctype>
#include <string>

namespace kpde {

/// ASCII lower case of s.
inline std::string to_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace kpde
