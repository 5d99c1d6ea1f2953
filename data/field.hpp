#pragma once
/// data::Field: a scalar function of position used for sources, coefficients, boundary
/// values, initial data and exact solutions (docs/design.md 3.6): a constant, an expression
/// in x, y, z (exact first and second derivatives through pde::Expression), or data on
/// a uniform 2-D grid read from HDF5 and interpolated bilinearly.
#include <memory>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "mesh/primitive.hpp"
#include "pde/expression.hpp"

namespace kpde::data {

/// Samples of a field on the nodes of a uniform 2-D grid [x_lo, x_hi] x [y_lo, y_hi].
/// values[i][j] (row-major ny x nx) sits at x_j = x_lo + j hx and, with top_row_first,
/// y_i = y_hi - i hy (HyPINO's layout), else y_i = y_lo + i hy.
struct GridData {
  std::vector<double> values;
  int nx = 0, ny = 0;
  double x_lo = -1, x_hi = 1, y_lo = -1, y_hi = 1;
  bool top_row_first = true;
  std::string origin;  ///< "file.h5:dataset", for messages
  /// Bilinear interpolation; points outside the box are clamped to it.
  double operator()(double x, double y) const;
  /// d/dx (axis 0) or d/dy (axis 1) of that interpolant: piecewise linear, taken from
  /// the cell the point falls in (the cell below or left of it on a cell edge).
  double derivative(double x, double y, int axis) const;

 private:
  /// The cell of a point (clamped to the box): row i, column j, the local coordinates
  /// tx, ty in [0, 1] along j and i, and the spacings.
  struct Cell {
    int i = 0, j = 0;
    double tx = 0, ty = 0, hx = 1, hy = 1;
  };
  Cell cell(double x, double y) const;
};

/// A scalar field f(x) on R^d, d = 1..3 (2 for grid data).
class Field {
 public:
  enum class Kind { constant, expression, grid, derived };

  /// The constant 0.
  Field() = default;
  static Field constant(double value);
  /// An expression whose variables are the first d of {x, y, z}.
  static Field expression(pde::Expression expr);
  static Field grid(std::shared_ptr<const GridData> data);
  /// factor * f (axis < 0) or factor * df/dx_axis (axis 0..2; grid data: the derivative
  /// of its bilinear interpolant). Of a constant: a constant.
  static Field derived(const Field& f, int axis, double factor);

  Kind kind() const { return kind_; }
  /// True for a constant, and for an expression that loads no variable.
  bool is_constant() const;
  /// The value when is_constant().
  double constant_value() const;
  /// True when the field is the constant 0.
  bool is_zero() const { return is_constant() && constant_value() == 0.0; }

  /// f(x).
  double operator()(const mesh::Point& x) const;
  /// f at rows of x [n][d]; out has n entries.
  void values(const Mat<const double>& x, double* out) const;
  /// Whether jet() is available (constants, expressions and their multiples).
  bool has_derivatives() const;
  /// Value, gradient and Hessian with respect to x_0..x_{d-1} (exact).
  /// Throws kpde::Error for grid data.
  pde::Expression::Jet jet(const mesh::Point& x, int dim) const;
  /// A short description ("2*x", "0.5", "grid file.h5:src [224 x 224]").
  std::string describe() const;

 private:
  Kind kind_ = Kind::constant;
  double value_ = 0;
  std::shared_ptr<const pde::Expression> expr_;
  std::shared_ptr<const GridData> grid_;
  std::shared_ptr<const Field> parent_;  // derived: factor_ * parent_ or its derivative
  int axis_ = -1;
  double factor_ = 1;
};

}  // namespace kpde::data
