#pragma once
/// data::Problem: the PDE every kpde method solves (docs/design.md 2 and 3.7), as loaded
/// from the `problem:` section of a config (docs/config.md).
///
///   R[u](x) = f(x)  in Omega (a mesh::Geometry in d = 1..3 dimensions)
///   R linear:    R[u] = sum_k c_k(x) D_k u, D_k in {u, u_x, u_y, u_z, u_xx, u_yy, u_zz,
///                u_xy, u_xz, u_yz} (the family of docs/design.md 3.7, extended to 1-3 axes)
///   R nonlinear: an expression over u, its first and second derivatives and x
///                (e.g. Burgers `u_y + u*u_x - 0.01/pi*u_xx`, y is time)
///   boundary conditions per part: Dirichlet u = g, Neumann du/dn = g (outward n),
///   Robin alpha u + beta du/dn = g. With a time axis t (one of the box axes), the
///   initial value u = g0 and rate u_t = g1 on the side t = t_lo are conditions on that
///   side (Dirichlet, and Neumann with value -g1 since n = -e_t there); the side
///   t = t_hi has none.
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "data/field.hpp"
#include "mesh/geometry.hpp"
#include "mesh/raster.hpp"

namespace kpde::data {

/// A derivative D u: order 0 (u), 1 (u_i) or 2 (u_ij, i <= j). Axes 0, 1, 2 = x, y, z.
struct Derivative {
  int order = 0;
  int i = -1, j = -1;
  /// "u", "u_x", "u_xy", ... (of the unknown `field`: "v", "v_x", ...)
  std::string name(const std::string& field = "u") const;
  bool operator==(const Derivative& o) const { return order == o.order && i == o.i && j == o.j; }
};

/// All derivatives up to second order in d dimensions, in a fixed order:
/// u, u_x.., then u_xx, u_yy, u_zz, then u_xy, u_xz, u_yz (those that exist for d).
std::vector<Derivative> all_derivatives(int dim);

/// One term c(x) D u of a linear operator.
struct LinearTerm {
  Derivative derivative;
  Field coefficient;
};

/// One boundary condition on one boundary part.
struct Condition {
  int part = -1;                       ///< Geometry part id
  int field = 0;                       ///< the unknown it constrains (Problem::fields; 0 for u)
  std::string part_name;
  mesh::BoundaryKind kind = mesh::BoundaryKind::dirichlet;
  Field value;                         ///< g
  double alpha = 1, beta = 1;          ///< Robin: alpha u + beta du/dn = g
  double weight = 1;                   ///< loss weight of this condition's points
  bool initial = false;                ///< came from the `initial:` section
  std::string where;                   ///< config location, for messages
};

/// A gridded reference solution to compare with (e.g. the HyPINO paper's arrays).
struct GridReference {
  std::shared_ptr<const GridData> solution;
  std::shared_ptr<const GridData> mask;  ///< may be null: mask from the geometry
};

/// A reference solution at scattered points (published references often come so): the
/// method is evaluated at the points themselves, nothing is interpolated.
struct PointReference {
  std::string origin;             ///< the file, for messages and metrics
  std::vector<double> points;     ///< [n][dim], row-major
  std::vector<double> u;          ///< [n]
  std::size_t size() const { return u.size(); }
};

/// A system's reference at scattered points (e.g. the centre-line tables of Ghia et al.):
/// one table, the fields it has a column for.
struct FieldPointReference {
  std::string origin;                                   ///< the file
  std::vector<double> points;                           ///< [n][dim], row-major
  std::vector<std::pair<int, std::vector<double>>> values;  ///< (field, [n]) per column
};

/// An exact solution known by its values only (no expression, so no derivatives): the
/// Cole-Hopf solution of the viscous Burgers benchmark.
struct NamedReference {
  std::string description;  ///< "Cole-Hopf solution of viscous Burgers, nu = 0.00318"
  /// u at points x [n][dim] into u[n].
  std::function<void(const Mat<const double>& x, double* u)> values;
};

/// A value of one field at one point of the closure of Omega (`pins:`; a system's pressure
/// gauge): a Dirichlet condition at a point, in the Dirichlet loss term.
struct Pin {
  int field = 0;
  mesh::Point x{};
  double value = 0;
  double weight = 1;
  std::string where;
};

/// One equation of a system of PDEs: r(fields, their derivatives, x) = 0 in Omega.
struct Equation {
  std::string name;                               ///< its loss term's name ("momentum_x")
  std::shared_ptr<const pde::Expression> residual;  ///< over Problem::system_variables()
  std::string where;                              ///< config location, for messages
};

/// The problem. Shared, immutable after load.
struct Problem {
  std::string name;
  std::shared_ptr<const mesh::Geometry> geometry;
  int dim = 2;
  int time_axis = -1;                  ///< -1, or the axis that is time
  bool nonlinear = false;
  std::vector<LinearTerm> terms;       ///< linear operator (nonzero terms only)
  /// a of a divergence term -div(a grad u) (over the axes that are not time) of a linear
  /// operator (`operator.diffusion`), or absent.
  std::optional<Field> diffusion;
  std::shared_ptr<const pde::Expression> residual;  ///< nonlinear operator
  /// Variables of `residual`, in order: the names of all_derivatives(dim), then the
  /// first dim of x, y, z.
  std::vector<std::string> residual_variables;
  Field source;
  std::vector<Condition> conditions;
  std::optional<Field> exact;
  std::optional<GridReference> reference;
  std::string reference_solver;        ///< "petsc" when asked for, else ""
  std::optional<PointReference> point_reference;
  std::optional<NamedReference> named_reference;
  /// Systems (`fields:` and `equations:` in the config; docs/config.md): the unknowns in
  /// the network's output order, the equations (every one an expression over the
  /// unknowns' derivatives and x), the exact solution per unknown (may be absent).
  /// Empty for a scalar problem, whose one unknown is u (`operator:`, `source:`).
  std::vector<std::string> fields;
  std::vector<Equation> equations;
  std::vector<std::optional<Field>> field_exact;  ///< [fields.size()]
  std::vector<Pin> pins;                          ///< point values of fields (systems only)
  std::vector<FieldPointReference> field_points;  ///< a system's point references

  /// True for a system (`fields:` given), whatever its number of unknowns.
  bool is_system() const { return !fields.empty(); }
  /// The number of unknowns (1 for a scalar problem).
  int n_fields() const { return is_system() ? static_cast<int>(fields.size()) : 1; }
  /// The unknowns' names ({"u"} for a scalar problem).
  std::vector<std::string> field_names() const { return is_system() ? fields : std::vector<std::string>{"u"}; }
  /// Variables of a system's equations, in order: for every field f the names of
  /// all_derivatives(dim) spelt with f (f, f_x, .., f_xx, ..), then x, y, z (first dim).
  std::vector<std::string> system_variables() const;

  /// Derivatives the operator needs (linear: its terms; nonlinear: the variables the
  /// expression depends on).
  std::vector<Derivative> operator_derivatives() const;
  /// The linear operator as terms c_k D_k u: `terms`, then the divergence term expanded,
  ///   -div(a grad u) = sum_i (-a) u_ii + (-a_i) u_i   (i over the axes that are not time;
  ///   the a_i terms only when a varies).
  std::vector<LinearTerm> linear_terms() const;
  /// True when every linear coefficient (of linear_terms()) is constant.
  bool constant_coefficients() const;
  /// Coefficient of derivative D in `terms` (null when absent; the divergence term is
  /// not among them); linear only.
  const Field* coefficient(const Derivative& d) const;
  /// Ids of the parts that carry at least one condition.
  std::vector<int> constrained_parts() const;
  /// A one-line summary ("2-D, linear: -1*u_xx -1*u_yy, 4 conditions").
  std::string describe() const;
};

/// Reads the `problem:` section (see docs/config.md). Errors are kpde::InputError
/// naming the config file, line, column and key.
Problem load_problem(config::Node section, const config::Document& doc);

/// Names of the variables of a field expression in d dimensions: x, y, z (first d).
std::vector<std::string> coordinate_names(int dim);

}  // namespace kpde::data
