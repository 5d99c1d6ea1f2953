#pragma once
/// mesh::Geometry: a CSG shape (mesh/shape.hpp) compiled for fast queries, with its
/// table of named boundary parts. This is the domain Omega of a problem
/// (docs/design.md 3.7): signed distance phi, inside test, outward normals, closest
/// boundary part, bounding box, an estimate of |Omega| and of the length of every part
/// that actually lies on the boundary of Omega. Thread-safe after construction (all
/// queries are const and allocate nothing for trees up to 32 levels deep).
#include <string>
#include <vector>

#include "core/types.hpp"
#include "mesh/shape.hpp"

namespace kpde::mesh {

/// Settings of the checks and estimates done when a Geometry is built.
struct GeometryOptions {
  /// Sobol points of the bounding box used to detect an empty domain and to estimate
  /// |Omega| (measure()); a domain smaller than about |box| / n_volume_samples may be
  /// reported empty.
  int n_volume_samples = 1 << 14;
  /// Cells per boundary part used to estimate part lengths and to find where a part
  /// lies on the domain boundary (a square number for 3-D parts: 64 x 64). A piece of a
  /// part shorter than measure / n_boundary_cells may be missed.
  int n_boundary_cells = 4096;
  /// false: a named shape none of whose boundary lies on the domain boundary (a hole
  /// outside the box or inside another hole, a shape swallowed by a union) is an
  /// error. Sides of an unnamed box may always have zero length (the part then exists,
  /// part_length() is 0 and part_id() refuses it).
  bool allow_unused_parts = false;
};

/// A compiled CSG domain Omega in d = 1..3 dimensions.
///
/// Signed distance (negative inside): primitives exact; union min(a,b), intersection
/// max(a,b), difference max(a,-b). The sign is exact (x in the open interior <=>
/// phi(x) < 0), |phi| is a lower bound of dist(x, boundary) where the combination is not
/// exact (see mesh/shape.hpp). The "active" leaf of x is the primitive whose value the
/// min/max chain selects (ties: the left operand); it gives the closest part and the
/// normal n(x) = s * grad phi_leaf(x) with s = -1 for a leaf reached through the right
/// side of an odd number of differences (a hole: its normal points into the hole, out
/// of Omega), +1 otherwise.
///
/// Boundary parts get integer ids 0..n_parts()-1 in left-to-right order of the tree's
/// leaves, an unnamed box contributing its sides (left, right, bottom, top, front,
/// back, first 2d of them). Part names are unique.
class Geometry {
 public:
  /// Compiles `root`. Throws kpde::InputError when a part name repeats, the bounding
  /// box is empty, the domain is empty (no interior point among
  /// options.n_volume_samples Sobol points of the bounding box; the message names the
  /// holes, e.g. "geometry: the domain is empty: the holes 'big' cover the whole box
  /// [-1,1]x[-1,1]"), or (unless allowed) a named shape has zero boundary length.
  explicit Geometry(const Shape& root, const GeometryOptions& options = {});

  /// Spatial dimension d.
  int dim() const { return dim_; }
  /// The shape this geometry was built from.
  const Shape& shape() const { return root_; }
  /// Bounding box [lo, hi] of Omega (union: hull, intersection: overlap, A - B: A's).
  const Point& lo() const { return lo_; }
  const Point& hi() const { return hi_; }
  /// Diagonal length of the bounding box, the length scale of tolerances.
  double scale() const { return scale_; }

  /// Number of boundary parts.
  int n_parts() const { return static_cast<int>(parts_.size()); }
  /// Name of part `id` (0 <= id < n_parts()).
  const std::string& part_name(int id) const;
  /// All part names, indexed by id.
  const std::vector<std::string>& part_names() const { return names_; }
  /// Id of the part called `name`, or -1.
  int find_part(const std::string& name) const;
  /// Id of the part called `name`, for attaching a boundary condition. Throws
  /// kpde::InputError when there is no such part (listing the existing ones) or when
  /// it has zero length on the domain boundary.
  int part_id(const std::string& name) const;
  /// Estimated (d-1)-measure of the portion of part `id` that lies on the boundary of
  /// Omega (length in 2-D, area in 3-D, number of end points in 1-D): the part's full
  /// measure times the fraction of n_boundary_cells equally spaced parameter points
  /// that pass on_boundary(). Exact for parts fully on the boundary.
  double part_length(int id) const;

  /// |Omega| estimated at construction: |box| * (fraction of n_volume_samples Sobol
  /// points inside).
  double measure() const { return measure_; }
  /// |Omega| estimated with n_samples unscrambled Sobol points (point 0 skipped) of
  /// the bounding box; error about |box| / n_samples for smooth boundaries.
  double estimate_measure(int n_samples) const;

  /// phi(x) as in the class comment.
  double sdf(const Point& x) const;
  /// x in the open interior: phi(x) < 0.
  bool inside(const Point& x) const { return sdf(x) < 0; }
  /// Unit outward normal of Omega at a boundary point x (the gradient of phi at any
  /// other point, from the active leaf), as in the class comment.
  Point normal(const Point& x) const;
  /// Id of the boundary part closest to x (from the active leaf; for a box, its side
  /// with the largest q_i = |x_i - c_i| - h_i).
  int closest_part(const Point& x) const;

  /// Batched phi: x is [n][dim] (LayoutRight), out is [n]. Kokkos host parallel from
  /// 4096 points on, a plain loop below.
  void sdf(const Mat<const double>& x, const Vec<double>& out) const;
  /// Batched normal(): x [n][dim], out [n][dim].
  void normals(const Mat<const double>& x, const Mat<double>& out) const;
  /// Batched closest_part(): x [n][dim], out [n].
  void closest_parts(const Mat<const double>& x, const Vec<int>& out) const;

  // ---- boundary parametrisation (used by mesh::sample_boundary)
  /// Dimension p of the parameter square of part `id`: max(1, d - 1).
  int param_dim(int id) const;
  /// Cells per parameter axis of part `id`; the cells tile [0,1)^p.
  int cells_per_axis(int id) const;
  /// Linear indices (row-major over the p axes) of the cells of part `id` whose centre
  /// lies on the domain boundary, plus their neighbours: the region the sampler draws
  /// candidates from. Empty when part_length(id) == 0.
  const std::vector<int>& candidate_cells(int id) const;
  /// Maps parameter u in [0,1)^p of part `id` to the point x on the primitive's
  /// boundary (uniform in measure) and the outward normal of Omega there; returns
  /// whether x lies on the boundary of Omega and belongs to this part (on_boundary()).
  bool part_point(int id, const double* u, Point* x, Point* normal) const;
  /// x (on part `id`'s primitive, with Omega's outward normal n there) lies on the
  /// boundary of Omega and belongs to part `id`: |phi(x)| <= 1e-10 scale, the active
  /// leaf at x is the part's primitive (a stretch shared by two primitives belongs to
  /// the left one), and phi(x + h n) > 0 > phi(x - h n) with h = 1e-7 scale (so an edge
  /// between two pieces of a union, or between two holes, is not boundary).
  bool on_boundary(int id, const Point& x, const Point& n) const;

 private:
  struct Leaf {
    std::shared_ptr<const Primitive> primitive;
    int polarity = 1;   // -1: reached through an odd number of difference right sides
    int part_base = 0;  // id of the leaf's part 0
  };
  struct Instr {
    Shape::Op op;
    int leaf;  // for Op::primitive
  };
  struct Eval {
    double value;
    int leaf;
  };
  struct Part {
    int leaf = 0, local = 0;
    int cells_per_axis = 1;
    double length = 0;
    std::vector<int> candidates;
  };

  int compile(const Shape& s, int polarity);
  void shape_bounds(const Shape& s, Point* lo, Point* hi) const;
  Eval evaluate(const Point& x) const;
  void check_not_empty(const GeometryOptions& options);
  void measure_parts(const GeometryOptions& options);

  Shape root_;
  int dim_ = 0;
  std::vector<Leaf> leaves_;
  std::vector<Instr> program_;  // post-order
  int max_depth_ = 0;
  std::vector<Part> parts_;
  std::vector<std::string> names_;
  Point lo_{}, hi_{};
  double scale_ = 1, measure_ = 0;
};

/// Point from row i of a [n][dim] matrix (coordinates past dim set to 0).
inline Point row_point(const Mat<const double>& x, int i) {
  Point p{0, 0, 0};
  for (int k = 0; k < static_cast<int>(x.extent(1)) && k < 3; ++k) p[k] = x(i, k);
  return p;
}

}  // namespace kpde::mesh
