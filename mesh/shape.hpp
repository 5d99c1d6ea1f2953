#pragma once
/// CSG shapes: a tree whose leaves are primitives (mesh/primitive.hpp) and whose inner
/// nodes are union, difference and intersection. A Shape is a cheap immutable handle
/// (shared ownership of the tree); geometry queries happen on the compiled
/// mesh::Geometry. Set semantics on closed sets: A | B = A u B, A - B = A \ B (B is a
/// hole; its boundary faces the domain from outside), A & B = A n B.
/// Signed distance combination (Geometry::sdf): union min(a, b), intersection
/// max(a, b), difference max(a, -b). These keep the sign exact (inside <=> phi < 0)
/// but |phi| is only a lower bound of the true distance away from where a single
/// primitive is closest (inside a union, outside an intersection, near corners made
/// by two primitives).
#include <memory>
#include <string>
#include <vector>

#include "mesh/primitive.hpp"

namespace kpde::mesh {

class Shape {
 public:
  /// What a node of the tree is.
  enum class Op { primitive, unite, subtract, intersect };

  /// A leaf around one primitive.
  explicit Shape(std::shared_ptr<const Primitive> primitive);

  /// The kind of this node.
  Op op() const;
  /// Spatial dimension of the shape (all leaves share it).
  int dim() const;
  /// For op() == primitive: the primitive; null otherwise.
  const std::shared_ptr<const Primitive>& primitive() const;
  /// For a CSG node: operand 0 (left) or 1 (right); for A - B, operand 1 is B.
  const Shape& operand(int i) const;
  /// A readable one-line form, e.g. "(box - disk 'd1')".
  std::string describe() const;

  /// Builds a CSG node. Throws kpde::InputError when the dimensions differ.
  static Shape combine(Op op, const Shape& a, const Shape& b);

 private:
  struct Node;
  explicit Shape(std::shared_ptr<const Node> node);
  std::shared_ptr<const Node> node_;
};

/// Axis-aligned box [lo_0,hi_0] x ... in 1-3 dimensions (lo, hi of equal length 1-3).
/// Unnamed (""): its sides are the parts left/right (x), bottom/top (y), front/back
/// (z low/high). Named: one part with that name (a box-shaped hole or insert).
/// Throws kpde::InputError on lo_i >= hi_i, non-finite values or a bad dimension.
Shape box(const std::vector<double>& lo, const std::vector<double>& hi,
          const std::string& name = "");
/// Disk |x - (cx, cy)| <= r (2-D), one part `name`. Throws kpde::InputError on r <= 0.
Shape disk(const std::string& name, double cx, double cy, double r);
/// Rectangle [x0, x1] x [y0, y1] (2-D), one part `name` (all four edges).
/// Throws kpde::InputError unless x0 < x1 and y0 < y1.
Shape rectangle(const std::string& name, double x0, double y0, double x1, double y1);
/// Triangle abc (2-D, either orientation), one part `name`.
/// Throws kpde::InputError when it has zero area.
Shape triangle(const std::string& name, const Vertex& a, const Vertex& b, const Vertex& c);
/// Simple polygon through `vertices` (2-D, either orientation, not closed or closed by
/// repeating vertex 0), one part `name` holding every edge. Throws kpde::InputError
/// (naming it) with fewer than 3 vertices, zero area or self-intersection.
Shape polygon(const std::string& name, const std::vector<Vertex>& vertices);

/// a u b. Throws kpde::InputError when the dimensions differ.
Shape unite(const Shape& a, const Shape& b);
/// a \ b: b is a hole (or cut). Throws kpde::InputError when the dimensions differ.
Shape subtract(const Shape& a, const Shape& b);
/// a n b. Throws kpde::InputError when the dimensions differ.
Shape intersect(const Shape& a, const Shape& b);
/// Operator forms: a | b = unite, a - b = subtract, a & b = intersect.
inline Shape operator|(const Shape& a, const Shape& b) { return unite(a, b); }
inline Shape operator-(const Shape& a, const Shape& b) { return subtract(a, b); }
inline Shape operator&(const Shape& a, const Shape& b) { return intersect(a, b); }

}  // namespace kpde::mesh
