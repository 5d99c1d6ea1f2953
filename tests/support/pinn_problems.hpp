#pragma once
// Problems shared by the PINN objective's tests (YAML under `problem:`, indented).
#include <string>

namespace kpde::testing {

/// A disk hole with a Neumann condition, a Robin side, Dirichlet elsewhere.
inline const std::string kHoleProblem =
    "  domain:\n"
    "    box: [[-1, 1], [-1, 1]]\n"
    "    holes: [{type: disk, name: hole, center: [0.1, -0.1], radius: 0.4}]\n"
    "  operator: {c_uxx: -1, c_uyy: -1}\n"
    "  source: 1 + x*y\n"
    "  boundary:\n"
    "    - {parts: [hole], type: neumann, value: x*y}\n"
    "    - {parts: [left], type: robin, value: y, alpha: 2, beta: 0.5, weight: 3}\n"
    "    - {parts: all, type: dirichlet, value: x, weight: 2}\n";

}  // namespace kpde::testing
