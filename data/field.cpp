#include "data/field.hpp"

#include "mesh/geometry.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace kpde::data {

GridData::Cell GridData::cell(double x, double y) const {
  Cell c;
  c.hx = (x_hi - x_lo) / (nx - 1), c.hy = (y_hi - y_lo) / (ny - 1);
  const double fj = (std::clamp(x, x_lo, x_hi) - x_lo) / c.hx;
  const double fi = top_row_first ? (y_hi - std::clamp(y, y_lo, y_hi)) / c.hy : (std::clamp(y, y_lo, y_hi) - y_lo) / c.hy;
  c.j = std::max(std::min(static_cast<int>(fj), nx - 2), 0), c.i = std::max(std::min(static_cast<int>(fi), ny - 2), 0);
  c.tx = fj - c.j, c.ty = fi - c.i;
  return c;
}

double GridData::operator()(double x, double y) const {
  const Cell c = cell(x, y);
  const int i = c.i, j = c.j;
  const double tx = c.tx, ty = c.ty;
  const auto v = [&](int r, int k) { return values[static_cast<std::size_t>(r) * nx + k]; };
  return (1 - ty) * ((1 - tx) * v(i, j) + tx * v(i, j + 1)) + ty * ((1 - tx) * v(i + 1, j) + tx * v(i + 1, j + 1));
}

double GridData::derivative(double x, double y, int axis) const {
  const Cell c = cell(x, y);
  const int i = c.i, j = c.j;
  const double tx = c.tx, ty = c.ty, hx = c.hx, hy = c.hy;
  const auto v = [&](int r, int k) { return values[static_cast<std::size_t>(r) * nx + k]; };
  if (axis == 0) return ((1 - ty) * (v(i, j + 1) - v(i, j)) + ty * (v(i + 1, j + 1) - v(i + 1, j))) / hx;
  // rows run down in y with top_row_first
  const double d_row = (1 - tx) * (v(i + 1, j) - v(i, j)) + tx * (v(i + 1, j + 1) - v(i, j + 1));
  return (top_row_first ? -d_row : d_row) / hy;
}

Field Field::derived(const Field& f, int axis, double factor) {
  if (f.is_constant()) return constant(axis < 0 ? factor * f.constant_value() : 0.0);
  Field d;
  d.kind_ = Kind::derived;
  d.parent_ = std::make_shared<const Field>(f);
  d.axis_ = axis;
  d.factor_ = factor;
  return d;
}

bool Field::has_derivatives() const {
  if (kind_ == Kind::derived) return axis_ < 0 && parent_->has_derivatives();
  return kind_ != Kind::grid;
}

Field Field::constant(double value) {
  Field f;
  f.kind_ = Kind::constant;
  f.value_ = value;
  return f;
}

Field Field::expression(pde::Expression expr) {
  Field f;
  if (expr.is_constant()) {
    f.kind_ = Kind::constant;
    f.value_ = expr.eval(nullptr);
    f.expr_ = std::make_shared<const pde::Expression>(std::move(expr));
    return f;
  }
  f.kind_ = Kind::expression;
  f.expr_ = std::make_shared<const pde::Expression>(std::move(expr));
  return f;
}

Field Field::grid(std::shared_ptr<const GridData> data) {
  Field f;
  f.kind_ = Kind::grid;
  f.grid_ = std::move(data);
  return f;
}

bool Field::is_constant() const { return kind_ == Kind::constant; }

double Field::constant_value() const {
  KPDE_ASSERT(kind_ == Kind::constant, "field is not constant");
  return value_;
}

double Field::operator()(const mesh::Point& x) const {
  switch (kind_) {
    case Kind::constant: return value_;
    case Kind::expression: return expr_->eval(x.data());
    case Kind::grid: return (*grid_)(x[0], x[1]);
    case Kind::derived:
      if (axis_ < 0) return factor_ * (*parent_)(x);
      if (parent_->kind_ == Kind::grid) return factor_ * parent_->grid_->derivative(x[0], x[1], axis_);
      return factor_ * parent_->jet(x, 3).grad[axis_];
  }
  return 0;
}

void Field::values(const Mat<const double>& x, double* out) const {
  const std::size_t n = x.extent(0), d = x.extent(1);
  switch (kind_) {
    case Kind::constant:
      std::fill(out, out + n, value_);
      return;
    case Kind::expression:
      if (static_cast<std::size_t>(expr_->n_variables()) <= d) {
        expr_->eval_many(n, x.data(), d, out);
        return;
      }
      break;
    case Kind::grid:
    case Kind::derived: break;
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = (*this)(mesh::row_point(x, static_cast<int>(i)));
}

pde::Expression::Jet Field::jet(const mesh::Point& x, int dim) const {
  pde::Expression::Jet j;
  if (kind_ == Kind::constant) {
    j.value = value_;
    return j;
  }
  if (kind_ == Kind::derived) {
    KPDE_REQUIRE(axis_ < 0, Error, "field: second derivatives of " + describe() + " are not available");
    j = parent_->jet(x, dim);
    j.value *= factor_;
    for (auto& g : j.grad) g *= factor_;
    for (auto& row : j.hess)
      for (auto& h : row) h *= factor_;
    return j;
  }
  if (kind_ == Kind::grid) throw Error("field: derivatives of grid data are not available (" + grid_->origin + ")");
  int active[3] = {0, 1, 2};
  expr_->eval_jet(x.data(), active, std::min(dim, expr_->n_variables()), j);
  return j;
}

std::string Field::describe() const {
  switch (kind_) {
    case Kind::constant: {
      if (expr_) return expr_->text();
      std::ostringstream s;
      s << value_;
      return s.str();
    }
    case Kind::expression: return expr_->text();
    case Kind::grid:
      return "grid " + grid_->origin + " [" + std::to_string(grid_->ny) + " x " + std::to_string(grid_->nx) + "]";
    case Kind::derived: {
      std::ostringstream s;
      if (factor_ != 1) s << factor_ << "*";
      if (axis_ < 0) s << "(" << parent_->describe() << ")";
      else s << "d(" << parent_->describe() << ")/d" << "xyz"[axis_];
      return s.str();
    }
  }
  return "?";
}

}  // namespace kpde::data
