#include "mesh/shape.hpp"

#include <sstream>

#include "core/error.hpp"

namespace kpde::mesh {

struct Shape::Node {
  Op op = Op::primitive;
  int dim = 0;
  std::shared_ptr<const Primitive> primitive;
  std::shared_ptr<const Shape> a, b;
};

Shape::Shape(std::shared_ptr<const Primitive> primitive) {
  KPDE_ASSERT(primitive, "Shape: null primitive");
  auto n = std::make_shared<Node>();
  n->dim = primitive->dim();
  n->primitive = std::move(primitive);
  node_ = std::move(n);
}

Shape::Shape(std::shared_ptr<const Node> node) : node_(std::move(node)) {}

Shape::Op Shape::op() const { return node_->op; }
int Shape::dim() const { return node_->dim; }
const std::shared_ptr<const Primitive>& Shape::primitive() const { return node_->primitive; }
const Shape& Shape::operand(int i) const {
  KPDE_ASSERT(node_->op != Op::primitive && (i == 0 || i == 1), "Shape::operand");
  return i == 0 ? *node_->a : *node_->b;
}

std::string Shape::describe() const {
  switch (node_->op) {
    case Op::primitive: return node_->primitive->describe();
    case Op::unite: return "(" + node_->a->describe() + " | " + node_->b->describe() + ")";
    case Op::subtract: return "(" + node_->a->describe() + " - " + node_->b->describe() + ")";
    case Op::intersect: return "(" + node_->a->describe() + " & " + node_->b->describe() + ")";
  }
  return "";
}

Shape Shape::combine(Op op, const Shape& a, const Shape& b) {
  KPDE_ASSERT(op != Op::primitive, "Shape::combine needs a CSG operation");
  if (a.dim() != b.dim())
    throw InputError("geometry: cannot combine a " + std::to_string(a.dim()) + "-D shape (" +
                     a.describe() + ") with a " + std::to_string(b.dim()) + "-D shape (" +
                     b.describe() + ")");
  auto n = std::make_shared<Node>();
  n->op = op;
  n->dim = a.dim();
  n->a = std::make_shared<const Shape>(a);
  n->b = std::make_shared<const Shape>(b);
  return Shape(std::shared_ptr<const Node>(std::move(n)));
}

Shape box(const std::vector<double>& lo, const std::vector<double>& hi, const std::string& name) {
  return Shape(std::make_shared<const Box>(lo, hi, name));
}

Shape disk(const std::string& name, double cx, double cy, double r) {
  return Shape(std::make_shared<const Disk>(name, cx, cy, r));
}

Shape rectangle(const std::string& name, double x0, double y0, double x1, double y1) {
  if (name.empty()) throw InputError("geometry: a rectangle needs a name (its boundary part)");
  if (!(x0 < x1) || !(y0 < y1))
  {
    std::ostringstream s;
    s << "geometry: rectangle '" << name << "': needs x0 < x1 and y0 < y1, got [" << x0 << ", "
      << x1 << "] x [" << y0 << ", " << y1 << "]";
    throw InputError(s.str());
  }
  return Shape(std::make_shared<const Box>(std::vector<double>{x0, y0},
                                           std::vector<double>{x1, y1}, name, "rectangle"));
}

Shape triangle(const std::string& name, const Vertex& a, const Vertex& b, const Vertex& c) {
  return Shape(std::make_shared<const Polygon>(name, std::vector<Vertex>{a, b, c}, "triangle"));
}

Shape polygon(const std::string& name, const std::vector<Vertex>& vertices) {
  return Shape(std::make_shared<const Polygon>(name, vertices, "polygon"));
}

Shape unite(const Shape& a, const Shape& b) { return Shape::combine(Shape::Op::unite, a, b); }
Shape subtract(const Shape& a, const Shape& b) { return Shape::combine(Shape::Op::subtract, a, b); }
Shape intersect(const Shape& a, const Shape& b) { return Shape::combine(Shape::Op::intersect, a, b); }

}  // namespace kpde::mesh
