#pragma once
/// Geometric primitives of kpde's CSG geometry (docs/design.md sections 1 and 3.7):
/// an axis-aligned box in 1 to 3 dimensions, and in 2-D a disk and a simple polygon
/// (rectangles are named boxes, triangles are polygons). Each primitive knows its
/// exact signed distance, the gradient of that distance (the outward unit normal on
/// its boundary), its boundary parts and a measure-uniform parametrisation of each
/// part, which the boundary sampler uses. Points are mesh::Point = {x, y, z}; the
/// coordinates past dim() are ignored and written as 0.
/// Not done yet: ellipses, 3-D spheres/cylinders, curved polygon edges.
#include <array>
#include <string>
#include <vector>

namespace kpde::mesh {

/// A point or vector in up to 3 dimensions: {x, y, z}; unused trailing entries are 0.
using Point = std::array<double, 3>;
/// A 2-D vertex {x, y}.
using Vertex = std::array<double, 2>;

/// One primitive shape: a closed set Omega with boundary split into n_parts() parts.
/// Implementations are immutable after construction and thread-safe to evaluate.
class Primitive {
 public:
  virtual ~Primitive() = default;

  /// Spatial dimension d (1, 2 or 3).
  virtual int dim() const = 0;
  /// The name the user gave this shape ("" for an unnamed box, whose sides are parts).
  virtual const std::string& name() const = 0;
  /// A short description for messages, e.g. "disk 'disk1'".
  virtual std::string describe() const = 0;

  /// Exact signed distance phi(x) = -dist(x, boundary) inside, +dist outside, 0 on it.
  virtual double sdf(const Point& x) const = 0;
  /// grad phi(x), a unit vector: on the boundary the outward unit normal; at a corner
  /// or a medial-axis point one of the one-sided gradients. `local_part` (if not null)
  /// receives the index in [0, n_parts()) of the part closest to x.
  virtual Point gradient(const Point& x, int* local_part) const = 0;

  /// Number of boundary parts: 2d for an unnamed box (sides), 1 otherwise.
  virtual int n_parts() const = 0;
  /// Name of part k: "left","right","bottom","top","front","back" for the sides of an
  /// unnamed box (x-, x+, y-, y+, z-, z+), the shape's name otherwise.
  virtual std::string part_name(int k) const = 0;
  /// (d-1)-dimensional measure of part k: length in 2-D, area in 3-D, and in 1-D the
  /// number of end points it holds (counting measure).
  virtual double part_measure(int k) const = 0;
  /// Dimension p of the parameter square [0,1)^p of part_point: max(1, d - 1).
  int param_dim() const { return dim() > 1 ? dim() - 1 : 1; }
  /// The point of part k at parameter u in [0,1)^param_dim() (u has param_dim()
  /// entries); u uniform on the square gives points uniform in the part's measure.
  /// `normal` (if not null) receives the outward unit normal of the primitive there.
  virtual Point part_point(int k, const double* u, Point* normal) const = 0;

  /// Axis-aligned bounding box [lo, hi] of the shape (entries past dim() are 0).
  virtual void bounds(Point* lo, Point* hi) const = 0;
};

/// Axis-aligned box [lo_0, hi_0] x ... in d = lo.size() dimensions (1 to 3).
///   phi(x) = |max(q, 0)|_2 + min(max_i q_i, 0),  q_i = |x_i - c_i| - h_i,
/// with centre c and half sizes h. Unnamed: one part per side (2d parts, named as in
/// Primitive::part_name); named (a rectangle or a box-shaped hole): one part, the name.
class Box final : public Primitive {
 public:
  /// Throws kpde::InputError when the dimensions differ or are not 1-3, an entry is
  /// not finite, or lo_i >= hi_i (the message names the shape).
  /// `kind` names a named box in messages ("box", "rectangle").
  Box(std::vector<double> lo, std::vector<double> hi, std::string name = "",
      std::string kind = "box");
  int dim() const override { return dim_; }
  const std::string& name() const override { return name_; }
  std::string describe() const override;
  double sdf(const Point& x) const override;
  Point gradient(const Point& x, int* local_part) const override;
  int n_parts() const override { return name_.empty() ? 2 * dim_ : 1; }
  std::string part_name(int k) const override;
  double part_measure(int k) const override;
  Point part_point(int k, const double* u, Point* normal) const override;
  void bounds(Point* lo, Point* hi) const override;
  /// Measure of side s = 2 * axis + (0 for the low side, 1 for the high side).
  double side_measure(int s) const;

 private:
  Point side_point(int s, const double* u, Point* normal) const;
  int dim_;
  Point lo_{}, hi_{};
  std::string name_, kind_;
};

/// Disk |x - c| <= r in 2-D: phi(x) = |x - c| - r; one part, the name.
class Disk final : public Primitive {
 public:
  /// Throws kpde::InputError on an empty name, r <= 0 or non-finite values.
  Disk(std::string name, double cx, double cy, double r);
  int dim() const override { return 2; }
  const std::string& name() const override { return name_; }
  std::string describe() const override;
  double sdf(const Point& x) const override;
  Point gradient(const Point& x, int* local_part) const override;
  int n_parts() const override { return 1; }
  std::string part_name(int) const override { return name_; }
  double part_measure(int) const override;
  /// u in [0,1): the point at angle 2 pi u, c + r (cos, sin).
  Point part_point(int k, const double* u, Point* normal) const override;
  void bounds(Point* lo, Point* hi) const override;
  /// Centre (cx, cy) and radius r.
  Vertex center() const { return {cx_, cy_}; }
  double radius() const { return r_; }

 private:
  std::string name_;
  double cx_, cy_, r_;
};

/// Simple polygon in 2-D, given in either orientation (stored counter-clockwise):
/// phi(x) = +-min_e dist(x, e) over its edges e, negative where the crossing number
/// is odd. One part, the name; every edge belongs to it. A closing vertex equal to the
/// first one is dropped.
class Polygon final : public Primitive {
 public:
  /// `kind` names the shape in messages ("polygon", "triangle"). Throws
  /// kpde::InputError (naming the shape) on an empty name, fewer than 3 vertices,
  /// non-finite or repeated consecutive vertices, all vertices on one line or zero
  /// area (|A| <= 1e-12 diam^2), or self-intersection (two non-adjacent edges touch,
  /// or adjacent edges fold back onto each other).
  Polygon(std::string name, std::vector<Vertex> vertices, std::string kind = "polygon");
  int dim() const override { return 2; }
  const std::string& name() const override { return name_; }
  std::string describe() const override;
  double sdf(const Point& x) const override;
  /// On an edge interior (closest point strictly inside an edge) the edge's outward
  /// normal, exactly; near a vertex (x - closest vertex) / distance, signed.
  Point gradient(const Point& x, int* local_part) const override;
  int n_parts() const override { return 1; }
  std::string part_name(int) const override { return name_; }
  double part_measure(int) const override { return cumulative_.back(); }
  /// u in [0,1): the point at arc length u * perimeter from vertex 0, counter-clockwise.
  Point part_point(int k, const double* u, Point* normal) const override;
  void bounds(Point* lo, Point* hi) const override;
  /// The vertices, counter-clockwise.
  const std::vector<Vertex>& vertices() const { return v_; }
  /// Signed area of the input as given (> 0: it was counter-clockwise).
  double input_signed_area() const { return input_area_; }

 private:
  std::string name_, kind_;
  std::vector<Vertex> v_;
  std::vector<double> cumulative_;  // arc length at vertex i, cumulative_[n] = perimeter
  double input_area_ = 0;
};

}  // namespace kpde::mesh
