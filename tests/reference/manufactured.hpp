#pragma once
// Manufactured solutions for the reference-solver tests: an exact u(x, y) given as a
// kpde::pde::Expression (exact first and second derivatives from eval_jet), the
// source f = L[u] and the boundary values for Dirichlet / Neumann / Robin conditions.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "data/reference/reference_solver.hpp"
#include "pde/expression.hpp"

namespace kpde::data::testing {

/// Value and derivatives of an expression in (x, y).
struct Jet2 {
  double u, ux, uy, uxx, uyy, uxy;
};

inline Jet2 jet(const pde::Expression& e, double x, double y) {
  const double v[2] = {x, y};
  const int active[2] = {0, 1};
  pde::Expression::Jet j;
  e.eval_jet(v, active, 2, j);
  return Jet2{j.value, j.grad[0], j.grad[1], j.hess[0][0], j.hess[1][1], j.hess[0][1]};
}

/// A manufactured problem: exact solution, coefficient expressions (empty text = 0)
/// and an optional diffusion a; builds the FdProblem pieces.
struct Manufactured {
  std::shared_ptr<pde::Expression> u;
  std::vector<std::shared_ptr<pde::Expression>> c;  // 6 coefficients or null
  std::shared_ptr<pde::Expression> a;               // diffusion or null

  Manufactured(const std::string& exact, const std::vector<std::string>& coefficients,
               const std::string& diffusion = "") {
    u = std::make_shared<pde::Expression>(pde::Expression::parse(exact, {"x", "y"}));
    c.resize(6);
    for (std::size_t k = 0; k < coefficients.size() && k < 6; ++k)
      if (!coefficients[k].empty())
        c[k] = std::make_shared<pde::Expression>(pde::Expression::parse(coefficients[k], {"x", "y"}));
    if (!diffusion.empty())
      a = std::make_shared<pde::Expression>(pde::Expression::parse(diffusion, {"x", "y"}));
  }

  double exact(double x, double y) const { return jet(*u, x, y).u; }

  /// f = -div(a grad u) + sum_k c_k D_k u at (x, y).
  double source(double x, double y) const {
    const Jet2 U = jet(*u, x, y);
    const double d[6] = {U.u, U.ux, U.uy, U.uxx, U.uyy, U.uxy};
    double f = 0;
    for (int k = 0; k < 6; ++k)
      if (c[k]) f += jet(*c[k], x, y).u * d[k];
    if (a) {
      const Jet2 A = jet(*a, x, y);
      f -= A.u * (U.uxx + U.uyy) + A.ux * U.ux + A.uy * U.uy;
    }
    return f;
  }

  /// The problem on `geometry` without conditions.
  FdProblem problem(const mesh::Geometry& geometry) const {
    FdProblem p;
    p.geometry = &geometry;
    for (int k = 0; k < 6; ++k)
      if (c[k]) {
        auto e = c[k];
        p.coefficient[k] = [e](double x, double y) { return jet(*e, x, y).u; };
      }
    if (a) {
      auto e = a;
      p.diffusion = [e](double x, double y) { return jet(*e, x, y).u; };
    }
    auto self = std::make_shared<Manufactured>(*this);
    p.source = [self](double x, double y) { return self->source(x, y); };
    return p;
  }

  /// alpha u + beta du/dn with n the outward normal of Omega: the side's own normal on
  /// the sides of an unnamed box (left, right, bottom, top; exact at its corners too),
  /// geometry.normal(x, y) on every other part.
  Fn2 boundary_value(const mesh::Geometry& geometry, double alpha, double beta,
                     const std::string& part = "") const {
    auto e = u;
    const mesh::Geometry* g = &geometry;
    double fixed[2] = {0, 0};
    if (part == "left") fixed[0] = -1;
    if (part == "right") fixed[0] = 1;
    if (part == "bottom") fixed[1] = -1;
    if (part == "top") fixed[1] = 1;
    const bool side = fixed[0] != 0 || fixed[1] != 0;
    const double fx = fixed[0], fy = fixed[1];
    return [e, g, alpha, beta, side, fx, fy](double x, double y) {
      const Jet2 U = jet(*e, x, y);
      const mesh::Point n = side ? mesh::Point{fx, fy, 0} : g->normal(mesh::Point{x, y, 0});
      return alpha * U.u + beta * (n[0] * U.ux + n[1] * U.uy);
    };
  }

  FdCondition dirichlet(const mesh::Geometry& g, const std::string& part) const {
    return FdCondition{g.part_id(part), FdConditionKind::dirichlet, boundary_value(g, 1, 0)};
  }
  FdCondition neumann(const mesh::Geometry& g, const std::string& part) const {
    return FdCondition{g.part_id(part), FdConditionKind::neumann, boundary_value(g, 0, 1, part)};
  }
  FdCondition robin(const mesh::Geometry& g, const std::string& part, double alpha, double beta) const {
    return FdCondition{g.part_id(part), FdConditionKind::robin, boundary_value(g, alpha, beta, part), alpha, beta};
  }

  /// sqrt(mean (u_h - u)^2) over the nodes of the solution's mask (discrete L2 norm
  /// divided by sqrt |Omega|).
  double rms_error(const FdSolution& s) const {
    double e = 0;
    long count = 0;
    for (int i = 0; i < s.grid.n; ++i)
      for (int j = 0; j < s.grid.n; ++j)
        if (s.mask(i, j) > 0) {
          const double d = s.u(i, j) - exact(s.grid.x(j), s.grid.y(i));
          e += d * d;
          ++count;
        }
    return std::sqrt(e / std::max<long>(count, 1));
  }

  /// max |u_h - u| over the nodes of the solution's mask.
  double max_error(const FdSolution& s) const {
    double e = 0;
    for (int i = 0; i < s.grid.n; ++i)
      for (int j = 0; j < s.grid.n; ++j)
        if (s.mask(i, j) > 0) e = std::max(e, std::abs(s.u(i, j) - exact(s.grid.x(j), s.grid.y(i))));
    return e;
  }
};

}  // namespace kpde::data::testing
