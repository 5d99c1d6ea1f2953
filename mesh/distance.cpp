#include "mesh/distance.hpp"

#include <cmath>

#include "core/error.hpp"

namespace kpde::mesh {

// ---- jet arithmetic ----------------------------------------------------------------------

Jet2 jet_add(const Jet2& a, const Jet2& b) {
  Jet2 r;
  r.v = a.v + b.v;
  for (int i = 0; i < 3; ++i) {
    r.g[i] = a.g[i] + b.g[i];
    for (int j = 0; j < 3; ++j) r.h[i][j] = a.h[i][j] + b.h[i][j];
  }
  return r;
}

// (ab)'' = a'' b + a b'' + a' b'^T + b' a'^T
Jet2 jet_mul(const Jet2& a, const Jet2& b) {
  Jet2 r;
  r.v = a.v * b.v;
  for (int i = 0; i < 3; ++i) {
    r.g[i] = a.g[i] * b.v + a.v * b.g[i];
    for (int j = 0; j < 3; ++j)
      r.h[i][j] = a.h[i][j] * b.v + a.v * b.h[i][j] + a.g[i] * b.g[j] + b.g[i] * a.g[j];
  }
  return r;
}

Jet2 jet_scale(const Jet2& a, double s) {
  Jet2 r;
  r.v = a.v * s;
  for (int i = 0; i < 3; ++i) {
    r.g[i] = a.g[i] * s;
    for (int j = 0; j < 3; ++j) r.h[i][j] = a.h[i][j] * s;
  }
  return r;
}

// (1/a)' = -a'/a^2, (1/a)'' = -a''/a^2 + 2 a' a'^T / a^3
Jet2 jet_recip(const Jet2& a) {
  const double q = 1 / a.v, q2 = q * q;
  Jet2 r;
  r.v = q;
  for (int i = 0; i < 3; ++i) {
    r.g[i] = -a.g[i] * q2;
    for (int j = 0; j < 3; ++j) r.h[i][j] = -a.h[i][j] * q2 + 2 * q2 * q * a.g[i] * a.g[j];
  }
  return r;
}

// sqrt(a)' = a' / (2 s), sqrt(a)'' = a'' / (2 s) - a' a'^T / (4 s^3), s = sqrt(a)
Jet2 jet_sqrt(const Jet2& a) {
  const double s = std::sqrt(a.v);
  Jet2 r;
  r.v = s;
  for (int i = 0; i < 3; ++i) {
    r.g[i] = a.g[i] / (2 * s);
    for (int j = 0; j < 3; ++j) r.h[i][j] = a.h[i][j] / (2 * s) - a.g[i] * a.g[j] / (4 * s * s * s);
  }
  return r;
}

// ---- PartDistance ----------------------------------------------------------------------

PartDistance::PartDistance(const Geometry& geometry, const std::vector<int>& parts, const std::string& what)
    : geo_(geometry), dim_(geometry.dim()), parts_(parts) {
  std::vector<int> part_index(geo_.n_parts(), -1);
  for (std::size_t k = 0; k < parts_.size(); ++k) {
    KPDE_REQUIRE(parts_[k] >= 0 && parts_[k] < geo_.n_parts() && part_index[parts_[k]] < 0, Error,
                 "PartDistance: part ids must be distinct ids of the geometry");
    part_index[parts_[k]] = static_cast<int>(k);
  }
  int base = 0;
  collect(geo_.shape(), true, &base, part_index, what);
  std::vector<int> n_pieces(parts_.size(), 0);
  for (const Piece& p : pieces_) ++n_pieces[p.part];
  for (std::size_t k = 0; k < parts_.size(); ++k)
    KPDE_REQUIRE(n_pieces[k] > 0, Error, "PartDistance: part '" + geo_.part_name(parts_[k]) + "' got no piece");
  // A constrained part must not run through the open domain: D_k would vanish there.
  const double tol = 1e-9 * geo_.scale();
  for (int id : parts_) {
    const int p = geo_.param_dim(id), m = p == 1 ? 1024 : 48;
    for (int i = 0; i < (p == 1 ? m : m * m); ++i) {
      const double u[2] = {(i % m + 0.5) / m, (i / m + 0.5) / m};
      Point x{}, n{};
      if (geo_.part_point(id, u, &x, &n) || geo_.sdf(x) >= -tol) continue;
      throw InputError(what + ": part '" + geo_.part_name(id) +
                       "' runs through the inside of the domain (as a side of a union can), so no distance "
                       "function vanishes on it alone; split the shape so that the constrained parts only bound "
                       "the domain");
    }
  }
}

void PartDistance::collect(const Shape& s, bool contains, int* base, const std::vector<int>& part_index,
                           const std::string& what) {
  if (s.op() == Shape::Op::primitive) {
    add_leaf(*s.primitive(), *base, contains, part_index, what);
    *base += s.primitive()->n_parts();
    return;
  }
  // the domain lies in a leaf when every step down is an intersection or the left side
  // of a difference
  const bool keep = s.op() != Shape::Op::unite;
  collect(s.operand(0), contains && keep, base, part_index, what);
  collect(s.operand(1), contains && s.op() == Shape::Op::intersect, base, part_index, what);
}

void PartDistance::add_leaf(const Primitive& prim, int base, bool contains, const std::vector<int>& part_index,
                            const std::string& what) {
  const auto add_segment = [&](int part, double ax, double ay, double bx, double by) {
    Piece p{};
    p.kind = Piece::Kind::segment;
    p.part = part;
    const double L = std::hypot(bx - ax, by - ay);
    p.a[0] = ax, p.a[1] = ay;
    p.a[2] = -(by - ay) / L, p.a[3] = (bx - ax) / L;  // a unit normal
    p.a[4] = 0.5 * (ax + bx), p.a[5] = 0.5 * (ay + by);
    p.a[6] = L;
    pieces_.push_back(p);
  };
  if (const auto* box = dynamic_cast<const Box*>(&prim)) {
    Point lo{}, hi{};
    box->bounds(&lo, &hi);
    for (int side = 0; side < 2 * dim_; ++side) {
      const int part = part_index[base + (prim.n_parts() == 1 ? 0 : side)];
      if (part < 0) continue;
      const int a = side / 2;
      if (contains) {
        Piece p{};
        p.kind = Piece::Kind::plane;
        p.part = part, p.axis = a;
        p.s = side % 2 == 0 ? 1 : -1;
        p.c = side % 2 == 0 ? lo[a] : hi[a];
        pieces_.push_back(p);
        continue;
      }
      if (dim_ != 2)
        throw InputError(what + ": part '" + geo_.part_name(parts_[part]) + "' is a side of " + prim.describe() +
                         ", which does not contain the domain; exact Dirichlet data on such a side is implemented in "
                         "2-D only");
      const int b = 1 - a;
      Point p0{}, p1{};
      p0[a] = p1[a] = side % 2 == 0 ? lo[a] : hi[a];
      p0[b] = lo[b], p1[b] = hi[b];
      add_segment(part, p0[0], p0[1], p1[0], p1[1]);
    }
    return;
  }
  const int part = part_index[base];
  if (part < 0) return;
  if (const auto* disk = dynamic_cast<const Disk*>(&prim)) {
    Piece p{};
    p.kind = Piece::Kind::circle;
    p.part = part;
    p.a[0] = disk->center()[0], p.a[1] = disk->center()[1], p.a[2] = disk->radius();
    pieces_.push_back(p);
    return;
  }
  if (const auto* poly = dynamic_cast<const Polygon*>(&prim)) {
    const auto& v = poly->vertices();
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Vertex& b = v[(i + 1) % v.size()];
      add_segment(part, v[i][0], v[i][1], b[0], b[1]);
    }
    return;
  }
  throw InputError(what + ": no distance function for " + prim.describe());
}

Jet2 PartDistance::piece(const Piece& p, const Point& x) const {
  Jet2 d;
  switch (p.kind) {
    case Piece::Kind::plane:
      d.v = std::max(0.0, p.s * (x[p.axis] - p.c));
      d.g[p.axis] = p.s;
      return d;
    case Piece::Kind::circle: {
      // a = (r^2 - |x - c|^2) / (2 r), d = |a|
      const double r = p.a[2], dx = x[0] - p.a[0], dy = x[1] - p.a[1];
      const double a = (r * r - dx * dx - dy * dy) / (2 * r), s = a >= 0 ? 1.0 : -1.0;
      d.v = s * a;
      d.g[0] = -s * dx / r, d.g[1] = -s * dy / r;
      d.h[0][0] = d.h[1][1] = -s / r;
      return d;
    }
    case Piece::Kind::segment: {
      const double L = p.a[6], rx = x[0] - p.a[4], ry = x[1] - p.a[5];
      Jet2 f, t;
      f.v = p.a[2] * (x[0] - p.a[0]) + p.a[3] * (x[1] - p.a[1]);
      f.g[0] = p.a[2], f.g[1] = p.a[3];
      t.v = (0.25 * L * L - rx * rx - ry * ry) / L;
      t.g[0] = -2 * rx / L, t.g[1] = -2 * ry / L;
      t.h[0][0] = t.h[1][1] = -2 / L;
      const Jet2 f2 = jet_mul(f, f);
      const Jet2 rho2 = jet_add(jet_mul(t, t), jet_mul(f2, f2));
      if (!(rho2.v > 0)) return Jet2{};  // an end point
      const Jet2 q = jet_scale(jet_add(jet_sqrt(rho2), jet_scale(t, -1)), 0.5);
      const Jet2 d2 = jet_add(f2, jet_mul(q, q));
      if (!(d2.v > 0)) return Jet2{};  // on the segment
      return jet_sqrt(d2);
    }
  }
  return d;
}

int PartDistance::eval(const Point& x, Jet2* d) const {
  const int K = n_parts();
  for (int k = 0; k < K; ++k) d[k] = Jet2{};
  for (const Piece& p : pieces_) {
    const Jet2 di = piece(p, x);
    if (!(di.v > 0)) return p.part;
    d[p.part] = jet_add(d[p.part], jet_recip(di));
  }
  for (int k = 0; k < K; ++k) d[k] = jet_recip(d[k]);  // D_k = 1 / sum 1/d_i
  return -1;
}

}  // namespace kpde::mesh
