#pragma once
/// Smooth approximate distance functions to chosen boundary parts of a CSG domain, for
/// exact Dirichlet data u = g~ + phi N (data::HardDirichlet; docs/design.md, "Exact
/// constraints"). The construction follows the R-function recipe of Sukumar &
/// Srivastava (CMAME 2022): every part is cut into pieces, each piece i gets a distance
/// d_i >= 0 that is C-infinity in the open domain, vanishes on the piece only and has
/// |grad d_i| = 1 there (normalised to first order), and pieces are joined by
/// R-equivalence (m = 1):
///   D_k = 1 / sum_{i in part k} 1/d_i,
/// which vanishes exactly on part k and is again normalised to first order.
///
/// Pieces, by primitive and by how the domain sits against it:
///  - a box that contains the domain (reached only through intersections and the left
///    sides of differences): each side is the plane x_a = lo_a or hi_a,
///    d = x_a - lo_a or hi_a - x_a (any dimension);
///  - any other box side in 2-D, every polygon edge: the trimmed segment AB,
///      f = nu . (x - A)                      (signed distance to the line, nu a unit normal)
///      t = ((L/2)^2 - |x - c|^2) / L         (c the midpoint, L = |B - A|; t >= 0 on the
///                                             disk with diameter AB)
///      d = sqrt(f^2 + ((sqrt(t^2 + f^4) - t) / 2)^2),
///    zero on the closed segment only, d ~ |f| next to its interior;
///  - a disk (a hole or a solid): d = |r^2 - |x - c|^2| / (2 r).
/// A constrained part may not run through the open domain (as one side of a union
/// can): the constructor checks it on the part's own parametrisation.
#include <array>
#include <vector>

#include "mesh/geometry.hpp"

namespace kpde::mesh {

/// A second-order jet of a scalar function of x in up to 3 dimensions: value v,
/// gradient g, Hessian h (entries past the dimension are 0).
struct Jet2 {
  double v = 0;
  std::array<double, 3> g{};
  std::array<std::array<double, 3>, 3> h{};
};
/// Jet arithmetic (exact chain and product rules).
Jet2 jet_add(const Jet2& a, const Jet2& b);
Jet2 jet_mul(const Jet2& a, const Jet2& b);
Jet2 jet_scale(const Jet2& a, double s);
Jet2 jet_recip(const Jet2& a);  ///< 1/a, a != 0
Jet2 jet_sqrt(const Jet2& a);   ///< sqrt(a), a > 0

class PartDistance {
 public:
  /// The distances D_k to `parts` (ids of geometry parts, distinct). Throws
  /// kpde::InputError (naming `what`, e.g. "training.hard_dirichlet") when a part has
  /// no piece form here (a face of a box that does not contain the domain in 3-D or
  /// 1-D) or runs through the open domain. The geometry must outlive this object.
  PartDistance(const Geometry& geometry, const std::vector<int>& parts, const std::string& what);

  int n_parts() const { return static_cast<int>(parts_.size()); }
  /// The jets of D_k at x for k = 0..n_parts()-1 into d. Returns -1 when every D_k > 0,
  /// else the first k with D_k = 0 (x on that part, or outside the domain past it);
  /// the jets are then left unset.
  int eval(const Point& x, Jet2* d) const;

 private:
  struct Piece {
    enum class Kind { plane, segment, circle } kind;
    int part = 0;  // index into parts_
    // plane: axis, sign (+1: x_a - c, -1: c - x_a), c;
    // segment: A (2), nu (2), midpoint (2), L; circle: centre (2), r
    int axis = 0;
    double s = 1, c = 0;
    double a[7] = {0, 0, 0, 0, 0, 0, 0};
  };
  /// d_i at x (clamped at 0: 0 means on the piece).
  Jet2 piece(const Piece& p, const Point& x) const;
  void add_leaf(const Primitive& prim, int base, bool contains, const std::vector<int>& part_index,
                const std::string& what);
  void collect(const Shape& s, bool contains, int* base, const std::vector<int>& part_index, const std::string& what);

  const Geometry& geo_;
  int dim_;
  std::vector<int> parts_;
  std::vector<Piece> pieces_;
};

}  // namespace kpde::mesh
