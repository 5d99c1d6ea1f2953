#pragma once
/// The linear PDE problem solved by the PETSc finite-difference reference solver
/// (data/reference/reference_solver.hpp), docs/design.md 3.7 and 3.8:
///
///   L[u] = -div(a grad u) + c_u u + c_ux u_x + c_uy u_y + c_uxx u_xx + c_uyy u_yy
///          + c_uxy u_xy = f                                   in Omega (2-D),
///
/// with one condition per boundary part of Omega:
///   Dirichlet  u = g,   Neumann  du/dn = g (n the outward unit normal of Omega),
///   Robin      alpha u + beta du/dn = g.
/// Every coefficient, a, f and g may vary in space (plain C++ callables of (x, y)).
///
/// A nonlinear problem replaces L by a residual expression R (FdProblem::residual):
///   R(u, u_x, u_y, u_xx, u_yy, u_xy, x, y) = f  in Omega, with the same conditions.
///
/// Time problems (time_axis = 1): y is time t on [y_lo, y_hi] of a box domain. The
/// conditions on the bottom side (t = y_lo) are the initial data: Dirichlet there is
/// u(x, t0) = g, Neumann there is du/dn = -u_t(x, t0) = g (the initial rate, needed
/// by hyperbolic problems only). The top side (t = y_hi) takes no condition.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "mesh/geometry.hpp"
#include "pde/expression.hpp"

namespace kpde::data {

/// A scalar field f(x, y). Must be thread-safe (the solver may call it concurrently)
/// and finite wherever it is evaluated (grid nodes, boundary crossings, midpoints).
using Fn2 = std::function<double(double x, double y)>;

/// Kind of a boundary condition.
enum class FdConditionKind { dirichlet, neumann, robin };

/// One boundary condition on part `part` (a mesh::Geometry part id):
///   dirichlet: u = value;  neumann: du/dn = value;
///   robin: alpha u + beta du/dn = value (beta = 0 acts as Dirichlet u = value/alpha,
///   alpha = 0 as Neumann du/dn = value/beta).
/// n is the outward unit normal of Omega (mesh::Geometry::normal), which on a hole
/// points into the hole.
struct FdCondition {
  int part = 0;
  FdConditionKind kind = FdConditionKind::dirichlet;
  Fn2 value;                 ///< g(x, y), evaluated on the boundary; empty means 0
  double alpha = 1, beta = 1;  ///< Robin weights (ignored for dirichlet/neumann)
};

/// Index of each coefficient in FdProblem::coefficient.
enum FdCoefficient : int { c_u = 0, c_ux = 1, c_uy = 2, c_uxx = 3, c_uyy = 4, c_uxy = 5 };

/// A linear problem for solve_reference(), as in the file comment.
/// Elliptic problems (time_axis = -1) need exactly one condition on every part of
/// Omega's boundary that the grid sees; time problems need exactly one condition on
/// each side x = x_lo, x = x_hi, a Dirichlet condition on the bottom (u at t0), a
/// Neumann condition on the bottom as well for hyperbolic problems (the initial rate),
/// and none on the top.
struct FdProblem {
  const mesh::Geometry* geometry = nullptr;  ///< Omega, 2-D; not owned
  /// c_u, c_ux, c_uy, c_uxx, c_uyy, c_uxy (index with FdCoefficient); empty means 0.
  std::array<Fn2, 6> coefficient;
  /// a(x, y) > 0 of the divergence term -div(a grad u); empty: no such term.
  Fn2 diffusion;
  /// f(x, y); empty means 0.
  Fn2 source;
  /// Any number per part (e.g. Dirichlet + Neumann on the initial line of a wave).
  std::vector<FdCondition> conditions;
  /// -1: no time axis (elliptic); 1: y is time (initial data on the bottom side).
  int time_axis = -1;
  /// Optional: Omega as a node mask of the solver's internal grid instead of the
  /// geometry's shape (the geometry then only gives the bounding box): [N][N] with N the
  /// internal nodes per axis ((n - 1) refine + 1), row i at y_i (row 0 at y_lo), non-zero
  /// in Omega. A mask node whose four axis neighbours exist and are in the mask takes
  /// the interior row (5-point stencil); every other mask node is a Dirichlet node with
  /// u = 0 and every node outside the mask is outside Omega (u = 0, FdSolution::mask
  /// 0). The conditions are then not used. Elliptic problems without u_xy only.
  std::vector<std::uint8_t> grid_mask;
  /// Optional: a nonlinear operator R over the 8 variables u, u_x, u_y, u_xx, u_yy, u_xy,
  /// x, y in that order (the FdCoefficient order, then the point), solved by Newton;
  /// `coefficient` and `diffusion` must then be empty. Not owned beyond the shared pointer.
  std::shared_ptr<const pde::Expression> residual;
};

}  // namespace kpde::data
